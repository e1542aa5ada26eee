"""REST API for the routing tables: CRUD, errors, pagination, audit, provisioning hook."""

from __future__ import annotations

import pytest
from flask import Flask

from cti_middleware.api import api_bp
from cti_middleware.store import recent_audit
from cti_middleware.store.routing import AgentConfig, Tier
from cti_middleware.store.tokens import create_token
from tests.store_fixtures import db, db_url  # noqa: F401

ALL = ["data:read", "data:write"]


class FakeProvisioner:
    def __init__(self) -> None:
        self.requests: list[str] = []

    def request(self, reason: str) -> None:
        self.requests.append(reason)

    def status(self) -> dict:
        return {"enabled": True, "requests": len(self.requests)}


class FakeRuntime:
    def __init__(self) -> None:
        self.provisioner = FakeProvisioner()


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def client(db, runtime):  # noqa: F811
    app = Flask(__name__)
    app.config.update(TESTING=True)
    app.register_blueprint(api_bp)
    app.extensions["cti_runtime"] = runtime
    return app.test_client()


def bearer(scopes=None, name="ops") -> dict[str, str]:
    _, plain = create_token(name, scopes or ALL)
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def auth(db):  # noqa: F811
    return bearer()


def _queue(client, auth, name="support@default", **extra):
    r = client.post("/api/queues", headers=auth, json={"name": name, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _agent(client, auth, agent_id="1000@default", **extra):
    body = {"agent_id": agent_id, "contact": "user/1000@default", **extra}
    r = client.post("/api/agent-configs", headers=auth, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_queue_crud_covers_every_model_field(client, auth, runtime):
    q = _queue(client, auth, strategy="ring-all", max_wait_time=120, tier_rules_apply=True,
               timeout_action="callback", announce_sound="ivr/wait.wav", announce_frequency=30)
    assert q["strategy"] == "ring-all" and q["max_wait_time"] == 120
    assert q["tier_rules_apply"] is True and q["timeout_action"] == "callback"
    assert {"moh_sound", "record_calls", "discard_abandoned_after", "created_at"} <= set(q)
    r = client.patch(f"/api/queues/{q['id']}", headers=auth, json={"max_wait_time": 60})
    assert r.status_code == 200 and r.get_json()["max_wait_time"] == 60
    assert client.get(f"/api/queues/{q['id']}", headers=auth).get_json()["max_wait_time"] == 60
    assert client.delete(f"/api/queues/{q['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/queues/{q['id']}", headers=auth).status_code == 404
    assert runtime.provisioner.requests == ["api", "api", "api"]


def test_errors_404_409_422_and_unknown_fields(client, auth):
    _queue(client, auth)
    r = client.post("/api/queues", headers=auth, json={"name": "support@default"})
    assert r.status_code == 409 and r.get_json()["error"] == "conflict"
    for bad in ({"name": "no spaces@x y"}, {"name": "a@b", "strategy": "loudest"},
                {"name": "a@b", "max_wait_time": -1}, {"name": "a@b", "max_wait_time": "5"},
                {"name": "a@b", "strategy": None}, {"name": "a@b", "colour": "red"}, {}):
        r = client.post("/api/queues", headers=auth, json=bad)
        assert r.status_code == 422, (bad, r.get_json())
        assert r.get_json()["error"] == "validation" and r.get_json()["message"]
    assert client.patch("/api/queues/999", headers=auth, json={}).status_code == 404
    assert client.delete("/api/agent-configs/999", headers=auth).status_code == 404
    r = client.post("/api/queues", headers=auth, data="nope", content_type="application/json")
    assert r.status_code == 400


def test_scopes_are_enforced(client, db):  # noqa: F811
    read_only = bearer(["data:read"], name="reader")
    assert client.get("/api/queues", headers=read_only).status_code == 200
    r = client.post("/api/queues", headers=read_only, json={"name": "a@b"})
    assert r.status_code == 403
    assert client.get("/api/tiers").status_code == 401


def test_agent_config_hides_the_phone_secret_and_validates_contact(client, auth):
    a = _agent(client, auth, wrap_up_time=7, phone_user="1000", phone_password="correct horse")
    assert a["wrap_up_time"] == 7 and a["phone_password_set"] is True
    assert "phone_a1_hash" not in a and "phone_password" not in a
    assert len(AgentConfig.get(AgentConfig.agent_id == "1000@default").phone_a1_hash) == 32
    r = client.patch(f"/api/agent-configs/{a['id']}", headers=auth,
                     json={"contact": "user/1000 &echo"})
    assert r.status_code == 422
    r = client.post("/api/agent-configs", headers=auth, json={"agent_id": "1001@default"})
    assert r.status_code == 422 and "contact" in r.get_json()["message"]
    entries = recent_audit(limit=5)
    assert entries[0]["actor"] == "token:ops" and entries[0]["action"] == "agent_config.create"
    assert "correct horse" not in str(entries)


def test_tiers_reference_queue_and_agent_by_name(client, auth):
    _queue(client, auth)
    agent = _agent(client, auth)
    r = client.post("/api/tiers", headers=auth,
                    json={"queue": "support@default", "agent": "1000@default", "level": 2})
    assert r.status_code == 201
    tier = r.get_json()
    assert tier["queue"] == "support@default" and tier["agent"] == "1000@default"
    assert tier["level"] == 2 and tier["position"] == 1
    dup = client.post("/api/tiers", headers=auth,
                      json={"queue": "support@default", "agent": "1000@default"})
    assert dup.status_code == 409
    r = client.post("/api/tiers", headers=auth, json={"queue": "nope@x", "agent": "1000@default"})
    assert r.status_code == 422 and "nope@x" in r.get_json()["message"]
    listed = client.get("/api/tiers?queue=support@default", headers=auth).get_json()
    assert listed["total"] == 1
    assert client.get("/api/tiers?agent=other@x", headers=auth).get_json()["total"] == 0
    # deleting the agent takes its tiers with it
    assert client.delete(f"/api/agent-configs/{agent['id']}", headers=auth).status_code == 204
    assert Tier.select().count() == 0


def test_lists_are_paginated_and_ordered(client, auth):
    for n in range(5):
        _queue(client, auth, name=f"q{4 - n}@default")
    page = client.get("/api/queues?per_page=2&page=2", headers=auth).get_json()
    assert page["total"] == 5 and page["page"] == 2
    assert [q["name"] for q in page["items"]] == ["q2@default", "q3@default"]
    assert client.get("/api/queues?per_page=0", headers=auth).status_code == 400


def test_calendars_and_entry_points(client, auth, runtime):
    _queue(client, auth)
    r = client.post("/api/business-hours", headers=auth,
                    json={"calendar": "main", "weekday": 0, "opens": "09:00", "closes": "18:00"})
    assert r.status_code == 201
    r = client.post("/api/business-hours", headers=auth,
                    json={"calendar": "main", "weekday": 0, "opens": "18:00", "closes": "09:00"})
    assert r.status_code == 422
    r = client.post("/api/holidays", headers=auth,
                    json={"calendar": "main", "day": "2026-10-01", "name": "National Day"})
    assert r.status_code == 201 and r.get_json()["day"] == "2026-10-01"
    assert client.post("/api/holidays", headers=auth,
                       json={"calendar": "main", "day": "2026-10-01"}).status_code == 409
    assert client.post("/api/holidays", headers=auth,
                       json={"calendar": "main", "day": "1 Oct"}).status_code == 422
    assert client.get("/api/holidays?calendar=main", headers=auth).get_json()["total"] == 1
    r = client.post("/api/entry-points", headers=auth,
                    json={"dnis": "4001", "queue": "support@default", "calendar": "main"})
    assert r.status_code == 201
    entry = r.get_json()
    assert entry["queue"] == "support@default" and entry["vip_queue"] is None
    r = client.patch(f"/api/entry-points/{entry['id']}", headers=auth,
                     json={"vip_queue": "support@default", "timezone": "Mars/Base"})
    assert r.status_code == 422
    # a queue still routed to is not deleted from under the entry point
    queue_id = client.get("/api/queues", headers=auth).get_json()["items"][0]["id"]
    assert client.delete(f"/api/queues/{queue_id}", headers=auth).status_code == 409
    # calendars and entry points do not concern mod_callcenter
    assert runtime.provisioner.requests == ["api"]


def test_provisioning_status_and_sync(client, auth, runtime):
    assert client.get("/api/provisioning", headers=auth).get_json()["enabled"] is True
    r = client.post("/api/provisioning/sync", headers=auth)
    assert r.status_code == 202 and runtime.provisioner.requests == ["manual"]


def test_provisioning_off_is_reported(db, auth):  # noqa: F811
    app = Flask(__name__)
    app.register_blueprint(api_bp)
    client = app.test_client()
    assert client.get("/api/provisioning", headers=auth).get_json() == {"enabled": False}
    assert client.post("/api/provisioning/sync", headers=auth).status_code == 409
