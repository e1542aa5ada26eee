"""The supervisor page's overdue list over ``/supervisor``: ``workorder.list`` with
``scope: "every"`` answers the open orders past their deadline in every department,
newest first and limited, and is refused to plain agents (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cti_middleware.config import Settings
from cti_middleware.sinks.sockets import AGENT_NS, SUPERVISOR_NS
from cti_middleware.store import dispatch
from cti_middleware.store.agents import add_agent
from cti_middleware.store.db import utcnow
from cti_middleware.store.routing import BlacklistEntry
from cti_middleware.store.workflow import transition
from cti_middleware.store.workorders import add_work_order
from cti_middleware.web.app import create_app
from tests.store_fixtures import db, db_url  # noqa: F401

APP, SOCKETIO, _RUNTIME = create_app(Settings(), start=False)
ALICE, SUE, PASSWORD = "1000@default", "9000@default", "pass-word"


@pytest.fixture
def orders(db):  # noqa: F811
    """Alice's department gets complaints; Sue supervises but belongs to no department."""
    add_agent(ALICE, PASSWORD, name="Alice")
    add_agent(SUE, PASSWORD, role="supervisor", name="Sue")
    team = dispatch.add_department("投诉组", members=[ALICE])
    dispatch.add_rule(team.id, type="complaint")
    return {name: _order(name, late) for name, late in (
        ("late-1", True), ("late-2", True), ("late-3", True), ("on-time", False),
        ("late-resolved", True))}


def _order(summary: str, late: bool) -> int:
    """A dispatched complaint whose deadline passed an hour ago (``late``) or is a day away."""
    order = add_work_order("complaint", summary)
    dispatch.dispatch_order(order.id)
    due = utcnow() + (timedelta(hours=-1) if late else timedelta(days=1))
    dispatch.WorkOrderDispatch.update(due_at=due).where(
        dispatch.WorkOrderDispatch.work_order == order.id).execute()
    if summary.endswith("resolved"):
        for step in ("in_progress", "resolved"):
            transition(order.id, step, ALICE)
    return order.id


def _client(agent: str, namespace: str):
    client = SOCKETIO.test_client(APP, namespace=namespace,
                                  auth={"agent": agent, "password": PASSWORD})
    assert client.is_connected(namespace)
    return client


def _list(client, namespace: str, data) -> dict:
    return client.emit("workorder.list", data, namespace=namespace, callback=True)


def test_supervisor_lists_every_open_overdue_order(orders):
    sue = _client(SUE, SUPERVISOR_NS)
    try:
        ack = _list(sue, SUPERVISOR_NS, {"scope": "every", "overdue": True, "limit": 100})
        assert ack["ok"], ack
        assert [o["id"] for o in ack["items"]] == [orders["late-3"], orders["late-2"], orders["late-1"]]
        first = ack["items"][0]
        assert first["overdue"] is True and first["department"] == "投诉组"
        assert first["summary"] == "late-3" and isinstance(first["due_at"], float | int)

        newest = _list(sue, SUPERVISOR_NS, {"scope": "every", "overdue": True, "limit": 2})
        assert [o["id"] for o in newest["items"]] == [orders["late-3"], orders["late-2"]]
        # Without the overdue filter every order counts, resolved and on-time ones included.
        everything = _list(sue, SUPERVISOR_NS, {"scope": "every"})
        assert len(everything["items"]) == len(orders)
        # Her own scope stays her own: she belongs to no department and raised nothing.
        assert _list(sue, SUPERVISOR_NS, {"scope": "all", "overdue": True})["items"] == []
    finally:
        sue.disconnect(namespace=SUPERVISOR_NS)


@pytest.mark.parametrize("data", [
    {"scope": "every", "limit": 101}, {"scope": "every", "limit": 0},
    {"scope": "everyone"}, {"scope": "every", "overdue": "yes"},
    {"scope": "every", "since": 1}, "every", [1],
])
def test_supervisor_list_validates_like_the_desktop(orders, data):
    sue = _client(SUE, SUPERVISOR_NS)
    try:
        ack = _list(sue, SUPERVISOR_NS, data)
        assert ack["ok"] is False and ack["error"] == "invalid_argument", ack
    finally:
        sue.disconnect(namespace=SUPERVISOR_NS)


def test_only_supervisors_list_every_order(orders):
    alice = _client(ALICE, AGENT_NS)
    sue = _client(SUE, AGENT_NS)
    try:
        refused = _list(alice, AGENT_NS, {"scope": "every", "overdue": True})
        assert refused["ok"] is False and refused["error"] == "forbidden", refused
        # Her department's orders she still sees, as before.
        mine = _list(alice, AGENT_NS, {"scope": "all", "overdue": True})
        assert len(mine["items"]) == 3
        assert len(_list(sue, AGENT_NS, {"scope": "every", "overdue": True})["items"]) == 3
    finally:
        alice.disconnect(namespace=AGENT_NS)
        sue.disconnect(namespace=AGENT_NS)


@pytest.mark.parametrize("event", ["workorder.create", "workorder.transition", "blacklist.add"])
def test_supervisor_namespace_only_lists(orders, event):
    sue = _client(SUE, SUPERVISOR_NS)
    try:
        data = {"type": "complaint", "summary": "x"} if event == "workorder.create" else \
            {"id": orders["late-1"], "to": "in_progress"} if event == "workorder.transition" else \
            {"number": "13800138000"}
        reply = sue.emit(event, data, namespace=SUPERVISOR_NS, callback=True)
        assert not isinstance(reply, dict), reply  # no handler there, so no acknowledgement
    finally:
        sue.disconnect(namespace=SUPERVISOR_NS)
    assert dispatch.WorkOrderDispatch.select().count() == len(orders)
    assert BlacklistEntry.select().count() == 0
    assert dispatch.WorkOrder.get_by_id(orders["late-1"]).status == "assigned"
