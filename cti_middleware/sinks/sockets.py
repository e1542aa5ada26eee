"""Socket.IO sink: agent state changes to the agent's room and the supervisors' room."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import payloads
from ..model.changes import AgentStateChanged, Change, QueueCountChanged

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
                 longest_wait: Callable[[str], float | None] | None = None) -> None:
        self.emit = emit
        self.names = names or (lambda _agent: None)
        self.longest_wait = longest_wait or (lambda _queue: None)

    def handle(self, change: Change) -> None:
        if isinstance(change, AgentStateChanged):
            payload = payloads.agent_state(change, self.names(change.agent))
            self.emit("agent.state", payload, to=agent_room(change.agent), namespace=AGENT_NS)
            self.emit("agent.state", payload, to="supervisors", namespace=SUPERVISOR_NS)
        elif isinstance(change, QueueCountChanged):
            payload = payloads.queue_waiting(change.queue, change.waiting,
                                             self.longest_wait(change.queue))
            self.emit("queue.waiting", payload, to=queue_room(change.queue), namespace=AGENT_NS)
            self.emit("queue.waiting", payload, to="supervisors", namespace=SUPERVISOR_NS)
