"""Typed, immutable events built from the header dict of one ESL event.

``cti_middleware.esl.wire.parse_event_body`` gives the same ``dict[str, str]`` for
``event plain`` and ``event json``; this module turns it into one small tuple per
event, keeping only the fields the state model needs.  Events are NamedTuples:
immutable, typed, and about as cheap to build as Python objects get, which matters
at tens of thousands of events per second.

Dispatch is one table, :data:`PARSERS`, keyed by ``Event-Name``; for ``CUSTOM``
events by ``Event-Subclass``, and for ``callcenter::info`` by
``callcenter::info/<CC-Action>``.  Anything not in the table becomes
:class:`UnknownEvent` (never an error: FreeSWITCH grows new events).  A known event
that lacks a header it cannot be understood without raises :class:`EventError`,
which the caller logs and skips.

The ``event json`` fast path (:mod:`.events_json`) builds the same events from a
decoded Struct: the frequent kinds through the positional builders here
(:func:`channel_event`, :func:`agent_status`, :func:`agent_state`), which the dict
parsers call too, the others by handing the parser a dict of the headers it reads.

Times are FreeSWITCH's, in epoch seconds (float): ``Event-Date-Timestamp`` is in
microseconds.  Nothing here reads the local clock, so replaying a recording gives
the same result every time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

__all__ = [
    "CHANNEL_HEADERS",
    "CHANNEL_KINDS",
    "DISPATCH",
    "FIELDS",
    "PARSERS",
    "AgentAdded",
    "AgentContact",
    "AgentMaxNoAnswer",
    "AgentOffering",
    "AgentState",
    "AgentStatus",
    "BackgroundJob",
    "BridgeAgentEnd",
    "BridgeAgentFail",
    "BridgeAgentStart",
    "ChannelAnswer",
    "ChannelBridge",
    "ChannelCreate",
    "ChannelDestroy",
    "ChannelEvent",
    "ChannelHangup",
    "ChannelHangupComplete",
    "ChannelHold",
    "ChannelProgress",
    "ChannelUnbridge",
    "ChannelUnhold",
    "ConferenceMaintenance",
    "Event",
    "EventError",
    "Heartbeat",
    "MemberQueueEnd",
    "MemberQueueStart",
    "MembersCount",
    "Registration",
    "UnknownEvent",
    "agent_state",
    "agent_status",
    "channel_event",
    "event_key",
    "fields_for",
    "fields_of",
    "parse_event",
    "ts_of",
]

#: One event's headers.  A value of ``None`` means the header is absent, as a missing
#: key does: the json fast path (:mod:`.events_json`) passes absent headers that way.
Headers = Mapping[str, str | None]


class EventError(ValueError):
    """A known event lacks a header it cannot be understood without."""


def _req(h: Headers, name: str, event: str) -> str:
    value = h.get(name)
    if not value:
        raise EventError(f"{event} without {name}")
    return value


def _ts(h: Headers) -> float:
    return ts_of(h.get("Event-Date-Timestamp"))


def ts_of(raw: str | None) -> float:
    """``Event-Date-Timestamp`` (microseconds) as epoch seconds; absent or empty is 0."""
    if not raw:
        return 0.0
    try:
        return int(raw) / 1e6
    except ValueError:
        raise EventError(f"bad Event-Date-Timestamp {raw[:40]!r}") from None


def _epoch(raw: str | None) -> float | None:
    """mod_callcenter's whole-second epochs; ``0`` or absent means "never"."""
    if not raw or raw == "0":
        return None
    try:
        return float(raw)
    except ValueError:
        return None


# --------------------------------------------------------------------------- callcenter


class AgentStatus(NamedTuple):
    """``agent-status-change`` (and ``agent-status-get``, which reports the same)."""

    ts: float
    agent: str
    status: str


class AgentState(NamedTuple):
    """``agent-state-change`` (and ``agent-state-get``)."""

    ts: float
    agent: str
    state: str


class AgentOffering(NamedTuple):
    ts: float
    agent: str
    queue: str
    member_uuid: str
    """``CC-Member-Session-UUID``: the caller's channel, the id used everywhere here."""
    member_id: str | None
    caller_number: str
    caller_name: str


class BridgeAgentStart(NamedTuple):
    ts: float
    agent: str
    queue: str
    member_uuid: str
    agent_uuid: str | None
    caller_number: str
    caller_name: str
    joined_at: float | None


class BridgeAgentEnd(NamedTuple):
    ts: float
    agent: str
    queue: str
    member_uuid: str
    agent_uuid: str | None
    caller_number: str
    caller_name: str
    hangup_cause: str | None


class BridgeAgentFail(NamedTuple):
    ts: float
    agent: str
    queue: str
    member_uuid: str
    caller_number: str
    caller_name: str
    hangup_cause: str | None


class MemberQueueStart(NamedTuple):
    """``member-queue-start`` (or ``member-queue-resume``: a member let back in)."""

    ts: float
    queue: str
    member_uuid: str
    member_id: str | None
    caller_number: str
    caller_name: str
    resumed: bool


class MemberQueueEnd(NamedTuple):
    ts: float
    queue: str
    member_uuid: str
    member_id: str | None
    caller_number: str
    caller_name: str
    cause: str
    """``CC-Cause``: ``Terminated`` (was bridged) or ``Cancel`` (left before)."""
    cancel_reason: str | None
    agent: str | None
    agent_uuid: str | None
    joined_at: float | None
    answered_at: float | None
    hangup_cause: str | None
    """The caller channel's ``Hangup-Cause``; absent while the caller lives on."""
    channel_alive: bool
    """True when the caller's channel was still up (e.g. transferred away)."""
    transfer_source: str | None


class MembersCount(NamedTuple):
    ts: float
    queue: str
    count: int


class AgentMaxNoAnswer(NamedTuple):
    ts: float
    agent: str
    member_uuid: str | None


class AgentAdded(NamedTuple):
    ts: float
    agent: str
    agent_type: str | None


class AgentContact(NamedTuple):
    ts: float
    agent: str
    contact: str


# --------------------------------------------------------------------------- channels


class ChannelEvent(NamedTuple):
    """Fields shared by every ``CHANNEL_*`` event; subclasses only name the kind."""

    ts: float
    uuid: str
    name: str
    direction: str
    caller_number: str
    caller_name: str
    destination: str
    other_uuid: str | None
    other_name: str | None
    cc_agent: str | None
    """``variable_cc_agent``: on an agent leg its agent, on a member leg the serving agent."""
    cc_side: str | None
    """``variable_cc_side``: ``agent`` or ``member`` on legs mod_callcenter made or queued."""
    cc_member_uuid: str | None
    """``variable_cc_member_session_uuid`` on an agent leg: the caller it was made for."""
    presence_id: str | None
    hangup_cause: str | None
    answered: bool
    application: str | None
    application_data: str | None
    cti_agent: str | None = None
    """``variable_cti_agent``: the agent a CTI dialplan rang directly (sticky route)."""
    cti_call_uuid: str | None = None
    """``variable_cti_call_uuid``: on a leg the dialplan bridged to, the caller's channel."""
    cti_queue: str | None = None
    cti_route: str | None = None


class ChannelCreate(ChannelEvent):
    __slots__ = ()


class ChannelProgress(ChannelEvent):
    __slots__ = ()


class ChannelAnswer(ChannelEvent):
    __slots__ = ()


class ChannelBridge(ChannelEvent):
    """``other_uuid`` is the bridged peer (``Bridge-B-Unique-ID`` when present)."""

    __slots__ = ()


class ChannelUnbridge(ChannelEvent):
    __slots__ = ()


class ChannelHold(ChannelEvent):
    __slots__ = ()


class ChannelUnhold(ChannelEvent):
    __slots__ = ()


class ChannelHangup(ChannelEvent):
    __slots__ = ()


class ChannelHangupComplete(ChannelEvent):
    __slots__ = ()


class ChannelDestroy(ChannelEvent):
    __slots__ = ()


# --------------------------------------------------------------------------- others


class BackgroundJob(NamedTuple):
    ts: float
    job_uuid: str
    command: str
    body: str


class Heartbeat(NamedTuple):
    ts: float
    core_uuid: str | None
    uptime_msec: int | None
    session_count: int | None


class ConferenceMaintenance(NamedTuple):
    ts: float
    action: str
    conference: str
    member_id: str | None
    uuid: str | None
    channel_name: str | None


class Registration(NamedTuple):
    """``sofia::register`` / ``sofia::unregister``: a phone came or went."""

    ts: float
    registered: bool
    user: str
    domain: str
    contact: str
    agent: str | None
    """``cc_agent`` from the user's directory variables, when set there."""
    profile: str | None
    network_ip: str | None
    expires: int | None


class UnknownEvent(NamedTuple):
    """An event this middleware has no use for; kept so callers can count them."""

    ts: float
    name: str
    subclass: str | None


Event = (
    AgentStatus
    | AgentState
    | AgentOffering
    | BridgeAgentStart
    | BridgeAgentEnd
    | BridgeAgentFail
    | MemberQueueStart
    | MemberQueueEnd
    | MembersCount
    | AgentMaxNoAnswer
    | AgentAdded
    | AgentContact
    | ChannelEvent
    | BackgroundJob
    | Heartbeat
    | ConferenceMaintenance
    | Registration
    | UnknownEvent
)


# --------------------------------------------------------------------------- parsers

# tuple.__new__ is what a NamedTuple's own __new__ calls, minus one Python frame: used
# by the builders the json fast path shares (all fields are always given).
_new_tuple = tuple.__new__


def _agent_status(h: Headers) -> AgentStatus:
    return agent_status(
        h.get("Event-Date-Timestamp"), h.get("CC-Agent"), h.get("CC-Agent-Status"))


def agent_status(ts: str | None, agent: str | None, status: str | None) -> AgentStatus:
    """From raw header values, like :func:`channel_event` (the most frequent event)."""
    if not agent:
        raise EventError("agent status without CC-Agent")
    if not status:
        raise EventError("agent status without CC-Agent-Status")
    return _new_tuple(AgentStatus, (ts_of(ts), agent, status))


def _agent_state(h: Headers) -> AgentState:
    return agent_state(
        h.get("Event-Date-Timestamp"), h.get("CC-Agent"), h.get("CC-Agent-State"))


def agent_state(ts: str | None, agent: str | None, state: str | None) -> AgentState:
    """From raw header values, like :func:`channel_event`."""
    if not agent:
        raise EventError("agent state without CC-Agent")
    if not state:
        raise EventError("agent state without CC-Agent-State")
    return _new_tuple(AgentState, (ts_of(ts), agent, state))


def _agent_offering(h: Headers) -> AgentOffering:
    what = "agent-offering"
    return AgentOffering(
        _ts(h),
        _req(h, "CC-Agent", what),
        _req(h, "CC-Queue", what),
        _req(h, "CC-Member-Session-UUID", what),
        h.get("CC-Member-UUID"),
        h.get("CC-Member-CID-Number") or "",
        h.get("CC-Member-CID-Name") or "",
    )


def _bridge_start(h: Headers) -> BridgeAgentStart:
    what = "bridge-agent-start"
    return BridgeAgentStart(
        _ts(h),
        _req(h, "CC-Agent", what),
        _req(h, "CC-Queue", what),
        _req(h, "CC-Member-Session-UUID", what),
        h.get("CC-Agent-UUID"),
        h.get("CC-Member-CID-Number") or "",
        h.get("CC-Member-CID-Name") or "",
        _epoch(h.get("CC-Member-Joined-Time")),
    )


def _bridge_end(h: Headers) -> BridgeAgentEnd:
    what = "bridge-agent-end"
    return BridgeAgentEnd(
        _ts(h),
        _req(h, "CC-Agent", what),
        _req(h, "CC-Queue", what),
        _req(h, "CC-Member-Session-UUID", what),
        h.get("CC-Agent-UUID"),
        h.get("CC-Member-CID-Number") or "",
        h.get("CC-Member-CID-Name") or "",
        h.get("Hangup-Cause") or h.get("CC-Hangup-Cause"),
    )


def _bridge_fail(h: Headers) -> BridgeAgentFail:
    what = "bridge-agent-fail"
    return BridgeAgentFail(
        _ts(h),
        _req(h, "CC-Agent", what),
        _req(h, "CC-Queue", what),
        _req(h, "CC-Member-Session-UUID", what),
        h.get("CC-Member-CID-Number") or "",
        h.get("CC-Member-CID-Name") or "",
        h.get("CC-Hangup-Cause"),
    )


def _member_start(h: Headers) -> MemberQueueStart:
    what = "member-queue-start"
    return MemberQueueStart(
        _ts(h),
        _req(h, "CC-Queue", what),
        _req(h, "CC-Member-Session-UUID", what),
        h.get("CC-Member-UUID"),
        h.get("CC-Member-CID-Number") or "",
        h.get("CC-Member-CID-Name") or "",
        h.get("CC-Action") == "member-queue-resume",
    )


def _member_end(h: Headers) -> MemberQueueEnd:
    what = "member-queue-end"
    return MemberQueueEnd(
        _ts(h),
        _req(h, "CC-Queue", what),
        _req(h, "CC-Member-Session-UUID", what),
        h.get("CC-Member-UUID"),
        h.get("CC-Member-CID-Number") or "",
        h.get("CC-Member-CID-Name") or "",
        h.get("CC-Cause") or "Unknown",
        h.get("CC-Cancel-Reason"),
        h.get("CC-Agent"),
        h.get("CC-Agent-UUID"),
        _epoch(h.get("CC-Member-Joined-Time")),
        _epoch(h.get("CC-Agent-Answered-Time")),
        h.get("Hangup-Cause"),
        h.get("Answer-State") not in (None, "hangup"),
        h.get("Caller-Transfer-Source"),
    )


def _members_count(h: Headers) -> MembersCount:
    raw = _req(h, "CC-Count", "members-count")
    try:
        count = int(raw)
    except ValueError:
        raise EventError(f"members-count with CC-Count {raw[:20]!r}") from None
    return MembersCount(_ts(h), _req(h, "CC-Queue", "members-count"), count)


def _max_no_answer(h: Headers) -> AgentMaxNoAnswer:
    return AgentMaxNoAnswer(
        _ts(h), _req(h, "CC-Agent", "agent-max-no-answer"), h.get("CC-Member-Session-UUID")
    )


def _agent_add(h: Headers) -> AgentAdded:
    return AgentAdded(_ts(h), _req(h, "CC-Agent", "agent-add"), h.get("CC-Agent-Type"))


def _agent_contact(h: Headers) -> AgentContact:
    return AgentContact(
        _ts(h), _req(h, "CC-Agent", "agent-contact-change"), h.get("CC-Agent-Contact") or ""
    )


def _channel(cls: type[ChannelEvent]) -> Callable[[Headers], ChannelEvent]:
    bridge = cls is ChannelBridge

    def parse(h: Headers) -> ChannelEvent:
        g = h.get
        return channel_event(
            cls, *map(g, CHANNEL_HEADERS),
            g("Bridge-A-Unique-ID") if bridge else None,
            g("Bridge-B-Unique-ID") if bridge else None,
        )

    parse.__name__ = f"parse_{cls.__name__}"
    return parse


def channel_event(
    cls: type[ChannelEvent], ts: str | None, uuid: str | None, name: str | None,
    direction: str | None, caller_number: str | None, caller_name: str | None,
    destination: str | None, other_uuid: str | None, other_name: str | None,
    cc_agent: str | None, cc_side: str | None, cc_member_uuid: str | None,
    presence_id: str | None, hangup_cause: str | None, answer_state: str | None,
    application: str | None, application_data: str | None, cti_agent: str | None,
    cti_call_uuid: str | None, cti_queue: str | None, cti_route: str | None,
    bridge_a: str | None, bridge_b: str | None,
) -> ChannelEvent:
    """A ``CHANNEL_*`` event from its raw header values (``None``: header absent).

    Positional so that the header dict and the json fast path (``events_json``) share
    one definition of what each field means.
    """
    if not uuid:
        raise EventError(f"{cls.__name__} without Unique-ID")
    other = bridge_b
    if other == uuid:
        other = bridge_a
    return _new_tuple(cls, (
        ts_of(ts),
        uuid,
        "" if name is None else name,
        "" if direction is None else direction,
        "" if caller_number is None else caller_number,
        "" if caller_name is None else caller_name,
        "" if destination is None else destination,
        other or other_uuid,
        other_name,
        cc_agent,
        cc_side,
        cc_member_uuid,
        presence_id,
        hangup_cause,
        answer_state == "answered",
        application,
        application_data,
        cti_agent,
        cti_call_uuid,
        cti_queue,
        cti_route,
    ))


def _int(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _background_job(h: Headers) -> BackgroundJob:
    return BackgroundJob(
        _ts(h),
        _req(h, "Job-UUID", "BACKGROUND_JOB"),
        h.get("Job-Command") or "",
        h.get("_body") or "",
    )


def _heartbeat(h: Headers) -> Heartbeat:
    return Heartbeat(
        _ts(h), h.get("Core-UUID"), _int(h.get("Uptime-msec")), _int(h.get("Session-Count"))
    )


def _conference(h: Headers) -> ConferenceMaintenance:
    return ConferenceMaintenance(
        _ts(h),
        _req(h, "Action", "conference::maintenance"),
        h.get("Conference-Name") or "",
        h.get("Member-ID"),
        h.get("Unique-ID"),
        h.get("Channel-Name"),
    )


def _registration(registered: bool) -> Callable[[Headers], Registration]:
    what = "sofia::register" if registered else "sofia::unregister"

    def parse(h: Headers) -> Registration:
        user = h.get("username") or h.get("from-user")
        if not user:
            raise EventError(f"{what} without username")
        return Registration(
            _ts(h),
            registered,
            user,
            h.get("realm") or h.get("from-host") or h.get("domain_name") or "",
            h.get("contact") or "",
            h.get("cc_agent"),
            h.get("profile-name"),
            h.get("network-ip"),
            _int(h.get("expires")),
        )

    parse.__name__ = f"parse_{'register' if registered else 'unregister'}"
    return parse


_CC = "callcenter::info/"

#: ``Event-Name`` -> the event class of each ``CHANNEL_*`` event parsed.
CHANNEL_KINDS: dict[str, type[ChannelEvent]] = {
    "CHANNEL_CREATE": ChannelCreate,
    "CHANNEL_PROGRESS": ChannelProgress,
    "CHANNEL_ANSWER": ChannelAnswer,
    "CHANNEL_BRIDGE": ChannelBridge,
    "CHANNEL_UNBRIDGE": ChannelUnbridge,
    "CHANNEL_HOLD": ChannelHold,
    "CHANNEL_UNHOLD": ChannelUnhold,
    "CHANNEL_HANGUP": ChannelHangup,
    "CHANNEL_HANGUP_COMPLETE": ChannelHangupComplete,
    "CHANNEL_DESTROY": ChannelDestroy,
}

#: The dispatch table: key -> parser.  Keys are ``Event-Name`` values, ``CUSTOM``
#: subclasses, and ``callcenter::info/<CC-Action>`` for mod_callcenter.
PARSERS: dict[str, Callable[[Headers], Event]] = {
    _CC + "agent-status-change": _agent_status,
    _CC + "agent-status-get": _agent_status,
    _CC + "agent-state-change": _agent_state,
    _CC + "agent-state-get": _agent_state,
    _CC + "agent-offering": _agent_offering,
    _CC + "bridge-agent-start": _bridge_start,
    _CC + "bridge-agent-end": _bridge_end,
    _CC + "bridge-agent-fail": _bridge_fail,
    _CC + "member-queue-start": _member_start,
    _CC + "member-queue-resume": _member_start,
    _CC + "member-queue-end": _member_end,
    _CC + "members-count": _members_count,
    _CC + "agent-max-no-answer": _max_no_answer,
    _CC + "agent-add": _agent_add,
    _CC + "agent-contact-change": _agent_contact,
    **{name: _channel(cls) for name, cls in CHANNEL_KINDS.items()},
    "BACKGROUND_JOB": _background_job,
    "HEARTBEAT": _heartbeat,
    "conference::maintenance": _conference,
    "sofia::register": _registration(True),
    "sofia::unregister": _registration(False),
}


#: The headers that say which parser an event goes to (see :func:`event_key`).
DISPATCH: tuple[str, ...] = ("Event-Name", "Event-Subclass", "CC-Action")

_CID = ("CC-Member-CID-Number", "CC-Member-CID-Name")
_CC_CALL = ("CC-Agent", "CC-Queue", "CC-Member-Session-UUID", *_CID)
_CHANNEL = (
    "Unique-ID", "Channel-Name", "Call-Direction", "Caller-Caller-ID-Number",
    "Caller-Caller-ID-Name", "Caller-Destination-Number", "Other-Leg-Unique-ID",
    "Other-Leg-Channel-Name", "variable_cc_agent", "variable_cc_side",
    "variable_cc_member_session_uuid", "variable_presence_id", "Hangup-Cause", "Answer-State",
    "variable_current_application", "variable_current_application_data",
    "variable_cti_agent", "variable_cti_call_uuid", "variable_cti_queue", "variable_cti_route",
)
#: The headers of every channel event, in :func:`channel_event`'s argument order (after
#: ``cls``; the bridge legs follow for ``CHANNEL_BRIDGE`` only).
CHANNEL_HEADERS: tuple[str, ...] = ("Event-Date-Timestamp", *_CHANNEL)
_REGISTRATION = ("username", "from-user", "realm", "from-host", "domain_name", "contact",
                 "cc_agent", "profile-name", "network-ip", "expires")
_READS: dict[str, tuple[str, ...]] = {
    _CC + "agent-status-change": ("CC-Agent", "CC-Agent-Status"),
    _CC + "agent-status-get": ("CC-Agent", "CC-Agent-Status"),
    _CC + "agent-state-change": ("CC-Agent", "CC-Agent-State"),
    _CC + "agent-state-get": ("CC-Agent", "CC-Agent-State"),
    _CC + "agent-offering": (*_CC_CALL, "CC-Member-UUID"),
    _CC + "bridge-agent-start": (*_CC_CALL, "CC-Agent-UUID", "CC-Member-Joined-Time"),
    _CC + "bridge-agent-end": (*_CC_CALL, "CC-Agent-UUID", "Hangup-Cause", "CC-Hangup-Cause"),
    _CC + "bridge-agent-fail": (*_CC_CALL, "CC-Hangup-Cause"),
    _CC + "member-queue-start": ("CC-Queue", "CC-Member-Session-UUID", "CC-Member-UUID", *_CID),
    _CC + "member-queue-resume": ("CC-Queue", "CC-Member-Session-UUID", "CC-Member-UUID", *_CID),
    _CC + "member-queue-end": (
        *_CC_CALL, "CC-Member-UUID", "CC-Cause", "CC-Cancel-Reason", "CC-Agent-UUID",
        "CC-Member-Joined-Time", "CC-Agent-Answered-Time", "Hangup-Cause", "Answer-State",
        "Caller-Transfer-Source"),
    _CC + "members-count": ("CC-Count", "CC-Queue"),
    _CC + "agent-max-no-answer": ("CC-Agent", "CC-Member-Session-UUID"),
    _CC + "agent-add": ("CC-Agent", "CC-Agent-Type"),
    _CC + "agent-contact-change": ("CC-Agent", "CC-Agent-Contact"),
    "CHANNEL_BRIDGE": (*_CHANNEL, "Bridge-A-Unique-ID", "Bridge-B-Unique-ID"),
    "BACKGROUND_JOB": ("Job-UUID", "Job-Command", "_body"),
    "HEARTBEAT": ("Core-UUID", "Uptime-msec", "Session-Count"),
    "conference::maintenance": ("Action", "Conference-Name", "Member-ID", "Unique-ID",
                                "Channel-Name"),
    "sofia::register": _REGISTRATION,
    "sofia::unregister": _REGISTRATION,
}


def fields_of(key: str) -> tuple[str, ...]:
    """The headers the parser for ``key`` reads, besides :data:`DISPATCH`.

    The consumer decodes only these (``esl.wire.FieldReader``): a parser that starts
    reading another header must list it here; tests/unit/test_event_fields.py
    checks the table against every recording.
    """
    found = _FIELDS.get(key)
    return found if found is not None else _UNKNOWN


def fields_for(h: Headers) -> tuple[str, ...]:
    """The headers the parser of the event whose :data:`DISPATCH` headers are ``h`` reads."""
    return fields_of(event_key(h))


_UNKNOWN = ("Event-Date-Timestamp",)
_FIELDS: dict[str, tuple[str, ...]] = {
    key: ("Event-Date-Timestamp", *(_READS.get(key) or _CHANNEL)) for key in PARSERS
}

#: Every header any parser reads.
FIELDS: frozenset[str] = frozenset(DISPATCH).union(*_FIELDS.values())


def event_key(h: Headers) -> str:
    """The :data:`PARSERS` key for a header dict (may be absent from the table)."""
    name = h.get("Event-Name", "")
    if name != "CUSTOM":
        return name
    sub = h.get("Event-Subclass", "")
    if sub == "callcenter::info":
        return _CC + h.get("CC-Action", "")
    return sub


def parse_event(h: Headers) -> Event:
    """Build the typed event for one header dict; :class:`UnknownEvent` if unknown.

    Raises :class:`EventError` only for a known event missing a required header.
    """
    parser = PARSERS.get(event_key(h))
    if parser is None:
        return UnknownEvent(_ts_lenient(h), h.get("Event-Name", ""), h.get("Event-Subclass"))
    return parser(h)


def _ts_lenient(h: Headers) -> float:
    try:
        return _ts(h)
    except EventError:
        return 0.0
