"""Dispatch REST API, dispatch on REST creation, overdue filter, and the desktop's
work-order socket service (with a recording emit), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask

from cti_middleware.api import api_bp
from cti_middleware.api.workorder_events import OverdueChecker, check_interval
from cti_middleware.control import Actor
from cti_middleware.store import dispatch
from cti_middleware.store.db import utcnow
from cti_middleware.store.models import AuditLog
from cti_middleware.store.routing import BlacklistEntry
from cti_middleware.store.tokens import create_token
from cti_middleware.store.webhooks import WebhookDelivery as Delivery
from cti_middleware.store.webhooks import add_subscription
from cti_middleware.web.workorder_handlers import WorkOrderDesk
from tests.store_fixtures import db, db_url  # noqa: F401

ALL = ["events:read", "calls:control", "data:read", "data:write"]
ALICE = Actor("1000@default", "agent")
BOB = Actor("1001@default", "agent")


@pytest.fixture
def client(db):  # noqa: F811
    app = Flask(__name__)
    app.config.update(TESTING=True, MAX_CONTENT_LENGTH=1024 * 1024)
    app.register_blueprint(api_bp)
    return app.test_client()


@pytest.fixture
def auth(db):  # noqa: F811
    _, plain = create_token("crm", ALL)
    return {"Authorization": f"Bearer {plain}"}


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, str, str]] = []

    def __call__(self, event, payload, to=None, namespace=None):
        self.sent.append((event, payload, to, namespace))

    def to(self, room, namespace="/agent"):
        return [(e, p) for e, p, r, ns in self.sent if r == room and ns == namespace]


def _department(client, auth, **body):
    r = client.post("/api/departments", headers=auth, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# -- REST management ------------------------------------------------------------------

def test_department_and_rule_crud(client, auth):
    dept = _department(client, auth, name="北京服务站", regions=["北京市"],
                       members=["1000@default"])
    assert dept["regions"] == ["北京市"] and dept["members"] == ["1000@default"]
    r = client.patch(f"/api/departments/{dept['id']}", headers=auth,
                     json={"members": ["1000@default", "1001@default"]})
    assert r.status_code == 200 and r.get_json()["members"] == ["1000@default", "1001@default"]
    r = client.post("/api/dispatch-rules", headers=auth,
                    json={"department_id": dept["id"], "type": "complaint"})
    assert r.status_code == 201
    rule = r.get_json()
    assert client.post("/api/dispatch-rules", headers=auth, json={
        "department_id": dept["id"], "type": "complaint"}).status_code == 409
    listed = client.get("/api/dispatch-rules", headers=auth).get_json()
    assert [x["id"] for x in listed["items"]] == [rule["id"]]
    assert client.delete(f"/api/dispatch-rules/{rule['id']}", headers=auth).status_code == 204
    assert client.delete(f"/api/dispatch-rules/{rule['id']}", headers=auth).status_code == 404
    assert client.delete(f"/api/departments/{dept['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/departments/{dept['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize(("body", "status"), [
    ({"name": "x" * 65}, 422),
    ({"name": "A", "members": ["bad agent"]}, 422),
    ({"name": "A", "types": ["party"]}, 422),
    ({"name": "A", "regions": ["x"] * 201}, 422),
    ({"name": "A", "colour": "red"}, 422),
    ({"regions": ["北京市"]}, 422),
])
def test_bad_department_bodies_are_refused(client, auth, body, status):
    assert client.post("/api/departments", headers=auth, json=body).status_code == status
    assert client.get("/api/departments", headers=auth).get_json()["total"] == 0


def test_sla_read_and_write(client, auth):
    table = {x["type"]: x for x in client.get("/api/sla", headers=auth).get_json()["items"]}
    assert table["complaint"]["resolution_seconds"] == 24 * 3600
    assert table["appointment"]["resolution_seconds"] is None
    r = client.put("/api/sla/inquiry", headers=auth,
                   json={"response_seconds": 600, "resolution_seconds": 3600})
    assert r.status_code == 200 and r.get_json()["resolution_seconds"] == 3600
    assert client.put("/api/sla/party", headers=auth,
                      json={"response_seconds": 1}).status_code == 404
    assert client.put("/api/sla/inquiry", headers=auth,
                      json={"response_seconds": "soon"}).status_code == 422
    assert client.put("/api/sla/inquiry", headers=auth,
                      json={"response_seconds": 0}).status_code == 422


def test_management_needs_write_scope(client, db):  # noqa: F811
    _, plain = create_token("ro", ["data:read"])
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.post("/api/departments", headers=headers, json={"name": "A"}).status_code == 403
    assert client.get("/api/departments", headers=headers).status_code == 200


# -- creation over REST ----------------------------------------------------------------

def test_rest_creation_dispatches_and_queues_the_webhook(client, auth):
    dept = _department(client, auth, name="投诉组", types=["complaint"],
                       members=["1001@default"])
    add_subscription("https://crm.example.com/hook", ["workorder.created"])
    r = client.post("/api/workorders", headers=auth, json={
        "type": "complaint", "summary": "噪音", "severity": "high", "region": "北京市"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "assigned" and body["department_id"] == dept["id"]
    assert body["events"][-1]["actor"] == "dispatch"
    assert body["due_at"] > body["created_at"] and body["overdue"] is False
    delivery = Delivery.get()
    sent = json.loads(delivery.body)
    assert delivery.event_type == "workorder.created"
    assert sent["data"]["department"] == "投诉组" and sent["data"]["status"] == "assigned"


def test_overdue_filter(client, auth):
    client.put("/api/sla/inquiry", headers=auth,
               json={"response_seconds": 1, "resolution_seconds": 1})
    first = client.post("/api/workorders", headers=auth,
                        json={"type": "inquiry", "summary": "a"}).get_json()
    second = client.post("/api/workorders", headers=auth,
                         json={"type": "complaint", "summary": "b", "severity": "low"}).get_json()
    past = utcnow() - timedelta(seconds=5)
    dispatch.WorkOrderDispatch.update(due_at=past).where(
        dispatch.WorkOrderDispatch.work_order == first["id"]).execute()
    overdue = client.get("/api/workorders?overdue=true", headers=auth).get_json()
    assert [x["id"] for x in overdue["items"]] == [first["id"]]
    assert overdue["items"][0]["overdue"] is True
    fine = client.get("/api/workorders?overdue=false", headers=auth).get_json()
    assert [x["id"] for x in fine["items"]] == [second["id"]]
    assert client.get("/api/workorders?overdue=maybe", headers=auth).status_code == 400


# -- the desktop's socket service -------------------------------------------------------

@pytest.fixture
def desk(db):  # noqa: F811
    team = dispatch.add_department("投诉组", members=["1001@default"])
    dispatch.add_rule(team.id, type="complaint")
    emit = Recorder()
    return WorkOrderDesk(emit), emit


def test_desktop_create_notifies_the_department(desk):
    service, emit = desk
    ack = service.run(ALICE, "workorder.create", {
        "type": "complaint", "summary": "投诉快递", "severity": "high", "against": "快递员",
        "call_uuid": "a1b2"})
    assert ack["ok"], ack
    order = ack["order"]
    assert order["status"] == "assigned" and order["agent"] == "1000@default"
    assert order["next"] == ["in_progress", "escalated"]
    assert [e for e, _ in emit.to("agent:1001@default")] == ["workorder.assigned"]
    assert emit.to("crm:all", "/crm")[0][0] == "workorder.created"
    entry = AuditLog.select().where(AuditLog.action == "workorder.create").get()
    assert entry.actor == "1000@default" and entry.result == "ok"


def test_desktop_list_mine_and_department(desk):
    service, _ = desk
    made = service.run(ALICE, "workorder.create", {
        "type": "complaint", "summary": "x", "severity": "low"})["order"]
    for actor, scope in ((ALICE, "mine"), (BOB, "department"), (BOB, "all")):
        ack = service.run(actor, "workorder.list", {"scope": scope})
        assert [o["id"] for o in ack["items"]] == [made["id"]], (actor, scope)
    assert service.run(BOB, "workorder.list", {"scope": "mine"})["items"] == []
    assert service.run(Actor("1002@default", "agent"), "workorder.list", None)["items"] == []


def test_desktop_transition_rules(desk):
    service, emit = desk
    order = service.run(ALICE, "workorder.create", {
        "type": "complaint", "summary": "x", "severity": "low"})["order"]
    illegal = service.run(BOB, "workorder.transition", {"id": order["id"], "to": "closed"})
    assert illegal["ok"] is False and illegal["error"] == "illegal_state"
    stranger = service.run(Actor("1002@default", "agent"), "workorder.transition",
                           {"id": order["id"], "to": "in_progress"})
    assert stranger["error"] == "forbidden"
    assert service.run(BOB, "workorder.transition",
                       {"id": 999999, "to": "in_progress"})["error"] == "not_found"
    ack = service.run(BOB, "workorder.transition", {"id": order["id"], "to": "in_progress"})
    assert ack["ok"] and ack["order"]["status"] == "in_progress"
    assert ack["order"]["next"] == ["resolved", "escalated"]
    assert "workorder.updated" in [e for e, _ in emit.to("agent:1000@default")]
    results = [a.result for a in AuditLog.select().where(
        AuditLog.action == "workorder.transition").order_by(AuditLog.id)]
    assert results[0].startswith("illegal_state") and results[-1] == "ok"


@pytest.mark.parametrize("data", [
    None, "complaint", [1], {"type": "complaint"},
    {"type": "complaint", "summary": "x" * 256, "severity": "low"},
    {"type": "complaint", "summary": "x", "severity": "low", "details": "d" * 10001},
    {"type": "complaint", "summary": "x", "severity": "low", "extra": 1},
    {"type": "complaint", "summary": "x", "severity": "apocalyptic"},
    {"type": "complaint", "summary": "x", "severity": "low", "customer_id": "1"},
    {"type": "complaint", "summary": "x", "severity": "low", "customer_id": True},
    {"type": "appointment", "summary": "x", "window_start": 10, "window_end": 5,
     "address": "a"},
    {"type": "appointment", "summary": "x", "window_start": 1, "window_end": float("inf"),
     "address": "a"},
    {"type": "inquiry", "summary": "x", "severity": "low"},
    {"type": "party", "summary": "x"},
])
def test_desktop_refuses_malformed_orders(desk, data):
    service, emit = desk
    ack = service.run(ALICE, "workorder.create", data)
    assert ack["ok"] is False and ack["error"] == "invalid_argument", ack
    assert emit.sent == []
    assert dispatch.WorkOrderDispatch.select().count() == 0


def test_desktop_unknown_customer_is_not_found(desk):
    service, _ = desk
    ack = service.run(ALICE, "workorder.create", {
        "type": "inquiry", "summary": "x", "customer_id": 424242})
    assert ack["error"] == "not_found"


def test_block_caller(desk):
    service, _ = desk
    ack = service.run(ALICE, "blacklist.add", {"number": "+86 138 0013 8000",
                                                "reason": "骚扰电话"})
    assert ack["ok"] and ack["entry"]["number"] == "13800138000" and ack["already"] is False
    row = BlacklistEntry.get(BlacklistEntry.number == "13800138000")
    assert row.added_by == "1000@default" and row.reason == "骚扰电话"
    again = service.run(BOB, "blacklist.add", {"number": "13800138000"})
    assert again["ok"] and again["already"] is True
    for bad in ({"number": "abc"}, {"number": "1" * 40}, {"reason": "x"},
                {"number": "1380", "reason": "r" * 256}):
        assert service.run(ALICE, "blacklist.add", bad)["error"] == "invalid_argument"
    entries = AuditLog.select().where(AuditLog.action == "blacklist.add")
    assert entries.count() == 6
    assert BlacklistEntry.select().count() == 1


def test_overdue_checker_tells_members_and_supervisors_once(desk):
    service, emit = desk
    order = service.run(ALICE, "workorder.create", {
        "type": "complaint", "summary": "x", "severity": "low"})["order"]
    dispatch.WorkOrderDispatch.update(due_at=utcnow() - timedelta(seconds=1)).execute()
    checker = OverdueChecker(emit, 60)
    assert checker.check() == 1
    assert checker.check() == 0
    overdue = [p for e, p in emit.to("agent:1001@default") if e == "workorder.overdue"]
    assert [p["id"] for p in overdue] == [order["id"]] and overdue[0]["overdue"] is True
    assert [e for e, _ in emit.to("supervisors", "/supervisor")] == ["workorder.overdue"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("", 60.0), ("0.5", 0.5), ("soon", 60.0), ("-1", 60.0), ("inf", 60.0)])
def test_check_interval_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("CTI_SLA_CHECK_INTERVAL", raw)
    assert check_interval() == expected
