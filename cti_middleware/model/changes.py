"""Domain changes: what :meth:`State.apply` and :meth:`State.resync` report.

Each is a frozen dataclass named in the past tense, emitted only when something
really changed, so consumers (notifications, persistence, sockets) can act on every
one without re-checking.  Times are epoch seconds taken from FreeSWITCH's events.

``member_uuid`` is always mod_callcenter's ``CC-Member-Session-UUID``: the caller's
channel, which is also what call-control commands (``uuid_kill``, ``uuid_transfer``)
and the screen pop's ``call_uuid`` use.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AgentAdded",
    "AgentContactChanged",
    "AgentNoAnswerLimitReached",
    "AgentRemoved",
    "AgentStateChanged",
    "CallBridged",
    "CallEnded",
    "CallFollowed",
    "CallOffered",
    "Change",
    "ChannelHeld",
    "MemberJoined",
    "MemberLeft",
    "OfferWithdrawn",
    "QueueCountChanged",
    "RegistrationChanged",
]


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """An agent's status, state or current call differs from before."""

    agent: str
    status: str
    state: str
    since: float
    """When the current status/state began (unchanged when only the call changed)."""
    call_uuid: str | None
    """The member's session uuid the agent is offered or talking to, else None."""
    wrap_up_until: float | None = None
    """``last_bridge_end + wrap_up_time`` when both are known: mod_callcenter offers
    the agent nothing before then, though it never announces wrap-up."""


@dataclass(frozen=True, slots=True)
class AgentAdded:
    agent: str
    agent_type: str | None


@dataclass(frozen=True, slots=True)
class AgentRemoved:
    """Seen only on resync: mod_callcenter sends no event when an agent is deleted."""

    agent: str


@dataclass(frozen=True, slots=True)
class AgentContactChanged:
    agent: str
    contact: str


@dataclass(frozen=True, slots=True)
class AgentNoAnswerLimitReached:
    """``agent-max-no-answer``: mod_callcenter is about to put the agent On Break."""

    agent: str
    member_uuid: str | None
    at: float


@dataclass(frozen=True, slots=True)
class MemberJoined:
    queue: str
    member_uuid: str
    caller_number: str
    caller_name: str
    joined_at: float


@dataclass(frozen=True, slots=True)
class MemberLeft:
    queue: str
    member_uuid: str


@dataclass(frozen=True, slots=True)
class QueueCountChanged:
    queue: str
    waiting: int
    """Members not yet bridged to an agent."""
    members: int
    """All members in the queue, bridged ones included (mod_callcenter's count)."""


@dataclass(frozen=True, slots=True)
class CallOffered:
    agent: str
    queue: str
    member_uuid: str
    caller_number: str
    caller_name: str
    joined_at: float | None
    offered_at: float
    route: str = "queue"
    """``queue`` for mod_callcenter's offers; the dialplan's ``cti_route`` (``sticky``)
    for an agent's phone the dialplan rang directly (see :mod:`.direct`)."""


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    """An offer ended without this agent getting the call.

    ``reason``: ``failed`` (bridge-agent-fail: no answer, busy, rejected),
    ``taken`` (ring-all: another agent answered; mod_callcenter sends nothing for the
    loser), ``caller-left`` (the member left the queue while being offered).
    """

    agent: str
    queue: str
    member_uuid: str
    reason: str
    hangup_cause: str | None
    at: float


@dataclass(frozen=True, slots=True)
class CallBridged:
    agent: str
    queue: str
    member_uuid: str
    agent_uuid: str | None
    caller_number: str
    caller_name: str
    answered_at: float
    route: str = "queue"


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The queue call is over for mod_callcenter: everything a call record needs.

    ``cause`` is ``CC-Cause`` (``Terminated`` after a bridge, ``Cancel`` before one,
    ``Lost`` when a resync found the member gone without an event).  ``abandoned``
    means never bridged to an agent.  After a transfer the caller may live on: see
    :class:`CallFollowed`.
    """

    member_uuid: str
    queue: str
    caller_number: str
    caller_name: str
    agent: str | None
    joined_at: float | None
    answered_at: float | None
    ended_at: float
    cause: str
    abandoned: bool
    hangup_cause: str | None
    cancel_reason: str | None = None
    transferred: bool = False
    route: str = "queue"


@dataclass(frozen=True, slots=True)
class CallFollowed:
    """A queue caller moved on after a transfer; a pop that follows the call uses this.

    Attended transfer: the caller's channel got bridged to a channel other than the
    queue's agent leg (``to_uuid``/``to_channel``; ``to_agent`` when that channel
    maps to a known agent).  Blind transfer: the queue call ended with the caller
    still up and sent to ``destination`` in the dialplan.
    """

    member_uuid: str
    queue: str | None
    from_agent: str | None
    to_agent: str | None
    to_uuid: str | None
    to_channel: str | None
    destination: str | None
    caller_number: str
    caller_name: str
    at: float


@dataclass(frozen=True, slots=True)
class ChannelHeld:
    """Hold began or ended on a channel (the agent's phone or the caller's leg)."""

    uuid: str
    held: bool
    agent: str | None
    member_uuid: str | None
    at: float


@dataclass(frozen=True, slots=True)
class RegistrationChanged:
    """A SIP phone registered or unregistered (``sofia::register``/``unregister``)."""

    user: str
    domain: str
    agent: str | None
    registered: bool
    contact: str
    at: float


Change = (
    AgentStateChanged
    | AgentAdded
    | AgentRemoved
    | AgentContactChanged
    | AgentNoAnswerLimitReached
    | MemberJoined
    | MemberLeft
    | QueueCountChanged
    | CallOffered
    | OfferWithdrawn
    | CallBridged
    | CallEnded
    | CallFollowed
    | ChannelHeld
    | RegistrationChanged
)
