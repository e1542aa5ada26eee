"""The simulator routes calls by the middleware's mod_xml_curl dialplan.

A real middleware (with the xml_curl secret and allow-list) and a real simulator
started with ``--xml-curl``; the routing rows are written before the middleware
starts, as an administrator would.  What the calls did is read from the switch's
own events on the event socket.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cti_middleware.store import routing
from cti_middleware.store.customers import add_customer, touch_last_agent
from tests.harness import Desktop
from tests.integration.conftest import AGENT_PASSWORD
from tests.integration.xml_curl_stack import (
    STRANGER,
    XmlCurlSwitch,
    agent_configs,
    hangup_of,
    queue_start_of,
)

BLOCKED = "13900139000"


def _base_routing() -> tuple[routing.Queue, routing.Queue]:
    support = routing.Queue.create(name="support@default", record_calls=False)
    vip = routing.Queue.create(name="vip@default", strategy="ring-all", record_calls=False)
    agent_configs()
    return support, vip


def _entry(dnis: str = "support", **fields) -> None:
    support, vip = _base_routing()
    values = {"dnis": dnis, "queue": support, "vip_queue": vip, "language_menu": False, "main_menu": False,
                  "sticky_agent": False, "survey": False, "voicemail_box": "support"}
    values.update(fields)
    routing.EntryPoint.create(**values)


def _blacklisted(mode: str) -> Callable[[], None]:
    def setup() -> None:
        _entry(blacklist_mode=mode)
        routing.BlacklistEntry.create(number=BLOCKED, reason="abuse")

    return setup


def test_blacklisted_caller_is_rejected_before_the_queue(xml_curl_switch):
    board = xml_curl_switch(_blacklisted("announce"))
    board.status("1000@default", "Available")
    b_leg = board.call(BLOCKED)  # the announcement answers: the originate succeeds
    events = board.events_until(hangup_of(b_leg))
    assert events[-1]["Hangup-Cause"] == "CALL_REJECTED"
    assert events[-1]["variable_cti_route"] == "blacklisted"
    assert not [e for e in events if e.get("CC-Action") == "member-queue-start"]
    answered = [e["Channel-Name"] for e in events if e["Event-Name"] == "CHANNEL_ANSWER"]
    assert answered == ["loopback/support-a", "loopback/support-b"]


def test_silently_rejected_caller_is_never_answered(xml_curl_switch):
    board = xml_curl_switch(_blacklisted("reject"))
    board.status("1000@default", "Available")
    reply = board.originate(BLOCKED)
    assert reply == "-ERR CALL_REJECTED\n"
    # Both legs went down before the reply; their events are already on the wire.
    events = board.events_until(lambda e: e.get("Event-Name") == "CHANNEL_HANGUP"
                                and e.get("Channel-Name") == "loopback/support-a")
    hangups = [e for e in events if e["Event-Name"] == "CHANNEL_HANGUP"]
    assert {e["Channel-Name"]: e["Hangup-Cause"] for e in hangups} == {
        "loopback/support-a": "CALL_REJECTED", "loopback/support-b": "CALL_REJECTED"}
    b_hangup = next(e for e in hangups if e["Channel-Name"] == "loopback/support-b")
    assert b_hangup["variable_cti_route"] == "blacklisted"
    assert b_hangup["Answer-State"] != "answered"
    assert not [e for e in events if e["Event-Name"] == "CHANNEL_ANSWER"]
    assert not [e for e in events if e.get("CC-Action") == "member-queue-start"]


def test_vip_customer_reaches_the_vip_queue_with_a_higher_score(xml_curl_switch):
    board = xml_curl_switch(lambda: _entry(vip_base_score=300))
    b_leg = board.call("13800138000")  # 张三, VIP in the seeded data
    start = board.events_until(queue_start_of(b_leg))[-1]
    assert start["CC-Queue"] == "vip@default"
    assert start["variable_cti_route"] == "vip"
    assert start["variable_cc_base_score"] == "300"
    members = board.esl.api("callcenter_config queue list members vip@default")
    assert "|300|" in members, members


def _available_for_the_middleware(board: XmlCurlSwitch, *agents: str) -> None:
    """Make agents Available and wait until the middleware's live state says so."""
    watcher = Desktop(board.url, "9000@default", AGENT_PASSWORD, namespace="/supervisor")
    try:
        for agent in agents:
            board.status(agent, "Available")
            watcher.wait("agent.state", lambda d, a=agent: d["agent"] == a and d["status"] == "Available")
    finally:
        watcher.close()


def _sticky(last_agent: str) -> Callable[[], None]:
    def setup() -> None:
        _entry(sticky_agent=True, sticky_timeout=10)
        customer = add_customer("王五", ["+8613600136000"])
        touch_last_agent(customer.id, last_agent)

    return setup


def test_sticky_agent_rings_the_last_agent_first(xml_curl_switch):
    board = xml_curl_switch(_sticky("1001@default"))
    _available_for_the_middleware(board, "1000@default", "1001@default")
    b_leg = board.call("13600136000")
    events = board.events_until(
        lambda e: e.get("Event-Name") == "CHANNEL_BRIDGE" and e.get("Unique-ID") == b_leg)
    created = [e["Channel-Name"] for e in events if e["Event-Name"] == "CHANNEL_CREATE"]
    assert created[-1] == "null/agent1001", created
    assert events[-1]["Other-Leg-Channel-Name"] == "null/agent1001"
    assert events[-1]["variable_cti_route"] == "sticky"
    assert not [e for e in events if e.get("CC-Action") == "member-queue-start"]


def test_sticky_agent_that_does_not_answer_falls_back_to_the_queue(xml_curl_switch):
    board = xml_curl_switch(_sticky("1002@default"))  # 1002's phone never answers
    _available_for_the_middleware(board, "1000@default", "1002@default")
    b_leg = board.call("13600136000")
    events = board.events_until(queue_start_of(b_leg))
    agent_legs = [e for e in events if e.get("Channel-Name") == "null/agent1002"]
    assert [e["Event-Name"] for e in agent_legs] == ["CHANNEL_CREATE", "CHANNEL_HANGUP"]
    assert agent_legs[-1]["Hangup-Cause"] == "NO_ANSWER"
    assert events[-1]["CC-Queue"] == "support@default"
    assert events[-1]["variable_cti_sticky_tried"] == "true"
    assert events[-1]["variable_originate_disposition"] == "NO_ANSWER"
    bridged = board.events_until(
        lambda e: e.get("Event-Name") == "CHANNEL_BRIDGE" and e.get("Unique-ID") == b_leg)
    assert bridged[-1]["Other-Leg-Channel-Name"] == "null/agent1000"


def test_after_hours_caller_gets_voicemail(xml_curl_switch):
    def setup() -> None:
        _entry(calendar="main")
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        routing.Holiday.create(calendar="main", day=today, name="test holiday")

    board = xml_curl_switch(setup)
    board.status("1000@default", "Available")
    b_leg = board.call(STRANGER)
    events = board.events_until(hangup_of(b_leg))
    hangup = events[-1]
    assert hangup["variable_cti_route"] == "after-hours"
    assert hangup["variable_voicemail_account"] == "support"
    assert "variable_voicemail_message_len" in hangup
    assert hangup["Hangup-Cause"] == "NORMAL_CLEARING"
    assert not [e for e in events if e.get("CC-Action") == "member-queue-start"]


@pytest.fixture
def ivr_board(xml_curl_switch) -> XmlCurlSwitch:
    board = xml_curl_switch(lambda: _entry(language_menu=True, main_menu=True, menu_tries=2,
                                       menu_timeout_ms=2000))
    board.status("1000@default", "Available")
    return board


def test_ivr_language_then_agent(ivr_board):
    b_leg = ivr_board.call(STRANGER, dtmf="20")  # 粤语, then 0: an agent
    start = ivr_board.events_until(queue_start_of(b_leg))[-1]
    assert start["CC-Queue"] == "support@default"
    assert start["variable_cti_lang"] == "yue"
    assert start["variable_cti_menu_choice"] == "0"
    assert "variable_sim_dtmf" not in start


def test_ivr_message_choice_records_voicemail(ivr_board):
    b_leg = ivr_board.call(STRANGER, dtmf="12")  # 普通话, then 2: leave a message
    events = ivr_board.events_until(hangup_of(b_leg))
    assert events[-1]["variable_cti_lang"] == "zh"
    assert events[-1]["variable_voicemail_account"] == "support"
    assert not [e for e in events if e.get("CC-Action") == "member-queue-start"]


def test_ivr_self_service_then_silence_reaches_an_agent(ivr_board):
    # 3: English; 1: self-service, back to the menu; then no key at all: after
    # every try the menu's failure branch (menu-9) hands the caller to a person.
    b_leg = ivr_board.call(STRANGER, dtmf="31")
    start = ivr_board.events_until(queue_start_of(b_leg))[-1]
    assert start["variable_cti_lang"] == "en"
    assert start["variable_read_result"] == "failure"
    assert start["variable_cti_route"] == "queue"


def _transfer_setup() -> None:
    support, _vip = _base_routing()
    routing.EntryPoint.create(dnis="hotline", queue=support, language_menu=False, main_menu=False,
                              sticky_agent=False, survey=False)


@pytest.mark.parametrize("target", ["1001@default", "support@default"])
def test_blind_transfer_lands_on_the_other_agent(xml_curl_switch, target):
    board = xml_curl_switch(_transfer_setup)
    alice = Desktop(board.url, "1000@default", AGENT_PASSWORD)
    bob = Desktop(board.url, "1001@default", AGENT_PASSWORD)
    try:
        board.status("1001@default", "Logged Out")
        board.status("1002@default", "Logged Out")
        board.status("1000@default", "Available")
        board.call("13800138000", dest="hotline")
        pop = alice.wait("screen.pop", lambda d: d["stage"] == "bridged")
        board.status("1001@default", "Available")
        board.status("1000@default", "On Break")
        moved = alice.call("call.transfer", {"uuid": pop["call_uuid"], "target": target})
        assert moved["ok"] is True, moved
        received = bob.wait("screen.pop", lambda d: d["call_uuid"] == pop["call_uuid"])
        assert received["agent"] == "1001@default"
        assert received["caller"]["number"] == "13800138000"
    finally:
        alice.close()
        bob.close()
