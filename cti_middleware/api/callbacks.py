"""Callback-task endpoints: list (due first, filtered), create, read, edit, cancel.

A queue-restricted token sees and writes only tasks of its queues. Dialling
and results are desktop actions (Socket.IO ``callback.dial`` /
``callback.result``): they need an agent and its phone, which a token has not.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ..store import callbacks as store
from ..store.audit import audit
from ..store.db import connected
from ..store.models import AGENT_MAX, NOTES_MAX, NUMBER_MAX, PATH_MAX, QUEUE_MAX
from ..store.validate import StoreError
from . import openapi
from .auth import actor, current_token, require
from .blueprint import api_bp
from .errors import ApiError
from .openapi import (
    EPOCH,
    NN,
    NS,
    PAGE,
    WRITE_ERRORS,
    B,
    I,
    N,
    S,
    _obj,
    _op,
    _page_of,
    _path,
    _q,
    _ref,
)
from .params import body, integer, number, paginate, query_float, query_int, string

NULLABLE_INT = {**I, "nullable": True}
CREATE = {
    "number": string(NUMBER_MAX + 12, required=True),
    "customer_id": integer(),
    "queue": string(QUEUE_MAX),
    "agent": string(AGENT_MAX),
    "reason": string(store.REASON_MAX),
    "due_at": number(),
    "work_order_id": integer(),
    "recording_path": string(PATH_MAX),
    "notes": string(NOTES_MAX),
}
UPDATE = {
    "number": string(NUMBER_MAX + 12),
    "queue": string(QUEUE_MAX),
    "agent": string(AGENT_MAX),
    "reason": string(store.REASON_MAX),
    "due_at": number(),
    "notes": string(NOTES_MAX),
}
CANCEL = {"note": string(NOTES_MAX)}


def _check_queue(queue: str | None) -> None:
    allowed = current_token().queue_list
    if allowed is not None and queue not in allowed:
        raise ApiError(403, "the token may not use that queue")


def _get(task_id: int) -> store.CallbackTask:
    task = store.CallbackTask.get_or_none(store.CallbackTask.id == task_id)
    allowed = current_token().queue_list
    if task is None or (allowed is not None and task.queue not in allowed):
        raise ApiError(404, f"no callback task {task_id}")
    return task


@api_bp.get("/callbacks")
@require("data:read")
@connected
def list_callbacks() -> Any:
    unassigned = request.args.get("unassigned")
    if unassigned not in (None, "", "true", "false"):
        raise ApiError(400, "unassigned must be true or false")
    try:
        query = store.query_tasks(
            status=request.args.get("status") or None, agent=request.args.get("agent") or None,
            queue=request.args.get("queue") or None, customer=query_int("customer_id"),
            source=request.args.get("source") or None, due_before=query_float("due_before"),
            unassigned=unassigned == "true",
        )
    except StoreError as exc:
        raise ApiError(400, str(exc)) from None
    allowed = current_token().queue_list
    if allowed is not None:
        query = query.where(store.CallbackTask.queue.in_(allowed))
    return jsonify(paginate(query, store.task_to_dict))


@api_bp.post("/callbacks")
@require("data:write")
@connected
def create_callback() -> Any:
    data = body(CREATE)
    _check_queue(data.get("queue"))
    try:
        task = store.create_task(
            actor(), data["number"], source="manual", customer=data.get("customer_id"),
            queue=data.get("queue"), agent=data.get("agent"), reason=data.get("reason"),
            due_at=data.get("due_at"), work_order=data.get("work_order_id"),
            recording_path=data.get("recording_path"), notes=data.get("notes"),
        )
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    audit(actor(), "callback.create", f"callback:{task.id}", data, "ok")
    return jsonify(store.task_to_dict(task, detail=True)), 201


@api_bp.get("/callbacks/<int:task_id>")
@require("data:read")
@connected
def get_callback(task_id: int) -> Any:
    return jsonify(store.task_to_dict(_get(task_id), detail=True))


@api_bp.patch("/callbacks/<int:task_id>")
@require("data:write")
@connected
def update_callback(task_id: int) -> Any:
    data = body(UPDATE)
    _get(task_id)
    if "queue" in data:
        _check_queue(data["queue"])
    try:
        task = store.update_task(task_id, actor(), data)
    except store.IllegalState as exc:
        audit(actor(), "callback.update", f"callback:{task_id}", data, "illegal")
        raise ApiError(409, str(exc)) from None
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    audit(actor(), "callback.update", f"callback:{task_id}", data, "ok")
    return jsonify(store.task_to_dict(task, detail=True))


@api_bp.post("/callbacks/<int:task_id>/cancel")
@require("data:write")
@connected
def cancel_callback(task_id: int) -> Any:
    data = body(CANCEL) if request.get_data() else {}
    _get(task_id)
    try:
        task = store.cancel_task(task_id, actor(), data.get("note"))
    except store.IllegalState as exc:
        audit(actor(), "callback.cancel", f"callback:{task_id}", data, "illegal")
        raise ApiError(409, str(exc)) from None
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    audit(actor(), "callback.cancel", f"callback:{task_id}", data, "ok")
    return jsonify(store.task_to_dict(task, detail=True))


TASK_FIELDS = {
    "id": I, "customer_id": NULLABLE_INT, "customer_name": NS,
    "history": {**NS, "description": "contact history of the customer (REST path)"},
    "number": {**S, "description": "normalised"}, "queue": NS, "agent": NS,
    "source": {"type": "string", "enum": list(store.SOURCES)}, "reason": NS,
    "work_order_id": NULLABLE_INT, "origin_call_uuid": NS,
    "status": {"type": "string", "enum": list(store.STATUSES)},
    "due_at": N, "next_attempt_at": N, "due": B, "attempts": I, "max_attempts": I,
    "result": {"type": "string", "enum": list(store.RESULTS), "nullable": True},
    "score": {**NULLABLE_INT, "minimum": 1, "maximum": 5}, "notes": NS,
    "recording_path": NS, "last_call_uuid": NS, "created_by": S, "updated_by": S,
    "created_at": N, "updated_at": NN,
}
R, W = "data:read", "data:write"
openapi.extend(
    {
        "/api/callbacks": {
            "get": _op("List callback tasks, next attempt first", R,
                       ("200", _page_of("CallbackTask")), params=[
                           _q("status", {"type": "string", "enum": list(store.STATUSES)}),
                           _q("source", {"type": "string", "enum": list(store.SOURCES)}),
                           _q("agent", S), _q("queue", S), _q("customer_id", I),
                           _q("unassigned", B, "only tasks without an agent"),
                           _q("due_before", N, f"next attempt at or before, {EPOCH}"), *PAGE],
                       errors=("400",)),
            "post": _op("Create a callback task", W, ("201", _ref("CallbackTask")),
                        body="CallbackCreate", errors=WRITE_ERRORS),
        },
        "/api/callbacks/{task_id}": {
            "parameters": [_path("task_id")],
            "get": _op("Read a callback task with its change log", R,
                       ("200", _ref("CallbackTask")), errors=("404",)),
            "patch": _op("Edit an open callback task", W, ("200", _ref("CallbackTask")),
                         body="CallbackUpdate", errors=(*WRITE_ERRORS, "404", "409")),
        },
        "/api/callbacks/{task_id}/cancel": {
            "parameters": [_path("task_id")],
            "post": _op("Cancel an open callback task", W, ("200", _ref("CallbackTask")),
                        body="CallbackCancel", errors=(*WRITE_ERRORS, "404", "409")),
        },
    },
    {
        "CallbackTask": _obj({**TASK_FIELDS, "events": {"type": "array", "items": _obj({
            "action": S, "actor": S, "data": {"type": "object"}, "at": N})}}),
        "CallbackCreate": _obj({"number": S, "customer_id": I, "queue": S, "agent": S,
                                "reason": S, "due_at": {**N, "description": EPOCH},
                                "work_order_id": I, "recording_path": S, "notes": S},
                               ["number"]),
        "CallbackUpdate": _obj({"number": S, "queue": NS, "agent": NS, "reason": NS,
                                "due_at": {**N, "description": EPOCH}, "notes": NS}),
        "CallbackCancel": _obj({"note": S}),
    },
)
