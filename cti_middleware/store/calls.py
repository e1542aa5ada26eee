"""Call history, written from the event pipeline as a call progresses.

A call is written several times (offered, answered, ended), possibly from
different greenlets, so :func:`record_call` is a single-statement upsert
keyed on the member session uuid: only the fields passed (and not None) are
written, and an earlier value is never wiped by a later partial update.
Everything here comes from the switch, i.e. from the caller's SIP headers,
so odd values are clipped to fit instead of failing the write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from peewee import EXCLUDED

from .customers import touch_last_agent
from .db import connected, to_epoch
from .models import (
    AGENT_MAX,
    CAUSE_MAX,
    NAME_MAX,
    NUMBER_MAX,
    PATH_MAX,
    QUEUE_MAX,
    UUID_MAX,
    CallRecord,
    Customer,
    CustomerPhone,
)
from .phones import normalize_number
from .validate import StoreError, clip

RECENT_MAX = 500

_CLIPPED = {
    "caller_name": NAME_MAX,
    "queue": QUEUE_MAX,
    "agent": AGENT_MAX,
    "hangup_cause": CAUSE_MAX,
    "cc_cause": CAUSE_MAX,
    "recording_path": PATH_MAX,
}
_TIMES = ("joined_at", "answered_at", "ended_at")
FIELDS = frozenset(
    [*_CLIPPED, *_TIMES, "caller_number", "customer", "abandoned", "satisfaction"]
)

Timestamp = float | int | datetime | None


def caller_key(raw: object) -> str | None:
    """Normalised number when possible, else the raw text clipped.

    "anonymous" or a SIP URI still gets recorded, just never matched.
    """
    if raw is None or raw == "":
        return None
    try:
        return normalize_number(str(raw))
    except ValueError:
        return clip(raw, NUMBER_MAX)


def _customer_id(value: object) -> int | None:
    if isinstance(value, Customer):
        return value.id
    return int(value) if value is not None else None


def call_row(call_uuid: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The checked, normalised column values of one write (None values left out)."""
    if not isinstance(call_uuid, str) or not 0 < len(call_uuid) <= UUID_MAX:
        raise StoreError("call_uuid is required (at most 64 characters)")
    unknown = set(fields) - FIELDS
    if unknown:
        raise TypeError(f"unknown call fields: {', '.join(sorted(unknown))}")
    row: dict[str, Any] = {"call_uuid": call_uuid}
    for name, value in fields.items():
        if value is None:
            continue
        if name in _CLIPPED:
            value = clip(value, _CLIPPED[name])
        elif name == "caller_number":
            value = caller_key(value)
        elif name == "customer":
            value = _customer_id(value)
        elif name == "abandoned":
            value = bool(value)
        elif name == "satisfaction":
            value = int(value)
        if value is not None:
            row[name] = value
    return row


def _link_customer(row: dict[str, Any]) -> None:
    if "customer" in row or "caller_number" not in row:
        return
    match = (
        CustomerPhone.select(CustomerPhone.customer)
        .where(CustomerPhone.number == row["caller_number"])
        .first()
    )
    if match is not None:
        row["customer"] = match.customer_id


@connected
def record_call(call_uuid: str, **fields: Any) -> CallRecord:
    """Insert or update the record of call ``call_uuid``.

    Accepted fields: caller_number, caller_name, customer, queue, agent,
    joined_at/answered_at/ended_at (epoch seconds or datetimes),
    hangup_cause, cc_cause, abandoned, recording_path, satisfaction.
    The customer is linked from the caller number unless given; when both
    an agent and a customer are known the customer's ``last_agent`` is set.
    """
    row = call_row(call_uuid, fields)
    _link_customer(row)
    query = CallRecord.insert(**row)
    written = [CallRecord._meta.fields[name] for name in row if name != "call_uuid"]
    updates = {field: getattr(EXCLUDED, field.column_name) for field in written}
    if updates:
        query = query.on_conflict(conflict_target=[CallRecord.call_uuid], update=updates)
    else:
        query = query.on_conflict_ignore()
    query.execute()
    record = CallRecord.get(CallRecord.call_uuid == call_uuid)
    if record.agent and record.customer_id is not None and "agent" in row:
        touch_last_agent(record.customer_id, record.agent)
    return record


def call_to_dict(record: CallRecord) -> dict[str, Any]:
    """JSON-ready view of a call record (times as epoch seconds)."""
    return {
        "call_uuid": record.call_uuid,
        "caller_number": record.caller_number,
        "caller_name": record.caller_name,
        "customer_id": record.customer_id,
        "queue": record.queue,
        "agent": record.agent,
        "joined_at": to_epoch(record.joined_at),
        "answered_at": to_epoch(record.answered_at),
        "ended_at": to_epoch(record.ended_at),
        "hangup_cause": record.hangup_cause,
        "cc_cause": record.cc_cause,
        "abandoned": bool(record.abandoned),
        "recording_path": record.recording_path,
        "satisfaction": record.satisfaction,
    }


@connected
def get_call(call_uuid: str) -> CallRecord | None:
    """The record for ``call_uuid`` or None."""
    return CallRecord.get_or_none(CallRecord.call_uuid == call_uuid)


@connected
def recent_calls(
    limit: int = 50,
    *,
    agent: str | None = None,
    number: str | None = None,
    customer: Customer | int | None = None,
    since: Timestamp = None,
) -> list[dict[str, Any]]:
    """Newest calls first, optionally filtered; ``limit`` is capped at 500.

    ``number`` is matched in normalised form; ``since`` compares joined_at.
    """
    query = CallRecord.select()
    if agent is not None:
        query = query.where(CallRecord.agent == agent)
    if number is not None:
        query = query.where(CallRecord.caller_number == caller_key(number))
    if customer is not None:
        query = query.where(CallRecord.customer == _customer_id(customer))
    if since is not None:
        query = query.where(CallRecord.joined_at >= since)
    limit = max(1, min(int(limit), RECENT_MAX))
    query = query.order_by(
        CallRecord.joined_at.desc(nulls="LAST"), CallRecord.id.desc()
    ).limit(limit)
    return [call_to_dict(record) for record in query]
