"""The live records the state model keeps: agents, queues, members, channels.

They are mutable (the model updates them in place on every event) and internal:
consumers get :mod:`.changes` and, for reads, the records themselves through
:class:`~cti_middleware.model.state.State`.  Treat them as read-only outside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Agent", "Channel", "DirectCall", "Member", "Queue", "contact_key"]

# Call states of a member, as mod_callcenter names them in ``queue list members``.
WAITING = "Waiting"
TRYING = "Trying"
ANSWERED = "Answered"


@dataclass(slots=True)
class Agent:
    name: str
    status: str = "Unknown"
    state: str = "Unknown"
    since: float = 0.0
    call_uuid: str | None = None
    """Member session uuid being offered to or talked to, from mod_callcenter's events."""
    agent_uuid: str | None = None
    """The agent's own leg for that call, once bridged."""
    queue: str | None = None
    contact: str | None = None
    agent_type: str | None = None
    wrap_up_time: int | None = None
    last_offered_at: float | None = None
    last_bridge_start: float | None = None
    last_bridge_end: float | None = None
    registered: bool | None = None

    @property
    def wrap_up_until(self) -> float | None:
        if self.last_bridge_end is None or not self.wrap_up_time:
            return None
        return self.last_bridge_end + self.wrap_up_time

    def key(self) -> tuple[str, str, str | None]:
        """What a desktop shows; a change is reported when this differs."""
        return (self.status, self.state, self.call_uuid)


@dataclass(slots=True)
class Queue:
    name: str
    strategy: str | None = None
    members: int = 0
    """mod_callcenter's own count (``members-count``), bridged members included."""
    waiting: int = 0
    """Members of this queue not yet bridged, counted by the model."""


@dataclass(slots=True)
class Member:
    uuid: str
    """``CC-Member-Session-UUID``: the caller's channel."""
    queue: str
    caller_number: str
    caller_name: str
    joined_at: float | None
    member_id: str | None = None
    state: str = WAITING
    agent: str | None = None
    """The serving agent once bridged."""
    agent_uuid: str | None = None
    answered_at: float | None = None
    offered_to: set[str] = field(default_factory=set)
    followed: bool = False


@dataclass(slots=True)
class Channel:
    uuid: str
    name: str
    direction: str = ""
    caller_number: str = ""
    caller_name: str = ""
    destination: str = ""
    created_at: float | None = None
    answered: bool = False
    held: bool = False
    bridged_to: str | None = None
    other_uuid: str | None = None
    cc_side: str | None = None
    cc_agent: str | None = None
    cc_member_uuid: str | None = None
    presence_id: str | None = None
    agent: str | None = None
    """The agent whose phone this leg is, when the model could tell."""
    member_queue: str | None = None
    """Set on a caller's channel once it joined a queue (kept after the queue call)."""
    served_by: str | None = None
    """On a caller's channel: the last agent mod_callcenter bridged it to."""
    hangup_cause: str | None = None
    hung_up: bool = False


def contact_key(text: str) -> str:
    """Reduce an agent contact or a channel name to a comparable form.

    ``[leg_timeout=10]null/agent1000`` and channel ``null/agent1000`` match, as do
    ``sofia/internal/sip:agent1003@127.0.0.1:5090`` and the channel
    ``sofia/internal/agent1003@127.0.0.1:5090``.
    """
    s = text.strip()
    while s[:1] in ("[", "{", "<"):
        close = {"[": "]", "{": "}", "<": ">"}[s[0]]
        end = s.find(close)
        if end < 0:
            break
        s = s[end + 1 :].lstrip()
    s = s.replace("/sip:", "/").replace("/sips:", "/")
    return s.lower()


@dataclass(slots=True)
class DirectCall:
    """A caller the dialplan bridged straight to an agent's phone, outside any queue.

    mod_callcenter knows nothing of it (no member, no offer events), so the model
    follows the agent's leg instead: it carries ``cti_agent`` and ``cti_call_uuid``.
    """

    call_uuid: str
    """The caller's channel: the id the pop, the record and call control use."""
    leg_uuid: str
    """The agent's leg the dialplan originated."""
    agent: str
    queue: str
    route: str
    caller_number: str
    caller_name: str
    offered_at: float
    answered_at: float | None = None
    bridged_at: float | None = None
