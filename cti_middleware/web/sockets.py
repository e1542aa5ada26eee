"""Socket.IO namespaces: who may connect, which rooms they join, what they see first."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gevent
from flask import request
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room

from ..control import SWITCH_TIMEOUT, SWITCH_UNAVAILABLE, Actor
from ..sinks.sockets import AGENT_NS, SUPERVISOR_NS, agent_room, queue_room
from ..store import agents as agent_store
from ..store.errors import DB_ERRORS
from ..store.models import SUPERVISING_ROLES
from . import callback_handlers, control_handlers, recordings_http, workorder_handlers
from .forwarding import REPOP
from .shared_state import LocalSource

log = logging.getLogger(__name__)

MAX_CREDENTIAL = 256


@dataclass(frozen=True)
class Principal:
    """Who is behind a socket, fixed at connect time."""

    agent: str
    name: str | None
    role: str


def authenticate(auth: Any) -> Principal:
    """Check the handshake's credentials; anything malformed is refused the same way."""
    if not isinstance(auth, dict):
        raise ConnectionRefusedError("invalid credentials")
    agent_id, password = auth.get("agent"), auth.get("password")
    if (
        not isinstance(agent_id, str)
        or not isinstance(password, str)
        or not agent_id
        or len(agent_id) > MAX_CREDENTIAL
        or len(password) > MAX_CREDENTIAL
    ):
        raise ConnectionRefusedError("invalid credentials")
    try:
        account = agent_store.authenticate(agent_id, password)
    except DB_ERRORS as exc:
        log.error("cannot check credentials: %s", exc)
        raise ConnectionRefusedError("authentication unavailable") from None
    if account is None:
        log.warning("refused login for %r from %s", agent_id[:64], request.remote_addr)
        raise ConnectionRefusedError("invalid credentials")
    return Principal(account.agent_id, account.display_name, account.role)


class _BaseNamespace(Namespace):
    def __init__(self, namespace: str, runtime: Any, source: Any = None) -> None:
        super().__init__(namespace)
        self.runtime = runtime
        # Where the first picture comes from: this process's state, or the ingest's shared view.
        self.source = source if source is not None else LocalSource(runtime)
        # Set in a web-only worker: control actions go to the ingest process.
        self.forward: Any = None
        self.principals: dict[str, Principal] = {}

    def principal(self) -> Principal:
        return self.principals[request.sid]

    def on_disconnect(self, reason: Any = None) -> None:
        self.principals.pop(request.sid, None)

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Route dotted control events (``call.hold``) to :mod:`.control_handlers`."""
        handler = (control_handlers.handler_for(self, event)
                   or callback_handlers.handler_for(self, event)
                   or recordings_http.handler_for(self, event))
        handler = handler or workorder_handlers.handler_for(self, event)
        if handler is None:
            return super().trigger_event(event, *args)
        return self.socketio._handle_event(handler, event, self.namespace, *args)

    def _send_agent_snapshot(self, principal: Principal) -> None:
        state = self.source.agent_state(principal.agent)
        if state is not None:
            emit("agent.state", state)
        if self.forward is not None:
            # The calls and their pops live in the ingest process: ask it, off the
            # connect path, as the session's own agent (the client names nobody).
            gevent.spawn(self._forward_repop, Actor(principal.agent, principal.role))
        elif state is not None:
            self.source.repop(principal.agent)

    def _forward_repop(self, actor: Actor) -> None:
        """A refusal or no ingest process only means no pop until the next change."""
        ack = self.forward(actor, REPOP, None)
        if ack.get("ok"):
            log.debug("ingest process asked to pop %s's calls again", actor.agent)
        elif ack.get("error") in (SWITCH_UNAVAILABLE, SWITCH_TIMEOUT):
            log.info("no screen pop again for %s: %s", actor.agent, ack.get("message"))
        else:
            log.warning("screen pop again for %s refused: %s", actor.agent, ack)


class AgentNamespace(_BaseNamespace):
    """``/agent``: one desktop per socket, in its agent's room and its queues' rooms."""

    def __init__(self, runtime: Any, source: Any = None) -> None:
        super().__init__(AGENT_NS, runtime, source)

    def on_connect(self, auth: Any = None) -> None:
        principal = authenticate(auth)
        self.principals[request.sid] = principal
        queues = self.source.queues_of(principal.agent)
        join_room(agent_room(principal.agent))
        for queue in queues:
            join_room(queue_room(queue))
        emit("session", {"agent": principal.agent, "name": principal.name, "role": principal.role})
        self._send_agent_snapshot(principal)
        emit("agent.stats", self.runtime.agent_stats(principal.agent))
        for queue in queues:
            emit("queue.waiting", self.source.queue_waiting(queue))


class SupervisorNamespace(_BaseNamespace):
    """``/supervisor``: the wallboard and supervisor controls, for supervisors and admins."""

    def __init__(self, runtime: Any, source: Any = None) -> None:
        super().__init__(SUPERVISOR_NS, runtime, source)

    def on_connect(self, auth: Any = None) -> None:
        principal = authenticate(auth)
        if principal.role not in SUPERVISING_ROLES:
            raise ConnectionRefusedError("supervisor role required")
        self.principals[request.sid] = principal
        join_room("supervisors")
        emit("session", {"agent": principal.agent, "name": principal.name, "role": principal.role})
        emit("supervisor.agents", self.source.agents())
