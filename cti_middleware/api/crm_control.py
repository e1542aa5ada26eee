"""Click-to-call from a CRM: ``/crm`` control events through the one call-control service.

A token acts as ``token:<id>`` (role ``crm``), so validation, the ESL builders and
the audit trail are the desktop's own; only the scope check happens here, and a
refusal for a missing scope is audited too, so the trail shows every attempt.
"""

from __future__ import annotations

import logging
from typing import Any

from ..control import FORBIDDEN, SWITCH_UNAVAILABLE, token_actor
from ..store.audit import audit
from ..store.errors import DB_ERRORS
from ..web.control_handlers import control_for
from .crm_session import CALLS_CONTROL, CrmSession

log = logging.getLogger(__name__)


def run(session: CrmSession | None, runtime: Any, action: str, data: Any) -> dict[str, Any]:
    """Do ``action`` for the connection's token and return the acknowledgement."""
    if session is None:
        return {"ok": False, "error": FORBIDDEN, "message": "not connected"}
    actor = token_actor(session.token_id, session.queues)
    if CALLS_CONTROL not in session.scopes:
        message = "the token lacks the calls:control scope"
        _audit_refusal(actor.agent, action, data, f"{FORBIDDEN}: {message}")
        return {"ok": False, "error": FORBIDDEN, "message": message}
    if runtime is None:
        return {"ok": False, "error": SWITCH_UNAVAILABLE, "message": "no switch link in this process"}
    return control_for(runtime).run(actor, action, data)


def _audit_refusal(actor: str, action: str, data: Any, result: str) -> None:
    arguments = data if isinstance(data, dict) else {"value": repr(data)[:200]}
    target = next((arguments[k] for k in ("uuid", "agent", "number") if isinstance(arguments.get(k), str)), None)
    try:
        audit(actor, action, target[:255] if target else None, arguments, result)
    except DB_ERRORS as exc:
        log.error("cannot write audit entry for %s by %s: %s", action, actor, exc)
