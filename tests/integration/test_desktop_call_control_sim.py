"""Desktop call control end to end: Socket.IO -> middleware -> simulated switch -> pops.

The attended transfer is driven only through the desktop's actions: ``call.consult``
starts att_xfer on the agent's leg, ``call.consult_complete`` presses its ``*`` key
with ``uuid_recv_dtmf``; the colleague's desktop must then get the call's pop with
what the first agent attached to it.
"""

from __future__ import annotations

from tests.harness import Desktop, EslTestClient
from tests.integration.conftest import AGENT_PASSWORD

ALICE, BOB = "1000@default", "1001@default"


def _only_alice_available(esl: EslTestClient) -> None:
    for agent in (BOB, "1002@default"):
        assert esl.api(f"callcenter_config agent set status {agent} 'Logged Out'").startswith("+OK")
    assert esl.api(f"callcenter_config agent set status {ALICE} Available").startswith("+OK")


def _call_in(esl: EslTestClient) -> None:
    reply = esl.api("originate {origination_caller_id_number=13800138000,origination_caller_id_name=Z}"
                    "loopback/support/default &park()")
    assert reply.startswith("+OK "), reply



def test_consult_then_complete_pops_the_call_on_the_colleagues_desktop(middleware, esl, simulator):
    _proc, url = middleware
    watcher = EslTestClient(simulator[1])
    alice = Desktop(url, ALICE, AGENT_PASSWORD)
    bob = Desktop(url, BOB, AGENT_PASSWORD)
    try:
        watcher.command("event plain CHANNEL_BRIDGE CHANNEL_UNBRIDGE")
        _only_alice_available(esl)
        _call_in(esl)
        offered = alice.wait("screen.pop", lambda d: d["stage"] == "offered")
        call = offered["call_uuid"]
        alice.wait("screen.pop", lambda d: d["stage"] == "bridged" and d["call_uuid"] == call)
        assert offered["customer"]["name"] == "张三"

        attached = alice.call("call.attach_data", {"uuid": call, "notes": "wants a refund"})
        assert attached == {"ok": True, "call_uuid": call}

        assert alice.call("call.consult", {"uuid": call, "target": BOB}) == {"ok": True}
        # The consultation is up once the agent leg is bridged to the colleague's leg.
        consulting = watcher.wait_event("CHANNEL_BRIDGE", _agent_leg(esl, call))
        assert consulting["Bridge-B-Unique-ID"] != call

        assert alice.call("call.consult_complete", {"uuid": call}) == {"ok": True}
        pop = bob.wait("screen.pop", lambda d: d["call_uuid"] == call)
        assert pop["agent"] == BOB
        assert pop["transferred_from"] == ALICE
        assert pop["customer"]["name"] == offered["customer"]["name"]
        assert pop["customer"]["id"] == offered["customer"]["id"]
        assert pop["attached"]["notes"] == "wants a refund"
        assert esl.api(f"uuid_exists {call}").strip() == "true"
    finally:
        alice.close()
        bob.close()
        watcher.close()


def _agent_leg(esl: EslTestClient, member: str) -> str:
    leg = esl.api(f"uuid_getvar {member} bridge_uuid").strip()
    assert leg and leg != "_undef_", leg
    return leg


def test_consult_cancel_keeps_the_caller_with_the_agent(middleware, esl, simulator):
    _proc, url = middleware
    watcher = EslTestClient(simulator[1])
    alice = Desktop(url, ALICE, AGENT_PASSWORD)
    try:
        watcher.command("event plain CHANNEL_BRIDGE CHANNEL_HANGUP")
        _only_alice_available(esl)
        _call_in(esl)
        call = alice.wait("screen.pop", lambda d: d["stage"] == "bridged")["call_uuid"]
        leg = _agent_leg(esl, call)
        assert alice.call("call.consult", {"uuid": call, "target": BOB}) == {"ok": True}
        colleague = watcher.wait_event("CHANNEL_BRIDGE", leg)["Bridge-B-Unique-ID"]

        assert alice.call("call.consult_cancel", {"uuid": call}) == {"ok": True}
        watcher.wait_event("CHANNEL_HANGUP", colleague)
        assert esl.api(f"uuid_exists {colleague}").strip() == "false"
        assert esl.api(f"uuid_exists {leg}").strip() == "true"
        assert esl.api(f"uuid_getvar {call} bridge_uuid").strip() == leg
    finally:
        alice.close()
        watcher.close()


def test_answer_and_dtmf_are_accepted_by_the_switch(middleware, esl):
    _proc, url = middleware
    alice = Desktop(url, ALICE, AGENT_PASSWORD)
    try:
        _only_alice_available(esl)
        _call_in(esl)
        call = alice.wait("screen.pop", lambda d: d["stage"] == "offered")["call_uuid"]
        answered = alice.call("call.answer", {"uuid": call})
        assert answered == {"ok": True}, answered
        alice.wait("screen.pop", lambda d: d["stage"] == "bridged" and d["call_uuid"] == call)
        assert alice.call("call.dtmf", {"uuid": call, "digits": "12#"}) == {"ok": True}
        assert alice.call("call.dtmf", {"uuid": call, "digits": "1; hupall"})["error"] == "invalid_argument"
    finally:
        alice.close()


def test_the_switch_answers_these_commands_as_freeswitch_does(esl):
    missing = "00000000-0000-0000-0000-000000000000"
    assert esl.api(f"uuid_phone_event {missing} talk") == "-ERR Operation Failed\n"
    assert esl.api(f"uuid_send_dtmf {missing} 1") == "-ERR Cannot locate session!\n"
    assert esl.api(f"uuid_recv_dtmf {missing} 1") == "-ERR Cannot locate session!\n"
    assert esl.api("uuid_send_dtmf").startswith("-USAGE: <uuid> <dtmf_data>")
    reply = esl.api("originate null/x &park()")
    assert reply.startswith("+OK "), reply
    leg = reply.split()[1]
    assert esl.api(f"uuid_phone_event {leg} hold") == "+OK Success\n"
    assert esl.api(f"uuid_send_dtmf {leg} 123") == ""
    assert esl.api(f"uuid_recv_dtmf {leg} #") == ""
