"""Every recorded scenario replayed through wire -> events -> State, in plain and json."""

from __future__ import annotations

import itertools

import pytest

from cti_middleware.model import State
from cti_middleware.model import changes as C
from cti_middleware.model.snapshot import Snapshot, parse_agent_list

from .captures import api_replies, of_type, replay, scenarios_with_events, typed_events

FORMATS = ("plain", "json")


def status(state: State, agent: str) -> tuple:
    a = state.agents[agent]
    return (a.status, a.state, a.call_uuid)


def changes_for(changes: list, agent: str) -> list[tuple]:
    return [(c.status, c.state, c.call_uuid) for c in of_type(changes, C.AgentStateChanged)
            if c.agent == agent]


@pytest.mark.parametrize("scenario", scenarios_with_events())
def test_plain_and_json_give_identical_state_and_changes(scenario: str) -> None:
    plain_state, plain = replay(scenario, "plain")
    json_state, json = replay(scenario, "json")
    assert plain == json
    assert plain_state.agents == json_state.agents
    assert plain_state.members == json_state.members
    assert plain_state.channels == json_state.channels
    assert plain_state.queues == json_state.queues


@pytest.mark.parametrize("fmt", FORMATS)
def test_03_answered_call(fmt: str) -> None:
    state, changes = replay("03", fmt)
    member = "70d7031c-5381-4191-a61b-c289f13fc69c"
    # 1000 and 1001 both Available: longest-idle chose 1001, and only 1001 was offered.
    [offer] = of_type(changes, C.CallOffered)
    assert (offer.agent, offer.member_uuid, offer.caller_name) == ("1001@default", member, "张三")
    assert offer.joined_at == 1795457125.310692 and offer.offered_at == 1795457125.330676
    [bridged] = of_type(changes, C.CallBridged)
    assert bridged.agent_uuid == "907231bc-e280-4158-a436-53e18d87d60e"
    held = of_type(changes, C.ChannelHeld)
    assert [(h.uuid, h.held, h.agent, h.member_uuid) for h in held] == [
        ("907231bc-e280-4158-a436-53e18d87d60e", True, "1001@default", member),
        (member, True, "1001@default", member),
    ]
    [ended] = of_type(changes, C.CallEnded)
    assert ended == C.CallEnded(
        member, "support@default", "13800138000", "张三", "1001@default", 1795457125.310692,
        1795457126.350747, 1795457135.410716, "Terminated", False, "NORMAL_CLEARING",
    )
    assert changes_for(changes, "1001@default")[-6:-1] == [
        ("Available", "Receiving", None),
        ("Available", "Receiving", member),
        ("Available", "In a queue call", member),
        ("Available", "In a queue call", None),
        ("Available", "Waiting", None),  # wrap-up is never announced
    ]
    assert not state.members and not state.channels
    assert state.agents["1001@default"].last_bridge_end == 1795457135.410716


@pytest.mark.parametrize("fmt", FORMATS)
def test_04_abandoned(fmt: str) -> None:
    _, changes = replay("04", fmt)
    [ended] = of_type(changes, C.CallEnded)
    assert (ended.abandoned, ended.cause, ended.cancel_reason, ended.agent) == (
        True, "Cancel", "BREAK_OUT", None)
    assert ended.answered_at is None and ended.ended_at - ended.joined_at == pytest.approx(3.02, abs=0.01)
    counts = [(c.waiting, c.members) for c in of_type(changes, C.QueueCountChanged)]
    assert counts == [(1, 1), (0, 0)]
    assert not of_type(changes, C.CallOffered)


@pytest.mark.parametrize("fmt", FORMATS)
def test_05_no_answer_puts_agent_on_break(fmt: str) -> None:
    _, changes = replay("05", fmt)
    [limit] = of_type(changes, C.AgentNoAnswerLimitReached)
    assert limit.agent == "1002@default"
    [withdrawn] = of_type(changes, C.OfferWithdrawn)
    assert (withdrawn.reason, withdrawn.hangup_cause) == ("failed", "ALLOTTED_TIMEOUT")
    assert ("On Break", "Waiting", None) in changes_for(changes, "1002@default")
    [ended] = of_type(changes, C.CallEnded)
    assert ended.abandoned


def test_05_agent_on_break_before_the_final_logout() -> None:
    state, _ = replay("05", "plain")
    # The recording ends by logging everyone out; stop before that to see On Break.
    events = typed_events("05", "plain")
    partial = State()
    for e in events:
        partial.apply(e)
        if type(e).__name__ == "MemberQueueEnd":
            break
    assert status(partial, "1002@default") == ("On Break", "Waiting", None)
    assert status(state, "1002@default") == ("Logged Out", "Waiting", None)


@pytest.mark.parametrize("fmt", FORMATS)
def test_06_ring_all_has_one_winner(fmt: str) -> None:
    _, changes = replay("06", fmt)
    assert sorted(o.agent for o in of_type(changes, C.CallOffered)) == [
        "1000@default", "1001@default"]
    [bridged] = of_type(changes, C.CallBridged)
    assert bridged.agent == "1000@default"
    [loser] = of_type(changes, C.OfferWithdrawn)
    assert (loser.agent, loser.reason) == ("1001@default", "taken")
    mine = changes_for(changes, "1001@default")
    offered = mine.index(("Available", "Receiving", "e9a804cf-7ecf-4319-af22-e2d365c6a3f2"))
    assert mine[offered + 1] == ("Available", "Waiting", None)
    # The loser's null leg lingered until hupall, yet never made 1001 busy.
    assert all(c.call_uuid is None for c in of_type(changes, C.AgentStateChanged)
               if c.agent == "1001@default" and c.state == "Waiting")
    [ended] = of_type(changes, C.CallEnded)
    assert (ended.agent, ended.abandoned) == ("1000@default", False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_07_agent_hangs_up_first(fmt: str) -> None:
    _, changes = replay("07", fmt)
    [ended] = of_type(changes, C.CallEnded)
    assert (ended.agent, ended.cause, ended.abandoned, ended.caller_number) == (
        "1001@default", "Terminated", False, "+8613800138000")


@pytest.mark.parametrize("fmt", FORMATS)
def test_08_blind_transfer_is_followed(fmt: str) -> None:
    _, changes = replay("08", fmt)
    [followed] = of_type(changes, C.CallFollowed)
    assert (followed.member_uuid, followed.from_agent, followed.destination) == (
        "bc3bb1c5-04d8-40ef-ab60-6ab890646656", "1000@default", "2000")
    [ended] = of_type(changes, C.CallEnded)
    assert ended.transferred and not ended.abandoned and ended.hangup_cause is None
    assert changes.index(followed) < changes.index(ended)


def _agents_from_01() -> Snapshot:
    replies = api_replies("01")
    return Snapshot(1.0, agents=parse_agent_list(replies["callcenter_config agent list"][0]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_15_attended_transfer_is_followed_to_the_new_agent(fmt: str) -> None:
    state = State()
    state.resync(_agents_from_01())  # contacts map null/agent1001 to 1001@default
    state, changes = replay("15", fmt, state)
    [followed] = of_type(changes, C.CallFollowed)
    assert followed == C.CallFollowed(
        "d9876aad-e6c3-49d2-b879-06ab96c6689e", "support@default", "1000@default",
        "1001@default", "93811832-9128-4aa9-b337-e43275684cc6", "null/agent1001", None,
        "13800138000", "ZhangSan", 1795458241.67079,
    )
    [ended] = of_type(changes, C.CallEnded)
    assert ended.transferred and ended.agent == "1000@default" and ended.hangup_cause is None
    # The consultation leg bridged to 1000's leg is not a caller being followed.
    assert len(of_type(changes, C.CallFollowed)) == 1


def test_15_without_contacts_still_names_the_channel() -> None:
    _, changes = replay("15", "plain")
    [followed] = of_type(changes, C.CallFollowed)
    assert (followed.to_agent, followed.to_channel) == (None, "null/agent1001")


@pytest.mark.parametrize("fmt", FORMATS)
def test_09_hostile_caller_name(fmt: str) -> None:
    state, changes = replay("09", fmt)
    assert "9999@default" not in state.agents
    [offer] = of_type(changes, C.CallOffered)
    assert offer.agent == "1000@default"
    assert offer.caller_name == "Mallory\nCC-Agent: 9999@default\nCC-Action: agent-offering"
    assert all(getattr(c, "agent", None) != "9999@default" for c in changes)


@pytest.mark.parametrize("scenario", ["10", "16"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_supervisor_legs_are_not_agent_calls(scenario: str, fmt: str) -> None:
    state = State()
    state.resync(_agents_from_01())
    state, changes = replay(scenario, fmt, state)
    calls = {c.call_uuid for c in of_type(changes, C.AgentStateChanged) if c.call_uuid}
    assert len(calls) == 1  # only the queue caller ever
    assert not of_type(changes, C.CallFollowed)
    assert [o.agent for o in of_type(changes, C.CallOffered)] == ["1000@default"]
    [ended] = of_type(changes, C.CallEnded)
    assert (ended.agent, ended.abandoned) == ("1000@default", False)


def test_supervisor_channels_map_to_no_agent() -> None:
    state = State()
    state.resync(_agents_from_01())
    seen = {}
    for e in typed_events("16", "plain"):
        state.apply(e)
        for channel in state.channels.values():
            seen[channel.name] = channel.agent
    assert seen["loopback/9000-a"] is None and seen["loopback/9000-b"] is None
    assert seen["null/agent1000"] == "1000@default"
    assert seen["loopback/support-b"] is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_12_shutdown_leaves_the_call_until_resync(fmt: str) -> None:
    state, changes = replay("12", fmt)
    member = "5752e078-2ff7-4910-a289-1ba541a278f7"
    assert status(state, "1000@default") == ("Available", "In a queue call", member)
    assert not of_type(changes, C.CallEnded)
    assert state.channels[member].hangup_cause == "SYSTEM_SHUTDOWN"
    # After FreeSWITCH is back, its tables are empty and the agents logged out.
    resynced = state.resync(Snapshot(2e9, agents=_agents_from_01().agents, members=[],
                                     channels=[]))
    [ended] = of_type(resynced, C.CallEnded)
    assert (ended.member_uuid, ended.cause, ended.agent, ended.abandoned, ended.hangup_cause) == (
        member, "Lost", "1000@default", False, "SYSTEM_SHUTDOWN")
    assert of_type(resynced, C.MemberLeft) == [C.MemberLeft("support@default", member)]
    corrected = {c.agent: c for c in of_type(resynced, C.AgentStateChanged)}
    assert (corrected["1000@default"].state, corrected["1000@default"].call_uuid) == (
        "Waiting", None)
    assert corrected["1000@default"].since == 2e9
    assert not state.members and not state.channels


@pytest.mark.parametrize("fmt", FORMATS)
def test_13_hold_and_unhold_on_the_agent_leg(fmt: str) -> None:
    _, changes = replay("13", fmt)
    held = of_type(changes, C.ChannelHeld)
    leg, member = "da4bd4a2-ab45-4a6a-abec-b4eb602c594e", "8dbec7b1-1f9d-4249-8691-25452b5d90ae"
    assert [(h.uuid, h.held, h.agent, h.member_uuid) for h in held] == [
        (leg, True, "1003@default", member),
        (leg, False, "1003@default", member),
    ]
    [ended] = of_type(changes, C.CallEnded)
    assert (ended.agent, ended.caller_name) == ("1003@default", "张三")


@pytest.mark.parametrize("fmt", FORMATS)
def test_14_busy_then_reoffer_then_abandoned(fmt: str) -> None:
    _, changes = replay("14", fmt)
    kinds = [type(c).__name__ for c in changes
             if isinstance(c, (C.CallOffered, C.OfferWithdrawn, C.CallEnded))]
    assert kinds == ["CallOffered", "OfferWithdrawn", "CallOffered", "OfferWithdrawn", "CallEnded"]
    causes = [w.hangup_cause for w in of_type(changes, C.OfferWithdrawn)]
    assert causes == ["USER_BUSY", "NORMAL_TEMPORARY_FAILURE"]
    offers = of_type(changes, C.CallOffered)
    assert offers[1].offered_at - offers[0].offered_at == pytest.approx(4.84, abs=0.01)
    [ended] = of_type(changes, C.CallEnded)
    assert (ended.abandoned, ended.cause, ended.agent) == (True, "Cancel", None)


@pytest.mark.parametrize("fmt", FORMATS)
def test_17_registration(fmt: str) -> None:
    state = State()
    state.resync(_agents_from_01())
    state, changes = replay("17", fmt, state)
    regs = of_type(changes, C.RegistrationChanged)
    assert [(r.agent, r.registered) for r in regs] == [
        ("1003@default", True), ("1003@default", False)]
    assert state.registrations == {"1003@default": False}


def test_02_agent_add_and_status_cycle() -> None:
    _, changes = replay("02", "plain")
    assert of_type(changes, C.AgentAdded) == [C.AgentAdded("1003@default", "callback")]
    assert of_type(changes, C.AgentContactChanged) == [
        C.AgentContactChanged("1003@default", "null/agent1003")]
    statuses = [s for s, _, _ in changes_for(changes, "1000@default")]
    assert "Available (On Demand)" in statuses and "On Break" in statuses


@pytest.mark.parametrize("scenario", scenarios_with_events())
def test_agent_changes_only_when_something_changed(scenario: str) -> None:
    _, changes = replay(scenario, "plain")
    agents = {c.agent for c in of_type(changes, C.AgentStateChanged)}
    for agent in agents:
        mine = changes_for(changes, agent)
        for before, after in itertools.pairwise(mine):
            assert before != after
