"""The callbacks panel against the real middleware and simulator.

A CRM creates a callback task for agent 1000 over REST; it must appear in the agent's
panel without a reload. Dial must make the switch originate the agent's phone towards the
customer's number, the result form must record ``reached`` with a satisfaction score of 4,
and the finished task must leave the open list (and be stored so).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cti_middleware.esl.wire import parse_event_body
from cti_middleware.store import callbacks  # noqa: F401  (the tables join the schema)
from cti_middleware.store import db as store_db
from cti_middleware.store.agents import add_agent
from cti_middleware.store.customers import add_customer
from cti_middleware.store.tokens import create_token
from tests.browser.runner import run_scenario
from tests.harness import EslTestClient, start_middleware, start_simulator

AGENT, PASSWORD = "1000@default", "desk-pass"
NUMBER = "13900001111"
ITEM = "#cb-list li[data-testid=cb-item]"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], EslTestClient]]:
    url = f"sqlite:///{tmp_path / 'cti.sqlite'}"
    store_db.open_database(url)
    store_db.create_schema()
    add_agent(AGENT, PASSWORD, name="Alice")
    add_customer("李四", [NUMBER], address="上海市浦东新区")
    _, token = create_token("crm", ["data:read", "data:write"])
    store_db.close_database()
    sim, port = start_simulator(extra=["--time-scale", "0.25"], log_path=tmp_path / "sim.log")
    mw, base = start_middleware(port, url, log_path=tmp_path / "mw.log")
    watcher = EslTestClient(port)
    try:
        mw.wait_for("resynced from FreeSWITCH")
        watcher.command("event plain CHANNEL_CREATE")
        yield base, {"Authorization": f"Bearer {token}"}, watcher
    finally:
        watcher.close()
        mw.stop()
        sim.stop()


def _phone_rung(watcher: EslTestClient) -> dict[str, str]:
    """The next channel the switch creates on an agent's phone."""
    while True:
        frame = watcher.next_frame()
        if frame.content_type != "text/event-plain":
            continue
        event = parse_event_body(frame)
        if event.get("Event-Name") == "CHANNEL_CREATE" and event.get("Channel-Name", "").startswith("null/agent"):
            return event


def test_callback_task_is_dialled_and_closed_from_the_panel(stack) -> None:
    base, auth, watcher = stack
    task: dict = {}

    def on_sync(name: str) -> None:
        if name == "create":
            reply = requests.post(f"{base}/api/callbacks", headers=auth, timeout=10, json={
                "number": NUMBER, "queue": "support@default", "agent": AGENT, "reason": "asked for a quote"})
            assert reply.status_code == 201, reply.text
            task.update(reply.json())
        elif name == "dialled":
            created = _phone_rung(watcher)
            assert created["Channel-Name"] == "null/agent1000"
            assert created["variable_origination_caller_id_number"] == NUMBER
            assert created["variable_cc_outbound_agent"] == AGENT
            task["call"] = created["Unique-ID"]

    run_scenario(base + "/", {"name": "desktop-callbacks", "lang": "en", "steps": [
        {"login": {"agent": AGENT, "password": PASSWORD}},
        {"visible": "#cb-panel"},
        {"visible": "#cb-empty"},
        {"count": {"selector": ITEM, "equals": 0}},
        {"sync": "create"},
        {"count": {"selector": ITEM, "equals": 1}},
        {"attr": {"selector": ITEM, "name": "data-status", "equals": "pending"}},
        {"text": {"selector": f"{ITEM} [data-testid=cb-number]", "equals": NUMBER}},
        {"text": {"selector": f"{ITEM} [data-testid=cb-reason]", "contains": "asked for a quote"}},
        {"text": {"selector": ITEM, "contains": "李四"}},
        {"hidden": "#cb-empty"},
        {"screenshot": "desktop-callback-listed"},
        {"click": f"{ITEM} button[data-action=dial]"},
        {"sync": "dialled"},
        {"visible": "#cb-dialog"},
        {"attr": {"selector": ITEM, "name": "data-status", "equals": "in_progress"}},
        {"text": {"selector": "#cb-context", "equals": f"李四 {NUMBER}"}},
        {"select": {"selector": "#cb-result", "value": "no_answer"}},
        {"hidden": "#cb-score-row"},
        {"select": {"selector": "#cb-result", "value": "reached"}},
        {"visible": "#cb-score-row"},
        {"select": {"selector": "#cb-score", "value": "4"}},
        {"fill": {"selector": "#cb-notes", "value": "will order next week"}},
        {"screenshot": "desktop-callback-result"},
        {"click": "#cb-submit"},
        {"hidden": "#cb-dialog"},
        {"text": {"selector": "#status-line", "equals": "Record result: done"}},
        {"count": {"selector": ITEM, "equals": 0}},
        {"visible": "#cb-empty"},
    ]}, on_sync=on_sync)

    stored = requests.get(f"{base}/api/callbacks/{task['id']}", headers=auth, timeout=10).json()
    assert (stored["status"], stored["result"], stored["score"]) == ("done", "reached", 4)
    assert stored["attempts"] == 1 and stored["last_call_uuid"] == task["call"]
    assert stored["notes"] == "will order next week"
