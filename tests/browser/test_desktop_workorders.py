"""The agent desktop's work orders against the real middleware and simulator: from a
screen pop the agent raises a complaint, finds it in "My work orders", moves it along
the workflow, and blocks the caller after confirming."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cti_middleware.store import db as store_db
from cti_middleware.store import dispatch
from cti_middleware.store.agents import add_agent
from cti_middleware.store.audit import recent_audit
from cti_middleware.store.customers import add_customer
from cti_middleware.store.models import WorkOrder
from cti_middleware.store.routing import BlacklistEntry
from cti_middleware.store.workflow import order_fields
from tests.browser.runner import run_scenario
from tests.harness import EslTestClient, start_middleware, start_simulator

AGENT = "1000@default"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, EslTestClient, str]]:
    url = f"sqlite:///{tmp_path / 'cti.sqlite'}"
    store_db.open_database(url)
    store_db.create_schema()
    add_agent(AGENT, "desk-pass", name="Alice")
    add_customer("张三", ["13800138000"], address="北京市朝阳区建国路88号", vip=True)
    team = dispatch.add_department("北京投诉组", members=[AGENT])
    dispatch.add_rule(team.id, region="北京市", type="complaint")
    store_db.close_database()
    sim, port = start_simulator(extra=["--time-scale", "0.25"], log_path=tmp_path / "sim.log")
    mw, base = start_middleware(port, url, log_path=tmp_path / "mw.log")
    esl = EslTestClient(port)
    try:
        mw.wait_for("resynced from FreeSWITCH")
        yield base + "/", esl, url
    finally:
        esl.close()
        mw.stop()
        sim.stop()


def test_complaint_from_the_pop_and_block_the_caller(stack) -> None:
    page_url, esl, db_url = stack

    def on_sync(name: str) -> None:
        if name == "available":
            for other in ("1001@default", "1002@default"):
                esl.api(f"callcenter_config agent set status {other} 'Logged Out'")
            esl.api(f"callcenter_config agent set status {AGENT} Available")
        elif name == "call":
            esl.api("originate {origination_caller_id_number=13800138000,origination_caller_id_name=张三}"
                    "loopback/support/default &park()")

    item = "#wo-list li[data-testid=wo-item]"
    run_scenario(page_url, {"name": "desktop-workorders", "lang": "en", "steps": [
        {"login": {"agent": AGENT, "password": "desk-pass"}},
        {"visible": "#desktop-view"},
        {"visible": "#wo-empty"},
        {"disabled": "#btn-new-order"},
        {"sync": "available"},
        {"text": {"selector": "#state-status", "equals": "Available"}},
        {"sync": "call"},
        {"text": {"selector": "#pop-customer-name", "equals": "张三"}},
        {"enabled": "#btn-new-order"},
        {"click": "#btn-new-order"},
        {"visible": "#wo-dialog"},
        {"text": {"selector": "#wo-context", "contains": "张三"}},
        {"visible": "#wo-complaint"},
        {"hidden": "#wo-appointment"},
        {"select": {"selector": "#wo-type", "value": "appointment"}},
        {"visible": "#wo-appointment"},
        {"value": {"selector": "#wo-address", "equals": "北京市朝阳区建国路88号"}},
        {"select": {"selector": "#wo-type", "value": "complaint"}},
        {"click": "#wo-submit"},
        {"text": {"selector": "#wo-error", "equals": "Please enter a summary"}},
        {"fill": {"selector": "#wo-summary", "value": "快递员态度差"}},
        {"select": {"selector": "#wo-severity", "value": "high"}},
        {"fill": {"selector": "#wo-against", "value": "快递员 王五"}},
        {"click": "#wo-submit"},
        {"hidden": "#wo-dialog"},
        {"count": {"selector": item, "equals": 1}},
        {"attr": {"selector": item, "name": "data-status", "equals": "assigned"}},
        {"text": {"selector": f"{item} .summary", "equals": "快递员态度差"}},
        {"text": {"selector": f"{item} [data-testid=wo-status]", "equals": "Assigned"}},
        {"text": {"selector": f"{item} .row-side", "contains": "due "}},
        {"count": {"selector": f"{item} [data-testid=wo-overdue]", "equals": 0}},
        {"screenshot": "desktop-workorders-list"},
        {"click": f"{item} button[data-to=in_progress]"},
        {"attr": {"selector": item, "name": "data-status", "equals": "in_progress"}},
        {"click": "#btn-block-caller"},
        {"visible": "#block-dialog"},
        {"text": {"selector": "#block-number", "equals": "13800138000"}},
        {"click": "#block-cancel"},
        {"hidden": "#block-dialog"},
        {"click": "#btn-block-caller"},
        {"fill": {"selector": "#block-reason", "value": "骚扰电话"}},
        {"screenshot": "desktop-block-confirm"},
        {"click": "#block-confirm"},
        {"attr": {"selector": "#pop-card", "name": "data-blocked", "equals": "true"}},
        {"text": {"selector": "#status-line", "contains": "Block caller: done"}},
    ]}, on_sync=on_sync)

    store_db.open_database(db_url)
    try:
        order = WorkOrder.get()
        assert (order.type, order.status, order.agent) == ("complaint", "in_progress", AGENT)
        assert order.customer.name == "张三" and order.call_uuid
        assert order_fields(order.id) == {"severity": "high", "against": "快递员 王五"}
        entry = BlacklistEntry.get(BlacklistEntry.number == "13800138000")
        assert entry.added_by == AGENT and entry.reason == "骚扰电话"
        blocked = [a for a in recent_audit(actor=AGENT) if a["action"] == "blacklist.add"]
        assert len(blocked) == 1 and blocked[0]["result"] == "ok"
        assert blocked[0]["arguments"]["number"] == "13800138000"
    finally:
        store_db.close_database()
