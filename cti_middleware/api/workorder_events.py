"""Who hears about a work order, and how: desktops, CRM sockets and webhooks.

One place for the fan-out so an order created over REST and one created on
the desktop reach the same people with the same payload:

* ``/agent``: ``workorder.assigned`` (new order) / ``workorder.updated`` /
  ``workorder.overdue`` to the rooms of the department's members and of the
  order's agent;
* ``/supervisor``: ``workorder.overdue`` to the supervisors' room;
* ``/crm``: ``workorder.created`` / ``workorder.updated``, as webhooks;
* webhooks: ``workorder.created`` / ``workorder.updated`` (overdue included).

Notification never fails the action that caused it: a broken emit or an
unreachable database is logged and the order stays saved.

:class:`OverdueChecker` announces each order that passes its SLA deadline
once (``CTI_SLA_CHECK_INTERVAL`` seconds between checks, default 60). It is
started by the first desktop connection or work-order API call of a process;
several processes may run one each, the claim in the database keeps every
announcement single.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable
from typing import Any

import gevent

from ..sinks.sockets import AGENT_NS, SUPERVISOR_NS, agent_room
from ..store.dispatch import claim_overdue, department_of, members_of, order_payload
from ..store.errors import DB_ERRORS
from ..store.models import WorkOrder
from .crm_socket import ALL_ROOM, CRM_NS

log = logging.getLogger(__name__)

Emit = Callable[..., Any]
CHECK_INTERVAL_ENV = "CTI_SLA_CHECK_INTERVAL"
DEFAULT_CHECK_INTERVAL = 60.0
AGENT_EVENT = {"created": "workorder.assigned", "updated": "workorder.updated",
               "overdue": "workorder.overdue"}
WEBHOOK_EVENT = {"created": "workorder.created", "updated": "workorder.updated",
                 "overdue": "workorder.updated"}


def recipients(order: WorkOrder) -> list[str]:
    """Agents to tell about ``order``: its department's members and its own agent."""
    found = members_of(department_of(order.id))
    if order.agent and order.agent not in found:
        found.append(order.agent)
    return found


def notify(kind: str, order: WorkOrder, emit: Emit | None) -> dict[str, Any] | None:
    """Fan ``order`` out as a ``created``, ``updated`` or ``overdue`` event.

    Returns the payload sent (None if it could not even be built).
    """
    from ..webhooks import enqueue

    try:
        payload = order_payload(order)
        agents = recipients(order)
    except DB_ERRORS as exc:
        log.error("work order %s not announced: %s", order.id, exc)
        return None
    enqueue(WEBHOOK_EVENT[kind], payload)
    if emit is None:
        return payload
    try:
        for agent in agents:
            emit(AGENT_EVENT[kind], payload, to=agent_room(agent), namespace=AGENT_NS)
        if kind == "overdue":
            emit("workorder.overdue", payload, to="supervisors", namespace=SUPERVISOR_NS)
        emit(WEBHOOK_EVENT[kind], payload, to=ALL_ROOM, namespace=CRM_NS)
    except Exception:  # an emit must never undo a saved order
        log.exception("work order %s: socket notification failed", order.id)
    return payload


class OverdueChecker:
    """Announces orders past their SLA, each once, every ``interval`` seconds."""

    def __init__(self, emit: Emit | None, interval: float) -> None:
        self.emit = emit
        self.interval = interval
        self.greenlet: gevent.Greenlet | None = None

    def check(self) -> int:
        """One pass; returns how many orders were announced."""
        orders = claim_overdue()
        for order in orders:
            notify("overdue", order, self.emit)
        return len(orders)

    def start(self) -> None:
        if self.greenlet is None or self.greenlet.dead:
            self.greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill()
            self.greenlet = None

    def _run(self) -> None:
        while True:
            gevent.sleep(self.interval)
            try:
                self.check()
            except DB_ERRORS as exc:
                log.warning("SLA check skipped: %s", exc)


def check_interval() -> float:
    """Seconds between SLA checks, from ``CTI_SLA_CHECK_INTERVAL``."""
    raw = os.environ.get(CHECK_INTERVAL_ENV, "")
    try:
        value = float(raw) if raw else DEFAULT_CHECK_INTERVAL
    except ValueError:
        value = -1.0
    if not 0 < value < 86400:
        log.error("%s=%r is not a number of seconds; using %s", CHECK_INTERVAL_ENV, raw,
                  DEFAULT_CHECK_INTERVAL)
        return DEFAULT_CHECK_INTERVAL
    return value


_checkers: weakref.WeakKeyDictionary[Any, OverdueChecker] = weakref.WeakKeyDictionary()


def start_overdue_checker(socketio: Any) -> OverdueChecker:
    """The SLA checker emitting through ``socketio`` (a Flask-SocketIO server), started once."""
    checker = _checkers.get(socketio)
    if checker is None:
        checker = _checkers[socketio] = OverdueChecker(socketio.emit, check_interval())
        checker.start()
    return checker
