"""Customer endpoints: search, create, edit, merge and the contact history."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ..store.audit import audit
from ..store.callbacks import CallbackTask
from ..store.customers import add_customer, phones_of
from ..store.db import connected, database, to_epoch, utcnow
from ..store.models import (
    ADDRESS_MAX,
    LANGUAGE_MAX,
    NAME_MAX,
    NOTES_MAX,
    CallRecord,
    Customer,
    CustomerPhone,
    WorkOrder,
)
from ..store.phones import normalize_number
from ..store.recordings import recording_ids
from ..store.validate import DuplicateError, StoreError, text
from .auth import actor, require
from .blueprint import api_bp
from .errors import ApiError
from .params import body, boolean, integer, page_args, paginate, string, string_list

PHONES_MAX = 20
EDITABLE = {
    "name": string(NAME_MAX),
    "address": string(ADDRESS_MAX),
    "region": string(64),
    "vip": boolean(),
    "vip_level": integer(nullable=False),  # the column is NOT NULL
    "notes": string(NOTES_MAX),
    "preferred_language": string(LANGUAGE_MAX),
}
CREATE = {**EDITABLE, "name": string(NAME_MAX, required=True),
          "phones": string_list(PHONES_MAX, 32, required=True)}


def customer_to_dict(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "address": customer.address,
        "region": customer.region,
        "phones": phones_of(customer.id),
        "vip": bool(customer.vip),
        "vip_level": customer.vip_level,
        "notes": customer.notes,
        "preferred_language": customer.preferred_language,
        "last_agent": customer.last_agent,
        "created_at": to_epoch(customer.created_at),
        "updated_at": to_epoch(customer.updated_at),
    }


def _get(customer_id: int) -> Customer:
    customer = Customer.get_or_none(Customer.id == customer_id)
    if customer is None:
        raise ApiError(404, f"no customer {customer_id}")
    return customer


@api_bp.get("/customers")
@require("data:read")
@connected
def list_customers() -> Any:
    query = Customer.select()
    q = request.args.get("q", "").strip()
    if len(q) > NAME_MAX:
        raise ApiError(400, "q is too long")
    if q:
        # contains() escapes LIKE wildcards and is case-insensitive (ILIKE).
        query = query.where(Customer.name.contains(q) | Customer.address.contains(q))
    phone = request.args.get("phone")
    if phone:
        try:
            key = normalize_number(phone)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        query = query.join(CustomerPhone).where(CustomerPhone.number == key)
    return jsonify(paginate(query.order_by(Customer.id), customer_to_dict))


@api_bp.post("/customers")
@require("data:write")
@connected
def create_customer() -> Any:
    data = body(CREATE)
    try:
        customer = add_customer(
            data["name"], data["phones"], data.get("address"), bool(data.get("vip")),
            data.get("notes"), vip_level=data.get("vip_level"), region=data.get("region"),
            preferred_language=data.get("preferred_language"),
        )
    except DuplicateError as exc:
        raise ApiError(409, str(exc)) from None
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    audit(actor(), "customer.create", f"customer:{customer.id}", data, "ok")
    return jsonify(customer_to_dict(customer)), 201


@api_bp.get("/customers/<int:customer_id>")
@require("data:read")
@connected
def get_customer(customer_id: int) -> Any:
    return jsonify(customer_to_dict(_get(customer_id)))


@api_bp.patch("/customers/<int:customer_id>")
@require("data:write")
@connected
def update_customer(customer_id: int) -> Any:
    customer = _get(customer_id)
    data = body(EDITABLE)
    limits = {"name": NAME_MAX, "address": ADDRESS_MAX, "region": 64,
              "notes": NOTES_MAX, "preferred_language": LANGUAGE_MAX}
    try:
        for name, value in data.items():
            if name in limits:
                value = text(value, name, limits[name], required=name == "name")
            setattr(customer, name, value)
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    customer.updated_at = utcnow()
    customer.save()
    audit(actor(), "customer.update", f"customer:{customer_id}", data, "ok")
    return jsonify(customer_to_dict(customer))


@api_bp.post("/customers/<int:customer_id>/merge/<int:other_id>")
@require("data:write")
@connected
def merge_customers(customer_id: int, other_id: int) -> Any:
    """Fold ``other_id`` into ``customer_id``: numbers, orders, calls and callbacks move,
    empty fields are filled from the other record, then it is deleted."""
    if customer_id == other_id:
        raise ApiError(400, "cannot merge a customer into itself")
    with database.atomic():
        keep, other = _get(customer_id), _get(other_id)
        for model in (CustomerPhone, WorkOrder, CallRecord, CallbackTask):
            model.update(customer=keep.id).where(model.customer == other.id).execute()
        for name in ("address", "region", "notes", "preferred_language", "last_agent"):
            if not getattr(keep, name) and getattr(other, name):
                setattr(keep, name, getattr(other, name))
        keep.vip = bool(keep.vip or other.vip)
        keep.vip_level = max(keep.vip_level, other.vip_level)
        keep.updated_at = utcnow()
        keep.save()
        other.delete_instance()
    audit(actor(), "customer.merge", f"customer:{customer_id}", {"merged": other_id}, "ok")
    return jsonify(customer_to_dict(keep))


def _audio(recording_id: int | None) -> str | None:
    return f"/api/recordings/{recording_id}/audio" if recording_id is not None else None


def _history_item_call(row: CallRecord, recordings: dict[str, int]) -> dict[str, Any]:
    recording_id = recordings.get(row.call_uuid)
    return {
        "kind": "call", "at": to_epoch(row.joined_at or row.ended_at), "call_uuid": row.call_uuid,
        "queue": row.queue, "agent": row.agent, "answered_at": to_epoch(row.answered_at),
        "ended_at": to_epoch(row.ended_at), "abandoned": bool(row.abandoned),
        "recording_id": recording_id, "audio": _audio(recording_id),
    }


def _history_item_order(row: WorkOrder) -> dict[str, Any]:
    return {
        "kind": "work_order", "at": to_epoch(row.created_at), "id": row.id, "type": row.type,
        "status": row.status, "summary": row.summary, "agent": row.agent,
    }


def _history_item_task(row: CallbackTask, recordings: dict[str, int]) -> dict[str, Any]:
    item = {
        "kind": "callback", "at": to_epoch(row.created_at), "id": row.id, "source": row.source,
        "status": row.status, "result": row.result, "score": row.score, "reason": row.reason,
        "number": row.number, "queue": row.queue, "agent": row.agent, "attempts": row.attempts,
        "work_order_id": row.work_order_id,
    }
    if row.source == "voicemail":
        recording_id = recordings.get(row.origin_call_uuid or "")
        item.update(kind="voicemail", call_uuid=row.origin_call_uuid, recording_path=row.recording_path,
                    recording_id=recording_id, audio=_audio(recording_id))
    return item


@api_bp.get("/customers/<int:customer_id>/history")
@require("data:read")
@connected
def customer_history(customer_id: int) -> Any:
    """Calls, work orders, callback tasks and voicemails in one newest-first
    timeline, paginated.

    Each source is read only as deep as the requested page reaches, then
    the sorted lists are merged; recordings are looked up for the rows read.
    """
    _get(customer_id)
    page, per_page = page_args()
    depth = page * per_page
    calls = (
        CallRecord.select().where(CallRecord.customer == customer_id)
        .order_by(CallRecord.joined_at.desc(nulls="LAST"), CallRecord.id.desc())
    )
    orders = (
        WorkOrder.select().where(WorkOrder.customer == customer_id)
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
    )
    tasks = (
        CallbackTask.select().where(CallbackTask.customer == customer_id)
        .order_by(CallbackTask.created_at.desc(), CallbackTask.id.desc())
    )
    call_rows, task_rows = list(calls.limit(depth)), list(tasks.limit(depth))
    recordings = recording_ids([r.call_uuid for r in call_rows]
                               + [t.origin_call_uuid for t in task_rows if t.source == "voicemail"])
    items = [_history_item_call(r, recordings) for r in call_rows]
    items += [_history_item_order(r) for r in orders.limit(depth)]
    items += [_history_item_task(r, recordings) for r in task_rows]
    items.sort(key=lambda item: item["at"] or 0.0, reverse=True)
    return jsonify({
        "items": items[depth - per_page:depth], "page": page, "per_page": per_page,
        "total": calls.count() + orders.count() + tasks.count(),
    })
