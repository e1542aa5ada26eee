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
import re
from collections.abc import Callable, Iterable
from urllib.parse import unquote

import orjson

__all__ = [
    "FieldReader",
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


# The two-header frame every event arrives in, blank line included; anything else
# takes the general path.
_EVENT_HEAD = re.compile(
    rb"Content-Length: ([0-9]{1,12})\nContent-Type: text/event-(json|plain)\n\n")
_EVENT_TYPES = {b"json": "text/event-json", b"plain": "text/event-plain"}


class FrameParser:
    """Incremental frame parser: feed it whatever the socket returned, get whole frames.

    Bounds on header and body size keep a broken or hostile peer from making the
    process hold arbitrary amounts of memory.  Received chunks are only joined once
    a whole frame can be cut from them, so a large body arriving in many reads is
    copied once, not once per read, and each frame's body is a single slice.
    """

    def __init__(
        self,
        max_body: int = DEFAULT_MAX_BODY,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> None:
        self._chunks: list[bytes] = []
        self._have = 0
        self._pending: dict[str, str] | None = None
        self._need = 0
        self.max_body = max_body
        self.max_header_bytes = max_header_bytes

    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return self._have

    def feed(self, data: bytes) -> list[Frame]:
        if not data:
            return []
        data = bytes(data)
        frames: list[Frame] = []
        pos = 0
        if self._pending is not None:
            self._chunks.append(data)
            self._have += len(data)
            if self._have < self._need:
                return []  # still inside a body: nothing to cut yet
            # Cut the body from what came before and the head of ``data``; the rest of
            # ``data`` is parsed where it lies rather than copied behind the body.
            pos = self._need - (self._have - len(data))
            self._chunks[-1] = data[:pos]
            frames.append(Frame(self._pending, b"".join(self._chunks)))
            self._pending = None
            self._need = 0
        elif self._chunks:
            data = b"".join([*self._chunks, data])  # a header block cut in two
        self._chunks = []
        self._have = 0
        self._parse(data, pos, frames)
        return frames

    def _parse(self, buf: bytes, pos: int, frames: list[Frame]) -> None:
        """Cut every whole frame from ``buf[pos:]``; keep the rest for the next feed."""
        size = len(buf)
        event_head = _EVENT_HEAD.match
        append = frames.append
        max_body = self.max_body
        while True:
            if self._pending is None:
                # Event frames, nearly all of the traffic, in one regex match each.
                # (An oversized one is left to the general path, which refuses it.)
                m = event_head(buf, pos)
                while m is not None:
                    length, kind = m.groups()
                    need = int(length)
                    if need > max_body:
                        break
                    headers = {"Content-Length": length.decode(),
                               "Content-Type": _EVENT_TYPES[kind]}
                    start = m.end()
                    if start + need > size:
                        pos, self._pending, self._need = start, headers, need
                        break
                    pos = start + need
                    append(Frame(headers, buf[start:pos]))
                    m = event_head(buf, pos)
                if self._pending is None:
                    pos = self._head(buf, pos, frames)
                    if pos < 0:
                        pos = -pos - 1
                        break
                    if self._pending is None:
                        continue
            if size - pos < self._need:
                break
            append(Frame(self._pending, buf[pos : pos + self._need]))
            pos += self._need
            self._pending = None
            self._need = 0
        rest = buf[pos:] if pos else buf
        self._chunks = [rest] if rest else []
        self._have = len(rest)

    def _head(self, buf: bytes, pos: int, frames: list[Frame]) -> int:
        """Read one header block at ``pos``; ``-pos - 1`` when it is not all there yet.

        A frame without a body is appended at once; otherwise its headers wait in
        ``_pending`` for the body.
        """
        size = len(buf)
        # Tolerate stray blank lines between frames (FreeSWITCH never sends them,
        # but a proxy might), never anything else.
        while pos < size and buf[pos] == 0x0A:
            pos += 1
        end = buf.find(b"\n\n", pos)
        if end < 0:
            if size - pos > self.max_header_bytes:
                raise ProtocolError("header block exceeds limit without terminator")
            return -pos - 1
        if end - pos > self.max_header_bytes:
            raise ProtocolError("header block exceeds limit")
        headers = parse_headers(buf[pos:end])
        need = _content_length(headers, self.max_body)
        if need == 0:
            frames.append(Frame(headers))
        else:
            self._pending, self._need = headers, need
        return end + 2


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


class FieldReader:
    """Reads only the headers an event's consumer needs: the ingest fast path.

    An event carries about a hundred headers and the model reads a handful, which
    depend on the event: the ``dispatch`` headers say which event it is, and
    ``fields_for`` names the others that event needs.

    ``event json``: orjson decodes a body faster than any search for single keys
    could (measured: a whole 7 KB body in the time of about ten ``bytes.rfind`` over
    it), so the body is decoded whole, but only the wanted values are brought to
    the plain form; the other ninety-odd are left as orjson made them.

    ``event plain``: each wanted header is found by a C-level search for
    ``\\nName: `` and only its value is URL-decoded.  Values are URL-encoded, so
    that sequence only ever starts a header line; the last occurrence is taken, as
    the full decode keeps the last of a repeated header.

    For the wanted names the result is always what ``parse_event_body`` gives.

    The pipeline tries ``events_json.json_event`` first for ``event json``, which goes
    from body to typed event without a dict; this reader is its fallback for what that
    path leaves alone (non-string values, events outside its table, errors).
    """

    def __init__(self, dispatch: Iterable[str],
                 fields_for: Callable[[dict[str, str]], Iterable[str]]) -> None:
        self.dispatch = tuple(dispatch)
        self.fields_for = fields_for
        self._plain_keys: dict[str, tuple[bytes, bytes]] = {}

    def read(self, frame: Frame) -> dict[str, str]:
        """A dict holding at least the wanted headers present in ``frame``'s event body."""
        ctype = frame.content_type
        if ctype == "text/event-json":
            return self._read_json(frame.body)
        if ctype == "text/event-plain":
            return self._read_plain(frame.body)
        raise ProtocolError(f"not an event frame: {ctype!r}")

    def _read_json(self, body: bytes) -> dict[str, str]:
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ProtocolError(f"event-json body is not JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise ProtocolError("event-json body is not an object")
        # The dispatch values first: the other names depend on them.
        self._as_plain(obj, self.dispatch)
        self._as_plain(obj, self.fields_for(obj))
        return obj

    @staticmethod
    def _as_plain(obj: dict, names: Iterable[str]) -> None:
        for name in names:
            value = obj.get(name, "")
            if not isinstance(value, str):
                obj[name] = _json_value_as_plain(value)

    def _read_plain(self, body: bytes) -> dict[str, str]:
        head = body.find(b"\n\n")
        if head < 0:
            head = len(body)
        out: dict[str, str] = {}
        for name in self.dispatch:
            value = self._plain_value(body, head, name)
            if value is not None:
                out[name] = value
        for name in self.fields_for(out):
            value = self._plain_value(body, head, name)
            if value is not None:
                out[name] = value
        return out

    def _plain_value(self, body: bytes, head: int, name: str) -> str | None:
        if name == "_body":
            return self._plain_body(body, head)
        keys = self._plain_keys.get(name)
        if keys is None:
            key = name.encode() + b": "
            keys = self._plain_keys[name] = (b"\n" + key, key)
        at = body.rfind(keys[0], 0, head)
        if at >= 0:
            start = at + len(keys[0])
        elif body.startswith(keys[1]):
            start = len(keys[1])
        else:
            return None
        end = body.find(b"\n", start, head)
        value = body[start : head if end < 0 else end].decode("utf-8", "replace")
        return unquote(value) if "%" in value else value

    def _plain_body(self, body: bytes, head: int) -> str | None:
        if head >= len(body):
            return None
        length = self._plain_value(body, head, "Content-Length")
        if length is None:
            return None
        rest = body[head + 2 :]
        return rest[: _content_length({"Content-Length": length}, len(rest))].decode(
            "utf-8", "replace")


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
