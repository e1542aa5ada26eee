"""The supervisor page takes a call over, and shows work orders that pass their deadline.

Two browsers run side by side: Alice's desktop, talking on a real (simulated) queue call,
and Sue's supervisor page. Sue clicks Take over, cancels the confirmation once, then
confirms: the switch must ring Sue's phone into ``intercept`` of the customer's leg, cut
Alice's leg off (PICKED_OFF) and bridge the customer to Sue's leg, and Alice's page must
show the call ended. A complaint whose SLA runs out while Sue watches must then appear in
her overdue list with its department and deadline, and go away when dismissed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cti_middleware.esl.wire import parse_event_body
from cti_middleware.store import db as store_db
from cti_middleware.store import dispatch
from cti_middleware.store.agents import add_agent
from cti_middleware.store.customers import add_customer
from cti_middleware.store.workorders import add_work_order
from tests.browser.runner import run_scenario
from tests.harness import Desktop, EslTestClient, start_middleware, start_simulator

ALICE, SUE, PASSWORD = "1000@default", "9000@default", "desk-pass"
ROW = f"#sup-agents tr[data-agent='{ALICE}']"
OVERDUE = "#sup-overdue li[data-testid=sup-overdue-item]"
CALLER = ("originate {origination_caller_id_number=13800138000,origination_caller_id_name=Z}"
          "loopback/support/default &park()")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, str, EslTestClient, EslTestClient]]:
    url = f"sqlite:///{tmp_path / 'cti.sqlite'}"
    store_db.open_database(url)
    store_db.create_schema()
    add_agent(ALICE, PASSWORD, name="Alice")
    add_agent(SUE, PASSWORD, role="supervisor", name="Sue")
    add_customer("张三", ["13800138000"], address="北京市朝阳区建国路88号")
    team = dispatch.add_department("北京投诉组", members=[ALICE])
    dispatch.add_rule(team.id, type="complaint")
    dispatch.set_sla("complaint", 1, 1)  # a complaint is overdue one second after it is made
    store_db.close_database()
    sim, port = start_simulator(extra=["--time-scale", "0.25"], log_path=tmp_path / "sim.log")
    mw, base = start_middleware(port, url, log_path=tmp_path / "mw.log",
                                extra_env={"CTI_SLA_CHECK_INTERVAL": "0.5"})
    esl, watcher = EslTestClient(port), EslTestClient(port)
    try:
        mw.wait_for("resynced from FreeSWITCH")
        watcher.command("event plain CHANNEL_EXECUTE CHANNEL_HANGUP CHANNEL_BRIDGE")
        yield base, url, esl, watcher
    finally:
        watcher.close()
        esl.close()
        mw.stop()
        sim.stop()


def _takeover_events(watcher: EslTestClient, member: str, agent_leg: str) -> dict[str, dict[str, str]]:
    """The switch's side of a takeover, in whatever order it reports it: a new leg running
    ``intercept`` of the customer's leg, the agent's leg hung up, the new leg bridged."""
    seen: dict[str, dict[str, str]] = {}
    while len(seen) < 3:
        frame = watcher.next_frame()
        if frame.content_type != "text/event-plain":
            continue
        event = parse_event_body(frame)
        name = event.get("Event-Name")
        if name == "CHANNEL_EXECUTE" and event.get("Application") == "intercept":
            seen["intercept"] = event
        elif name == "CHANNEL_HANGUP" and event.get("Unique-ID") == agent_leg:
            seen["hangup"] = event
        elif name == "CHANNEL_BRIDGE" and event.get("Bridge-B-Unique-ID") == member:
            seen["bridge"] = event
    return seen


class AgentPage(threading.Thread):
    """Alice's desktop in its own browser, run beside the supervisor's scenario."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.ready = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            run_scenario(self.base + "/", {"name": "takeover-agent", "lang": "en", "timeout": 30000, "steps": [
                {"login": {"agent": ALICE, "password": PASSWORD}},
                {"visible": "#desktop-view"},
                {"sync": "alice-ready"},
                {"attr": {"selector": "#pop-card", "name": "data-stage", "equals": "bridged"}},
                {"text": {"selector": "#pop-customer-name", "equals": "张三"}},
                {"attr": {"selector": "#pop-card", "name": "data-stage", "equals": "ended"}, "timeout": 60000},
                {"text": {"selector": "#pop-stage", "equals": "Ended"}},
                {"screenshot": "takeover-agent-call-ended"},
            ]}, on_sync=lambda _name: self.ready.set(), timeout=150)
        except pytest.fail.Exception as exc:  # the scenario's failure, handed to the test
            self.failure = exc
        finally:
            self.ready.set()  # never leave the supervisor's scenario waiting


def test_supervisor_takes_the_call_over_and_sees_overdue_orders(stack) -> None:
    base, db_url, esl, watcher = stack
    agent_page = AgentPage(base)
    agent_page.start()
    alice = Desktop(base, ALICE, PASSWORD)  # reads the call's legs for the switch-side checks
    call: dict[str, str] = {}

    def on_sync(name: str) -> None:
        if name == "call":
            assert agent_page.ready.wait(60) and agent_page.is_alive(), agent_page.failure
            for other in ("1001@default", "1002@default"):
                esl.api(f"callcenter_config agent set status {other} 'Logged Out'")
            esl.api(f"callcenter_config agent set status {ALICE} Available")
            assert esl.api(CALLER).startswith("+OK ")
            member = alice.wait("screen.pop", lambda d: d["stage"] == "bridged", timeout=30)["call_uuid"]
            agent_leg = esl.api(f"uuid_getvar {member} bridge_uuid").strip()
            assert agent_leg and agent_leg != "_undef_", agent_leg
            call.update(member=member, agent_leg=agent_leg)
        elif name == "cancelled":
            # Cancelling the confirmation leaves the call alone.
            assert esl.api(f"uuid_getvar {call['member']} bridge_uuid").strip() == call["agent_leg"]
        elif name == "taken":
            seen = _takeover_events(watcher, call["member"], call["agent_leg"])
            leg = seen["intercept"]["Unique-ID"]
            assert seen["intercept"]["Application-Data"] == call["member"]
            assert seen["hangup"]["Hangup-Cause"] == "PICKED_OFF"
            assert (seen["bridge"]["Bridge-A-Unique-ID"], seen["bridge"]["Bridge-B-Unique-ID"]) == \
                (leg, call["member"])
            assert esl.api(f"uuid_getvar {call['member']} bridge_uuid").strip() == leg
            assert esl.api(f"uuid_exists {call['agent_leg']}").strip() == "false"
            call["leg"] = leg
        elif name == "overdue":
            store_db.open_database(db_url)
            try:
                order = add_work_order("complaint", "快递员态度差")
                dispatch.dispatch_order(order.id)
                call["order"] = str(order.id)
            finally:
                store_db.close_database()

    steps = [
        {"login": {"agent": SUE, "password": PASSWORD}},
        {"visible": "#supervisor-panel"},
        {"visible": "#sup-overdue-empty"},
        {"count": {"selector": OVERDUE, "equals": 0}},
        {"disabled": f"{ROW} [data-action=takeover]"},
        {"sync": "call"},
        {"text": {"selector": ROW, "contains": "In a call"}},
        {"enabled": f"{ROW} [data-action=takeover]"},
        {"click": f"{ROW} [data-action=takeover]"},
        {"visible": "#takeover-dialog"},
        {"text": {"selector": "#takeover-agent", "equals": ALICE}},
        {"click": "#takeover-cancel"},
        {"hidden": "#takeover-dialog"},
        {"sync": "cancelled"},
        {"click": f"{ROW} [data-action=takeover]"},
        {"visible": "#takeover-dialog"},
        {"screenshot": "takeover-confirm"},
        {"click": "#takeover-confirm"},
        {"hidden": "#takeover-dialog"},
        {"text": {"selector": "#status-line", "equals": "Take over: done"}},
        {"sync": "taken"},
        {"disabled": f"{ROW} [data-action=takeover]", "timeout": 20000},
        {"screenshot": "takeover-done"},
        {"sync": "overdue"},
        {"count": {"selector": OVERDUE, "equals": 1}, "timeout": 20000},
        {"text": {"selector": f"{OVERDUE} [data-testid=sup-overdue-summary]", "equals": "快递员态度差"}},
        {"text": {"selector": f"{OVERDUE} [data-testid=sup-overdue-department]", "equals": "北京投诉组"}},
        {"text": {"selector": f"{OVERDUE} [data-testid=sup-overdue-due]", "regex": r"^due \d{4}-\d\d-\d\d \d\d:\d\d$"}},
        {"hidden": "#sup-overdue-empty"},
        {"screenshot": "supervisor-overdue-alert"},
        {"click": f"{OVERDUE} button[data-action=dismiss]"},
        {"count": {"selector": OVERDUE, "equals": 0}},
        {"visible": "#sup-overdue-empty"},
    ]
    try:
        result = run_scenario(base + "/", {"name": "supervisor-takeover", "lang": "en", "timeout": 20000,
                                           "steps": steps}, on_sync=on_sync, timeout=150)
        agent_page.join(90)
        assert not agent_page.is_alive(), "the agent's page never finished"
        if agent_page.failure is not None:
            raise agent_page.failure
    finally:
        alice.close()
    assert len(result.screenshots) == 3
    assert call["order"] and call["leg"]
    # The supervisor hangs up: the customer, bridged to that leg, goes too.
    assert esl.api(f"uuid_kill {call['leg']}") == "+OK\n"
    assert esl.api(f"uuid_exists {call['member']}").strip() == "false"
