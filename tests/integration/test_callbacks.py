"""Callback tasks end to end: REST -> push -> list -> preview dial through the
simulated switch -> results with a retry -> refusals, all audited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cti_middleware.store import callbacks  # noqa: F401  (the tables join the seeded schema)
from cti_middleware.store import db as store_db
from cti_middleware.store.audit import recent_audit
from cti_middleware.store.tokens import create_token
from tests.harness import Desktop, EslTestClient, Proc, start_middleware
from tests.integration.conftest import AGENT_PASSWORD

NUMBER = "13900001111"
RETRY_DELAY = 2  # seconds, so the test sees the retry fall due


@pytest.fixture
def middleware(simulator: tuple[Proc, int], seeded_db: str, tmp_path: Path) -> Iterator[tuple[Proc, str]]:
    """The middleware with a short retry delay and a fast due-check."""
    proc, url = start_middleware(simulator[1], seeded_db, log_path=tmp_path / "middleware.log",
                                 extra_env={"CTI_CALLBACK_RETRY_DELAYS": str(RETRY_DELAY),
                                            "CTI_CALLBACK_MAX_ATTEMPTS": "3",
                                            "CTI_CALLBACK_DUE_POLL": "0.2"})
    try:
        proc.wait_for(r"resynced from FreeSWITCH")
        yield proc, url
    finally:
        proc.stop()


def _token(db_url: str) -> dict[str, str]:
    store_db.open_database(db_url)
    try:
        _, plain = create_token("crm", ["data:read", "data:write"])
    finally:
        store_db.close_database()
    return {"Authorization": f"Bearer {plain}"}


def _audit(db_url: str) -> list[dict]:
    store_db.open_database(db_url)
    try:
        return recent_audit(200)
    finally:
        store_db.close_database()


def _create(url: str, auth: dict[str, str], **fields) -> dict:
    reply = requests.post(f"{url}/api/callbacks", json=fields, headers=auth, timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


@pytest.mark.usefixtures("seeded_db")
def test_preview_dial_retry_and_result(middleware, simulator, seeded_db):
    _proc, url = middleware
    auth = _token(seeded_db)
    watcher = EslTestClient(simulator[1])
    alice = Desktop(url, "1000@default", AGENT_PASSWORD)
    try:
        watcher.command("event plain CHANNEL_CREATE")
        alice.wait("session")
        alice.wait("agent.stats")  # connected and in its queues' rooms
        assert alice.call("callback.list") == {"ok": True, "tasks": []}

        task = _create(url, auth, number=NUMBER, queue="support@default", reason="asked for a quote")
        pushed = alice.wait("callback.assigned", lambda d: d["id"] == task["id"])
        assert pushed["number"] == NUMBER and pushed["status"] == "pending"
        bobs = _create(url, auth, number="13900002222", queue="support@default", agent="1001@default")
        listed = alice.call("callback.list")
        assert [t["id"] for t in listed["tasks"]] == [task["id"]]

        dialed = alice.call("callback.dial", {"id": task["id"]})
        assert dialed["ok"] is True, dialed
        assert dialed["task"]["status"] == "in_progress" and dialed["task"]["attempts"] == 1
        assert dialed["task"]["agent"] == "1000@default"
        assert dialed["task"]["last_call_uuid"] == dialed["uuid"]
        # The switch rang the agent's phone first, then sends that leg to the number.
        created = watcher.wait_event("CHANNEL_CREATE", dialed["uuid"])
        assert created["Channel-Name"] == "null/agent1000"
        assert created["variable_origination_caller_id_number"] == NUMBER
        assert created["variable_cc_outbound_agent"] == "1000@default"
        assert watcher.api(f"uuid_getvar {dialed['uuid']} current_application_data").strip() == \
            f"{NUMBER} XML default"
        again = alice.call("callback.dial", {"id": task["id"]})
        assert again["ok"] is False and again["error"] == "illegal_state"

        before = time.time()
        retry = alice.call("callback.result", {"id": task["id"], "result": "no_answer"})
        assert retry["ok"] is True, retry
        assert retry["task"]["status"] == "pending" and retry["task"]["result"] == "no_answer"
        assert retry["task"]["next_attempt_at"] >= before + RETRY_DELAY - 0.5
        assert retry["task"]["due"] is False and retry["task"]["max_attempts"] == 3
        # When the retry falls due the desktop is told again.
        due = alice.wait("callback.assigned", lambda d: d["id"] == task["id"] and d["due"])
        assert due["agent"] == "1000@default" and due["attempts"] == 1

        assert alice.call("callback.dial", {"id": task["id"]})["ok"] is True
        done = alice.call("callback.result", {"id": task["id"], "result": "reached", "score": 4,
                                              "notes": "will order next week"})
        assert done["ok"] is True, done
        assert (done["task"]["status"], done["task"]["score"], done["task"]["attempts"]) == ("done", 4, 2)
        assert alice.call("callback.list")["tasks"] == []

        # Refusals: someone else's task, bad values, unknown ids.
        for data, code in (
            ({"id": bobs["id"]}, "forbidden"),
            ({"id": 999999}, "not_found"),
            ({"id": "1; hupall"}, "invalid_argument"),
            ("not an object", "invalid_argument"),
        ):
            ack = alice.call("callback.dial", data)
            assert ack["ok"] is False and ack["error"] == code, (data, ack)
        third = _create(url, auth, number="13900003333", queue="support@default")
        assert alice.call("callback.dial", {"id": third["id"]})["ok"] is True
        for data, code in (
            ({"id": third["id"], "result": "busy"}, "invalid_argument"),
            ({"id": third["id"], "result": "reached", "score": 7}, "invalid_argument"),
            ({"id": bobs["id"], "result": "reached"}, "forbidden"),
            ({"id": 999999, "result": "reached"}, "not_found"),
        ):
            ack = alice.call("callback.result", data)
            assert ack["ok"] is False and ack["error"] == code, (data, ack)
        state = requests.get(f"{url}/api/callbacks/{third['id']}", headers=auth, timeout=10).json()
        assert state["status"] == "in_progress" and state["score"] is None
        bob_state = requests.get(f"{url}/api/callbacks/{bobs['id']}", headers=auth, timeout=10).json()
        assert bob_state["status"] == "pending" and bob_state["attempts"] == 0

        entries = _audit(seeded_db)
        mine = [(e["action"], e["target"], e["result"]) for e in entries if e["actor"] == "1000@default"]
        assert ("callback.dial", f"callback:{bobs['id']}", "forbidden: not your callback task") in mine
        assert ("callback.result", f"callback:{task['id']}", "ok") in mine
        assert any(a == "call.dial" and t == NUMBER and r == "ok" for a, t, r in mine)
    finally:
        alice.close()
        watcher.close()
