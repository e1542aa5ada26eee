"""Event creation and fan-out, as switch_event.c and mod_event_socket do it.

Every event starts with the same core headers (Core-UUID, hostname, dates, calling
file/function/line, a sequence number that only grows) and is serialised separately
for each listening connection in the format that connection asked for.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Protocol

from cti_middleware.esl.wire import encode_event_json, encode_event_plain

Headers = list[tuple[str, str]]


class Listener(Protocol):
    """A connection that may want events (see server.Connection)."""

    def wants(self, event_name: str, subclass: str | None) -> bool: ...

    def event_format(self) -> str: ...

    def send_bytes(self, data: bytes) -> None: ...


def event_dates(now: float) -> list[tuple[str, str]]:
    """Event-Date-Local/-GMT/-Timestamp for a wall-clock time."""
    local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    gmt = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now))
    return [
        ("Event-Date-Local", local),
        ("Event-Date-GMT", gmt),
        ("Event-Date-Timestamp", str(int(now * 1_000_000))),
    ]


class EventBus:
    """Builds events with FreeSWITCH's core headers and hands them to listeners."""

    def __init__(self, hostname: str, ipv4: str, ipv6: str) -> None:
        self.core_uuid = str(uuid.uuid4())
        self.hostname = hostname
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.sequence = 0
        self.listeners: list[Listener] = []
        # observers see every (headers, body) fired; used for in-process assertions
        self.observers: list[Callable[[Headers, str | None], None]] = []

    def next_sequence(self) -> int:
        self.sequence += 1
        return self.sequence

    def skip(self, count: int = 1) -> None:
        """Consume sequence numbers for events FreeSWITCH fires that nobody models here
        (CHANNEL_STATE, CHANNEL_EXECUTE...), so the numbering has the same gaps."""
        self.sequence += count

    def core_headers(
        self,
        name: str,
        source: tuple[str, str, int],
        subclass: str | None = None,
        now: float | None = None,
    ) -> Headers:
        """The header block every event starts with, in FreeSWITCH's order."""
        now = time.time() if now is None else now
        headers: Headers = []
        if subclass:
            headers.append(("Event-Subclass", subclass))
        headers += [
            ("Event-Name", name),
            ("Core-UUID", self.core_uuid),
            ("FreeSWITCH-Hostname", self.hostname),
            ("FreeSWITCH-Switchname", self.hostname),
            ("FreeSWITCH-IPv4", self.ipv4),
            ("FreeSWITCH-IPv6", self.ipv6),
        ]
        headers += event_dates(now)
        headers += [
            ("Event-Calling-File", source[0]),
            ("Event-Calling-Function", source[1]),
            ("Event-Calling-Line-Number", str(source[2])),
            ("Event-Sequence", str(self.next_sequence())),
        ]
        return headers

    def fire(self, headers: Headers, body: str | None = None) -> None:
        """Deliver one event to every listener subscribed to it."""
        name = _get(headers, "Event-Name")
        subclass = _get(headers, "Event-Subclass") or None
        encoded: dict[str, bytes] = {}
        for listener in list(self.listeners):
            if not listener.wants(name, subclass):
                continue
            fmt = listener.event_format()
            if fmt not in encoded:
                encoder = encode_event_json if fmt == "json" else encode_event_plain
                encoded[fmt] = encoder(headers, body)
            listener.send_bytes(encoded[fmt])
        for observer in list(self.observers):
            observer(headers, body)


def _get(headers: Iterable[tuple[str, str]], name: str) -> str:
    for key, value in headers:
        if key == name:
            return value
    return ""
