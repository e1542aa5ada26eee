"""Callback tasks: people to call back, who calls them, and how it went.

A task comes from a caller who asked for a callback, a voicemail left in
the IVR, a satisfaction visit after a resolved work order, or a person
(REST). It sits in a queue and/or with one agent; agents work it by
preview dialling (see ``web/callback_handlers``) and record a result.
``no_answer`` schedules the next attempt from :class:`RetryPolicy`; after
the last attempt the task fails. Every change is appended to
:class:`CallbackEvent` with its author, so a task's story can be read back.

Status changes are conditional updates on the status read, so two agents
clicking Dial on the same task cannot both start it.
"""

from __future__ import annotations

import json
import logging
import os
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import (
    AutoField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .db import BaseModel, UTCDateTimeField, connected, database, to_epoch, utcnow
from .models import (
    AGENT_MAX,
    NOTES_MAX,
    NUMBER_MAX,
    PATH_MAX,
    QUEUE_MAX,
    UUID_MAX,
    CallRecord,
    Customer,
    CustomerPhone,
    WorkOrder,
)
from .phones import normalize_number
from .validate import StoreError, choice, text

log = logging.getLogger(__name__)

__all__ = [
    "OPEN_STATUSES",
    "RESULTS",
    "SOURCES",
    "STATUSES",
    "CallbackEvent",
    "CallbackTask",
    "IllegalState",
    "RetryPolicy",
    "add_listener",
    "cancel_task",
    "create_task",
    "finish_dial",
    "list_for_agent",
    "record_result",
    "satisfaction_types",
    "start_dial",
    "task_events",
    "task_to_dict",
    "update_task",
]

SOURCES = ("caller_request", "voicemail", "satisfaction", "manual")
STATUSES = ("pending", "in_progress", "done", "failed", "cancelled")
OPEN_STATUSES = ("pending", "in_progress")
RESULTS = ("reached", "no_answer", "wrong_number", "refused")
REASON_MAX = 255
DEFAULT_DELAYS = (900, 3600, 14400)  # 15 min, 1 h, 4 h
DEFAULT_SATISFACTION_TYPES = ("complaint", "service_request")
ENV_DELAYS = "CTI_CALLBACK_RETRY_DELAYS"
ENV_MAX_ATTEMPTS = "CTI_CALLBACK_MAX_ATTEMPTS"
ENV_SATISFACTION_TYPES = "CTI_SATISFACTION_CALLBACK_TYPES"
ENV_SATISFACTION_QUEUE = "CTI_SATISFACTION_CALLBACK_QUEUE"


class IllegalState(StoreError):
    """The task is not in a status that allows this (e.g. a result before dialling)."""


class CallbackTask(BaseModel):
    id = AutoField()
    customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL")
    number = CharField(max_length=NUMBER_MAX)
    queue = CharField(max_length=QUEUE_MAX, null=True, index=True)
    agent = CharField(max_length=AGENT_MAX, null=True, index=True)
    source = CharField(max_length=32)
    reason = CharField(max_length=REASON_MAX, null=True)
    work_order = ForeignKeyField(WorkOrder, null=True, on_delete="SET NULL")
    origin_call_uuid = CharField(max_length=UUID_MAX, null=True, index=True)
    status = CharField(max_length=16, default="pending")
    due_at = UTCDateTimeField(default=utcnow)
    next_attempt_at = UTCDateTimeField(default=utcnow, index=True)
    attempts = IntegerField(default=0)
    max_attempts = IntegerField(default=len(DEFAULT_DELAYS) + 1)
    result = CharField(max_length=16, null=True)
    score = IntegerField(null=True)
    notes = TextField(null=True)
    recording_path = CharField(max_length=PATH_MAX, null=True)
    last_call_uuid = CharField(max_length=UUID_MAX, null=True)
    created_by = CharField(max_length=AGENT_MAX)
    updated_by = CharField(max_length=AGENT_MAX)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "callback_task"
        indexes = ((("status", "next_attempt_at"), False),)


class CallbackEvent(BaseModel):
    id = AutoField()
    task = ForeignKeyField(CallbackTask, backref="events", on_delete="CASCADE")
    action = CharField(max_length=32)  # created, updated, dial, dial_failed, result, cancelled
    actor = CharField(max_length=AGENT_MAX)
    data = TextField(default="{}")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "callback_event"
        indexes = ((("task", "created_at"), False),)


# -- configuration -------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again after ``no_answer``: ``delays[n-1]`` after attempt n
    (the last delay repeats), and no more than ``max_attempts`` dials."""

    delays: tuple[int, ...] = DEFAULT_DELAYS
    max_attempts: int = len(DEFAULT_DELAYS) + 1

    def __post_init__(self) -> None:
        if not self.delays or any(d < 0 for d in self.delays):
            raise ValueError("retry delays must be a non-empty list of seconds >= 0")
        if self.max_attempts < 1:
            raise ValueError("max attempts must be >= 1")

    def delay_after(self, attempt: int) -> int:
        return self.delays[min(max(attempt, 1), len(self.delays)) - 1]

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """``CTI_CALLBACK_RETRY_DELAYS`` (comma list of seconds) and ``CTI_CALLBACK_MAX_ATTEMPTS``."""
        raw = os.environ.get(ENV_DELAYS, "").strip()
        try:
            delays = tuple(int(p) for p in raw.split(",") if p.strip()) if raw else DEFAULT_DELAYS
            raw_max = os.environ.get(ENV_MAX_ATTEMPTS, "").strip()
            max_attempts = int(raw_max) if raw_max else len(delays) + 1
            return cls(delays, max_attempts)
        except ValueError as exc:
            log.error("bad callback retry settings (%s); using the defaults", exc)
            return cls()


def satisfaction_types() -> tuple[str, ...]:
    """Work-order types that get a satisfaction visit when resolved
    (``CTI_SATISFACTION_CALLBACK_TYPES``, comma list; empty string: none)."""
    raw = os.environ.get(ENV_SATISFACTION_TYPES)
    if raw is None:
        return DEFAULT_SATISFACTION_TYPES
    return tuple(p.strip() for p in raw.split(",") if p.strip())


# -- who hears about new tasks ---------------------------------------------------

_listeners: weakref.WeakSet[Any] = weakref.WeakSet()


def add_listener(listener: Any) -> None:
    """Register an object whose ``task_assigned(task_dict)`` is called after a
    task lands on an agent or a queue (held weakly: it lives as long as its app)."""
    _listeners.add(listener)


def _announce(task: CallbackTask) -> None:
    if not (task.agent or task.queue):
        return
    body = task_to_dict(task)
    for listener in list(_listeners):
        try:
            listener.task_assigned(body)
        except Exception:  # a push must never undo a stored task
            log.exception("callback listener failed for task %s", task.id)


# -- validation ----------------------------------------------------------------


def _actor(actor: str) -> str:
    return text(actor, "actor", AGENT_MAX, required=True)


def _number(raw: object) -> str:
    if not isinstance(raw, str):
        raise StoreError("number must be text")
    try:
        number = normalize_number(raw)
    except ValueError:
        raise StoreError("number is not a phone number") from None
    if len(number) > NUMBER_MAX:
        raise StoreError("number is too long")
    return number


def _when(value: object, field: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StoreError(f"{field} must be epoch seconds")
    try:
        return datetime.fromtimestamp(value, utcnow().tzinfo)
    except (OverflowError, OSError, ValueError):
        raise StoreError(f"{field} is out of range") from None


def _score(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise StoreError("score must be a whole number from 1 to 5")
    return value


def _event(task_id: int, action: str, actor: str, data: dict[str, Any] | None = None) -> None:
    CallbackEvent.create(task=task_id, action=action, actor=actor,
                         data=json.dumps(data or {}, ensure_ascii=False, sort_keys=True))


# -- writes ----------------------------------------------------------------------


@connected
def create_task(
    actor: str,
    number: str,
    *,
    source: str = "manual",
    customer: int | None = None,
    queue: str | None = None,
    agent: str | None = None,
    reason: str | None = None,
    due_at: float | datetime | None = None,
    work_order: int | None = None,
    origin_call_uuid: str | None = None,
    recording_path: str | None = None,
    notes: str | None = None,
    policy: RetryPolicy | None = None,
) -> CallbackTask:
    """Store a new pending task and tell the agent or queue it landed on.

    The customer is looked up by number when not given.
    """
    actor = _actor(actor)
    number = _number(number)
    choice(source, "source", SOURCES)
    due = _when(due_at, "due_at") if due_at is not None else utcnow()
    if customer is None:
        phone = CustomerPhone.get_or_none(CustomerPhone.number == number)
        customer = phone.customer_id if phone is not None else None
    elif not Customer.select().where(Customer.id == customer).exists():
        raise StoreError(f"no customer {customer}")
    if work_order is not None and not WorkOrder.select().where(WorkOrder.id == work_order).exists():
        raise StoreError(f"no work order {work_order}")
    policy = policy or RetryPolicy.from_env()
    with database.atomic():
        task = CallbackTask.create(
            customer=customer, number=number,
            queue=text(queue, "queue", QUEUE_MAX), agent=text(agent, "agent", AGENT_MAX),
            source=source, reason=text(reason, "reason", REASON_MAX),
            work_order=work_order,
            origin_call_uuid=text(origin_call_uuid, "origin_call_uuid", UUID_MAX),
            due_at=due, next_attempt_at=due, max_attempts=policy.max_attempts,
            recording_path=text(recording_path, "recording_path", PATH_MAX),
            notes=text(notes, "notes", NOTES_MAX),
            created_by=actor, updated_by=actor,
        )
        _event(task.id, "created", actor, {"source": source, "queue": task.queue,
                                            "agent": task.agent})
    _announce(task)
    return task


def _get(task_id: int) -> CallbackTask:
    task = CallbackTask.get_or_none(CallbackTask.id == task_id)
    if task is None:
        raise LookupError(f"no callback task {task_id}")
    return task


def _change(task: CallbackTask, expected_status: str, **values: Any) -> CallbackTask:
    changed = (
        CallbackTask.update(updated_at=utcnow(), **values)
        .where((CallbackTask.id == task.id) & (CallbackTask.status == expected_status))
        .execute()
    )
    if not changed:
        raise IllegalState("the task changed meanwhile; reload and retry")
    return CallbackTask.get_by_id(task.id)


EDITABLE = ("number", "queue", "agent", "reason", "due_at", "notes")


@connected
def update_task(task_id: int, actor: str, changes: dict[str, Any]) -> CallbackTask:
    """Edit an open task's number, queue, agent, reason, due time or notes."""
    actor = _actor(actor)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise StoreError(f"cannot change {', '.join(unknown)}")
    values: dict[str, Any] = {}
    if "number" in changes:
        values["number"] = _number(changes["number"])
    for name, limit in (("queue", QUEUE_MAX), ("agent", AGENT_MAX), ("reason", REASON_MAX),
                        ("notes", NOTES_MAX)):
        if name in changes:
            values[name] = text(changes[name], name, limit)
    if changes.get("due_at") is not None:
        values["due_at"] = values["next_attempt_at"] = _when(changes["due_at"], "due_at")
    with database.atomic():
        task = _get(task_id)
        if task.status not in OPEN_STATUSES:
            raise IllegalState(f"the task is {task.status}")
        task = _change(task, task.status, updated_by=actor, **values)
        _event(task.id, "updated", actor, {k: changes[k] for k in changes})
    if "agent" in values or "queue" in values:
        _announce(task)
    return task


@connected
def cancel_task(task_id: int, actor: str, note: str | None = None) -> CallbackTask:
    """Close an open task without calling."""
    actor = _actor(actor)
    note = text(note, "note", NOTES_MAX)
    with database.atomic():
        task = _get(task_id)
        if task.status not in OPEN_STATUSES:
            raise IllegalState(f"the task is {task.status}")
        task = _change(task, task.status, status="cancelled", updated_by=actor)
        _event(task.id, "cancelled", actor, {"note": note} if note else None)
    return task


@connected
def start_dial(task_id: int, actor: str) -> CallbackTask:
    """Claim a pending task for ``actor`` before its number is dialled."""
    actor = _actor(actor)
    with database.atomic():
        task = _get(task_id)
        if task.status != "pending":
            raise IllegalState(f"the task is {task.status}")
        task = _change(task, "pending", status="in_progress", agent=task.agent or actor,
                       attempts=task.attempts + 1, updated_by=actor)
        _event(task.id, "dial", actor, {"attempt": task.attempts, "number": task.number})
    return task


@connected
def finish_dial(task_id: int, actor: str, call_uuid: str | None, error: str | None = None) -> CallbackTask:
    """After the switch answered the dial: keep the call's uuid, or give the
    attempt back when the call could not be placed at all."""
    actor = _actor(actor)
    with database.atomic():
        task = _get(task_id)
        if error is None:
            task = _change(task, "in_progress", last_call_uuid=text(call_uuid, "call_uuid", UUID_MAX))
            return task
        task = _change(task, "in_progress", status="pending", attempts=max(task.attempts - 1, 0),
                       updated_by=actor)
        _event(task.id, "dial_failed", actor, {"error": error[:255]})
    return task


@connected
def record_result(
    task_id: int,
    actor: str,
    result: str,
    *,
    score: int | None = None,
    notes: str | None = None,
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
) -> CallbackTask:
    """The outcome of the current attempt.

    ``reached`` and ``refused`` finish the task, ``wrong_number`` fails it,
    ``no_answer`` schedules the next attempt or fails after the last one.
    A score (1-5) goes only with ``reached``.
    """
    actor = _actor(actor)
    result = choice(result, "result", RESULTS)
    score = _score(score)
    if score is not None and result != "reached":
        raise StoreError("a score goes only with result reached")
    notes = text(notes, "notes", NOTES_MAX)
    policy = policy or RetryPolicy.from_env()
    now = now or utcnow()
    values: dict[str, Any] = {"result": result, "updated_by": actor}
    if score is not None:
        values["score"] = score
    if notes is not None:
        values["notes"] = notes
    with database.atomic():
        task = _get(task_id)
        if task.status != "in_progress":
            raise IllegalState(f"the task is {task.status}, not in progress")
        if result == "no_answer":
            if task.attempts >= min(task.max_attempts, policy.max_attempts):
                values["status"] = "failed"
            else:
                values["status"] = "pending"
                values["next_attempt_at"] = now + timedelta(seconds=policy.delay_after(task.attempts))
        else:
            values["status"] = "failed" if result == "wrong_number" else "done"
        task = _change(task, "in_progress", **values)
        _event(task.id, "result", actor, {"result": result, "score": score, "notes": notes,
                                          "status": task.status})
    return task


# -- hooks called from other parts of the product ----------------------------------


def satisfaction_visit(order: WorkOrder, actor: str) -> CallbackTask | None:
    """Create the satisfaction-visit task for a just-resolved order, when its
    type is configured for it and a number can be found; never raises."""
    try:
        if order.type not in satisfaction_types():
            return None
        return _satisfaction_visit(order, actor)
    except Exception:  # resolving the order must not fail because of this
        log.exception("cannot create the satisfaction callback for work order %s", order.id)
        return None


@connected
def _satisfaction_visit(order: WorkOrder, actor: str) -> CallbackTask | None:
    exists = CallbackTask.select().where(
        (CallbackTask.work_order == order.id) & (CallbackTask.source == "satisfaction")
        & CallbackTask.status.in_(OPEN_STATUSES)).exists()
    if exists:
        return None
    record = (CallRecord.get_or_none(CallRecord.call_uuid == order.call_uuid)
              if order.call_uuid else None)
    number = None
    if order.customer_id is not None:
        phone = (CustomerPhone.select().where(CustomerPhone.customer == order.customer_id)
                 .order_by(CustomerPhone.id).first())
        number = phone.number if phone is not None else None
    if number is None and record is not None:
        number = record.caller_number
    if not number:
        log.info("work order %s resolved without a number to call back", order.id)
        return None
    queue = os.environ.get(ENV_SATISFACTION_QUEUE) or (record.queue if record else None)
    return create_task(
        actor, number, source="satisfaction", customer=order.customer_id,
        queue=queue, agent=None if queue else order.agent, work_order=order.id,
        reason=f"Satisfaction visit after work order {order.id}",
    )


def requested_task(order: WorkOrder, number: str, *, queue: str | None) -> CallbackTask | None:
    """The task for a caller who accepted the callback offer (beside its work
    order); never raises, the caller is already being told "we will call"."""
    try:
        return _requested_task(order, number, queue)
    except Exception:  # the work order is there even if the task is not
        log.exception("cannot create the callback task for work order %s", order.id)
        return None


@connected
def _requested_task(order: WorkOrder, number: str, queue: str | None) -> CallbackTask | None:
    if queue is not None and not isinstance(queue, str):
        queue = None
    return create_task("ivr", number, source="caller_request", customer=order.customer_id,
                       queue=queue, work_order=order.id, origin_call_uuid=order.call_uuid,
                       reason=order.summary)


def voicemail_task(
    number: str, *, queue: str | None, call_uuid: str | None, recording_path: str | None
) -> CallbackTask | None:
    """The callback task for a caller who reached the voicemail step (one per
    call); never raises, the caller's message matters more than the task."""
    try:
        return _voicemail_task(number, queue, call_uuid, recording_path)
    except Exception:  # the caller's message matters more than the task
        log.exception("cannot create the voicemail callback for call %s", call_uuid)
        return None


@connected
def _voicemail_task(number: str, queue: str | None, call_uuid: str | None,
                    recording_path: str | None) -> CallbackTask | None:
    if call_uuid and CallbackTask.select().where(
            (CallbackTask.origin_call_uuid == call_uuid)
            & (CallbackTask.source == "voicemail")).exists():
        return None
    return create_task("ivr", number, source="voicemail", queue=queue,
                       origin_call_uuid=call_uuid, recording_path=recording_path,
                       reason="Voicemail left in the IVR")


# -- reads -----------------------------------------------------------------------


def _due_first(query: Any) -> Any:
    return query.order_by(CallbackTask.next_attempt_at, CallbackTask.id)


@connected
def list_for_agent(agent: str, queues: Iterable[str], *, include_closed: bool = False,
                   limit: int = 200) -> list[CallbackTask]:
    """The agent's own tasks and the unassigned tasks of its queues, due first."""
    queues = list(queues)
    mine = CallbackTask.agent == agent
    if queues:
        mine = mine | (CallbackTask.agent.is_null() & CallbackTask.queue.in_(queues))
    query = CallbackTask.select().where(mine)
    if not include_closed:
        query = query.where(CallbackTask.status.in_(OPEN_STATUSES))
    return list(_due_first(query).limit(max(1, min(limit, 1000))))


def query_tasks(*, status: str | None = None, agent: str | None = None,
                queue: str | None = None, customer: int | None = None,
                source: str | None = None, due_before: float | None = None,
                unassigned: bool = False) -> Any:
    """The REST list's filters as one ordered query (due first)."""
    query = CallbackTask.select()
    if status:
        query = query.where(CallbackTask.status == choice(status, "status", STATUSES))
    if source:
        query = query.where(CallbackTask.source == choice(source, "source", SOURCES))
    if agent:
        query = query.where(CallbackTask.agent == agent)
    if unassigned:
        query = query.where(CallbackTask.agent.is_null())
    if queue:
        query = query.where(CallbackTask.queue == queue)
    if customer is not None:
        query = query.where(CallbackTask.customer == customer)
    if due_before is not None:
        query = query.where(CallbackTask.next_attempt_at <= _when(due_before, "due_before"))
    return _due_first(query)


@connected
def announce_due(after: datetime, now: datetime | None = None) -> int:
    """Tell the agents and queues about retries that fell due in (after, now];
    returns how many. Run periodically so a scheduled retry reappears on the
    desktops when its time comes."""
    now = now or utcnow()
    rows = list(CallbackTask.select().where(
        (CallbackTask.status == "pending") & (CallbackTask.attempts > 0)
        & (CallbackTask.next_attempt_at > after) & (CallbackTask.next_attempt_at <= now)))
    for task in rows:
        _announce(task)
    return len(rows)


def may_work(task: CallbackTask, agent: str, queues: Iterable[str], role: str = "agent") -> bool:
    """Agents work their own tasks and the unassigned ones of their queues;
    supervisors also the tasks of their queues; admins every task."""
    if role == "admin" or task.agent == agent:
        return True
    in_my_queue = task.queue is not None and task.queue in set(queues)
    if role == "supervisor":
        return in_my_queue
    return task.agent is None and in_my_queue


@connected
def get_task(task_id: int) -> CallbackTask:
    """The task, or ``LookupError``."""
    return _get(task_id)


@connected
def task_events(task_id: int) -> list[dict[str, Any]]:
    """The task's changes, oldest first, each with its author."""
    rows = CallbackEvent.select().where(CallbackEvent.task == task_id).order_by(CallbackEvent.id)
    return [{"action": r.action, "actor": r.actor, "data": json.loads(r.data),
             "at": to_epoch(r.created_at)} for r in rows]


def task_to_dict(task: CallbackTask, *, detail: bool = False, now: datetime | None = None) -> dict[str, Any]:
    """JSON-ready view (times as epoch seconds); ``detail`` adds the change log."""
    now = now or utcnow()
    customer = task.customer if task.customer_id is not None else None
    body = {
        "id": task.id,
        "customer_id": task.customer_id,
        "customer_name": customer.name if customer is not None else None,
        "history": f"/api/customers/{task.customer_id}/history" if task.customer_id else None,
        "number": task.number,
        "queue": task.queue,
        "agent": task.agent,
        "source": task.source,
        "reason": task.reason,
        "work_order_id": task.work_order_id,
        "origin_call_uuid": task.origin_call_uuid,
        "status": task.status,
        "due_at": to_epoch(task.due_at),
        "next_attempt_at": to_epoch(task.next_attempt_at),
        "due": task.status == "pending" and task.next_attempt_at <= now,
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "result": task.result,
        "score": task.score,
        "notes": task.notes,
        "recording_path": task.recording_path,
        "last_call_uuid": task.last_call_uuid,
        "created_by": task.created_by,
        "updated_by": task.updated_by,
        "created_at": to_epoch(task.created_at),
        "updated_at": to_epoch(task.updated_at),
    }
    if detail:
        body["events"] = task_events(task.id)
    return body
