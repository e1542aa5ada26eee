"""Audit trail of control actions (who did what to which call or agent).

Writing the trail must never be the reason a command fails, so values are
clipped to fit and arguments that are not JSON types are stored as text.
"""

from __future__ import annotations

import json
from typing import Any

from .db import connected, to_epoch
from .models import AGENT_MAX, AuditLog
from .validate import clip

ARGUMENTS_MAX = 10000


def _dump(arguments: dict[str, Any] | None) -> str:
    text = json.dumps(arguments or {}, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= ARGUMENTS_MAX else json.dumps({"truncated": text[:ARGUMENTS_MAX]})


@connected
def audit(
    actor: str,
    action: str,
    target: str | None,
    arguments: dict[str, Any] | None,
    result: str,
) -> AuditLog:
    """Append one entry to the audit trail and return it."""
    return AuditLog.create(
        actor=clip(actor, AGENT_MAX) or "?",
        action=clip(action, 64) or "?",
        target=clip(target, 255),
        arguments=_dump(arguments),
        result=clip(result, 255) or "",
    )


def audit_to_dict(entry: AuditLog) -> dict[str, Any]:
    """JSON-ready view of an entry (arguments decoded, time as epoch)."""
    return {
        "id": entry.id,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "arguments": json.loads(entry.arguments),
        "result": entry.result,
        "created_at": to_epoch(entry.created_at),
    }


@connected
def recent_audit(limit: int = 100, *, actor: str | None = None) -> list[dict[str, Any]]:
    """Newest entries first, optionally for one actor (limit capped at 1000)."""
    query = AuditLog.select()
    if actor is not None:
        query = query.where(AuditLog.actor == actor)
    query = query.order_by(AuditLog.id.desc()).limit(max(1, min(int(limit), 1000)))
    return [audit_to_dict(entry) for entry in query]
