"""Supervisor monitoring and break reasons end to end: Socket.IO -> middleware -> simulated switch.

Every step is checked on the switch itself (its events and channels), not only on the
acknowledgements: the supervisor's leg runs eavesdrop on the agent's leg, mode changes
are the eavesdrop menu's keys read on that leg, stopping hangs it up and leaves the
call, and a takeover picks the agent off and bridges the customer to the supervisor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import socketio

from cti_middleware.store import db as store_db
from cti_middleware.store.agents import add_agent
from tests.harness import Desktop, EslTestClient, start_middleware, start_simulator

PASSWORD = "s3cret-1000"
ALICE, SUE, VIP_SUE, NOT_SUPERVISED = "1000@default", "9000@default", "9001@default", "1002@default"
CALLER = ("originate {origination_caller_id_number=13800138000,origination_caller_id_name=Z}"
          "loopback/support/default &park()")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, EslTestClient, EslTestClient]]:
    """Middleware + simulator; Sue supervises every queue, the other only ``vip@default``."""
    url = f"sqlite:///{tmp_path / 'cti.sqlite'}"
    store_db.open_database(url)
    store_db.create_schema()
    add_agent(ALICE, PASSWORD, role="agent", name="Alice")
    add_agent(SUE, PASSWORD, role="supervisor", name="Sue")
    add_agent(VIP_SUE, PASSWORD, role="supervisor", name="Vic")
    store_db.close_database()
    sim, port = start_simulator(extra=["--time-scale", "0.25"], log_path=tmp_path / "sim.log")
    esl = EslTestClient(port)
    watcher = EslTestClient(port)
    mw = None
    try:
        # The scoped supervisor is a member of one queue, which is what scopes it.
        assert esl.api(f"callcenter_config agent add {VIP_SUE} callback").startswith("+OK")
        assert esl.api(f"callcenter_config tier add vip@default {VIP_SUE} 1 1").startswith("+OK")
        mw, base = start_middleware(port, url, log_path=tmp_path / "mw.log")
        mw.wait_for("resynced from FreeSWITCH")
        watcher.command("event plain CHANNEL_EXECUTE DTMF CHANNEL_BRIDGE CHANNEL_HANGUP")
        yield base, esl, watcher
    finally:
        watcher.close()
        esl.close()
        if mw is not None:
            mw.stop()
        sim.stop()


def _only_alice_available(esl: EslTestClient) -> None:
    for agent in ("1001@default", NOT_SUPERVISED):
        assert esl.api(f"callcenter_config agent set status {agent} 'Logged Out'").startswith("+OK")
    assert esl.api(f"callcenter_config agent set status {ALICE} Available").startswith("+OK")


def _bridged_call(esl: EslTestClient, alice: Desktop) -> tuple[str, str]:
    """(member leg, agent leg) of a call Alice is talking on."""
    _only_alice_available(esl)
    assert esl.api(CALLER).startswith("+OK ")
    call = alice.wait("screen.pop", lambda d: d["stage"] == "bridged")["call_uuid"]
    leg = esl.api(f"uuid_getvar {call} bridge_uuid").strip()
    assert leg and leg != "_undef_", leg
    return call, leg


def _channel(esl: EslTestClient, uuid: str) -> dict[str, str] | None:
    rows = json.loads(esl.api("show channels as json")).get("rows", [])
    return next((r for r in rows if r["uuid"] == uuid), None)


def _alice_state(sue: Desktop, **expected) -> dict:
    return sue.wait("agent.state", lambda d: d["agent"] == ALICE and all(
        d.get(k) == v for k, v in expected.items()))


def test_break_reason_is_in_every_agent_state_and_cleared_off_break(stack) -> None:
    base, esl, _watcher = stack
    alice = Desktop(base, ALICE, PASSWORD)
    sue = Desktop(base, SUE, PASSWORD, namespace="/supervisor")
    try:
        alice.wait("agent.state")
        assert alice.call("agent.not_ready", {"reason": "lunch"}) == {
            "ok": True, "status": "On Break", "reason": "lunch"}
        alice.wait("agent.state", lambda d: d["status"] == "On Break" and d["reason"] == "lunch")
        _alice_state(sue, status="On Break", reason="lunch")
        late = Desktop(base, SUE, PASSWORD, namespace="/supervisor")
        try:
            listed = late.wait("supervisor.agents")
            assert next(a for a in listed if a["agent"] == ALICE)["reason"] == "lunch"
            assert all(a["reason"] is None for a in listed if a["agent"] != ALICE)
        finally:
            late.close()
        again = Desktop(base, ALICE, PASSWORD)  # a desktop that reconnects sees it too
        try:
            assert again.wait("agent.state")["reason"] == "lunch"
        finally:
            again.close()
        assert alice.call("agent.not_ready", {"reason": "nap"})["error"] == "invalid_argument"

        # a supervisor's force ends the break: the reason goes with it
        assert sue.call("supervisor.force", {"agent": ALICE, "status": "Available"}) == {
            "ok": True, "status": "Available"}
        alice.wait("agent.state", lambda d: d["status"] == "Available" and d["reason"] is None)
        # a break set on the switch has no reason, not the stale one
        assert esl.api(f"callcenter_config agent set status {ALICE} 'On Break'").startswith("+OK")
        state = alice.wait("agent.state", lambda d: d["status"] == "On Break")
        assert state["reason"] is None

        assert alice.call("agent.not_ready", {"reason": "training"})["ok"] is True
        alice.wait("agent.state", lambda d: d["status"] == "On Break" and d["reason"] == "training")
        esl.api(f"callcenter_config agent set status {ALICE} Available")  # left on the switch
        alice.wait("agent.state", lambda d: d["status"] == "Available" and d["reason"] is None)
        esl.api(f"callcenter_config agent set status {ALICE} 'On Break'")
        assert alice.wait("agent.state", lambda d: d["status"] == "On Break")["reason"] is None

        assert sue.call("supervisor.force", {"agent": ALICE, "status": "On Break", "reason": "meeting"}) == {
            "ok": True, "status": "On Break", "reason": "meeting"}
        assert alice.call("agent.ready", {})["ok"] is True
        alice.wait("agent.state", lambda d: d["status"] == "Available" and d["reason"] is None)
    finally:
        alice.close()
        sue.close()


def test_listen_whisper_barge_stop_on_the_switch(stack) -> None:
    base, esl, watcher = stack
    alice = Desktop(base, ALICE, PASSWORD)
    sue = Desktop(base, SUE, PASSWORD, namespace="/supervisor")
    try:
        call, agent_leg = _bridged_call(esl, alice)
        _alice_state(sue, state="In a queue call")

        listen = sue.call("supervisor.listen", {"agent": ALICE})
        assert listen["ok"] is True and listen["mode"] == "listen", listen
        leg = listen["uuid"]
        execute = watcher.wait_event("CHANNEL_EXECUTE", leg)
        assert (execute["Application"], execute["Application-Data"]) == ("eavesdrop", agent_leg)
        assert execute["variable_eavesdrop_enable_dtmf"] == "true"
        assert "variable_eavesdrop_whisper_aleg" not in execute
        row = _channel(esl, leg)
        assert row is not None and (row["application"], row["application_data"]) == ("eavesdrop", agent_leg)
        assert esl.api(f"uuid_getvar {leg} last_sent_callee_id_number").strip() == "13800138000"

        for mode, key in (("whisper", "2"), ("barge", "3"), ("listen", "0")):
            ack = sue.call(f"supervisor.{mode}", {"agent": ALICE})
            assert ack == {"ok": True, "uuid": leg, "mode": mode}, ack
            assert watcher.wait_event("DTMF", leg)["DTMF-Digit"] == key
        assert _channel(esl, leg)["application"] == "eavesdrop"  # one session throughout
        # the tapped call never left its bridge
        assert esl.api(f"uuid_getvar {call} bridge_uuid").strip() == agent_leg

        assert sue.call("supervisor.stop", {"agent": ALICE}) == {"ok": True}
        assert watcher.wait_event("CHANNEL_HANGUP", leg)["Hangup-Cause"] == "NORMAL_CLEARING"
        assert esl.api(f"uuid_exists {leg}").strip() == "false"
        assert esl.api(f"uuid_exists {agent_leg}").strip() == "true"
        assert esl.api(f"uuid_exists {call}").strip() == "true"
        assert sue.call("supervisor.stop", {"agent": ALICE})["error"] == "illegal_state"
    finally:
        alice.close()
        sue.close()


def test_scopes_refuse_other_queues_agents_and_agents_on_supervisor(stack) -> None:
    base, esl, _watcher = stack
    vic = Desktop(base, VIP_SUE, PASSWORD, namespace="/supervisor")
    try:
        refused = vic.call("supervisor.listen", {"agent": NOT_SUPERVISED})
        assert refused["ok"] is False and refused["error"] == "forbidden", refused
        forced = vic.call("supervisor.force", {"agent": NOT_SUPERVISED, "status": "Available"})
        assert forced["error"] == "forbidden"
        status = esl.api(f"callcenter_config agent get status {NOT_SUPERVISED}")
        assert status.strip() != "Available"
        # an agent of its queue is within scope: refused only because there is no call
        assert vic.call("supervisor.listen", {"agent": ALICE})["error"] == "illegal_state"
    finally:
        vic.close()
    with pytest.raises(socketio.exceptions.ConnectionError, match="supervisor role required"):
        Desktop(base, ALICE, PASSWORD, namespace="/supervisor")


def test_takeover_moves_the_customer_to_the_supervisor(stack) -> None:
    base, esl, watcher = stack
    alice = Desktop(base, ALICE, PASSWORD)
    sue = Desktop(base, SUE, PASSWORD, namespace="/supervisor")
    try:
        call, agent_leg = _bridged_call(esl, alice)
        taken = sue.call("supervisor.takeover", {"agent": ALICE})
        assert taken["ok"] is True, taken
        leg = taken["uuid"]
        execute = watcher.wait_event("CHANNEL_EXECUTE", leg)
        assert (execute["Application"], execute["Application-Data"]) == ("intercept", call)
        assert watcher.wait_event("CHANNEL_HANGUP", agent_leg)["Hangup-Cause"] == "PICKED_OFF"
        bridge = watcher.wait_event("CHANNEL_BRIDGE", leg)
        assert (bridge["Bridge-A-Unique-ID"], bridge["Bridge-B-Unique-ID"]) == (leg, call)
        ended = alice.wait("call.ended", lambda d: d["call_uuid"] == call)
        assert ended["call_uuid"] == call
        alice.wait("agent.state", lambda d: d["call_uuid"] is None and d["state"] == "Waiting")
        assert esl.api(f"uuid_exists {agent_leg}").strip() == "false"
        assert esl.api(f"uuid_getvar {call} bridge_uuid").strip() == leg
        # the supervisor hangs up: the customer, bridged to it, goes too
        assert esl.api(f"uuid_kill {leg}") == "+OK\n"
        assert esl.api(f"uuid_exists {call}").strip() == "false"
    finally:
        alice.close()
        sue.close()


def test_the_tap_ends_with_the_call_and_the_next_listen_starts_a_new_one(stack) -> None:
    base, esl, watcher = stack
    alice = Desktop(base, ALICE, PASSWORD)
    sue = Desktop(base, SUE, PASSWORD, namespace="/supervisor")
    try:
        call, _agent_leg = _bridged_call(esl, alice)
        leg = sue.call("supervisor.listen", {"agent": ALICE})["uuid"]
        watcher.wait_event("CHANNEL_EXECUTE", leg)
        caller = esl.api(f"uuid_getvar {call} other_loopback_leg_uuid").strip()
        assert esl.api(f"uuid_kill {caller}") == "+OK\n"  # the customer hangs up
        assert watcher.wait_event("CHANNEL_HANGUP", leg)["Hangup-Cause"] == "NORMAL_CLEARING"
        alice.wait("agent.state", lambda d: d["call_uuid"] is None)

        _second, second_leg = _bridged_call(esl, alice)
        again = sue.call("supervisor.whisper", {"agent": ALICE})
        assert again["ok"] is True and again["uuid"] != leg, again
        execute = watcher.wait_event("CHANNEL_EXECUTE", again["uuid"])
        assert (execute["Application"], execute["Application-Data"]) == ("eavesdrop", second_leg)
        assert execute["variable_eavesdrop_whisper_bleg"] == "true"
    finally:
        alice.close()
        sue.close()


def test_listen_after_a_barge_switches_on_the_same_leg(stack) -> None:
    """Barge is eavesdrop with both whisper flags, so its key menu can still go back to listen."""
    base, esl, watcher = stack
    alice = Desktop(base, ALICE, PASSWORD)
    sue = Desktop(base, SUE, PASSWORD, namespace="/supervisor")
    try:
        _call, agent_leg = _bridged_call(esl, alice)
        barge = sue.call("supervisor.barge", {"agent": ALICE})
        assert watcher.wait_event("CHANNEL_EXECUTE", barge["uuid"])["Application"] == "eavesdrop"
        listen = sue.call("supervisor.listen", {"agent": ALICE})
        assert listen["ok"] is True and listen["uuid"] == barge["uuid"], listen
        assert watcher.wait_event("DTMF", barge["uuid"])["DTMF-Digit"] == "0"
        row = _channel(esl, listen["uuid"])
        assert row is not None and (row["application"], row["application_data"]) == ("eavesdrop", agent_leg)
    finally:
        alice.close()
        sue.close()
