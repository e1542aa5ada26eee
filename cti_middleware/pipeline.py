"""The one consumer of FreeSWITCH events: frame -> event -> state -> notifications.

Everything the middleware knows about agents and calls flows through ``handle_frame``
in the order FreeSWITCH sent it.  A frame that cannot be understood is logged with
its Unique-ID and skipped; it never stops the frames behind it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from .commands import check
from .esl.wire import FieldReader, Frame, ProtocolError
from .events import DISPATCH, Event, EventError, fields_for, parse_event
from .events_json import json_event
from .model.snapshot import (
    Snapshot,
    TierRow,
    parse_agent_list,
    parse_channels,
    parse_member_list,
    parse_queue_list,
    parse_tier_list,
)
from .model.state import State
from .notify import Notifier

log = logging.getLogger(__name__)

# The model reads about twenty of an event's hundred headers: decode only those.
_READER = FieldReader(DISPATCH, fields_for)
_JSON = "text/event-json"

ApiCall = Callable[[str], str]


class Pipeline:
    """Applies events and resync snapshots to the live state and publishes the changes."""

    def __init__(self, state: State, notifier: Notifier) -> None:
        self.state = state
        self.notifier = notifier
        self.events = 0
        self.skipped = 0
        self.resyncs = 0
        self._tiers: list[TierRow] = []
        self._queues_by_agent: dict[str, list[str]] = {}

    def handle_frame(self, frame: Frame) -> None:
        if frame.headers.get("Content-Type") == _JSON:
            event = json_event(frame.body)
            if event is not None:
                self.handle_event(event)
                return
            # Anything unusual: the full decode gives the event or the error it always did.
        try:
            headers = _READER.read(frame)
        except ProtocolError as exc:
            self.skipped += 1
            log.error("skipping an unreadable event frame: %s", exc)
            return
        self.handle_headers(headers)

    def handle_headers(self, headers: dict[str, str]) -> None:
        try:
            event = parse_event(headers)
            changes = self.state.apply(event)
        except (EventError, KeyError, ValueError, TypeError) as exc:
            self.skipped += 1
            log.error(
                "skipping %s event (Unique-ID %s): %s",
                headers.get("Event-Subclass") or headers.get("Event-Name"),
                headers.get("Unique-ID") or headers.get("CC-Member-Session-UUID"),
                exc,
            )
            return
        self._applied(changes)

    def handle_event(self, event: Event) -> None:
        """Apply an already typed event (the json fast path)."""
        try:
            changes = self.state.apply(event)
        except (KeyError, ValueError, TypeError) as exc:
            self.skipped += 1
            log.error("skipping %s event (Unique-ID %s): %s", type(event).__name__,
                      getattr(event, "uuid", None) or getattr(event, "member_uuid", None), exc)
            return
        self._applied(changes)

    def _applied(self, changes: list) -> None:
        self.events += 1
        if changes:
            self.notifier.publish(changes)

    def resync(self, api: ApiCall) -> None:
        """Rebuild the state from FreeSWITCH's own lists after a (re)connect or overflow."""
        snapshot = gather_snapshot(api)
        changes = self.state.resync(snapshot)
        self.tiers = list(snapshot.tiers or [])
        self.resyncs += 1
        log.info(
            "resynced from FreeSWITCH: %d agents, %d queues, %d channels, %d changes",
            len(snapshot.agents or ()), len(snapshot.queues or ()), len(snapshot.channels or ()),
            len(changes),
        )
        if changes:
            self.notifier.publish(changes)


    @property
    def tiers(self) -> list[TierRow]:
        """The last tier list read from FreeSWITCH (mod_callcenter announces no tier change)."""
        return self._tiers

    @tiers.setter
    def tiers(self, rows: list[TierRow]) -> None:
        # Indexed by agent once per list: the shared state view asks for every agent's
        # queues, which a scan of the whole list per agent made quadratic.
        self._tiers = rows
        by_agent: dict[str, list[str]] = {}
        for t in rows:
            by_agent.setdefault(t.agent, []).append(t.queue)
        self._queues_by_agent = by_agent

    def queues_of(self, agent: str) -> list[str]:
        """The queues an agent serves, from the last tier list."""
        return list(self._queues_by_agent.get(agent, ()))

    def longest_wait_since(self, queue: str) -> float | None:
        """When the longest-waiting caller of ``queue`` joined, for call-waiting displays."""
        joined = [m.joined_at for m in self.state.members.values()
                  if m.queue == queue and m.agent is None and m.joined_at is not None]
        return min(joined) if joined else None


def gather_snapshot(api: ApiCall, now: Callable[[], float] = time.time) -> Snapshot:
    """Ask FreeSWITCH for everything the model holds, with the commands ops would use."""
    taken_at = now()
    agents = parse_agent_list(api("callcenter_config agent list"))
    tiers = parse_tier_list(api("callcenter_config tier list"))
    queues = parse_queue_list(api("callcenter_config queue list"))
    members = []
    for queue in queues:
        # Queue names come from FreeSWITCH, but they still go back into a command.
        members += parse_member_list(api(f"callcenter_config queue list members {check('queue', queue.name)}"))
    channels = parse_channels(api("show channels as json"))
    return Snapshot(taken_at, agents=agents, tiers=tiers, queues=queues, members=members,
                    channels=channels)

