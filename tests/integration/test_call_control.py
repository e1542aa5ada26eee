"""Call control over real Socket.IO, against the simulated switch."""

from __future__ import annotations

import pytest
import socketio

from cti_middleware.store import db as store_db
from cti_middleware.store.audit import recent_audit
from tests.harness import Desktop, EslTestClient
from tests.integration.conftest import AGENT_PASSWORD


def _status(esl: EslTestClient, agent: str, key: str = "status") -> str:
    return esl.api(f"callcenter_config agent get {key} {agent}").strip()


def _bridged_call_to_1000(esl: EslTestClient, desk: Desktop) -> str:
    """A caller in support@default answered by 1000 (the only agent available)."""
    for agent in ("1001@default", "1002@default"):
        assert esl.api(f"callcenter_config agent set status {agent} 'Logged Out'").startswith("+OK")
    assert esl.api("callcenter_config agent set status 1000@default Available").startswith("+OK")
    reply = esl.api("originate {origination_caller_id_number=13800138000,origination_caller_id_name=Z}"
                    "loopback/support/default &park()")
    assert reply.startswith("+OK "), reply
    bridged = desk.wait("screen.pop", lambda d: d["stage"] == "bridged")
    return bridged["call_uuid"]



def _audit_entries(db_url: str) -> list[dict]:
    store_db.open_database(db_url)
    try:
        return recent_audit(100)
    finally:
        store_db.close_database()


def test_status_round_trip_reaches_the_switch_and_the_desktop(middleware, esl):
    _proc, url = middleware
    desk = Desktop(url, "1000@default", AGENT_PASSWORD)
    try:
        desk.wait("session")
        ack = desk.call("agent.not_ready", {"reason": "lunch"})
        assert ack == {"ok": True, "status": "On Break", "reason": "lunch"}
        assert _status(esl, "1000@default") == "On Break"
        desk.wait("agent.state", lambda d: d["status"] == "On Break")

        assert desk.call("agent.not_ready", {"reason": "sleeping"})["error"] == "invalid_argument"

        assert desk.call("agent.logout") == {"ok": True, "status": "Logged Out"}
        assert _status(esl, "1000@default") == "Logged Out"
        desk.wait("agent.state", lambda d: d["status"] == "Logged Out")

        assert desk.call("agent.login")["ok"] is True
        assert _status(esl, "1000@default") == "Available"
        desk.wait("agent.state", lambda d: d["status"] == "Available")

        assert desk.call("agent.wrapup") == {"ok": True, "state": "Idle"}
        assert _status(esl, "1000@default", "state") == "Idle"
        desk.wait("agent.state", lambda d: d["state"] == "Idle")

        assert desk.call("agent.ready")["ok"] is True
        assert _status(esl, "1000@default", "state") == "Waiting"
        desk.wait("agent.state", lambda d: d["status"] == "Available" and d["state"] == "Waiting")
    finally:
        desk.close()


def test_own_call_hold_hangup_and_refusals(middleware, esl, simulator, seeded_db):
    _proc, url = middleware
    watcher = EslTestClient(simulator[1])
    alice = Desktop(url, "1000@default", AGENT_PASSWORD)
    bob = Desktop(url, "1001@default", AGENT_PASSWORD)
    try:
        watcher.command("event plain CHANNEL_HOLD CHANNEL_HANGUP")
        member = _bridged_call_to_1000(esl, alice)

        refused = bob.call("call.hangup", {"uuid": member})
        assert refused["ok"] is False and refused["error"] == "forbidden"

        # Each would end or disturb the call if any of it reached the switch.
        for action, uuid in (("call.hangup", f"{member} USER_BUSY"),
                             ("call.hangup", f"{member}\nhupall"),
                             ("call.hold", f"{member}&hupall")):
            ack = alice.call(action, {"uuid": uuid})
            assert ack["ok"] is False and ack["error"] == "invalid_argument", ack
        assert esl.api(f"uuid_exists {member}").strip() == "true"

        assert alice.call("call.hold", {"uuid": member}) == {"ok": True, "held": True}
        watcher.wait_event("CHANNEL_HOLD", member)

        # FreeSWITCH cannot take a loopback leg off hold: its -ERR reaches the desktop.
        failed = alice.call("call.unhold", {"uuid": member})
        assert failed["ok"] is False and failed["error"] == "switch_error"
        assert failed["message"].startswith("-ERR")

        assert alice.call("call.hangup", {"uuid": member})["ok"] is True
        watcher.wait_event("CHANNEL_HANGUP", member)
        alice.wait("call.ended", lambda d: d["call_uuid"] == member)
        assert alice.call("call.hold", {"uuid": member})["error"] == "not_found"
    finally:
        alice.close()
        bob.close()
        watcher.close()

    results = [(e["actor"], e["action"], e["result"].split(":")[0]) for e in reversed(_audit_entries(seeded_db))]
    assert results == [
        ("1001@default", "call.hangup", "forbidden"),
        ("1000@default", "call.hangup", "invalid_argument"),
        ("1000@default", "call.hangup", "invalid_argument"),
        ("1000@default", "call.hold", "invalid_argument"),
        ("1000@default", "call.hold", "ok"),
        ("1000@default", "call.unhold", "switch_error"),
        ("1000@default", "call.hangup", "ok"),
        ("1000@default", "call.hold", "not_found"),
    ]


def test_supervisor_forces_a_break_and_agents_cannot(middleware, esl):
    _proc, url = middleware
    sue = Desktop(url, "9000@default", AGENT_PASSWORD, namespace="/supervisor")
    alice = Desktop(url, "1000@default", AGENT_PASSWORD)
    try:
        assert esl.api("callcenter_config agent set status 1001@default Available").startswith("+OK")
        sue.wait("session")
        ack = sue.call("supervisor.force", {"agent": "1001@default", "status": "On Break"})
        assert ack == {"ok": True, "status": "On Break"}
        assert _status(esl, "1001@default") == "On Break"
        sue.wait("agent.state", lambda d: d["agent"] == "1001@default" and d["status"] == "On Break")

        assert sue.call("supervisor.force", {"agent": "1001@default", "status": "Gone\nhupall"})["error"] == \
            "invalid_argument"
        assert sue.call("supervisor.listen", {"agent": "1001@default"})["error"] == "illegal_state"

        # Supervisor events mean nothing on /agent, and agents cannot open /supervisor.
        assert alice.call("supervisor.force", {"agent": "1001@default", "status": "Available"}) is None
        assert _status(esl, "1001@default") == "On Break"
        with pytest.raises(socketio.exceptions.ConnectionError, match="supervisor role required"):
            Desktop(url, "1001@default", AGENT_PASSWORD, namespace="/supervisor")
    finally:
        sue.close()
        alice.close()


def test_transfer_dial_and_monitoring_reach_the_switch(middleware, esl):
    _proc, url = middleware
    alice = Desktop(url, "1000@default", AGENT_PASSWORD)
    sue = Desktop(url, "9000@default", AGENT_PASSWORD, namespace="/supervisor")
    try:
        member = _bridged_call_to_1000(esl, alice)
        listening = sue.call("supervisor.listen", {"agent": "1000@default"})
        assert listening["ok"] is True and listening["mode"] == "listen", listening
        assert esl.api(f"uuid_exists {listening['uuid']}").strip() == "true"
        assert sue.call("supervisor.stop", {"agent": "1000@default"}) == {"ok": True}
        assert esl.api(f"uuid_exists {listening['uuid']}").strip() == "false"
        assert sue.call("supervisor.stop", {"agent": "1000@default"})["error"] == "illegal_state"

        dialed = alice.call("call.dial", {"number": "13900001111"})
        assert dialed["ok"] is True, dialed
        assert esl.api(f"uuid_getvar {dialed['uuid']} cc_outbound_agent").strip() == "1000@default"

        moved = alice.call("call.transfer", {"uuid": member, "target": "support@default"})
        assert moved == {"ok": True, "extension": "support"}
    finally:
        alice.close()
        sue.close()
