"""Socket.IO side of call control: event name -> control action, acknowledged.

Event names carry dots (``call.hold``), which cannot be method names, so the
namespaces ask :func:`handler_for` for a handler and dispatch to it themselves.
Each namespace accepts only its own events: the agent desktop cannot reach the
supervisor actions by sending their names on ``/agent``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from flask import request

from ..control import FORBIDDEN, Actor, CallControl, from_runtime
from ..sinks.sockets import AGENT_NS, SUPERVISOR_NS

AGENT_EVENTS = frozenset({
    "agent.login", "agent.logout", "agent.ready", "agent.not_ready", "agent.wrapup",
    "call.answer", "call.hangup", "call.hold", "call.unhold", "call.transfer",
    "call.consult", "call.consult_cancel", "call.consult_complete", "call.conference",
    "call.dial", "call.dtmf", "call.attach_data",
})
SUPERVISOR_EVENTS = frozenset({
    "supervisor.listen", "supervisor.whisper", "supervisor.barge", "supervisor.stop",
    "supervisor.force", "supervisor.release", "supervisor.takeover",
})
EVENTS = {AGENT_NS: AGENT_EVENTS, SUPERVISOR_NS: SUPERVISOR_EVENTS}

# One service per running middleware, shared by both namespaces so a supervisor's
# monitoring session and an agent's break reason are seen from either side.
_services: weakref.WeakKeyDictionary[Any, CallControl] = weakref.WeakKeyDictionary()


def control_for(runtime: Any) -> CallControl:
    """The call-control service of ``runtime``, built on first use."""
    service = _services.get(runtime)
    if service is None:
        service = _services[runtime] = from_runtime(runtime)
    return service


def handler_for(namespace: Any, event: str | None) -> Callable[..., dict[str, Any]] | None:
    """A handler for ``event`` on ``namespace``, or None if it is not a control event there."""
    if event not in EVENTS.get(namespace.namespace, ()):
        return None

    def handle(data: Any = None, *_extra: Any) -> dict[str, Any]:
        principal = namespace.principals.get(request.sid)
        if principal is None:
            return {"ok": False, "error": FORBIDDEN, "message": "not logged in"}
        actor = Actor(principal.agent, principal.role)
        forward = getattr(namespace, "forward", None)
        if forward is not None:  # a web-only worker: the ingest process runs it
            return forward(actor, event, data)
        return control_for(namespace.runtime).run(actor, event, data)

    return handle
