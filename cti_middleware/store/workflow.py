"""Work-order workflow: typed fields per order type and audited transitions.

The life cycle is new -> assigned -> in_progress -> resolved -> closed,
with two side paths: *escalate* (hand an open order to a supervisor) and
*reopen* (a resolved or closed order comes back). Every accepted
transition is appended to :class:`WorkOrderEvent` with who and when, so
the history of an order can be replayed; a transition the table does not
allow raises :class:`IllegalTransition` and changes nothing.

Per-type fields (an appointment's time window, a complaint's severity)
live in :class:`WorkOrderFields` as one JSON document per order, so adding
a type does not need a schema change of the shared work-order table.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from peewee import AutoField, CharField, ForeignKeyField, TextField

from . import callbacks
from .db import BaseModel, UTCDateTimeField, connected, database, to_epoch, utcnow
from .models import ADDRESS_MAX, AGENT_MAX, NAME_MAX, WorkOrder
from .validate import StoreError, text
from .workorders import add_work_order

__all__ = [
    "STATUSES",
    "TRANSITIONS",
    "IllegalTransition",
    "WorkOrderEvent",
    "WorkOrderFields",
    "create_work_order",
    "order_events",
    "order_fields",
    "resolve_target",
    "transition",
    "work_order_to_dict",
]

STATUSES = ("new", "assigned", "in_progress", "escalated", "resolved", "closed")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("assigned", "escalated"),
    "assigned": ("in_progress", "escalated"),
    "in_progress": ("resolved", "escalated"),
    "escalated": ("assigned", "in_progress", "resolved"),
    "resolved": ("closed", "in_progress"),
    "closed": ("assigned",),
}
# Named actions accepted in place of a target status.
REOPEN_TARGET = {"resolved": "in_progress", "closed": "assigned"}
SEVERITIES = ("low", "medium", "high", "critical")
NOTE_MAX = 1000


class IllegalTransition(StoreError):
    """The workflow does not allow moving the order to that status."""


class WorkOrderFields(BaseModel):
    id = AutoField()
    work_order = ForeignKeyField(WorkOrder, unique=True, on_delete="CASCADE")
    data = TextField(default="{}")

    class Meta:
        table_name = "work_order_fields"


class WorkOrderEvent(BaseModel):
    id = AutoField()
    work_order = ForeignKeyField(WorkOrder, backref="events", on_delete="CASCADE")
    action = CharField(max_length=32)  # created, transition, escalate, reopen
    from_status = CharField(max_length=32, null=True)
    to_status = CharField(max_length=32)
    actor = CharField(max_length=AGENT_MAX)
    note = TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "work_order_event"
        indexes = ((("work_order", "created_at"), False),)


def _epoch(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StoreError(f"{field} must be epoch seconds")
    try:
        datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise StoreError(f"{field} is out of range") from None
    return float(value)


def _appointment(fields: dict[str, Any]) -> dict[str, Any]:
    start = _epoch(fields.get("window_start"), "window_start")
    end = _epoch(fields.get("window_end"), "window_end")
    if end <= start:
        raise StoreError("window_end must be after window_start")
    address = text(fields.get("address"), "address", ADDRESS_MAX, required=True)
    return {"window_start": start, "window_end": end, "address": address}


def _complaint(fields: dict[str, Any]) -> dict[str, Any]:
    severity = fields.get("severity")
    if severity not in SEVERITIES:
        raise StoreError(f"severity must be one of {', '.join(SEVERITIES)}")
    return {"severity": severity, "against": text(fields.get("against"), "against", NAME_MAX)}


TYPE_FIELDS = {
    "appointment": (("window_start", "window_end", "address"), _appointment),
    "complaint": (("severity", "against"), _complaint),
}


def check_type_fields(order_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Validated per-type fields; fields of another type are rejected."""
    names, check = TYPE_FIELDS.get(order_type, ((), None))
    foreign = {
        name for other, (other_names, _) in TYPE_FIELDS.items() if other != order_type
        for name in other_names if name not in names
    }
    stray = sorted(foreign & {k for k, v in fields.items() if v is not None})
    if stray:
        raise StoreError(f"{', '.join(stray)} not allowed for type {order_type}")
    return check(fields) if check else {}


@connected
def create_work_order(
    actor: str,
    type: str,
    summary: str,
    *,
    customer: int | None = None,
    details: str | None = None,
    agent: str | None = None,
    call_uuid: str | None = None,
    fields: dict[str, Any] | None = None,
) -> WorkOrder:
    """Create an order with its typed fields and a ``created`` event."""
    typed = check_type_fields(type, fields or {})
    with database.atomic():
        order = add_work_order(
            type, summary, customer, details=details, agent=agent, call_uuid=call_uuid
        )
        if typed:
            WorkOrderFields.create(work_order=order.id, data=json.dumps(typed))
        WorkOrderEvent.create(
            work_order=order.id, action="created", to_status=order.status,
            actor=_actor(actor),
        )
    return order


def _actor(actor: str) -> str:
    return text(actor, "actor", AGENT_MAX, required=True)


def resolve_target(current: str, to: str) -> tuple[str, str]:
    """(action, target status) for a requested ``to`` from ``current``.

    ``to`` is a status, or ``escalate`` / ``reopen``. Raises
    :class:`IllegalTransition` when the workflow forbids it.
    """
    if to == "escalate":
        action, target = "escalate", "escalated"
    elif to == "reopen":
        action, target = "reopen", REOPEN_TARGET.get(current, "")
    elif to in STATUSES:
        target = to
        if target == "escalated":
            action = "escalate"
        elif current in REOPEN_TARGET and target != "closed":
            action = "reopen"
        else:
            action = "transition"
    else:
        raise StoreError(f"to must be a status ({', '.join(STATUSES)}), escalate or reopen")
    if target not in TRANSITIONS.get(current, ()):
        raise IllegalTransition(f"cannot go from {current} to {to}")
    return action, target


@connected
def transition(order_id: int, to: str, actor: str, note: str | None = None) -> WorkOrder:
    """Move an order along the workflow and record the event atomically.

    The update is conditional on the status read, so two concurrent
    transitions cannot both succeed from the same state.
    """
    actor = _actor(actor)
    note = text(note, "note", NOTE_MAX)
    with database.atomic():
        order = WorkOrder.get_or_none(WorkOrder.id == order_id)
        if order is None:
            raise LookupError(f"no work order {order_id}")
        action, target = resolve_target(order.status, to)
        changed = (
            WorkOrder.update(status=target, updated_at=utcnow())
            .where((WorkOrder.id == order_id) & (WorkOrder.status == order.status))
            .execute()
        )
        if not changed:
            raise IllegalTransition("the order changed meanwhile; reload and retry")
        WorkOrderEvent.create(
            work_order=order_id, action=action, from_status=order.status,
            to_status=target, actor=actor, note=note,
        )
    order = WorkOrder.get_by_id(order_id)
    if target == "resolved":
        callbacks.satisfaction_visit(order, actor)
    return order


@connected
def order_fields(order_id: int) -> dict[str, Any]:
    """The typed fields of one order ({} when its type has none)."""
    row = WorkOrderFields.get_or_none(WorkOrderFields.work_order == order_id)
    return json.loads(row.data) if row else {}


@connected
def order_events(order_id: int) -> list[dict[str, Any]]:
    """The order's events, oldest first."""
    rows = (
        WorkOrderEvent.select()
        .where(WorkOrderEvent.work_order == order_id)
        .order_by(WorkOrderEvent.id)
    )
    return [
        {
            "action": row.action,
            "from": row.from_status,
            "to": row.to_status,
            "actor": row.actor,
            "note": row.note,
            "at": to_epoch(row.created_at),
        }
        for row in rows
    ]


def work_order_to_dict(order: WorkOrder, *, detail: bool = False) -> dict[str, Any]:
    """JSON-ready view; ``detail`` adds typed fields and the event log."""
    body = {
        "id": order.id,
        "type": order.type,
        "status": order.status,
        "summary": order.summary,
        "details": order.details,
        "customer_id": order.customer_id,
        "agent": order.agent,
        "call_uuid": order.call_uuid,
        "created_at": to_epoch(order.created_at),
        "updated_at": to_epoch(order.updated_at),
    }
    if detail:
        body["fields"] = order_fields(order.id)
        body["events"] = order_events(order.id)
    return body
