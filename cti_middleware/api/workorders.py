"""Work-order endpoints: list, create (with per-type fields), read, transition.

Creation dispatches the order (department, SLA deadlines; see
:mod:`..store.dispatch`) and announces it through :mod:`.workorder_events`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from ..store.audit import audit
from ..store.db import connected
from ..store.dispatch import WorkOrderDispatch as Dispatch
from ..store.dispatch import (
    create_and_dispatch,
    order_payload,
    overdue_condition,
    with_dispatch,
)
from ..store.models import (
    ADDRESS_MAX,
    AGENT_MAX,
    NAME_MAX,
    REGION_MAX,
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
    transition,
)
from ..store.workorders import DETAILS_MAX
from .auth import actor, require
from .blueprint import api_bp
from .errors import ApiError
from .params import body, integer, number, paginate, query_float, query_int, string
from .workorder_events import notify

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
    "region": string(REGION_MAX),
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
    query = _dispatch_filters(query)
    since, until = query_float("since"), query_float("until")
    if since is not None:
        query = query.where(WorkOrder.created_at >= since)
    if until is not None:
        query = query.where(WorkOrder.created_at < until)
    query = query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
    return jsonify(paginate(query, order_payload))


def _dispatch_filters(query: Any) -> Any:
    """``overdue`` (true/false) and ``department_id`` narrow the list."""
    overdue = request.args.get("overdue")
    department = query_int("department_id")
    if overdue in (None, "") and department is None:
        return query
    query = with_dispatch(query)
    if overdue in ("true", "1"):
        query = query.where(overdue_condition())
    elif overdue in ("false", "0"):
        query = query.where(~overdue_condition() | Dispatch.due_at.is_null())
    elif overdue not in (None, ""):
        raise ApiError(400, "overdue must be true or false")
    if department is not None:
        query = query.where(Dispatch.department == department)
    return query


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
        order, _ = create_and_dispatch(
            actor(), data["type"], data["summary"], region=data.get("region"),
            customer=customer_id, details=data.get("details"), agent=data.get("agent"),
            call_uuid=data.get("call_uuid"),
            fields={name: data.get(name) for name in TYPED},
        )
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    audit(actor(), "workorder.create", f"workorder:{order.id}", data, "ok")
    notify_work_order("created", order)
    return jsonify(order_payload(order, detail=True)), 201


@api_bp.get("/workorders/<int:order_id>")
@require("data:read")
@connected
def get_work_order(order_id: int) -> Any:
    return jsonify(order_payload(_get(order_id), detail=True))


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
    notify_work_order("updated", order)
    return jsonify(order_payload(order, detail=True))


def notify_work_order(kind: str, order: WorkOrder) -> None:
    """Announce a work-order change (``created``/``updated``); never fails the request."""
    socketio = current_app.extensions.get("socketio")
    notify(kind, order, socketio.emit if socketio is not None else None)

