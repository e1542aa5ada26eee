"""Work orders between real desktops: dispatch notifications, workflow over the socket,
REST-created orders reaching the department, and the SLA checker (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from cti_middleware.store import db as store_db
from cti_middleware.store import dispatch
from cti_middleware.store.tokens import create_token
from tests.harness import Desktop, Proc, start_middleware
from tests.integration.conftest import AGENT_PASSWORD

ALICE, BOB, SUE = "1000@default", "1001@default", "9000@default"


@pytest.fixture
def dispatch_setup(seeded_db: str) -> Iterator[tuple[str, str]]:
    """Bob's department takes complaints; complaints are due after two seconds."""
    store_db.open_database(seeded_db)
    store_db.create_schema()
    team = dispatch.add_department("投诉组", members=[BOB])
    dispatch.add_rule(team.id, type="complaint")
    dispatch.set_sla("complaint", 1, 2)
    _, token = create_token("crm", ["data:read", "data:write"])
    store_db.close_database()
    yield seeded_db, token


@pytest.fixture
def fast_sla_middleware(simulator: tuple[Proc, int], dispatch_setup: tuple[str, str],
                        tmp_path: Path) -> Iterator[tuple[str, str]]:
    db_url, token = dispatch_setup
    proc, url = start_middleware(simulator[1], db_url, log_path=tmp_path / "middleware.log",
                                 extra_env={"CTI_SLA_CHECK_INTERVAL": "0.5"})
    try:
        proc.wait_for(r"resynced from FreeSWITCH")
        yield url, token
    finally:
        proc.stop()


def _post(url: str, token: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def test_orders_reach_the_department_and_follow_the_workflow(fast_sla_middleware):
    url, token = fast_sla_middleware
    alice = Desktop(url, ALICE, AGENT_PASSWORD)
    bob = Desktop(url, BOB, AGENT_PASSWORD)
    sue = Desktop(url, SUE, AGENT_PASSWORD, namespace="/supervisor")
    try:
        ack = alice.call("workorder.create", {
            "type": "complaint", "summary": "快递员态度差", "severity": "high",
            "against": "快递员", "call_uuid": "c0ffee"})
        assert ack["ok"], ack
        order = ack["order"]
        assert order["status"] == "assigned" and order["department"] == "投诉组"
        assigned = bob.wait("workorder.assigned", lambda d: d["id"] == order["id"])
        assert assigned["agent"] == ALICE and assigned["due_at"] == order["due_at"]

        illegal = bob.call("workorder.transition", {"id": order["id"], "to": "closed"})
        assert illegal["ok"] is False and illegal["error"] == "illegal_state"
        for bad in ({"id": order["id"], "to": "x" * 33}, {"id": str(order["id"]), "to": "closed"},
                    "closed"):
            refused = bob.call("workorder.transition", bad)
            assert refused["error"] == "invalid_argument", refused
        oversized = alice.call("workorder.create", {
            "type": "complaint", "summary": "x" * 256, "severity": "high"})
        assert oversized["error"] == "invalid_argument"

        moved = bob.call("workorder.transition", {"id": order["id"], "to": "in_progress"})
        assert moved["ok"] and moved["order"]["status"] == "in_progress"
        updated = alice.wait("workorder.updated", lambda d: d["id"] == order["id"])
        assert updated["status"] == "in_progress"

        mine = bob.call("workorder.list", {"scope": "department"})
        assert [o["id"] for o in mine["items"]] == [order["id"]]

        # Due two seconds after creation: the checker tells the department and supervisors once.
        late = bob.wait("workorder.overdue", lambda d: d["id"] == order["id"])
        assert late["overdue"] is True
        assert sue.wait("workorder.overdue", lambda d: d["id"] == order["id"])["overdue"]
        overdue = bob.call("workorder.list", {"scope": "department", "overdue": True})
        assert [o["id"] for o in overdue["items"]] == [order["id"]]

        # An order created by the CRM over REST is dispatched and announced the same way.
        made = _post(f"{url}/api/workorders", token,
                     {"type": "complaint", "summary": "来自 CRM", "severity": "low"})
        assert made["status"] == "assigned"
        bob.wait("workorder.assigned", lambda d: d["id"] == made["id"])
        # Several checks later (the CRM order is overdue too), the first was not repeated.
        bob.wait("workorder.overdue", lambda d: d["id"] == made["id"])
        again = [d for e, d in bob.seen if e == "workorder.overdue" and d["id"] == order["id"]]
        assert again == []
    finally:
        for desk in (alice, bob, sue):
            desk.close()
