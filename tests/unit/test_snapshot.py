"""Parsing the recorded list replies, and resyncing the state from them."""

from __future__ import annotations

import pytest

from cti_middleware.model import State
from cti_middleware.model import changes as C
from cti_middleware.model.snapshot import (
    Snapshot,
    SnapshotError,
    parse_agent_list,
    parse_channels,
    parse_member_list,
    parse_queue_list,
    parse_table,
    parse_tier_list,
)

from .captures import api_replies, of_type, replay

REPLIES = api_replies("01")
MEMBERS = "callcenter_config queue list members support@default"


def test_agent_list() -> None:
    agents = parse_agent_list(REPLIES["callcenter_config agent list"][0])
    assert [(a.name, a.status, a.state) for a in agents] == [
        ("1000@default", "Available", "Waiting"),
        ("1001@default", "On Break", "Waiting"),
        ("1002@default", "Logged Out", "Waiting"),
    ]
    first = agents[0]
    assert first.contact == "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1000"
    assert (first.wrap_up_time, first.max_no_answer, first.agent_type) == (3, 3, "callback")
    assert first.last_bridge_end == 1795457066.0 and agents[2].last_bridge_end is None
    assert agents[1].calls_answered == 1


def test_tier_and_queue_lists() -> None:
    tiers = parse_tier_list(REPLIES["callcenter_config tier list"][0])
    assert len(tiers) == 5
    assert tiers[-1] == ("support@default", "1002@default", "Ready", 2, 1)
    queues = parse_queue_list(REPLIES["callcenter_config queue list"][0])
    assert [(q.name, q.strategy) for q in queues] == [
        ("support@default", "longest-idle-agent"), ("vip@default", "ring-all")]


def test_member_list_empty_and_with_a_call() -> None:
    empty, during = REPLIES[MEMBERS]
    assert parse_member_list(empty) == []
    [member] = parse_member_list(during)
    assert (member.session_uuid, member.caller_number, member.caller_name) == (
        "651a8f7d-a75f-45b4-9290-f3ae108e343e", "13800138000", "ZhangSan")
    assert (member.state, member.serving_agent, member.joined_at, member.bridged_at) == (
        "Answered", "1000@default", 1795457112.0, 1795457113.0)


def test_channels_json_empty_and_full() -> None:
    full, empty = REPLIES["show channels as json"]
    assert parse_channels(empty) == []
    rows = parse_channels(full)
    assert [r.name for r in rows] == ["loopback/support-a", "loopback/support-b", "null/agent1000"]
    assert rows[2].uuid == "40c8d115-bf76-40a2-b379-f214ba5f78fc"
    assert rows[1].caller_name == "ZhangSan" and rows[1].created_at == 1795457112.0


def test_errors_are_reported() -> None:
    with pytest.raises(SnapshotError, match="Agent not found"):
        parse_agent_list("-ERR Agent not found!\n")
    with pytest.raises(SnapshotError):
        parse_table("name|status\n1000@default|Available\n")  # no +OK
    with pytest.raises(SnapshotError):
        parse_channels("not json")


def test_hostile_member_name_with_newline_and_pipe_stays_in_its_row() -> None:
    header = REPLIES[MEMBERS][1].split("\n", 1)[0]
    row = ("support@default|single_box|m1|s1|13800138000|Mal|ory\nCC-Agent: 9999@default|"
           "1|1|0|0|0|0|0||single_box|Waiting|0")
    [member] = parse_member_list(f"{header}\n{row}\n+OK\n")
    assert member.caller_name == "Mal|ory\nCC-Agent: 9999@default"
    assert (member.session_uuid, member.state, member.serving_agent) == ("s1", "Waiting", None)


def test_resync_mid_call_from_the_recorded_replies() -> None:
    snap = Snapshot(
        1795457113.5,
        agents=parse_agent_list(REPLIES["callcenter_config agent list"][0]),
        queues=parse_queue_list(REPLIES["callcenter_config queue list"][0]),
        members=parse_member_list(REPLIES[MEMBERS][1]),
        channels=parse_channels(REPLIES["show channels as json"][0]),
    )
    state = State()
    changes = state.resync(snap)
    member = "651a8f7d-a75f-45b4-9290-f3ae108e343e"
    agents = {c.agent: c for c in of_type(changes, C.AgentStateChanged)}
    assert set(agents) == {"1000@default", "1001@default", "1002@default"}
    # The agent list was taken before the call (Waiting), so no call is attached.
    assert agents["1000@default"].call_uuid is None
    assert agents["1000@default"].since == 1795457112.0  # last_status_change for a new agent
    assert of_type(changes, C.MemberJoined)[0].member_uuid == member
    assert state.members[member].agent == "1000@default"
    assert state.queues["support@default"].strategy == "longest-idle-agent"
    assert (state.queues["support@default"].waiting, state.queues["support@default"].members) == (
        0, 1)
    assert state.channels["40c8d115-bf76-40a2-b379-f214ba5f78fc"].agent == "1000@default"
    assert state.channels[member].member_queue == "support@default"
    assert state.resync(snap) == []  # nothing differs the second time


def test_resync_reports_only_agents_that_differ_and_removes_deleted_ones() -> None:
    state, _ = replay("02", "plain")  # ends with 1003@default added, everyone logged out
    snap = Snapshot(5.0, agents=parse_agent_list(REPLIES["callcenter_config agent list"][0]))
    changes = state.resync(snap)
    assert of_type(changes, C.AgentRemoved) == [C.AgentRemoved("1003@default")]
    assert sorted(c.agent for c in of_type(changes, C.AgentStateChanged)) == [
        "1000@default", "1001@default"]
    assert all(c.since == 5.0 for c in of_type(changes, C.AgentStateChanged))
    assert state.agents["1000@default"].wrap_up_until == 1795457066.0 + 3


def test_resync_attaches_the_answered_call_to_its_agent() -> None:
    agents = parse_agent_list(REPLIES["callcenter_config agent list"][0])
    busy = [a._replace(state="In a queue call") if a.name == "1000@default" else a
            for a in agents]
    state = State()
    state.resync(Snapshot(1.0, agents=busy, members=parse_member_list(REPLIES[MEMBERS][1])))
    assert state.agents["1000@default"].call_uuid == "651a8f7d-a75f-45b4-9290-f3ae108e343e"
