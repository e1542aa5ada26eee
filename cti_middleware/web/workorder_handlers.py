"""Work orders and blocking callers from the agent desktop (``/agent`` socket events).

The desktop raises an order from the screen pop (``workorder.create``), lists
the orders of its agent and department (``workorder.list``), moves them
along the workflow (``workorder.transition``) and blocks a caller
(``blacklist.add``). Every request is answered with an acknowledgement in
the call-control shape (``{"ok": true, ...}`` or ``{"ok": false, "error",
"message"}``) and audited, allowed or refused (listing, which changes
nothing, is not audited).

The supervisor page may only list (``workorder.list`` on ``/supervisor``):
it fetches the orders that are already overdue each time it connects, with
``scope: "every"``, which looks past the caller's own departments and is
refused to plain agents.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from flask import request
from peewee import IntegrityError

from ..api.workorder_events import notify
from ..control import FORBIDDEN, ILLEGAL_STATE, INVALID_ARGUMENT, NOT_FOUND, Actor
from ..sinks.sockets import AGENT_NS, SUPERVISOR_NS
from ..store import dispatch
from ..store.audit import audit as write_audit
from ..store.db import connected
from ..store.errors import DB_ERRORS
from ..store.models import (
    ADDRESS_MAX,
    NAME_MAX,
    NUMBER_MAX,
    REGION_MAX,
    SUMMARY_MAX,
    SUPERVISING_ROLES,
    UUID_MAX,
    Customer,
    WorkOrder,
)
from ..store.routing import BlacklistEntry
from ..store.validate import StoreError
from ..store.workflow import NOTE_MAX, TRANSITIONS, IllegalTransition, transition
from ..store.workorders import DETAILS_MAX

log = logging.getLogger(__name__)

EVENTS = frozenset({"workorder.create", "workorder.list", "workorder.transition",
                    "blacklist.add"})
SUPERVISOR_EVENTS = frozenset({"workorder.list"})
NAMESPACE_EVENTS = {AGENT_NS: EVENTS, SUPERVISOR_NS: SUPERVISOR_EVENTS}
SCOPES = ("mine", "department", "all", "every")
UNAVAILABLE = "unavailable"
LIST_MAX = 100
TYPED = ("window_start", "window_end", "address", "severity", "against")

# name -> (accepted types, max length or None, required)
CREATE = {
    "type": ((str,), 32, True), "summary": ((str,), SUMMARY_MAX, True),
    "details": ((str,), DETAILS_MAX, False), "customer_id": ((int,), None, False),
    "call_uuid": ((str,), UUID_MAX, False), "region": ((str,), REGION_MAX, False),
    "window_start": ((int, float), None, False), "window_end": ((int, float), None, False),
    "address": ((str,), ADDRESS_MAX, False), "severity": ((str,), 16, False),
    "against": ((str,), NAME_MAX, False),
}
LIST = {"scope": ((str,), 16, False), "overdue": ((bool,), None, False),
        "limit": ((int,), None, False)}
TRANSITION = {"id": ((int,), None, True), "to": ((str,), 32, True),
              "note": ((str,), NOTE_MAX, False)}
BLOCK = {"number": ((str,), NUMBER_MAX, True), "reason": ((str,), 255, False),
         "call_uuid": ((str,), UUID_MAX, False)}


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def checked(data: Any, spec: dict[str, tuple[tuple[type, ...], int | None, bool]]) -> dict[str, Any]:
    """``data`` if it is an object matching ``spec`` (unknown keys refused)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Refused(INVALID_ARGUMENT, "arguments must be an object")
    unknown = sorted(str(k)[:32] for k in data if k not in spec)
    if unknown:
        raise Refused(INVALID_ARGUMENT, f"unknown field(s): {', '.join(unknown)}")
    for name, (types, max_len, required) in spec.items():
        value = data.get(name)
        if value is None:
            if required:
                raise Refused(INVALID_ARGUMENT, f"{name} is required")
            continue
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            raise Refused(INVALID_ARGUMENT, f"{name} has the wrong type")
        if max_len is not None and len(value) > max_len:
            raise Refused(INVALID_ARGUMENT, f"{name} is longer than {max_len} characters")
    return data


def with_actions(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload plus the statuses the workflow allows next (the desktop's buttons)."""
    return {**payload, "next": list(TRANSITIONS.get(payload["status"], ()))}


class WorkOrderDesk:
    """Validate, authorise, run and audit the desktop's work-order requests."""

    def __init__(self, emit: Callable[..., Any] | None,
                 audit: Callable[..., Any] = write_audit) -> None:
        self.emit = emit
        self.audit = audit
        self.actions = {
            "workorder.create": self.create,
            "workorder.list": self.list,
            "workorder.transition": self.transition,
            "blacklist.add": self.block,
        }

    def run(self, actor: Actor, event: str, data: Any) -> dict[str, Any]:
        """Answer one request; never raises."""
        try:
            ack = {"ok": True, **self.actions[event](actor, data)}
            result = "ok"
        except Refused as exc:
            ack = {"ok": False, "error": exc.code, "message": exc.message}
            result = f"{exc.code}: {exc.message}"
        except DB_ERRORS as exc:
            log.error("%s by %s failed: %s", event, actor.agent, exc)
            ack = {"ok": False, "error": UNAVAILABLE, "message": "database unavailable"}
            result = UNAVAILABLE
        if event != "workorder.list":
            self._audit(actor, event, data, result, ack)
        return ack

    def _audit(self, actor: Actor, event: str, data: Any, result: str,
               ack: dict[str, Any]) -> None:
        recorded = data if isinstance(data, dict) else {"value": repr(data)[:200]}
        order = ack.get("order")
        target = (f"workorder:{order['id']}" if order else
                  str(recorded.get("number") or recorded.get("id") or actor.agent)[:255])
        try:
            self.audit(actor.agent, event, target, recorded, result)
        except DB_ERRORS as exc:
            log.error("cannot audit %s by %s: %s", event, actor.agent, exc)

    @connected
    def create(self, actor: Actor, data: Any) -> dict[str, Any]:
        data = checked(data, CREATE)
        customer = data.get("customer_id")
        if customer is not None and not Customer.select().where(Customer.id == customer).exists():
            raise Refused(NOT_FOUND, f"no customer {customer}")
        try:
            order, _ = dispatch.create_and_dispatch(
                actor.agent, data["type"], data["summary"], region=data.get("region"),
                customer=customer, details=data.get("details"), agent=actor.agent,
                call_uuid=data.get("call_uuid"),
                fields={name: data.get(name) for name in TYPED},
            )
        except StoreError as exc:
            raise Refused(INVALID_ARGUMENT, str(exc)) from None
        payload = notify("created", order, self.emit) or dispatch.order_payload(order)
        return {"order": with_actions(payload)}

    @connected
    def list(self, actor: Actor, data: Any) -> dict[str, Any]:
        data = checked(data, LIST)
        scope = data.get("scope") or "all"
        if scope not in SCOPES:
            raise Refused(INVALID_ARGUMENT, "scope must be mine, department, all or every")
        if scope == "every" and actor.role not in SUPERVISING_ROLES:
            raise Refused(FORBIDDEN, "only supervisors may list every work order")
        limit = data.get("limit")
        limit = 50 if limit is None else limit
        if not 1 <= limit <= LIST_MAX:
            raise Refused(INVALID_ARGUMENT, f"limit must be 1..{LIST_MAX}")
        query = dispatch.with_dispatch(WorkOrder.select())
        if scope != "every":
            query = query.where(_visible(actor.agent, scope))
        if data.get("overdue") is True:
            query = query.where(dispatch.overdue_condition())
        rows = query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(limit)
        return {"items": [with_actions(dispatch.order_payload(o)) for o in rows]}

    @connected
    def transition(self, actor: Actor, data: Any) -> dict[str, Any]:
        data = checked(data, TRANSITION)
        order = WorkOrder.get_or_none(WorkOrder.id == data["id"])
        if order is None:
            raise Refused(NOT_FOUND, f"no work order {data['id']}")
        if not dispatch.may_handle(actor.agent, actor.role, order):
            raise Refused(FORBIDDEN, "not your work order")
        try:
            order = transition(order.id, data["to"], actor.agent, data.get("note"))
        except IllegalTransition as exc:
            raise Refused(ILLEGAL_STATE, str(exc)) from None
        except StoreError as exc:
            raise Refused(INVALID_ARGUMENT, str(exc)) from None
        payload = notify("updated", order, self.emit) or dispatch.order_payload(order)
        return {"order": with_actions(payload)}

    @connected
    def block(self, actor: Actor, data: Any) -> dict[str, Any]:
        data = checked(data, BLOCK)
        entry = BlacklistEntry(number=data["number"], reason=data.get("reason"),
                               added_by=actor.agent)
        try:
            entry.save()
        except StoreError as exc:
            raise Refused(INVALID_ARGUMENT, str(exc)) from None
        except IntegrityError:
            existing = BlacklistEntry.get(BlacklistEntry.number == entry.number)
            return {"entry": _entry(existing), "already": True}
        return {"entry": _entry(entry), "already": False}


def _visible(agent: str, scope: str) -> Any:
    """Condition for the orders of ``agent`` (``mine``), its departments, or both (``all``)."""
    depts = [d.id for d in dispatch.departments_of(agent)]
    mine = WorkOrder.agent == agent
    theirs = dispatch.WorkOrderDispatch.department.in_(depts or [0])
    return {"mine": mine, "department": theirs, "all": mine | theirs}[scope]


def _entry(entry: BlacklistEntry) -> dict[str, Any]:
    return {"id": entry.id, "number": entry.number, "reason": entry.reason,
            "added_by": entry.added_by}


_desks: weakref.WeakKeyDictionary[Any, WorkOrderDesk] = weakref.WeakKeyDictionary()


def desk_for(namespace: Any) -> WorkOrderDesk:
    """The namespace's desk service."""
    desk = _desks.get(namespace)
    if desk is None:
        desk = _desks[namespace] = WorkOrderDesk(namespace.socketio.emit)
    return desk


def handler_for(namespace: Any, event: str | None) -> Callable[..., dict[str, Any]] | None:
    """A handler for ``event`` if ``namespace`` accepts it, or None.

    ``/agent`` takes every desktop request; ``/supervisor`` only the list,
    so the supervisor page cannot create or move orders by name.
    """
    if event not in NAMESPACE_EVENTS.get(namespace.namespace, ()):
        return None

    def handle(data: Any = None, *_extra: Any) -> dict[str, Any]:
        principal = namespace.principals.get(request.sid)
        if principal is None:
            return {"ok": False, "error": FORBIDDEN, "message": "not logged in"}
        return desk_for(namespace).run(Actor(principal.agent, principal.role), event, data)

    return handle
