"""Read-mostly endpoints: blacklist, call records and agent accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request
from peewee import IntegrityError

from ..store.audit import audit
from ..store.calls import call_to_dict, caller_key
from ..store.db import connected, to_epoch
from ..store.models import AgentAccount, CallRecord
from ..store.routing import BlacklistEntry
from ..store.validate import StoreError
from .auth import actor, current_token, require
from .blueprint import api_bp
from .errors import ApiError
from .params import body, no_content, number, paginate, query_float, string

BLACKLIST_CREATE = {
    "number": string(32, required=True),
    "reason": string(255),
    "expires_at": number(),
}


def blacklist_to_dict(entry: BlacklistEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "number": entry.number,
        "reason": entry.reason,
        "added_by": entry.added_by,
        "created_at": to_epoch(entry.created_at),
        "expires_at": to_epoch(entry.expires_at),
    }


@api_bp.get("/blacklist")
@require("data:read")
@connected
def list_blacklist() -> Any:
    query = BlacklistEntry.select().order_by(BlacklistEntry.id)
    return jsonify(paginate(query, blacklist_to_dict))


@api_bp.post("/blacklist")
@require("data:write")
@connected
def add_blacklist() -> Any:
    data = body(BLACKLIST_CREATE)
    expires = data.get("expires_at")
    try:
        expires_at = datetime.fromtimestamp(expires, UTC) if expires is not None else None
    except (OverflowError, OSError, ValueError):
        raise ApiError(422, "expires_at is out of range") from None
    entry = BlacklistEntry(
        number=data["number"], reason=data.get("reason"), added_by=actor(),
        expires_at=expires_at,
    )
    try:
        entry.save()
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    except IntegrityError:
        raise ApiError(409, f"{entry.number} is already blacklisted") from None
    audit(actor(), "blacklist.add", entry.number, data, "ok")
    return jsonify(blacklist_to_dict(entry)), 201


@api_bp.delete("/blacklist/<int:entry_id>")
@require("data:write")
@connected
def delete_blacklist(entry_id: int) -> Any:
    entry = BlacklistEntry.get_or_none(BlacklistEntry.id == entry_id)
    if entry is None:
        raise ApiError(404, f"no blacklist entry {entry_id}")
    entry.delete_instance()
    audit(actor(), "blacklist.remove", entry.number, {"id": entry_id}, "ok")
    return no_content()


def _visible_calls():
    """Call records the token may see (a queue-restricted token sees its queues)."""
    query = CallRecord.select()
    queues = current_token().queue_list
    if queues is not None:
        query = query.where(CallRecord.queue.in_(queues))
    return query


@api_bp.get("/calls")
@require("data:read")
@connected
def list_calls() -> Any:
    query = _visible_calls()
    agent = request.args.get("agent")
    if agent:
        query = query.where(CallRecord.agent == agent)
    number = request.args.get("number")
    if number:
        query = query.where(CallRecord.caller_number == caller_key(number))
    since, until = query_float("since"), query_float("until")
    if since is not None:
        query = query.where(CallRecord.joined_at >= since)
    if until is not None:
        query = query.where(CallRecord.joined_at < until)
    query = query.order_by(CallRecord.joined_at.desc(nulls="LAST"), CallRecord.id.desc())
    return jsonify(paginate(query, call_to_dict))


@api_bp.get("/calls/<call_uuid>")
@require("data:read")
@connected
def get_call_record(call_uuid: str) -> Any:
    record = _visible_calls().where(CallRecord.call_uuid == call_uuid).first()
    if record is None:
        raise ApiError(404, f"no call {call_uuid}")
    return jsonify(call_to_dict(record))


def agent_to_dict(account: AgentAccount) -> dict[str, Any]:
    """Public view of an account: the password hash is never included."""
    return {
        "agent_id": account.agent_id,
        "name": account.display_name,
        "role": account.role,
        "active": bool(account.active),
        "created_at": to_epoch(account.created_at),
    }


@api_bp.get("/agents")
@require("data:read")
@connected
def list_agent_accounts() -> Any:
    query = AgentAccount.select(
        AgentAccount.id, AgentAccount.agent_id, AgentAccount.display_name,
        AgentAccount.role, AgentAccount.active, AgentAccount.created_at,
    ).order_by(AgentAccount.agent_id)
    return jsonify(paginate(query, agent_to_dict))
