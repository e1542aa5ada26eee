"""REST /api/callbacks: create, list filters, read, edit, cancel, queue-restricted tokens."""

from __future__ import annotations

import pytest

from cti_middleware.store import add_customer, recent_audit
from cti_middleware.store import callbacks as cb
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.test_api_rest import app, auth, bearer, client  # noqa: F401


def _create(client, auth, **fields):  # noqa: F811
    reply = client.post("/api/callbacks", json={"number": "13900000001", **fields}, headers=auth)
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def test_create_read_and_audit(client, auth):  # noqa: F811
    customer = add_customer("张三", ["13800138000"])
    body = _create(client, auth, number="+86 138 0013 8000", queue="support@default",
                   reason="wants a quote", due_at=1795457110.0)
    assert body["number"] == "13800138000" and body["customer_id"] == customer.id
    assert body["status"] == "pending" and body["source"] == "manual"
    assert body["due_at"] == 1795457110.0 and body["created_by"] == "token:crm"
    assert body["events"][0]["action"] == "created"
    read = client.get(f"/api/callbacks/{body['id']}", headers=auth).get_json()
    assert read["customer_name"] == "张三" and read["history"].endswith("/history")
    entry = recent_audit(1)[0]
    assert (entry["action"], entry["target"], entry["actor"]) == (
        "callback.create", f"callback:{body['id']}", "token:crm")


@pytest.mark.parametrize(("payload", "status", "fragment"), [
    ({}, 422, "number is required"),
    ({"number": "not-a-number"}, 422, "not a phone number"),
    ({"number": "13900000001", "customer_id": 999}, 422, "no customer 999"),
    ({"number": "13900000001", "status": "done"}, 422, "unknown field"),
    ({"number": 13900000001}, 422, "number must be string"),
    ({"number": "13900000001", "due_at": "soon"}, 422, "due_at must be"),
])
def test_create_validation(client, auth, payload, status, fragment):  # noqa: F811
    reply = client.post("/api/callbacks", json=payload, headers=auth)
    assert reply.status_code == status
    assert fragment in reply.get_json()["message"]
    assert cb.CallbackTask.select().count() == 0


def test_list_filters_and_due_first(client, auth):  # noqa: F811
    late = _create(client, auth, number="13900000001", queue="support@default", due_at=2000000000)
    soon = _create(client, auth, number="13900000002", queue="support@default", due_at=1900000000)
    bob = _create(client, auth, number="13900000003", agent="1001@default", due_at=1800000000)
    listed = client.get("/api/callbacks", headers=auth).get_json()
    assert [t["id"] for t in listed["items"]] == [bob["id"], soon["id"], late["id"]]
    assert listed["total"] == 3

    def ids(query: str) -> list[int]:
        reply = client.get(f"/api/callbacks?{query}", headers=auth)
        assert reply.status_code == 200, reply.get_json()
        return [t["id"] for t in reply.get_json()["items"]]

    assert ids("queue=support@default") == [soon["id"], late["id"]]
    assert ids("agent=1001@default") == [bob["id"]]
    assert ids("unassigned=true") == [soon["id"], late["id"]]
    assert ids("due_before=1900000000") == [bob["id"], soon["id"]]
    assert ids("status=pending&source=manual&per_page=1") == [bob["id"]]
    assert ids("status=done") == []
    for bad in ("status=finished", "source=fax", "due_before=soon", "unassigned=maybe",
                "customer_id=x"):
        reply = client.get(f"/api/callbacks?{bad}", headers=auth)
        assert reply.status_code == 400, bad


def test_patch_cancel_and_conflicts(client, auth):  # noqa: F811
    task = _create(client, auth, queue="support@default")
    url = f"/api/callbacks/{task['id']}"
    reply = client.patch(url, json={"agent": "1000@default", "notes": "after 18:00"}, headers=auth)
    assert reply.status_code == 200
    assert reply.get_json()["agent"] == "1000@default" and reply.get_json()["notes"] == "after 18:00"
    assert client.patch(url, json={"score": 5}, headers=auth).status_code == 422
    assert client.patch(url, json={"number": "abc"}, headers=auth).status_code == 422
    cancelled = client.post(f"{url}/cancel", json={"note": "duplicate"}, headers=auth)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["events"][-1]["data"] == {"note": "duplicate"}
    again = client.post(f"{url}/cancel", headers=auth)
    assert again.status_code == 409
    assert client.patch(url, json={"notes": "x"}, headers=auth).status_code == 409
    assert client.get("/api/callbacks/999", headers=auth).status_code == 404
    assert client.post("/api/callbacks/999/cancel", headers=auth).status_code == 404


def test_scopes_and_queue_restricted_tokens(client, auth):  # noqa: F811
    support = _create(client, auth, queue="support@default")
    sales = _create(client, auth, queue="sales@default")
    reader = bearer(["data:read"], name="reader")
    assert client.post("/api/callbacks", json={"number": "13900000001"}, headers=reader).status_code == 403
    scoped = bearer(["data:read", "data:write"], name="support-crm", queues=["support@default"])
    listed = client.get("/api/callbacks", headers=scoped).get_json()
    assert [t["id"] for t in listed["items"]] == [support["id"]]
    assert client.get(f"/api/callbacks/{sales['id']}", headers=scoped).status_code == 404
    refused = client.post("/api/callbacks", json={"number": "13900000001", "queue": "sales@default"},
                          headers=scoped)
    assert refused.status_code == 403
    moved = client.patch(f"/api/callbacks/{support['id']}", json={"queue": "sales@default"}, headers=scoped)
    assert moved.status_code == 403


def test_openapi_describes_the_routes(client):  # noqa: F811
    doc = client.get("/api/openapi.json").get_json()
    assert {"/api/callbacks", "/api/callbacks/{task_id}", "/api/callbacks/{task_id}/cancel"} <= set(doc["paths"])
    assert "CallbackTask" in doc["components"]["schemas"]
