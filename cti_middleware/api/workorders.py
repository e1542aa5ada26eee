"""Work-order endpoints: list, create (with per-type fields), read, transition."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ..store.audit import audit
from ..store.db import connected
from ..store.models import (
    ADDRESS_MAX,
    AGENT_MAX,
    NAME_MAX,
    SUMMARY_MAX,
    UUID_MAX,
    WORK_ORDER_TYPES,
    Customer,
    WorkOrder,
)
from ..store.validate import StoreError
from ..store.workflow import (
    STATUSES,
    IllegalTransition,
    create_work_order,
    transition,
    work_order_to_dict,
)
from ..store.workorders import DETAILS_MAX
from .auth import actor, require
from .blueprint import api_bp
from .errors import ApiError
from .params import body, integer, number, paginate, query_float, query_int, string

CREATE = {
    "type": string(32, required=True),
    "summary": string(SUMMARY_MAX, required=True),
    "details": string(DETAILS_MAX),
    "customer_id": integer(),
    "agent": string(AGENT_MAX),
    "call_uuid": string(UUID_MAX),
    "window_start": number(),
    "window_end": number(),
    "address": string(ADDRESS_MAX),
    "severity": string(16),
    "against": string(NAME_MAX),
}
TYPED = ("window_start", "window_end", "address", "severity", "against")
TRANSITION = {"to": string(32, required=True), "note": string(1000)}


def _get(order_id: int) -> WorkOrder:
    order = WorkOrder.get_or_none(WorkOrder.id == order_id)
    if order is None:
        raise ApiError(404, f"no work order {order_id}")
    return order


@api_bp.get("/workorders")
@require("data:read")
@connected
def list_work_orders() -> Any:
    query = WorkOrder.select()
    status = request.args.get("status")
    if status and status not in STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(STATUSES)}")
    for name in ("status", "type", "agent"):
        value = request.args.get(name)
        if value:
            query = query.where(getattr(WorkOrder, name) == value)
    customer_id = query_int("customer_id")
    if customer_id is not None:
        query = query.where(WorkOrder.customer == customer_id)
    since, until = query_float("since"), query_float("until")
    if since is not None:
        query = query.where(WorkOrder.created_at >= since)
    if until is not None:
        query = query.where(WorkOrder.created_at < until)
    query = query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
    return jsonify(paginate(query, work_order_to_dict))


@api_bp.post("/workorders")
@require("data:write")
@connected
def create_order() -> Any:
    data = body(CREATE)
    if data["type"] not in WORK_ORDER_TYPES:
        raise ApiError(422, f"type must be one of {', '.join(WORK_ORDER_TYPES)}")
    customer_id = data.get("customer_id")
    if customer_id is not None and not Customer.select().where(
        Customer.id == customer_id
    ).exists():
        raise ApiError(422, f"no customer {customer_id}")
    try:
        order = create_work_order(
            actor(), data["type"], data["summary"], customer=customer_id,
            details=data.get("details"), agent=data.get("agent"),
            call_uuid=data.get("call_uuid"),
            fields={name: data.get(name) for name in TYPED},
        )
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    audit(actor(), "workorder.create", f"workorder:{order.id}", data, "ok")
    notify_work_order("workorder.created", order)
    return jsonify(work_order_to_dict(order, detail=True)), 201


@api_bp.get("/workorders/<int:order_id>")
@require("data:read")
@connected
def get_work_order(order_id: int) -> Any:
    return jsonify(work_order_to_dict(_get(order_id), detail=True))


@api_bp.post("/workorders/<int:order_id>/transition")
@require("data:write")
@connected
def transition_work_order(order_id: int) -> Any:
    data = body(TRANSITION)
    _get(order_id)
    try:
        order = transition(order_id, data["to"], actor(), data.get("note"))
    except IllegalTransition as exc:
        audit(actor(), "workorder.transition", f"workorder:{order_id}", data, "illegal")
        raise ApiError(409, str(exc), "illegal_transition") from None
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    audit(actor(), "workorder.transition", f"workorder:{order_id}", data, order.status)
    notify_work_order("workorder.updated", order)
    return jsonify(work_order_to_dict(order, detail=True))


def notify_work_order(event_type: str, order: WorkOrder) -> None:
    """Queue the webhook for a work-order change (never fails the request)."""
    from ..webhooks import enqueue

    enqueue(event_type, work_order_to_dict(order))

