"""Socket.IO side of callback tasks on ``/agent``: list, preview dial, result.

The dial goes through call control (``call.dial``: ring the agent's phone,
then the number), so the command is built and audited where every other
call is; this module only claims the task first (two agents cannot dial the
same task) and gives the attempt back when the switch refused the call.
Each action, allowed or refused, is written to the audit log.

``callback.assigned`` is pushed to the agent's room, or to the queue's room
for an unassigned task, whenever a task lands there (REST, voicemail,
satisfaction visit, edits) and again when a scheduled retry falls due
(checked every ``CTI_CALLBACK_DUE_POLL`` seconds, default 30).
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable
from typing import Any

import gevent
from flask import request

from ..control import FORBIDDEN, ILLEGAL_STATE, INVALID_ARGUMENT, NOT_FOUND, Actor
from ..sinks.sockets import AGENT_NS, agent_room, queue_room
from ..store import callbacks as store
from ..store.audit import audit
from ..store.db import connection, utcnow
from ..store.errors import DB_ERRORS
from ..store.validate import StoreError
from .control_handlers import control_for

log = logging.getLogger(__name__)

EVENTS = frozenset({"callback.list", "callback.dial", "callback.result"})
ENV_DUE_POLL = "CTI_CALLBACK_DUE_POLL"
DEFAULT_DUE_POLL = 30.0
UNAVAILABLE = "unavailable"


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AssignedPush:
    """Pushes ``callback.assigned`` through one Socket.IO server."""

    def __init__(self, socketio: Any) -> None:
        self.socketio = socketio

    def task_assigned(self, task: dict[str, Any]) -> None:
        room = agent_room(task["agent"]) if task.get("agent") else queue_room(task["queue"])
        self.socketio.emit("callback.assigned", task, namespace=AGENT_NS, to=room)


# One pusher per Socket.IO server, kept alive by the server it belongs to.
_pushers: weakref.WeakKeyDictionary[Any, AssignedPush] = weakref.WeakKeyDictionary()


def install(server: Any, watch_due: bool) -> None:
    """Make ``server`` push ``callback.assigned`` for tasks this process assigns; with
    ``watch_due``, also for retries whose time has come (one process of a deployment
    should watch, or every worker would push the same retry)."""
    if server in _pushers:
        return
    _pushers[server] = pusher = AssignedPush(server)
    store.add_listener(pusher)
    if watch_due:
        gevent.spawn(_watch_due, weakref.ref(server), _poll_interval())


def _poll_interval() -> float:
    try:
        return max(0.1, float(os.environ.get(ENV_DUE_POLL) or DEFAULT_DUE_POLL))
    except ValueError:
        log.error("%s must be seconds; using %s", ENV_DUE_POLL, DEFAULT_DUE_POLL)
        return DEFAULT_DUE_POLL


def _watch_due(server_ref: Any, interval: float) -> None:
    """Push retries whose time has come, as long as the server lives."""
    last = utcnow()
    while server_ref() is not None:
        gevent.sleep(interval)
        now = utcnow()
        try:
            store.announce_due(last, now)
            last = now
        except DB_ERRORS as exc:  # try the same window again next time
            log.warning("cannot check due callbacks: %s", exc)


def handler_for(namespace: Any, event: str | None) -> Callable[..., dict[str, Any]] | None:
    """A handler for a ``callback.*`` event on ``/agent`` (None otherwise)."""
    if namespace.namespace != AGENT_NS or event not in EVENTS:
        return None

    def handle(data: Any = None, *_extra: Any) -> dict[str, Any]:
        principal = namespace.principals.get(request.sid)
        if principal is None:
            return {"ok": False, "error": FORBIDDEN, "message": "not logged in"}
        return run(namespace.runtime, Actor(principal.agent, principal.role), event, data)

    return handle


def run(runtime: Any, actor: Actor, event: str, data: Any) -> dict[str, Any]:
    """Do one callback action for ``actor``; always answers, always audited."""
    target = None
    try:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise Refused(INVALID_ARGUMENT, "arguments must be an object")
        target = f"callback:{data['id']}" if "id" in data else None
        ack = {"ok": True, **ACTIONS[event](runtime, actor, data)}
        result = "ok"
    except Refused as exc:
        ack = {"ok": False, "error": exc.code, "message": exc.message}
        result = f"{exc.code}: {exc.message}"
    except DB_ERRORS as exc:
        log.error("callback action %s failed: %s", event, exc)
        ack = {"ok": False, "error": UNAVAILABLE, "message": "the database is unavailable"}
        result = UNAVAILABLE
    if event != "callback.list":
        _audit(actor, event, str(target)[:255] if target else None, data, result)
    return ack


def _audit(actor: Actor, event: str, target: str | None, data: Any, result: str) -> None:
    recorded = data if isinstance(data, dict) else {"value": repr(data)[:200]}
    try:
        audit(actor.agent, event, target, recorded, result)
    except DB_ERRORS as exc:
        log.error("cannot write audit entry for %s by %s: %s", event, actor.agent, exc)


def _queues(runtime: Any, agent: str) -> list[str]:
    return list(runtime.pipeline.queues_of(agent))


def _task(runtime: Any, actor: Actor, data: dict[str, Any]) -> store.CallbackTask:
    task_id = data.get("id")
    if isinstance(task_id, bool) or not isinstance(task_id, int) or task_id < 1:
        raise Refused(INVALID_ARGUMENT, "id must be a task id")
    with connection():
        task = store.CallbackTask.get_or_none(store.CallbackTask.id == task_id)
    if task is None:
        raise Refused(NOT_FOUND, "no such callback task")
    if not store.may_work(task, actor.agent, _queues(runtime, actor.agent), actor.role):
        raise Refused(FORBIDDEN, "not your callback task")
    return task


def list_tasks(runtime: Any, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    with connection():
        tasks = store.list_for_agent(actor.agent, _queues(runtime, actor.agent))
        return {"tasks": [store.task_to_dict(t) for t in tasks]}


def _render(task: store.CallbackTask) -> dict[str, Any]:
    with connection():
        return store.task_to_dict(task)


def dial(runtime: Any, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    task = _task(runtime, actor, data)
    try:
        task = store.start_dial(task.id, actor.agent)
    except StoreError as exc:
        raise Refused(ILLEGAL_STATE, str(exc)) from None
    try:
        ack = control_for(runtime).run(actor, "call.dial", {"number": task.number})
    except Exception:
        # Never leave a task claimed by a dial that did not happen.
        store.finish_dial(task.id, actor.agent, None, error="internal error")
        raise
    if not ack.get("ok"):
        store.finish_dial(task.id, actor.agent, None, error=ack.get("error", "error"))
        raise Refused(ack.get("error", ILLEGAL_STATE), ack.get("message", "the call failed"))
    task = store.finish_dial(task.id, actor.agent, ack.get("uuid"))
    return {"uuid": ack.get("uuid"), "task": _render(task)}


def record(runtime: Any, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    task = _task(runtime, actor, data)
    try:
        task = store.record_result(task.id, actor.agent, data.get("result"),
                                   score=data.get("score"), notes=data.get("notes"))
    except store.IllegalState as exc:
        raise Refused(ILLEGAL_STATE, str(exc)) from None
    except StoreError as exc:
        raise Refused(INVALID_ARGUMENT, str(exc)) from None
    return {"task": _render(task)}


ACTIONS: dict[str, Callable[[Any, Actor, dict[str, Any]], dict[str, Any]]] = {
    "callback.list": list_tasks,
    "callback.dial": dial,
    "callback.result": record,
}
