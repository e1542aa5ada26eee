"""ESL wire format: bytes <-> frames, with no I/O.

FreeSWITCH's event socket sends frames made of ``Name: value`` header lines, a blank
line, and an optional body whose size is given by ``Content-Length``.  Events arrive
as such a body (``text/event-plain``: a second header block whose values are
URL-encoded one by one; ``text/event-json``: a JSON object).

The one rule that keeps caller-controlled values harmless: split into lines first,
then decode each value.  A caller name holding ``%0ACC-Agent%3A%20...`` stays inside
its own header; decoding before splitting would forge a header.

Everything here is pure so the parser can be tested on the byte-exact recordings and
reused by the simulator to produce the same bytes FreeSWITCH does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import unquote

import orjson

__all__ = [
    "Frame",
    "FrameParser",
    "ProtocolError",
    "encode_event_json",
    "encode_event_plain",
    "encode_frame",
    "fs_urlencode",
    "parse_event_body",
    "parse_event_pairs",
    "parse_headers",
    "split_array",
]

DEFAULT_MAX_BODY = 8 * 1024 * 1024
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 1024
ARRAY_PREFIX = "ARRAY::"
ARRAY_SEP = "|:"

# switch_url_encode() leaves printable ASCII alone except these, and encodes every
# byte outside 0x20..0x7e (so UTF-8 names become %E5%BC%A0...).
_URL_UNSAFE = set(b'\r\n "#%&+:;<=>?@[\\]^`{|}')
_HEX = b"0123456789ABCDEFabcdef"


class ProtocolError(ValueError):
    """The byte stream is not ESL: framing is lost and the connection must be reset."""


class Frame:
    """One ESL frame: its outer headers and raw body."""

    __slots__ = ("body", "headers")

    def __init__(self, headers: dict[str, str], body: bytes = b"") -> None:
        self.headers = headers
        self.body = body

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def body_text(self) -> str:
        """The body as text; FreeSWITCH sends UTF-8, anything else is replaced, not fatal."""
        return self.body.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"Frame({self.headers!r}, body={len(self.body)} bytes)"


def _content_length(headers: dict[str, str], limit: int) -> int:
    raw = headers.get("Content-Length")
    if raw is None:
        return 0
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 12:
        raise ProtocolError(f"invalid Content-Length {raw[:40]!r}")
    length = int(raw)
    if length > limit:
        raise ProtocolError(f"Content-Length {length} exceeds the {limit}-byte limit")
    return length


def parse_headers(block: bytes | str, decode_values: bool = False) -> dict[str, str]:
    """Parse ``Name: value`` lines; values are URL-decoded one by one when asked.

    A line without ``": "`` is a framing error, not something to guess around: a
    guessed header is exactly how a forged one would get in.
    """
    text = block.decode("utf-8", "replace") if isinstance(block, bytes) else block
    headers: dict[str, str] = {}
    for line in text.split("\n"):
        if not line:
            continue
        line = line.removesuffix("\r")
        name, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":"):
                name, value = line[:-1], ""
            else:
                raise ProtocolError(f"header line without ': ' {line[:60]!r}")
        if not name or len(headers) >= MAX_HEADERS:
            raise ProtocolError("empty header name or too many headers")
        if decode_values and "%" in value:
            value = unquote(value)
        headers[name] = value
    return headers


class FrameParser:
    """Incremental frame parser: feed it whatever the socket returned, get whole frames.

    Bounds on header and body size keep a broken or hostile peer from making the
    process hold arbitrary amounts of memory.
    """

    def __init__(
        self,
        max_body: int = DEFAULT_MAX_BODY,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> None:
        self._buf = bytearray()
        self._pending: dict[str, str] | None = None
        self._need = 0
        self.max_body = max_body
        self.max_header_bytes = max_header_bytes

    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        buf = self._buf
        pos = 0
        while True:
            if self._pending is None:
                # Tolerate stray blank lines between frames (FreeSWITCH never sends
                # them, but a proxy might), never anything else.
                while pos < len(buf) and buf[pos] == 0x0A:
                    pos += 1
                end = buf.find(b"\n\n", pos)
                if end < 0:
                    if len(buf) - pos > self.max_header_bytes:
                        raise ProtocolError("header block exceeds limit without terminator")
                    break
                if end - pos > self.max_header_bytes:
                    raise ProtocolError("header block exceeds limit")
                headers = parse_headers(bytes(buf[pos:end]))
                pos = end + 2
                self._need = _content_length(headers, self.max_body)
                if self._need == 0:
                    frames.append(Frame(headers))
                    continue
                self._pending = headers
            if len(buf) - pos < self._need:
                break
            body = bytes(buf[pos : pos + self._need])
            pos += self._need
            frames.append(Frame(self._pending, body))
            self._pending = None
            self._need = 0
        if pos:
            del buf[:pos]
        return frames


def parse_event_body(frame: Frame) -> dict[str, str]:
    """Turn an event frame into its header dict; an inner body goes under ``_body``."""
    ctype = frame.content_type
    if ctype == "text/event-json":
        try:
            obj = orjson.loads(frame.body)
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(f"event-json body is not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise ProtocolError("event-json body is not an object")
        for key, value in obj.items():
            if not isinstance(value, str):
                obj[key] = _json_value_as_plain(value)
        return obj
    if ctype == "text/event-plain":
        raw = frame.body
        split = raw.find(b"\n\n")
        if split < 0:
            head, rest = raw, b""
        else:
            head, rest = raw[:split], raw[split + 2 :]
        headers = parse_headers(head, decode_values=True)
        if "Content-Length" in headers:
            length = _content_length(headers, len(rest))
            headers["_body"] = rest[:length].decode("utf-8", "replace")
        return headers
    raise ProtocolError(f"not an event frame: {ctype!r}")


def _json_value_as_plain(value: object) -> str:
    """Array headers are lists in JSON but ``ARRAY::a|:b`` in plain: keep one form."""
    if isinstance(value, list):
        return ARRAY_PREFIX + ARRAY_SEP.join(str(v) for v in value)
    return "" if value is None else str(value)


def split_array(value: str) -> list[str]:
    """The items of an ``ARRAY::`` header value (a plain value is a one-item list)."""
    if value.startswith(ARRAY_PREFIX):
        return value[len(ARRAY_PREFIX) :].split(ARRAY_SEP)
    return [value]


def fs_urlencode(value: str) -> str:
    """Encode like switch_url_encode(): existing %XX sequences are kept as they are."""
    raw = value.encode("utf-8")
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        b = raw[i]
        if b == 0x25 and i + 2 < n and raw[i + 1] in _HEX and raw[i + 2] in _HEX:
            out.append(b)
        elif b < 0x20 or b > 0x7E or b in _URL_UNSAFE:
            out += b"%%%02X" % b
        else:
            out.append(b)
        i += 1
    return out.decode("ascii")


def _pairs(headers: Iterable[tuple[str, str]] | dict[str, str]) -> Iterable[tuple[str, str]]:
    return headers.items() if isinstance(headers, dict) else headers


def encode_frame(
    headers: Iterable[tuple[str, str]] | dict[str, str], body: bytes | str = b""
) -> bytes:
    """Build an outer frame; Content-Length is set (in place, or last) when there is a body."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    lines = []
    length_written = False
    for k, v in _pairs(headers):
        if k == "Content-Length":
            if not body:
                continue
            v, length_written = str(len(body)), True
        lines.append(f"{k}: {v}")
    if body and not length_written:
        lines.append(f"Content-Length: {len(body)}")
    return ("\n".join(lines) + "\n\n").encode("utf-8") + body


def encode_event_plain(headers: Iterable[tuple[str, str]], body: str | None = None) -> bytes:
    """A ``text/event-plain`` frame as FreeSWITCH serialises it."""
    inner = "".join(f"{k}: {fs_urlencode(v)}\n" for k, v in headers if k != "Content-Length")
    payload = inner.encode("utf-8")
    if body:
        data = body.encode("utf-8")
        payload += b"Content-Length: %d\n\n" % len(data) + data
    else:
        payload += b"\n"
    return b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(payload) + payload


def encode_event_json(headers: Iterable[tuple[str, str]], body: str | None = None) -> bytes:
    """A ``text/event-json`` frame: compact JSON in header order, ``_body`` last."""
    # Built pair by pair rather than from a dict: FreeSWITCH repeats some headers and
    # its JSON keeps both copies.
    parts = []
    dumps = orjson.dumps
    for k, v in headers:
        if k != "Content-Length":
            value = split_array(v) if v.startswith(ARRAY_PREFIX) else v
            parts.append(dumps(k) + b":" + dumps(value))
    if body:
        parts.append(b'"Content-Length":' + dumps(str(len(body.encode("utf-8")))))
        parts.append(b'"_body":' + dumps(body))
    payload = b"{" + b",".join(parts) + b"}"
    return b"Content-Length: %d\nContent-Type: text/event-json\n\n" % len(payload) + payload


def parse_event_pairs(frame: Frame) -> tuple[list[tuple[str, str]], str | None]:
    """Headers in order, duplicates kept, and the inner body: for replaying and re-encoding.

    FreeSWITCH repeats some headers (``Hangup-Cause`` on CHANNEL_UNBRIDGE); the dict
    from parse_event_body keeps one, which is all a consumer needs, but reproducing the
    exact bytes needs them all.
    """
    if frame.content_type == "text/event-json":
        try:
            pairs = json.loads(frame.body, object_pairs_hook=list)
        except ValueError as exc:
            raise ProtocolError(f"event-json body is not JSON: {exc}") from None
        body = None
        out = []
        for key, value in pairs:
            if key == "_body":
                body = value
            elif key != "Content-Length" or body is None:
                out.append((key, value if isinstance(value, str) else _json_value_as_plain(value)))
        if body is not None:
            out = [(k, v) for k, v in out if k != "Content-Length"]
        return out, body
    if frame.content_type != "text/event-plain":
        raise ProtocolError(f"not an event frame: {frame.content_type!r}")
    head, _, rest = frame.body.partition(b"\n\n")
    out = []
    for line in head.decode("utf-8", "replace").split("\n"):
        if line:
            name, sep, value = line.partition(": ")
            if not sep:
                raise ProtocolError(f"header line without ': ' {line[:60]!r}")
            out.append((name, unquote(value)))
    length = next((v for k, v in out if k == "Content-Length"), None)
    if length is None:
        return out, None
    return [(k, v) for k, v in out if k != "Content-Length"], rest[: int(length)].decode("utf-8")
