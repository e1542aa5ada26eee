"""REST API: tokens, errors, pagination, customers, work orders, records."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from cti_middleware.api import api_bp
from cti_middleware.store import add_agent, add_customer, recent_audit, record_call
from cti_middleware.store.callbacks import create_task
from cti_middleware.store.tokens import create_token, revoke_token, verify_token
from cti_middleware.store.workflow import WorkOrderEvent
from tests.store_fixtures import db, db_url  # noqa: F401

ALL = ["events:read", "calls:control", "data:read", "data:write"]


@pytest.fixture
def app(db):  # noqa: F811
    app = Flask(__name__)
    app.config.update(TESTING=True, MAX_CONTENT_LENGTH=1024 * 1024)
    app.register_blueprint(api_bp)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def bearer(scopes=None, name="crm", **kwargs) -> dict[str, str]:
    _, plain = create_token(name, scopes or ALL, **kwargs)
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def auth(db):  # noqa: F811
    return bearer()


# -- tokens and auth ---------------------------------------------------------

def test_token_is_shown_once_and_stored_hashed(db):  # noqa: F811
    row, plain = create_token("crm", ["data:read"])
    assert plain.startswith("cti_") and len(plain) > 40
    assert plain not in row.token_hash
    assert verify_token(plain).id == row.id
    assert verify_token(plain + "x") is None
    assert verify_token("cti_" + "A" * 43) is None
    assert revoke_token(row.id)
    assert verify_token(plain) is None
    assert not revoke_token(row.id)


def test_token_rejects_unknown_scope(db):  # noqa: F811
    with pytest.raises(ValueError):
        create_token("x", ["data:delete"])


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer ", "Bearer cti_nope"])
def test_missing_or_invalid_token_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    r = client.get("/api/customers", headers=headers)
    assert r.status_code == 401
    assert r.get_json()["error"] == "unauthorized" and r.get_json()["message"]


def test_revoked_token_is_401_and_last_used_is_tracked(client, db):  # noqa: F811
    row, plain = create_token("crm", ["data:read"])
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/customers", headers=headers).status_code == 200
    assert verify_token(plain).last_used_at is not None
    revoke_token(row.id)
    assert client.get("/api/customers", headers=headers).status_code == 401


def test_missing_scope_is_403(client, db):  # noqa: F811
    headers = bearer(["data:read"])
    r = client.post("/api/customers", headers=headers, json={"name": "A", "phones": ["1"]})
    assert r.status_code == 403 and r.get_json()["error"] == "forbidden"


# -- errors, validation, pagination ------------------------------------------

def test_body_must_be_json_object(client, auth):
    r = client.post("/api/customers", headers=auth, data="[1]", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_argument"


@pytest.mark.parametrize("payload, fragment", [
    ({"phones": ["13800138000"]}, "name is required"),
    ({"name": 5, "phones": ["13800138000"]}, "name must be string"),
    ({"name": "x" * 129, "phones": ["13800138000"]}, "longer than"),
    ({"name": "A", "phones": ["13800138000"], "vip": "yes"}, "vip must be boolean"),
    ({"name": "A", "phones": ["13800138000"], "colour": "red"}, "unknown field"),
    ({"name": "A", "phones": "13800138000"}, "phones must be array"),
])
def test_validation_errors_are_422(client, auth, payload, fragment):
    r = client.post("/api/customers", headers=auth, json=payload)
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"] == "validation"
    assert fragment in r.get_json()["message"]


def test_oversized_body_is_413(client, auth):
    big = json.dumps({"name": "A", "notes": "x" * (1024 * 1024 + 10), "phones": ["1"]})
    r = client.post("/api/customers", headers=auth, data=big, content_type="application/json")
    assert r.status_code == 413 and r.get_json()["error"] == "too_large"


def test_pagination_envelope_and_limits(client, auth):
    for i in range(5):
        add_customer(f"C{i}", f"1380013800{i}")
    r = client.get("/api/customers?per_page=2&page=3", headers=auth).get_json()
    assert (r["page"], r["per_page"], r["total"]) == (3, 2, 5)
    assert [c["name"] for c in r["items"]] == ["C4"]
    assert client.get("/api/customers?per_page=101", headers=auth).status_code == 400
    assert client.get("/api/customers?page=0", headers=auth).status_code == 400
    assert client.get("/api/customers?page=x", headers=auth).status_code == 400


def test_unknown_id_is_404(client, auth):
    r = client.get("/api/customers/999", headers=auth)
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"


# -- customers ----------------------------------------------------------------

def test_customer_create_search_patch_and_audit(client, auth):
    r = client.post("/api/customers", headers=auth, json={
        "name": "张三", "phones": ["138 0013 8000"], "address": "北京市朝阳区100%路", "vip": True})
    assert r.status_code == 201
    cid = r.get_json()["id"]
    assert r.get_json()["phones"] == ["13800138000"]
    add_customer("Li Si", "13900139000", address="Shanghai")
    assert [c["id"] for c in client.get("/api/customers?q=朝阳", headers=auth)
            .get_json()["items"]] == [cid]
    # A LIKE wildcard in the fragment is matched literally.
    assert [c["id"] for c in client.get("/api/customers?q=100%25", headers=auth)
            .get_json()["items"]] == [cid]
    assert client.get("/api/customers?q=_", headers=auth).get_json()["total"] == 0
    assert [c["name"] for c in client.get("/api/customers?q=li", headers=auth)
            .get_json()["items"]] == ["Li Si"]
    assert [c["id"] for c in client.get("/api/customers?phone=+86 138-0013-8000",
                                        headers=auth).get_json()["items"]] == [cid]
    r = client.patch(f"/api/customers/{cid}", headers=auth, json={"notes": "prefers SMS"})
    assert r.status_code == 200 and r.get_json()["notes"] == "prefers SMS"
    assert client.patch(f"/api/customers/{cid}", headers=auth,
                        json={"name": "  "}).status_code == 422
    actions = [(e["actor"], e["action"]) for e in recent_audit()]
    assert ("token:crm", "customer.update") in actions
    assert ("token:crm", "customer.create") in actions


def test_duplicate_phone_is_409(client, auth):
    add_customer("A", "13800138000")
    r = client.post("/api/customers", headers=auth, json={"name": "B", "phones": ["13800138000"]})
    assert r.status_code == 409 and r.get_json()["error"] == "conflict"


def test_merge_moves_phones_orders_calls_and_callbacks(client, auth):
    keep = add_customer("A", "13800138000")
    other = add_customer("A (dup)", "13900139000", address="Somewhere", vip=True)
    record_call("u1", caller_number="13900139000", joined_at=1000.0)
    client.post("/api/workorders", headers=auth,
                json={"type": "inquiry", "summary": "s", "customer_id": other.id})
    create_task("tester", "13900139000", customer=other.id)
    r = client.post(f"/api/customers/{keep.id}/merge/{other.id}", headers=auth)
    assert r.status_code == 200
    body = r.get_json()
    assert body["phones"] == ["13800138000", "13900139000"]
    assert body["address"] == "Somewhere" and body["vip"] is True
    assert client.get(f"/api/customers/{other.id}", headers=auth).status_code == 404
    history = client.get(f"/api/customers/{keep.id}/history", headers=auth).get_json()
    assert {item["kind"] for item in history["items"]} == {"call", "work_order", "callback"}
    assert client.post(f"/api/customers/{keep.id}/merge/{keep.id}",
                       headers=auth).status_code == 400


def test_history_is_newest_first_and_paginated(client, auth):
    c = add_customer("A", "13800138000")
    for i in range(3):
        record_call(f"u{i}", caller_number="13800138000", joined_at=1_000_000.0 + i)
    order = client.post("/api/workorders", headers=auth,
                        json={"type": "inquiry", "summary": "s", "customer_id": c.id}).get_json()
    page1 = client.get(f"/api/customers/{c.id}/history?per_page=2", headers=auth).get_json()
    page2 = client.get(f"/api/customers/{c.id}/history?per_page=2&page=2",
                       headers=auth).get_json()
    assert page1["total"] == 4
    items = page1["items"] + page2["items"]
    assert [i.get("id") or i.get("call_uuid") for i in items] == [order["id"], "u2", "u1", "u0"]
    times = [i["at"] for i in items]
    assert times == sorted(times, reverse=True)


# -- work orders --------------------------------------------------------------

def test_typed_work_orders(client, auth):
    r = client.post("/api/workorders", headers=auth, json={
        "type": "appointment", "summary": "fix router", "window_start": 1000,
        "window_end": 2000, "address": "Room 1"})
    assert r.status_code == 201
    assert r.get_json()["fields"] == {"window_start": 1000.0, "window_end": 2000.0,
                                      "address": "Room 1"}
    bad = [
        {"type": "appointment", "summary": "s", "window_start": 2000, "window_end": 1000,
         "address": "x"},
        {"type": "appointment", "summary": "s", "window_start": 1, "window_end": 2},
        {"type": "complaint", "summary": "s", "severity": "meh"},
        {"type": "inquiry", "summary": "s", "severity": "low"},
        {"type": "bogus", "summary": "s"},
        {"type": "inquiry", "summary": "s", "customer_id": 12345},
    ]
    for payload in bad:
        assert client.post("/api/workorders", headers=auth, json=payload).status_code == 422
    r = client.post("/api/workorders", headers=auth, json={
        "type": "complaint", "summary": "rude", "severity": "high", "against": "1000@default"})
    assert r.get_json()["fields"] == {"severity": "high", "against": "1000@default"}


def test_workflow_transitions_are_recorded(client, auth):
    oid = client.post("/api/workorders", headers=auth,
                      json={"type": "inquiry", "summary": "s"}).get_json()["id"]
    url = f"/api/workorders/{oid}/transition"
    r = client.post(url, headers=auth, json={"to": "resolved"})
    assert r.status_code == 409 and r.get_json()["error"] == "illegal_transition"
    for step in ("assigned", "in_progress", "escalate", "resolved", "closed", "reopen"):
        r = client.post(url, headers=auth, json={"to": step})
        assert r.status_code == 200, (step, r.get_json())
    body = r.get_json()
    assert body["status"] == "assigned"
    assert [(e["action"], e["from"], e["to"]) for e in body["events"]] == [
        ("created", None, "new"),
        ("transition", "new", "assigned"),
        ("transition", "assigned", "in_progress"),
        ("escalate", "in_progress", "escalated"),
        ("transition", "escalated", "resolved"),
        ("transition", "resolved", "closed"),
        ("reopen", "closed", "assigned"),
    ]
    assert {e["actor"] for e in body["events"]} == {"token:crm"}
    assert all(e["at"] for e in body["events"])
    assert WorkOrderEvent.select().count() == 7
    assert client.post(url, headers=auth, json={"to": "nowhere"}).status_code == 422
    assert client.post("/api/workorders/999/transition", headers=auth,
                       json={"to": "assigned"}).status_code == 404


def test_work_order_filters(client, auth):
    for kind in ("inquiry", "complaint", "inquiry"):
        payload = {"type": kind, "summary": "s"}
        if kind == "complaint":
            payload["severity"] = "low"
        client.post("/api/workorders", headers=auth, json=payload)
    r = client.get("/api/workorders?type=inquiry", headers=auth).get_json()
    assert r["total"] == 2 and {o["type"] for o in r["items"]} == {"inquiry"}
    assert client.get("/api/workorders?status=new", headers=auth).get_json()["total"] == 3
    assert client.get("/api/workorders?status=odd", headers=auth).status_code == 400
    one = r["items"][0]["id"]
    assert client.get(f"/api/workorders/{one}", headers=auth).get_json()["id"] == one


# -- blacklist, calls, agents ---------------------------------------------------

def test_blacklist_crud_with_audit(client, auth):
    r = client.post("/api/blacklist", headers=auth,
                    json={"number": "+86 138 0013 8000", "reason": "spam", "expires_at": 4e9})
    assert r.status_code == 201
    entry = r.get_json()
    assert entry["number"] == "13800138000" and entry["added_by"] == "token:crm"
    assert entry["expires_at"] == 4e9
    assert client.post("/api/blacklist", headers=auth,
                       json={"number": "13800138000"}).status_code == 409
    assert client.post("/api/blacklist", headers=auth,
                       json={"number": "not a number"}).status_code == 422
    assert client.get("/api/blacklist", headers=auth).get_json()["total"] == 1
    assert client.delete(f"/api/blacklist/{entry['id']}", headers=auth).status_code == 204
    assert client.delete(f"/api/blacklist/{entry['id']}", headers=auth).status_code == 404
    actions = [e["action"] for e in recent_audit()]
    assert "blacklist.add" in actions and "blacklist.remove" in actions


def test_call_records_filters_and_queue_restriction(client, db):  # noqa: F811
    record_call("a", caller_number="13800138000", agent="1000@default",
                queue="support@default", joined_at=100.0)
    record_call("b", caller_number="13900139000", agent="1001@default",
                queue="sales@default", joined_at=200.0)
    auth = bearer(["data:read"])
    r = client.get("/api/calls", headers=auth).get_json()
    assert [c["call_uuid"] for c in r["items"]] == ["b", "a"]
    assert [c["call_uuid"] for c in client.get("/api/calls?agent=1000@default",
                                               headers=auth).get_json()["items"]] == ["a"]
    assert [c["call_uuid"] for c in client.get("/api/calls?number=+8613900139000",
                                               headers=auth).get_json()["items"]] == ["b"]
    assert [c["call_uuid"] for c in client.get("/api/calls?since=150",
                                               headers=auth).get_json()["items"]] == ["b"]
    assert [c["call_uuid"] for c in client.get("/api/calls?until=150",
                                               headers=auth).get_json()["items"]] == ["a"]
    assert client.get("/api/calls?since=yesterday", headers=auth).status_code == 400
    assert client.get("/api/calls/a", headers=auth).get_json()["joined_at"] == 100.0
    support = bearer(["data:read"], name="support-wall", queues=["support@default"])
    assert [c["call_uuid"] for c in client.get("/api/calls", headers=support)
            .get_json()["items"]] == ["a"]
    assert client.get("/api/calls/b", headers=support).status_code == 404


def test_agents_never_expose_password_hashes(client, auth):
    add_agent("1000@default", "secret-pw", name="Alice")
    r = client.get("/api/agents", headers=auth)
    text = r.get_data(as_text=True)
    assert r.get_json()["items"][0]["agent_id"] == "1000@default"
    assert "scrypt" not in text and "password" not in text

