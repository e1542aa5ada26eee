"""A caller the dialplan bridges straight to an agent (sticky route), outside mod_callcenter.

The events are the real ones of recording 13 (an all-SIP call): the caller's leg
as recorded, and the agent's leg as recorded but without the ``cc_*`` variables
mod_callcenter put on it and with the ``cti_*`` ones the sticky dialplan's bridge
dial string puts there instead; ``Other-Leg-Unique-ID`` is the caller, as on a
leg ``bridge`` originates.
"""

from __future__ import annotations

import pytest

from cti_middleware import events
from cti_middleware.events import parse_event
from cti_middleware.model import State
from cti_middleware.model import changes as C
from cti_middleware.model.snapshot import ChannelRow, Snapshot
from cti_middleware.store import routing
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.captures import apply, cc, header_dicts
from tests.unit.test_dialplan_support import routing_db, sip_dialplan_request  # noqa: F401

AGENT = "1003@default"
QUEUE = "support@default"
CC_VARS = ("variable_cc_side", "variable_cc_agent", "variable_cc_member_session_uuid",
           "variable_cc_queue", "variable_cc_agent_uuid")


def _recorded() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]], str, str]:
    """The caller's and the agent's channel events of recording 13, by event name."""
    caller: dict[str, dict[str, str]] = {}
    agent: dict[str, dict[str, str]] = {}
    for h in header_dicts("13", "plain"):
        name = h["Event-Name"]
        if not name.startswith("CHANNEL_"):
            continue
        side = agent if h.get("variable_cc_side") == "agent" else caller
        side.setdefault(name, h)
    return caller, agent, caller["CHANNEL_CREATE"]["Unique-ID"], agent["CHANNEL_CREATE"]["Unique-ID"]


CALLER, LEG, A, B = _recorded()


def caller(name: str, ts: int, **headers: str) -> dict[str, str]:
    h = {k: v for k, v in CALLER[name].items() if k not in CC_VARS}
    h["Event-Date-Timestamp"] = str(ts * 1_000_000)
    h.update(headers)
    return h


def leg(name: str, ts: int, route: str = "sticky", **headers: str) -> dict[str, str]:
    h = {k: v for k, v in LEG[name].items() if k not in CC_VARS}
    h.update({
        "Event-Date-Timestamp": str(ts * 1_000_000), "Other-Leg-Unique-ID": A,
        "variable_cti_agent": AGENT, "variable_cti_queue": QUEUE, "variable_cti_route": route,
        "variable_cti_call_uuid": A,
    })
    h.update(headers)
    return h


def of(changes: list, cls: type) -> list:
    return [c for c in changes if isinstance(c, cls)]


def ringing() -> tuple[State, list]:
    """Agent Available and Waiting; the caller in the dialplan; the agent's phone rings."""
    state = State()
    apply(state,
          cc("agent-status-change", 1, CC_Agent=AGENT, CC_Agent_Status="Available"),
          cc("agent-state-change", 1, CC_Agent=AGENT, CC_Agent_State="Waiting"),
          # the caller's own leg carries cti_agent too (set before the bridge): not a pop
          caller("CHANNEL_CREATE", 10, variable_cti_agent=AGENT, variable_cti_route="sticky"),
          caller("CHANNEL_ANSWER", 10, variable_cti_agent=AGENT, variable_cti_route="sticky"))
    return state, apply(state, leg("CHANNEL_CREATE", 12), leg("CHANNEL_PROGRESS", 12))


def test_the_agent_leg_is_offered_with_the_caller_and_the_queue() -> None:
    state, changes = ringing()
    [offer] = of(changes, C.CallOffered)
    assert (offer.agent, offer.queue, offer.member_uuid, offer.route) == (AGENT, QUEUE, A, "sticky")
    assert (offer.caller_number, offer.caller_name) == ("13800138000", "张三")
    assert offer.offered_at == 12.0
    [agent] = of(changes, C.AgentStateChanged)
    # mod_callcenter's status and state are untouched; the desktop's call is the caller
    assert (agent.status, agent.state, agent.call_uuid) == ("Available", "Waiting", A)
    assert state.channels[B].agent == AGENT


def test_bridge_hold_and_hangup_give_the_queue_call_changes() -> None:
    state, _ = ringing()
    answered = apply(state, leg("CHANNEL_ANSWER", 13))
    assert not of(answered, C.CallBridged)  # bridged only once the caller is connected
    bridged = apply(state, caller("CHANNEL_BRIDGE", 13, **{"Other-Leg-Unique-ID": B}))
    [bridge] = of(bridged, C.CallBridged)
    assert (bridge.agent, bridge.member_uuid, bridge.agent_uuid, bridge.route) == (AGENT, A, B, "sticky")
    assert bridge.queue == QUEUE and bridge.answered_at == 13.0
    [held] = of(apply(state, leg("CHANNEL_HOLD", 20)), C.ChannelHeld)
    assert (held.uuid, held.held, held.agent, held.member_uuid) == (B, True, AGENT, A)

    ended = apply(state, caller("CHANNEL_HANGUP", 30, **{"Hangup-Cause": "NORMAL_CLEARING"}))
    [end] = of(ended, C.CallEnded)
    assert (end.member_uuid, end.queue, end.agent, end.route) == (A, QUEUE, AGENT, "sticky")
    assert (end.joined_at, end.answered_at, end.ended_at) == (12.0, 13.0, 30.0)
    assert (end.cause, end.abandoned, end.hangup_cause) == ("Terminated", False, "NORMAL_CLEARING")
    assert state.agents[AGENT].call_uuid is None
    assert state.agents[AGENT].last_bridge_end == 30.0
    later = apply(state, leg("CHANNEL_HANGUP", 30), leg("CHANNEL_HANGUP_COMPLETE", 30),
                  caller("CHANNEL_HANGUP_COMPLETE", 30), leg("CHANNEL_DESTROY", 30),
                  caller("CHANNEL_DESTROY", 30))
    assert not of(later, C.CallEnded) and not of(later, C.OfferWithdrawn)
    assert not state.direct and not state.direct_calls


def test_the_agent_hanging_up_ends_the_call_while_the_caller_goes_on_to_the_survey() -> None:
    state, _ = ringing()
    apply(state, leg("CHANNEL_ANSWER", 13), caller("CHANNEL_BRIDGE", 13, **{"Other-Leg-Unique-ID": B}))
    [end] = of(apply(state, leg("CHANNEL_HANGUP", 40, **{"Hangup-Cause": "NORMAL_CLEARING"})),
               C.CallEnded)
    assert (end.agent, end.cause, end.ended_at) == (AGENT, "Terminated", 40.0)
    assert not of(apply(state, caller("CHANNEL_HANGUP", 50)), C.CallEnded)


def test_no_answer_withdraws_the_pop_and_the_queue_offer_follows() -> None:
    state, _ = ringing()
    timed_out = apply(state, leg("CHANNEL_HANGUP", 22, **{"Hangup-Cause": "ALLOTTED_TIMEOUT"}))
    [withdrawn] = of(timed_out, C.OfferWithdrawn)
    assert (withdrawn.agent, withdrawn.member_uuid, withdrawn.reason) == (AGENT, A, "no-answer")
    assert withdrawn.hangup_cause == "ALLOTTED_TIMEOUT"
    assert not of(timed_out, C.CallEnded)  # the caller lives on, into the queue
    assert state.agents[AGENT].call_uuid is None

    queued = apply(state,
                   cc("member-queue-start", 23, CC_Queue=QUEUE, CC_Member_Session_UUID=A,
                      CC_Member_CID_Number="13800138000", CC_Member_CID_Name="张三"),
                   cc("agent-offering", 23, CC_Agent="1000@default", CC_Queue=QUEUE,
                      CC_Member_Session_UUID=A, CC_Member_CID_Number="13800138000"))
    [offer] = of(queued, C.CallOffered)
    assert (offer.agent, offer.member_uuid, offer.route) == ("1000@default", A, "queue")


def test_the_phone_timing_out_by_itself_is_a_no_answer_too() -> None:
    state, _ = ringing()
    [withdrawn] = of(apply(state, leg("CHANNEL_HANGUP", 22, **{"Hangup-Cause": "NO_ANSWER"})),
                     C.OfferWithdrawn)
    assert withdrawn.reason == "no-answer"


def test_a_busy_phone_is_a_failed_offer() -> None:
    state, _ = ringing()
    [withdrawn] = of(apply(state, leg("CHANNEL_HANGUP", 22, **{"Hangup-Cause": "USER_BUSY"})),
                     C.OfferWithdrawn)
    assert (withdrawn.reason, withdrawn.hangup_cause) == ("failed", "USER_BUSY")


def test_caller_hanging_up_while_it_rings_is_an_abandoned_call() -> None:
    state, _ = ringing()
    changes = apply(state, caller("CHANNEL_HANGUP", 15, **{"Hangup-Cause": "NORMAL_CLEARING"}),
                    leg("CHANNEL_HANGUP", 15, **{"Hangup-Cause": "ORIGINATOR_CANCEL"}))
    [withdrawn] = of(changes, C.OfferWithdrawn)
    assert withdrawn.reason == "caller-left"
    [end] = of(changes, C.CallEnded)
    assert (end.agent, end.answered_at, end.abandoned, end.cause) == (None, None, True, "Cancel")
    assert end.route == "sticky" and end.queue == QUEUE


def test_mod_callcenter_saying_waiting_keeps_the_direct_call_on_the_desktop() -> None:
    state, _ = ringing()
    apply(state, leg("CHANNEL_ANSWER", 13), caller("CHANNEL_BRIDGE", 13, **{"Other-Leg-Unique-ID": B}))
    changes = apply(state, cc("agent-state-change", 14, CC_Agent=AGENT, CC_Agent_State="Waiting"),
                    cc("agent-state-change", 15, CC_Agent=AGENT, CC_Agent_State="Idle"))
    assert not of(changes, C.OfferWithdrawn)
    assert state.agents[AGENT].call_uuid == A


def _row(uuid: str, name: str) -> ChannelRow:
    return ChannelRow(uuid, name, "outbound", 12.0, "13800138000", "", "", "ACTIVE", None, None,
                      None)


def test_resync_keeps_a_live_direct_call_and_ends_a_vanished_one() -> None:
    state, _ = ringing()
    apply(state, leg("CHANNEL_ANSWER", 13), caller("CHANNEL_BRIDGE", 13, **{"Other-Leg-Unique-ID": B}))
    rows = [_row(A, CALLER["CHANNEL_CREATE"]["Channel-Name"]), _row(B, LEG["CHANNEL_CREATE"]["Channel-Name"])]
    assert not of(state.resync(Snapshot(20.0, channels=rows)), C.CallEnded)
    assert state.agents[AGENT].call_uuid == A
    [end] = of(state.resync(Snapshot(25.0, channels=[])), C.CallEnded)
    assert (end.member_uuid, end.agent, end.ended_at) == (A, AGENT, 25.0)
    assert state.agents[AGENT].call_uuid is None


def test_legs_that_are_not_direct_agent_legs_never_pop() -> None:
    state = State()
    no_caller = leg("CHANNEL_CREATE", 12)
    del no_caller["variable_cti_call_uuid"]
    own = leg("CHANNEL_CREATE", 12, **{"Unique-ID": A})  # the caller itself
    queue_leg = dict(LEG["CHANNEL_CREATE"], variable_cti_agent=AGENT, variable_cti_call_uuid=A)
    for h in (no_caller, own, queue_leg):
        s = State()
        assert not of(apply(s, h), C.CallOffered), h.get("Unique-ID")
    assert not state.direct


def test_the_recording_itself_is_unchanged_a_queue_call() -> None:
    state = State()
    changes = [c for h in header_dicts("13", "plain") for c in state.apply(parse_event(h))]
    assert {c.route for c in of(changes, C.CallOffered) + of(changes, C.CallEnded)} == {"queue"}
    assert not state.direct


def test_the_cti_variables_are_read_from_channel_events() -> None:
    event = parse_event(leg("CHANNEL_CREATE", 12))
    assert (event.cti_agent, event.cti_call_uuid, event.cti_queue, event.cti_route) == (
        AGENT, A, QUEUE, "sticky")
    assert "variable_cti_call_uuid" in events.fields_of("CHANNEL_CREATE")
    assert "variable_cti_agent" in events.fields_of("CHANNEL_BRIDGE")



@pytest.mark.usefixtures("routing_db")
def test_the_sticky_bridge_puts_the_cti_variables_in_one_variable_block() -> None:
    from tests.unit.test_dialplan_golden import _actions, _render
    from tests.unit.test_dialplan_support import KNOWN

    form = sip_dialplan_request(number=KNOWN, dest="queue", context="cti", cti_dnis="support")
    _, text = _render(form, available={"1000@default"})
    [dial] = [data for app, data in _actions(text) if app == "bridge"]
    leg_vars = ("cti_route=sticky,cti_agent=1000@default,cti_queue=support@default,"
                "cti_call_uuid=${uuid}")
    assert dial == "{" + leg_vars + "}[leg_timeout=10,null_auto_answer_delay=1000]null/agent1000"
    agent = routing.AgentConfig.get(routing.AgentConfig.agent_id == "1000@default")
    agent.contact = "{sip_h_X-Skill=1}user/1000"
    agent.save()
    _, text = _render(form, available={"1000@default"})
    [dial] = [data for app, data in _actions(text) if app == "bridge"]
    assert dial == "{" + leg_vars + ",sip_h_X-Skill=1}user/1000"
