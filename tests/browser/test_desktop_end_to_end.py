"""The agent desktop against the real middleware and simulator: login, state, screen pop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cti_middleware.store import db as store_db
from cti_middleware.store.agents import add_agent
from cti_middleware.store.customers import add_customer
from tests.browser.runner import run_scenario
from tests.harness import EslTestClient, start_middleware, start_simulator


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, EslTestClient]]:
    url = f"sqlite:///{tmp_path / 'cti.sqlite'}"
    store_db.open_database(url)
    store_db.create_schema()
    add_agent("1000@default", "desk-pass", name="Alice")
    add_customer("张三", ["13800138000"], address="北京市朝阳区建国路88号", vip=True)
    store_db.close_database()
    sim, port = start_simulator(extra=["--time-scale", "0.25"], log_path=tmp_path / "sim.log")
    mw, base = start_middleware(port, url, log_path=tmp_path / "mw.log")
    esl = EslTestClient(port)
    try:
        mw.wait_for("resynced from FreeSWITCH")
        yield base + "/", esl
    finally:
        esl.close()
        mw.stop()
        sim.stop()


def test_agent_logs_in_and_sees_a_real_screen_pop(stack) -> None:
    url, esl = stack

    def on_sync(name: str) -> None:
        if name == "available":
            for other in ("1001@default", "1002@default"):
                esl.api(f"callcenter_config agent set status {other} 'Logged Out'")
            esl.api("callcenter_config agent set status 1000@default Available")
        elif name == "call":
            esl.api("originate {origination_caller_id_number=13800138000,origination_caller_id_name=张三}"
                    "loopback/support/default &park()")

    run_scenario(url, {"name": "e2e-pop", "lang": "en", "steps": [
        {"login": {"agent": "1000@default", "password": "desk-pass"}},
        {"visible": "#desktop-view"},
        {"text": {"selector": "#header-name", "equals": "Alice"}},
        {"sync": "available"},
        {"text": {"selector": "#state-status", "equals": "Available"}},
        {"sync": "call"},
        {"text": {"selector": "#pop-caller-number", "equals": "13800138000"}},
        {"text": {"selector": "#pop-customer-name", "equals": "张三"}},
        {"visible": "#pop-vip"},
        {"text": {"selector": "#pop-address", "equals": "北京市朝阳区建国路88号"}},
        {"attr": {"selector": "#pop-card", "name": "data-stage", "equals": "bridged"}},
        {"screenshot": "e2e-pop-bridged"},
    ]}, on_sync=on_sync)
