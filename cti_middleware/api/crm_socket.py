"""Socket.IO namespace ``/crm``: the webhook event feed, live, for CRM screens.

A client connects with ``auth={"token": "cti_..."}`` (a token holding
``events:read``) and receives the same events and payloads as webhooks
(``call.offered``, ``call.answered``, ``call.ended``, ``agent.state``).
A token restricted to queues joins only those queues' rooms, so it sees
only their calls and no agent states. Clients change that view with
``subscribe`` / ``unsubscribe`` (:mod:`.crm_session`), and a token holding
``calls:control`` places and ends calls for agents (:mod:`.crm_control`).
While no /crm client is connected in any process (:mod:`.crm_presence`),
changes are not emitted at all.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, Namespace, join_room, leave_room

from ..control import TOKEN_ACTIONS
from ..model.changes import Change
from ..store.errors import DB_ERRORS
from ..store.tokens import verify_token
from ..webhooks.sink import EVENT_TYPE_OF, event_for
from . import crm_control
from .crm_presence import CrmPresence
from .crm_session import ALL, CALLS_CONTROL, EVENTS_READ, CrmSession, SubscriptionError

CRM_NS = "/crm"
ALL_ROOM = "crm:all"

Emit = Callable[..., Any]


def queue_room(queue: str) -> str:
    return f"crm:queue:{queue}"


def _room(subscription: str) -> str:
    return ALL_ROOM if subscription == ALL else queue_room(subscription)


class CrmNamespace(Namespace):
    """Token-authenticated event feed with subscriptions, and click-to-call.

    ``runtime`` is the middleware whose call control ``call.*`` events use; when
    not given it is the one the Flask app carries.
    """

    def __init__(self, namespace: str = CRM_NS, presence: CrmPresence | None = None,
                 runtime: Any = None) -> None:
        super().__init__(namespace)
        self.presence = presence or CrmPresence()
        self.runtime = runtime
        self.sessions: dict[str, CrmSession] = {}

    def on_connect(self, auth: Any = None) -> None:
        plain = auth.get("token") if isinstance(auth, dict) else None
        try:
            token = verify_token(plain)
        except DB_ERRORS:
            raise ConnectionRefusedError("authentication unavailable") from None
        if token is None:
            raise ConnectionRefusedError("unauthorized")
        scopes = token.scope_list
        if EVENTS_READ not in scopes and CALLS_CONTROL not in scopes:
            raise ConnectionRefusedError("forbidden")
        session = CrmSession.for_token(token)
        self.sessions[request.sid] = session
        for subscription in session.rooms():
            join_room(_room(subscription))
        self.presence.connected()

    def on_disconnect(self, reason: Any = None) -> None:
        self.sessions.pop(request.sid, None)
        self.presence.disconnected()

    def on_subscribe(self, data: Any = None) -> dict[str, Any]:
        return self._change_subscriptions(CrmSession.subscribe, data)

    def on_unsubscribe(self, data: Any = None) -> dict[str, Any]:
        return self._change_subscriptions(CrmSession.unsubscribe, data)

    def _change_subscriptions(self, change: Callable[[CrmSession, Any], None], data: Any) -> dict[str, Any]:
        session = self.sessions.get(request.sid)
        if session is None:
            return {"ok": False, "error": "forbidden", "message": "not connected"}
        before = session.rooms()
        try:
            change(session, data)
        except SubscriptionError as exc:
            return {"ok": False, "error": exc.code, "message": exc.message}
        after = session.rooms()
        for subscription in before - after:
            leave_room(_room(subscription))
        for subscription in after - before:
            join_room(_room(subscription))
        return {"ok": True, "rooms": sorted(_room(s) for s in after)}

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Route the dotted control events (``call.dial``) to call control."""
        if event in TOKEN_ACTIONS:
            def handle(data: Any = None, *_extra: Any) -> dict[str, Any]:
                return crm_control.run(self.sessions.get(request.sid), self._runtime(), event, data)
            return self.socketio._handle_event(handle, event, self.namespace, *args)
        return super().trigger_event(event, *args)

    def _runtime(self) -> Any:
        return self.runtime if self.runtime is not None else current_app.extensions.get("cti_runtime")


class CrmSocketSink:
    """Notifier sink emitting webhook-shaped events to ``/crm`` rooms.

    Emits only while some process has a /crm client. Where that is learnt
    through Redis, the changes of the last ``replay`` seconds without listeners
    are kept, and replayed from the first client's connect time when it
    appears, so the time the news takes to arrive costs that client nothing.
    """

    def __init__(self, emit: Emit, presence: CrmPresence | None = None,
                 replay: float = 2.0, clock: Callable[[], float] = time.time) -> None:
        self.emit = emit
        # No presence given: emit everything, as a lone sink has no way to know.
        self.presence = presence or CrmPresence(always=True)
        self.replay = replay
        self.clock = clock
        self.recent: deque[tuple[float, Change]] = deque()
        self.skipped = 0
        self.presence.on_appeared(self._appeared)
        # Watching other processes' clients is started by whoever runs the process
        # (presence.start()), not here: building a sink must not spawn work.

    def handle(self, change: Change) -> None:
        if type(change) not in EVENT_TYPE_OF:
            return
        if self.presence.listening:
            self._emit(change)
            return
        self.skipped += 1
        if self.presence.shared:
            now = self.clock()
            self.recent.append((now, change))
            while self.recent and self.recent[0][0] < now - self.replay:
                self.recent.popleft()

    def _appeared(self, since: float | None) -> None:
        kept, self.recent = self.recent, deque()
        for at, change in kept:
            if since is None or at >= since - 0.05:  # a little clock skew between processes
                self._emit(change)

    def _emit(self, change: Change) -> None:
        event = event_for(change)
        if event is None:
            return
        event_type, payload = event
        self.emit(event_type, payload, to=ALL_ROOM, namespace=CRM_NS)
        queue = payload.get("queue")
        if queue:
            self.emit(event_type, payload, to=queue_room(queue), namespace=CRM_NS)
