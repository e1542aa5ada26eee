"""Socket.IO namespace ``/crm``: the webhook event feed, live, for CRM screens.

A client connects with ``auth={"token": "cti_..."}`` (a token holding
``events:read``) and receives the same events and payloads as webhooks
(``call.offered``, ``call.answered``, ``call.ended``, ``agent.state``).
A token restricted to queues joins only those queues' rooms, so it sees
only their calls and no agent states.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_socketio import ConnectionRefusedError, Namespace, join_room

from ..model.changes import Change
from ..store.errors import DB_ERRORS
from ..store.tokens import verify_token
from ..webhooks.sink import event_for

CRM_NS = "/crm"
ALL_ROOM = "crm:all"

Emit = Callable[..., Any]


def queue_room(queue: str) -> str:
    return f"crm:queue:{queue}"


class CrmNamespace(Namespace):
    """Token-authenticated read-only event feed."""

    def __init__(self, namespace: str = CRM_NS) -> None:
        super().__init__(namespace)

    def on_connect(self, auth: Any = None) -> None:
        plain = auth.get("token") if isinstance(auth, dict) else None
        try:
            token = verify_token(plain)
        except DB_ERRORS:
            raise ConnectionRefusedError("authentication unavailable") from None
        if token is None:
            raise ConnectionRefusedError("unauthorized")
        if "events:read" not in token.scope_list:
            raise ConnectionRefusedError("forbidden")
        queues = token.queue_list
        if queues is None:
            join_room(ALL_ROOM)
        else:
            for queue in queues:
                join_room(queue_room(queue))


class CrmSocketSink:
    """Notifier sink emitting webhook-shaped events to ``/crm`` rooms."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit

    def handle(self, change: Change) -> None:
        event = event_for(change)
        if event is None:
            return
        event_type, payload = event
        self.emit(event_type, payload, to=ALL_ROOM, namespace=CRM_NS)
        queue = payload.get("queue")
        if queue:
            self.emit(event_type, payload, to=queue_room(queue), namespace=CRM_NS)
