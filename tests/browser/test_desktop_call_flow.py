"""A call handled from the desktop page, against the real middleware and simulator.

Agent 1000 signs in with the page's own button, takes a queue call, holds it and
hands it to agent 1001 by consulting and completing (att_xfer).  A plain blind
transfer to ``1001@default`` cannot be shown here: the reference dialplan has no
extension that rings an agent's phone, so ``uuid_transfer ... -bleg 1001`` parks
the caller.  Agent 1001 is a Socket.IO client of its own, and must get the pop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cti_middleware.esl.wire import parse_event_body
from cti_middleware.store import db as store_db
from cti_middleware.store.agents import add_agent
from cti_middleware.store.customers import add_customer
from tests.browser.runner import run_scenario
from tests.harness import Desktop, EslTestClient, start_middleware, start_simulator

PASSWORD = "desk-pass"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, int, EslTestClient]]:
    url = f"sqlite:///{tmp_path / 'cti.sqlite'}"
    store_db.open_database(url)
    store_db.create_schema()
    add_agent("1000@default", PASSWORD, name="Alice")
    add_agent("1001@default", PASSWORD, name="Bob")
    add_customer("张三", ["13800138000"], address="北京市朝阳区建国路88号", vip=True)
    store_db.close_database()
    sim, port = start_simulator(extra=["--time-scale", "0.25"], log_path=tmp_path / "sim.log")
    mw, base = start_middleware(port, url, log_path=tmp_path / "mw.log")
    esl = EslTestClient(port)
    try:
        mw.wait_for("resynced from FreeSWITCH")
        yield base, port, esl
    finally:
        esl.close()
        mw.stop()
        sim.stop()


def _consultation_bridge(watcher: EslTestClient) -> dict[str, str]:
    """The consultation is up once the agent's own leg (not the caller's loopback
    leg, which the queue bridge is reported on) is bridged: only then do att_xfer's
    keys mean anything."""
    while True:
        frame = watcher.next_frame()
        if frame.content_type != "text/event-plain":
            continue
        headers = parse_event_body(frame)
        if headers.get("Event-Name") == "CHANNEL_BRIDGE" and not headers["Channel-Name"].startswith("loopback/"):
            return headers


def test_agent_holds_and_hands_the_call_to_a_colleague(stack) -> None:
    base, port, esl = stack
    watcher = EslTestClient(port)
    bob = Desktop(base, "1001@default", PASSWORD)
    seen: dict[str, dict] = {}
    try:
        watcher.command("event plain CHANNEL_BRIDGE")

        def on_sync(name: str) -> None:
            if name == "signed-in":
                for other in ("1001@default", "1002@default"):
                    esl.api(f"callcenter_config agent set status {other} 'Logged Out'")
            elif name == "call":
                esl.api("originate {origination_caller_id_number=13800138000,origination_caller_id_name=张三}"
                        "loopback/support/default &park()")
            elif name == "consulting":
                seen["bridge"] = _consultation_bridge(watcher)
            elif name == "handed-over":
                seen["pop"] = bob.wait("screen.pop", lambda d: d["agent"] == "1001@default", timeout=20)

        run_scenario(base + "/", {"name": "call-flow", "lang": "en", "steps": [
            {"login": {"agent": "1000@default", "password": PASSWORD}},
            {"visible": "#desktop-view"},
            {"sync": "signed-in"},
            {"click": "#btn-login"},
            {"text": {"selector": "#state-status", "equals": "Available"}},
            {"sync": "call"},
            {"attr": {"selector": "#pop-card", "name": "data-stage", "equals": "bridged"}},
            {"text": {"selector": "#pop-customer-name", "equals": "张三"}},
            {"attr": {"selector": "#call-panel", "name": "data-phase", "equals": "bridged"}},
            {"click": "#btn-hold"},
            {"attr": {"selector": "#call-panel", "name": "data-phase", "equals": "held"}},
            {"screenshot": "call-flow-held"},
            {"click": "#btn-consult"},
            {"fill": {"selector": "#transfer-target", "value": "1001@default"}},
            {"click": "#transfer-confirm"},
            {"attr": {"selector": "#call-panel", "name": "data-phase", "equals": "consulting"}},
            {"sync": "consulting"},
            {"screenshot": "call-flow-consulting"},
            {"click": "#btn-consult-complete"},
            {"sync": "handed-over"},
            {"attr": {"selector": "#call-panel", "name": "data-phase", "equals": "none"}},
            {"screenshot": "call-flow-handed-over"},
        ]}, on_sync=on_sync)
    finally:
        bob.close()
        watcher.close()

    pop = seen["pop"]
    assert pop["transferred_from"] == "1000@default"
    assert pop["caller"]["number"] == "13800138000"
    assert pop["customer"]["name"] == "张三"
    assert pop["stage"] == "bridged"
