"""Call records written in batches: the background writer's path.

At a hundred calls a second the per-write cost of :func:`.calls.record_call` (an
ORM-built customer probe, upsert, re-read and customer touch, each its own
statement and commit) made the record writer the largest user of the event
process's CPU, ahead of the screen pops it is meant to stay behind.  Here a batch
is one transaction of a few statements: a multi-row upsert that links each
record's customer and returns what the recordings index needs, and one update of
the customers' last agent.  The SQL text is built once per database kind and size.  The semantics are :func:`.calls.record_call`'s: only the fields
given are written, and an earlier value is never wiped by a later partial update.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from .calls import call_row
from .db import connection, database, utcnow
from .models import CallRecord, Customer

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


_PLAIN = (*_TEXT, *_TIMES, "satisfaction")
# Rows per statement: few enough for any SQLite's limit on parameters (15 a row).
CHUNK = 60


@functools.cache
def _upsert_sql(p: str, rows: int, keep_abandoned: bool) -> str:
    """One INSERT of ``rows`` records; ``keep_abandoned`` when none of them says."""
    columns = ", ".join(("call_uuid", *_PLAIN, "customer_id", "abandoned"))
    link = f"COALESCE({p}, (SELECT customer_id FROM customer_phone WHERE number = {p}))"
    row = "(" + ", ".join([p] * (1 + len(_PLAIN)) + [link, f"COALESCE({p}, FALSE)"]) + ")"
    updates = ", ".join(f"{c} = COALESCE(excluded.{c}, call_record.{c})"
                        for c in (*_PLAIN, "customer_id"))
    abandoned = "call_record.abandoned" if keep_abandoned else "excluded.abandoned"
    return (f"INSERT INTO call_record ({columns}) VALUES {', '.join([row] * rows)} "
            f"ON CONFLICT (call_uuid) DO UPDATE SET {updates}, abandoned = {abandoned} "
            f"RETURNING {', '.join(_RETURNED)}")


@functools.cache
def _touch_sql(p: str, rows: int) -> str:
    """Set each customer's last agent from ``rows`` (customer id, agent) pairs."""
    values = ", ".join([f"({p}, {p})"] * rows)
    return (f"WITH v(id, agent) AS (VALUES {values}) "
            f"UPDATE customer SET last_agent = (SELECT agent FROM v WHERE v.id = customer.id), "
            f"updated_at = {p} WHERE id IN (SELECT id FROM v)")


_TIME_FIELD = CallRecord.joined_at
_UPDATED = Customer.updated_at


def _params(row: dict[str, Any]) -> list[Any]:
    link = row.get("caller_number") if "customer" not in row else None
    return [
        row["call_uuid"],
        *(row.get(c) for c in _TEXT),
        *(_TIME_FIELD.db_value(row.get(c)) for c in _TIMES),
        row.get("satisfaction"),
        row.get("customer"), link,
        row.get("abandoned"),
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


def _written(raw: Sequence[Any]) -> WrittenCall:
    return WrittenCall(*raw[:5], *(_TIME_FIELD.python_value(v) for v in raw[5:8]), raw[8])


def _upsert(rows: list[dict[str, Any]], keep_abandoned: bool) -> list[WrittenCall]:
    out: list[WrittenCall] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        sql = _upsert_sql(database.param, len(chunk), keep_abandoned)
        params = [value for row in chunk for value in _params(row)]
        out += [_written(raw) for raw in database.execute_sql(sql, params).fetchall()]
    return out


def _touch_last_agents(rows: list[dict[str, Any]], written: dict[str, WrittenCall]) -> None:
    """Remember who last served each customer (sticky routing), for the writes that
    named an agent; the batch's last write for a customer wins."""
    last: dict[int, str] = {}
    for row in rows:
        call = written.get(row["call_uuid"])
        if "agent" in row and call is not None and call.agent and call.customer_id is not None:
            last[call.customer_id] = call.agent
    pairs = list(last.items())
    now = _UPDATED.db_value(utcnow())
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start:start + CHUNK]
        params = [value for pair in chunk for value in pair]
        database.execute_sql(_touch_sql(database.param, len(chunk)), [*params, now])


def record_calls(items: Sequence[tuple[str, dict[str, Any]]]) -> list[WrittenCall]:
    """Write ``(call_uuid, fields)`` records in one transaction; all or none.

    Fields are :func:`.calls.record_call`'s and are checked the same way (a bad
    call uuid or unknown field raises before anything is written).  Writes of one
    call are merged first.  The caller decides what a failed batch means (see
    :class:`cti_middleware.sinks.records.CallRecordSink`).
    """
    rows = [call_row(call_uuid, fields) for call_uuid, fields in merge(items)]
    if not rows:
        return []
    with connection(), database.atomic():
        written: dict[str, WrittenCall] = {}
        for keep in (False, True):
            part = [row for row in rows if ("abandoned" in row) != keep]
            if part:
                written.update((w.call_uuid, w) for w in _upsert(part, keep))
        _touch_last_agents(rows, written)
    return [written[row["call_uuid"]] for row in rows]
