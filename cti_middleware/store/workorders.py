"""Work orders raised by agents during or after a call."""

from __future__ import annotations

from .db import connected, utcnow
from .models import (
    AGENT_MAX,
    SUMMARY_MAX,
    UUID_MAX,
    WORK_ORDER_STATUSES,
    WORK_ORDER_TYPES,
    Customer,
    WorkOrder,
)
from .validate import StoreError, choice, text

DETAILS_MAX = 10000


@connected
def add_work_order(
    type: str,
    summary: str,
    customer: Customer | int | None = None,
    *,
    details: str | None = None,
    agent: str | None = None,
    call_uuid: str | None = None,
    status: str = "new",
) -> WorkOrder:
    """Create a work order, optionally tied to a customer and a call."""
    return WorkOrder.create(
        type=choice(type, "type", WORK_ORDER_TYPES),
        status=choice(status, "status", WORK_ORDER_STATUSES),
        summary=text(summary, "summary", SUMMARY_MAX, required=True),
        details=text(details, "details", DETAILS_MAX),
        customer=customer,
        agent=text(agent, "agent", AGENT_MAX),
        call_uuid=text(call_uuid, "call_uuid", UUID_MAX),
    )


@connected
def set_work_order_status(order_id: int, status: str) -> WorkOrder:
    """Move a work order to ``status``; unknown ids raise ``StoreError``."""
    choice(status, "status", WORK_ORDER_STATUSES)
    updated = (
        WorkOrder.update(status=status, updated_at=utcnow())
        .where(WorkOrder.id == order_id)
        .execute()
    )
    if not updated:
        raise StoreError(f"no work order {order_id}")
    return WorkOrder.get_by_id(order_id)
