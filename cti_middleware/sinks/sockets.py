"""Socket.IO sink: agent state changes to the agent's room and the supervisors' room."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import payloads
from ..model.changes import AgentStateChanged, Change, QueueCountChanged
from ..model.entities import Agent

AGENT_NS = "/agent"
SUPERVISOR_NS = "/supervisor"

Emit = Callable[..., Any]


def agent_room(agent_id: str) -> str:
    return f"agent:{agent_id}"


def queue_room(queue: str) -> str:
    return f"queue:{queue}"


class SocketSink:
    """Pushes changes to the desktops that should see them; emits never block on a client."""

    def __init__(self, emit: Emit, names: Callable[[str], str | None] | None = None,
                 longest_wait: Callable[[str], float | None] | None = None,
                 reasons: Callable[[str, str], str | None] | None = None) -> None:
        self.emit = emit
        self.reasons = reasons or (lambda _agent, _status: None)
        self.names = names or (lambda _agent: None)
        self.longest_wait = longest_wait or (lambda _queue: None)
        # What each queue's room last heard: a caller being bridged or leaving after
        # the bridge changes mod_callcenter's member count but not what a waiting
        # display shows, and each such repeat would be one send per desktop in the room.
        self._shown: dict[str, tuple[int, float | None]] = {}

    def resend_agent(self, record: Agent) -> None:
        """``agent.state`` again from the live record: only what the middleware adds changed."""
        payload = payloads.agent_state(record, self.names(record.name), self.reasons(record.name, record.status))
        self.emit("agent.state", payload, to=agent_room(record.name), namespace=AGENT_NS)
        self.emit("agent.state", payload, to="supervisors", namespace=SUPERVISOR_NS)

    def handle(self, change: Change) -> None:
        if isinstance(change, AgentStateChanged):
            payload = payloads.agent_state(change, self.names(change.agent),
                                           self.reasons(change.agent, change.status))
            self.emit("agent.state", payload, to=agent_room(change.agent), namespace=AGENT_NS)
            self.emit("agent.state", payload, to="supervisors", namespace=SUPERVISOR_NS)
        elif isinstance(change, QueueCountChanged):
            longest = self.longest_wait(change.queue)
            shown = (change.waiting, longest)
            if self._shown.get(change.queue) == shown:
                return
            self._shown[change.queue] = shown
            payload = payloads.queue_waiting(change.queue, change.waiting, longest)
            self.emit("queue.waiting", payload, to=queue_room(change.queue), namespace=AGENT_NS)
            self.emit("queue.waiting", payload, to="supervisors", namespace=SUPERVISOR_NS)
