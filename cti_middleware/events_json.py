"""Typed events straight from an ``event json`` body: the ingest fast path.

An event body holds about a hundred headers and its parser reads about twenty.
orjson has to build a Python string for every key and value (5.6 us for a 3.5 KB
body); msgspec decodes into a ``Struct`` and builds objects only for the keys the
Struct declares, skipping the rest in C (1.5 us for the same body).  That is why
msgspec is a dependency: it is well kept, ships wheels for every platform we run on,
and is the fastest way we measured to pick a few keys out of a large JSON object.

Each key of the body is compared with every header the Struct declares, so Structs
are kept small: one decoder covers every event :data:`events.PARSERS` knows, a union
of Structs tagged by ``Event-Name``, one per ``CHANNEL_*`` kind and other named event,
each declaring exactly the headers its parser reads (:func:`events.fields_of`), and
one for ``CUSTOM`` declaring mod_callcenter's headers, whose parser is picked by
``Event-Subclass`` / ``CC-Action`` as :func:`events.event_key` does (the rare other
subclasses are decoded again with a Struct of their own).

The fast path never decides anything the full decode would decide differently.
Whatever it cannot represent exactly makes :func:`json_event` return ``None`` and the
caller takes the full path (``FieldReader`` + ``parse_event``), which gives the event,
the :class:`~events.UnknownEvent`, the :class:`~events.EventError` or the
``ProtocolError`` it always gave: a value that is not a string (arrays, numbers,
null, objects), an ``Event-Name`` outside the union, a known event missing a
required header, a body that is not JSON or not an object, a header it reads that
is not valid UTF-8.

The one deliberate difference: msgspec skips the headers no parser reads without
checking them, so a bad byte sequence (invalid UTF-8) or a number too large for a
double (``1e999``) in such a header no longer costs the event, where orjson refuses
the whole body.  ``event plain`` already works that way (bad bytes are replaced), and
checking every body's UTF-8 would cost as much as the decode itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter

import msgspec

from . import events as ev
from .events import (
    CHANNEL_HEADERS,
    CHANNEL_KINDS,
    PARSERS,
    Event,
    EventError,
    agent_state,
    agent_status,
    channel_event,
    fields_of,
    ts_of,
)

__all__ = ["json_event"]

_CC = "callcenter::info"
_CC_KEY = _CC + "/"
_CUSTOM_DISPATCH = ("Event-Subclass", "CC-Action")

Builder = Callable[[msgspec.Struct], Event]


def _attr(header: str) -> str:
    """A Struct attribute name for a header (the JSON key is kept through ``rename``)."""
    name = header.replace("-", "_")
    return name[1:] + "_" if name.startswith("_") else name


def _struct(tag: str, headers: Iterable[str], tagged: bool = True) -> type[msgspec.Struct]:
    """A Struct holding ``headers`` as optional strings: absent is ``None``, never ``""``.

    Typed ``str`` with a ``None`` default, so a JSON ``null`` is refused (the full
    decode turns it into ``""``) instead of being mistaken for an absent header.
    """
    names = sorted(set(headers) - {"Event-Name"})
    rename = {_attr(h): h for h in names}
    if len(rename) != len(names) or not all(a.isidentifier() for a in rename):
        raise ValueError(f"headers of {tag} do not map to distinct attribute names")
    return msgspec.defstruct(
        f"Json_{_attr(tag).replace(':', '_')}", [(a, str, None) for a in rename],
        rename=rename, gc=False, module=__name__,
        **({"tag_field": "Event-Name", "tag": tag} if tagged else {}))


def _via_dict(key: str, struct: type[msgspec.Struct]) -> Builder:
    """The dict parser itself, fed the headers it reads straight from the Struct.

    Absent headers are ``None`` in the dict, which :data:`events.Headers` allows, so
    the parser, and everything it decides, is shared with the other paths.
    """
    parser = PARSERS[key]
    declared = struct.__struct_encode_fields__
    names = tuple(h for h in (*_CUSTOM_DISPATCH, *fields_of(key)) if h in declared)
    values = attrgetter(*(_attr(h) for h in names))
    return lambda s: parser(dict(zip(names, values(s))))


# The headers every channel event is built from, in channel_event's order (C-level getter).
_CHANNEL_COMMON = attrgetter(*map(_attr, CHANNEL_HEADERS))


def _channel(cls: type[ev.ChannelEvent]) -> Builder:
    """The common case, built from attributes without a dict in between."""
    if cls is ev.ChannelBridge:
        def build(s: msgspec.Struct) -> Event:
            return channel_event(cls, *_CHANNEL_COMMON(s), s.Bridge_A_Unique_ID,
                                 s.Bridge_B_Unique_ID)
    else:
        def build(s: msgspec.Struct) -> Event:
            return channel_event(cls, *_CHANNEL_COMMON(s), None, None)
    return build


def _custom(by_key: dict[str, Builder], others: dict[str, Callable[[bytes], Event]]) -> Callable:
    """CUSTOM events: pick the parser as :func:`events.event_key` does."""

    def build(s: msgspec.Struct, body: bytes) -> Event:
        sub = s.Event_Subclass
        if sub == _CC:
            action = s.CC_Action
            found = by_key.get(_CC_KEY + ("" if action is None else action))
            if found is not None:
                return found(s)
        else:
            other = others.get("" if sub is None else sub)
            if other is not None:
                return other(body)
        return ev.UnknownEvent(_ts_lenient(s.Event_Date_Timestamp), "CUSTOM", sub)

    return build


def _subclass(key: str) -> Callable[[bytes], Event]:
    """A CUSTOM subclass outside mod_callcenter: its own Struct, its own decode."""
    struct = _struct(key, (*_CUSTOM_DISPATCH, *fields_of(key)), tagged=False)
    decode = msgspec.json.Decoder(struct).decode
    build = _via_dict(key, struct)
    return lambda body: build(decode(body))


def _agent_status(s: msgspec.Struct) -> Event:
    return agent_status(s.Event_Date_Timestamp, s.CC_Agent, s.CC_Agent_Status)


def _agent_state(s: msgspec.Struct) -> Event:
    return agent_state(s.Event_Date_Timestamp, s.CC_Agent, s.CC_Agent_State)


# Agent status and state changes are a third of mod_callcenter's events: no dict for them.
_AGENT_BUILDERS: dict[str, Builder] = {
    _CC_KEY + "agent-status-change": _agent_status,
    _CC_KEY + "agent-status-get": _agent_status,
    _CC_KEY + "agent-state-change": _agent_state,
    _CC_KEY + "agent-state-get": _agent_state,
}


def _ts_lenient(raw: str | None) -> float:
    try:
        return ts_of(raw)
    except EventError:
        return 0.0


def _build_tables() -> tuple[msgspec.json.Decoder, dict[type, Builder], Callable]:
    named = [k for k in PARSERS if "::" not in k]
    callcenter = [k for k in PARSERS if k.startswith(_CC_KEY)]
    others = [k for k in PARSERS if "::" in k and not k.startswith(_CC_KEY)]
    builders: dict[type, Builder] = {}
    for key in named:
        struct = _struct(key, fields_of(key))
        cls = CHANNEL_KINDS.get(key)
        builders[struct] = _channel(cls) if cls is not None else _via_dict(key, struct)
    custom = _struct("CUSTOM", {h for k in callcenter for h in fields_of(k)}.union(
        _CUSTOM_DISPATCH))
    union = (*builders, custom)
    by_key = {k: _via_dict(k, custom) for k in callcenter}
    by_key.update(_AGENT_BUILDERS)
    build_custom = _custom(by_key, {k: _subclass(k) for k in others})
    return msgspec.json.Decoder(_union(union)), builders, build_custom


def _union(types: tuple[type, ...]) -> object:
    from typing import Union

    return Union[types]  # noqa: UP007 - built from a runtime tuple


_DECODER, _BUILDERS, _BUILD_CUSTOM = _build_tables()
_decode = _DECODER.decode


def json_event(body: bytes) -> Event | None:
    """The typed event of an ``event json`` body, or ``None``: then take the full path."""
    # ValueError covers msgspec's errors, bad UTF-8 in a read header and EventError:
    # whatever goes wrong, the full path says it as it always did.
    try:
        s = _decode(body)
        build = _BUILDERS.get(type(s))
        return build(s) if build is not None else _BUILD_CUSTOM(s, body)
    except (ValueError, KeyError, TypeError):
        return None
