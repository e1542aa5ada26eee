"""Call records written in batches: the background writer's path.

At a hundred calls a second the per-write cost of :func:`.calls.record_call` (an
ORM-built customer probe, upsert, re-read and customer touch, each its own
statement and commit) made the record writer the largest user of the event
process's CPU, ahead of the screen pops it is meant to stay behind.  Here a batch
is one transaction, each record one fixed upsert that links the customer and
returns what the recordings index needs, and the SQL text is built once per
database kind.  The semantics are :func:`.calls.record_call`'s: only the fields
given are written, and an earlier value is never wiped by a later partial update.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from .calls import call_row
from .db import connection, database, utcnow
from .models import CallRecord, Customer

log = logging.getLogger(__name__)

# Columns written by the upsert, in statement order (customer_id and abandoned are special).
_TEXT = ("caller_number", "caller_name", "queue", "agent", "hangup_cause", "cc_cause",
         "recording_path")
_TIMES = ("joined_at", "answered_at", "ended_at")
_RETURNED = ("call_uuid", "customer_id", "agent", "caller_number", "queue", "joined_at",
             "answered_at", "ended_at", "recording_path")


class WrittenCall(NamedTuple):
    """A call record as it stands after a write: what the recordings index reads."""

    call_uuid: str
    customer_id: int | None
    agent: str | None
    caller_number: str | None
    queue: str | None
    joined_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    recording_path: str | None


def _upsert_sql(p: str) -> str:
    plain = (*_TEXT, *_TIMES, "satisfaction")
    columns = ", ".join(("call_uuid", *plain, "customer_id", "abandoned"))
    link = f"COALESCE({p}, (SELECT customer_id FROM customer_phone WHERE number = {p}))"
    values = ", ".join([p] * (1 + len(plain)) + [link, f"COALESCE({p}, FALSE)"])
    updates = ", ".join(f"{c} = COALESCE(excluded.{c}, call_record.{c})"
                        for c in (*plain, "customer_id"))
    return (f"INSERT INTO call_record ({columns}) VALUES ({values}) "
            f"ON CONFLICT (call_uuid) DO UPDATE SET {updates}, "
            f"abandoned = CASE WHEN {p} IS NULL THEN call_record.abandoned "
            f"ELSE excluded.abandoned END "
            f"RETURNING {', '.join(_RETURNED)}")


_SQL: dict[str, tuple[str, str]] = {}


def _statements() -> tuple[str, str]:
    p = database.param
    found = _SQL.get(p)
    if found is None:
        touch = f"UPDATE customer SET last_agent = {p}, updated_at = {p} WHERE id = {p}"
        found = _SQL[p] = (_upsert_sql(p), touch)
    return found


_TIME_FIELD = CallRecord.joined_at
_UPDATED = Customer.updated_at


def _params(row: dict[str, Any]) -> list[Any]:
    link = row.get("caller_number") if "customer" not in row else None
    abandoned = row.get("abandoned")
    return [
        row["call_uuid"],
        *(row.get(c) for c in _TEXT),
        *(_TIME_FIELD.db_value(row.get(c)) for c in _TIMES),
        row.get("satisfaction"),
        row.get("customer"), link,
        abandoned, abandoned,
    ]


def merge(items: Iterable[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Writes of the same call folded into one, in the order calls first appear.

    A later write's given fields win, as they would had both been written in turn.
    """
    merged: dict[str, dict[str, Any]] = {}
    for call_uuid, fields in items:
        given = {k: v for k, v in fields.items() if v is not None}
        if call_uuid in merged:
            merged[call_uuid].update(given)
        else:
            merged[call_uuid] = given
    return list(merged.items())


def write_one(cursor_execute: Any, row: dict[str, Any]) -> WrittenCall:
    upsert, touch = _statements()
    raw = cursor_execute(upsert, _params(row)).fetchone()
    written = WrittenCall(*raw[:5], *(_TIME_FIELD.python_value(v) for v in raw[5:8]), raw[8])
    if written.agent and written.customer_id is not None and "agent" in row:
        cursor_execute(touch, (written.agent, _UPDATED.db_value(utcnow()), written.customer_id))
    return written


def record_calls(items: Sequence[tuple[str, dict[str, Any]]]) -> list[WrittenCall]:
    """Write ``(call_uuid, fields)`` records in one transaction; all or none.

    Fields are :func:`.calls.record_call`'s and are checked the same way (a bad
    call uuid or unknown field raises before anything is written).  Writes of one
    call are merged first.  The caller decides what a failed batch means (see
    :class:`cti_middleware.sinks.records.CallRecordSink`).
    """
    rows = [call_row(call_uuid, fields) for call_uuid, fields in merge(items)]
    out: list[WrittenCall] = []
    with connection(), database.atomic():
        for row in rows:
            out.append(write_one(database.execute_sql, row))
    return out
