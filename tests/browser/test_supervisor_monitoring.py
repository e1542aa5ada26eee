"""The supervisor page against the real middleware and simulator: listen, whisper, barge, stop.

The supervisor's page first shows the agent's break reason while the break lasts. Then the
agent takes a real (simulated) queue call; the page must show the agent on that call, and
each click must leave the supervisor's leg on the switch in the app and mode it names:
eavesdrop on the agent's leg, then the eavesdrop menu's keys 2 (whisper) and 3 (three-way)
read on that leg, then the leg hung up with the call left alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cti_middleware.store import db as store_db
from cti_middleware.store.agents import add_agent
from tests.browser.runner import run_scenario
from tests.harness import Desktop, EslTestClient, start_middleware, start_simulator

ALICE, SUE, PASSWORD = "1000@default", "9000@default", "desk-pass"
ROW = f"#sup-agents tr[data-agent='{ALICE}']"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, EslTestClient, EslTestClient]]:
    url = f"sqlite:///{tmp_path / 'cti.sqlite'}"
    store_db.open_database(url)
    store_db.create_schema()
    add_agent(ALICE, PASSWORD, name="Alice")
    add_agent(SUE, PASSWORD, role="supervisor", name="Sue")
    store_db.close_database()
    sim, port = start_simulator(extra=["--time-scale", "0.25"], log_path=tmp_path / "sim.log")
    mw, base = start_middleware(port, url, log_path=tmp_path / "mw.log")
    esl, watcher = EslTestClient(port), EslTestClient(port)
    try:
        mw.wait_for("resynced from FreeSWITCH")
        watcher.command("event plain CHANNEL_EXECUTE DTMF CHANNEL_HANGUP")
        yield base, esl, watcher
    finally:
        watcher.close()
        esl.close()
        mw.stop()
        sim.stop()


def _channels(esl: EslTestClient) -> list[dict[str, str]]:
    return json.loads(esl.api("show channels as json")).get("rows", [])


def test_supervisor_listens_whispers_barges_and_stops(stack) -> None:
    base, esl, watcher = stack
    alice = Desktop(base, ALICE, PASSWORD)
    call: dict[str, str] = {}

    def on_sync(name: str) -> None:
        if name == "break":
            assert alice.call("agent.not_ready", {"reason": "lunch"})["ok"] is True
        elif name == "call":
            for other in ("1001@default", "1002@default"):
                esl.api(f"callcenter_config agent set status {other} 'Logged Out'")
            esl.api(f"callcenter_config agent set status {ALICE} Available")
            assert esl.api("originate {origination_caller_id_number=13800138000,origination_caller_id_name=Z}"
                           "loopback/support/default &park()").startswith("+OK ")
            member = alice.wait("screen.pop", lambda d: d["stage"] == "bridged")["call_uuid"]
            call.update(member=member, agent_leg=esl.api(f"uuid_getvar {member} bridge_uuid").strip())
        elif name == "listen":
            taps = [r for r in _channels(esl) if r["application"] == "eavesdrop"]
            assert [r["application_data"] for r in taps] == [call["agent_leg"]], taps
            call["leg"] = taps[0]["uuid"]
            execute = watcher.wait_event("CHANNEL_EXECUTE", call["leg"])
            assert execute["Application"] == "eavesdrop"
            assert "variable_eavesdrop_whisper_aleg" not in execute  # listening only
        elif name in ("whisper", "barge"):
            assert watcher.wait_event("DTMF", call["leg"])["DTMF-Digit"] == {"whisper": "2", "barge": "3"}[name]
            row = next(r for r in _channels(esl) if r["uuid"] == call["leg"])
            assert (row["application"], row["application_data"]) == ("eavesdrop", call["agent_leg"])
        elif name == "stopped":
            assert watcher.wait_event("CHANNEL_HANGUP", call["leg"])["Hangup-Cause"] == "NORMAL_CLEARING"
            assert esl.api(f"uuid_exists {call['leg']}").strip() == "false"
            assert esl.api(f"uuid_getvar {call['member']} bridge_uuid").strip() == call["agent_leg"]

    steps = [
        {"login": {"agent": SUE, "password": PASSWORD}},
        {"visible": "#supervisor-panel"},
        {"disabled": f"{ROW} [data-action=listen]"},
        {"sync": "break"},
        {"text": {"selector": f"{ROW} [data-testid=sup-reason]", "equals": "Lunch"}},
        {"screenshot": "supervisor-agent-on-lunch"},
        {"sync": "call"},
        {"text": {"selector": ROW, "contains": "In a call"}},
        {"count": {"selector": f"{ROW} [data-testid=sup-reason]", "equals": 0}},
        {"enabled": f"{ROW} [data-action=listen]"},
        {"disabled": f"{ROW} [data-action=stop]"},
        {"screenshot": "supervisor-call-listed"},
        {"click": f"{ROW} [data-action=listen]"},
        {"attr": {"selector": ROW, "name": "data-monitor", "equals": "listen"}},
        {"sync": "listen"},
        {"screenshot": "supervisor-listening"},
        {"click": f"{ROW} [data-action=whisper]"},
        {"attr": {"selector": ROW, "name": "data-monitor", "equals": "whisper"}},
        {"text": {"selector": f"{ROW} [data-testid=sup-monitor]", "equals": "Whispering"}},
        {"sync": "whisper"},
        {"screenshot": "supervisor-whispering"},
        {"click": f"{ROW} [data-action=barge]"},
        {"attr": {"selector": ROW, "name": "data-monitor", "equals": "barge"}},
        {"sync": "barge"},
        {"screenshot": "supervisor-barged"},
        {"click": f"{ROW} [data-action=stop]"},
        {"assert": f"document.querySelector(\"{ROW}\") && !document.querySelector(\"{ROW}\").dataset.monitor"},
        {"disabled": f"{ROW} [data-action=stop]"},
        {"sync": "stopped"},
        {"screenshot": "supervisor-stopped"},
    ]
    try:
        result = run_scenario(base + "/", {"name": "supervisor-monitoring", "lang": "en", "steps": steps},
                              on_sync=on_sync)
    finally:
        alice.close()
    assert len(result.screenshots) == 6
