"""A known caller rung straight to their last agent pops on that agent's desktop.

The simulator runs the middleware's mod_xml_curl dialplan: the sticky route
bridges the caller to the agent's phone with ``bridge`` (no mod_callcenter queue
involved), and the middleware follows the agent's leg by the ``cti_*`` variables
of the bridge dial string.  Runs on SQLite and PostgreSQL (``seeded_db``).
"""

from __future__ import annotations

from collections.abc import Callable

from cti_middleware.store.agents import add_agent
from tests.harness import Desktop
from tests.integration.conftest import AGENT_PASSWORD
from tests.integration.test_simulator_dialplan import (
    _available_for_the_middleware,
    _sticky,
)
from tests.integration.test_walking_skeleton import _stored_call

CALLER = "13600136000"  # 王五, last served by the sticky agent (see _sticky)


def _with_desktop(agent: str, setup: Callable[[], None]) -> Callable[[], None]:
    def both() -> None:
        setup()
        add_agent(agent, AGENT_PASSWORD, role="agent", name="Carol")

    return both


def test_sticky_call_pops_is_ended_and_recorded(xml_curl_switch, seeded_db):
    board = xml_curl_switch(_sticky("1001@default"))
    bob = Desktop(board.url, "1001@default", AGENT_PASSWORD)
    alice = Desktop(board.url, "1000@default", AGENT_PASSWORD)
    try:
        _available_for_the_middleware(board, "1000@default", "1001@default")
        call = board.call(CALLER)
        offered = bob.wait("screen.pop", lambda d: d["call_uuid"] == call and d["stage"] == "offered")
        assert offered["route"] == "sticky"
        assert offered["queue"] == "support@default"
        assert offered["agent"] == "1001@default"
        assert offered["caller"]["number"] == CALLER
        assert offered["customer"]["name"] == "王五"
        assert bob.wait("agent.state", lambda d: d.get("call_uuid") == call)["status"] == "Available"

        bridged = bob.wait("screen.pop", lambda d: d["call_uuid"] == call and d["stage"] == "bridged")
        assert bridged["route"] == "sticky" and bridged["answered_at"] is not None
        # a desktop that (re)connects mid-call gets the call popped again
        again = Desktop(board.url, "1001@default", AGENT_PASSWORD)
        try:
            repop = again.wait("screen.pop", lambda d: d["call_uuid"] == call)
            assert (repop["stage"], repop["route"]) == ("bridged", "sticky")
            assert repop["customer"]["name"] == "王五"
        finally:
            again.close()
        # the agent hangs up from the desktop: call control knows the direct call too
        hung_up = bob.call("call.hangup", {"uuid": call})
        assert hung_up["ok"] is True, hung_up

        ended = bob.wait("call.ended", lambda d: d["call_uuid"] == call)
        assert ended["cause"] == "Terminated"
        bob.wait("agent.state", lambda d: d.get("call_uuid") is None)
        assert not [d for e, d in alice.seen if e == "screen.pop" and d["call_uuid"] == call]
    finally:
        bob.close()
        alice.close()

    record = _stored_call(seeded_db, call)
    assert record is not None
    assert (record.agent, record.queue, record.caller_number) == (
        "1001@default", "support@default", CALLER)
    assert record.answered_at is not None and record.ended_at is not None
    assert record.answered_at <= record.ended_at
    assert record.abandoned is False and record.cc_cause == "Terminated"
    assert record.customer is not None and record.customer.name == "王五"


def test_no_answer_withdraws_the_pop_and_the_queue_offers_the_call(xml_curl_switch):
    board = xml_curl_switch(_with_desktop("1002@default", _sticky("1002@default")))  # never answers
    carol = Desktop(board.url, "1002@default", AGENT_PASSWORD)
    alice = Desktop(board.url, "1000@default", AGENT_PASSWORD)
    try:
        _available_for_the_middleware(board, "1000@default", "1002@default")
        call = board.call(CALLER)
        offered = carol.wait("screen.pop", lambda d: d["call_uuid"] == call)
        assert (offered["stage"], offered["route"]) == ("offered", "sticky")
        withdrawn = carol.wait("call.withdrawn", lambda d: d["call_uuid"] == call)
        assert withdrawn["reason"] == "no-answer"

        queued = alice.wait("screen.pop", lambda d: d["call_uuid"] == call)
        assert (queued["stage"], queued["route"]) == ("offered", "queue")
        assert queued["customer"]["name"] == "王五"
        assert not [d for e, d in carol.seen if e == "call.ended" and d["call_uuid"] == call]
    finally:
        carol.close()
        alice.close()
