"""State edge cases not covered by a recording, driven by hand-made header dicts."""

from __future__ import annotations

from cti_middleware.model import State
from cti_middleware.model import changes as C
from cti_middleware.model.entities import contact_key
from cti_middleware.model.state import blind_transfer_destination
from tests.unit.captures import apply, cc


def test_member_that_joined_before_we_connected_is_recorded_from_the_end_event() -> None:
    state = State()
    changes = apply(state, cc(
        "member-queue-end", 100, CC_Queue="q@d", CC_Member_Session_UUID="m1",
        CC_Member_CID_Number="1", CC_Member_CID_Name="A", CC_Cause="Terminated",
        CC_Agent="1000@d", CC_Member_Joined_Time="90", CC_Agent_Answered_Time="95",
        Hangup_Cause="NORMAL_CLEARING",
    ))
    [ended] = [c for c in changes if isinstance(c, C.CallEnded)]
    assert (ended.joined_at, ended.answered_at, ended.agent, ended.abandoned) == (
        90.0, 95.0, "1000@d", False)
    assert state.queues["q@d"].members == 0 and state.queues["q@d"].waiting == 0


def test_offer_withdrawn_when_the_caller_leaves_while_ringing() -> None:
    state = State()
    apply(state,
          cc("member-queue-start", 1, CC_Queue="q", CC_Member_Session_UUID="m"),
          cc("agent-offering", 2, CC_Agent="a", CC_Queue="q", CC_Member_Session_UUID="m"))
    assert state.agents["a"].call_uuid == "m"
    changes = apply(state, cc("member-queue-end", 3, CC_Queue="q", CC_Member_Session_UUID="m",
                              CC_Cause="Cancel", CC_Cancel_Reason="BREAK_OUT"))
    assert [type(c).__name__ for c in changes][:2] == ["AgentStateChanged", "OfferWithdrawn"]
    assert state.agents["a"].call_uuid is None
    withdrawn = next(c for c in changes if isinstance(c, C.OfferWithdrawn))
    assert withdrawn.reason == "caller-left"


def test_resumed_member_and_count_from_freeswitch() -> None:
    state = State()
    changes = apply(state,
                    cc("member-queue-resume", 1, CC_Queue="q", CC_Member_Session_UUID="m"),
                    cc("members-count", 1, CC_Queue="q", CC_Count="1"),
                    cc("members-count", 2, CC_Queue="q", CC_Count="4"))
    counts = [(c.waiting, c.members) for c in changes if isinstance(c, C.QueueCountChanged)]
    assert counts == [(1, 1), (1, 4)]


def test_presence_id_maps_a_sip_leg_to_its_agent() -> None:
    state = State()
    apply(state, cc("agent-status-change", 1, CC_Agent="1003@default", CC_Agent_Status="Available"))
    apply(state, {"Event-Name": "CHANNEL_CREATE", "Event-Date-Timestamp": "2000000",
                  "Unique-ID": "u1", "Channel-Name": "sofia/internal/1003@10.0.0.5:5060",
                  "variable_presence_id": "1003@default"})
    assert state.channels["u1"].agent == "1003@default"


def test_contact_key_matches_channel_names() -> None:
    assert contact_key("[leg_timeout=10]null/agent1000") == contact_key("null/agent1000")
    assert contact_key("{a=b}[c=d]sofia/internal/sip:agent1003@127.0.0.1:5090") == (
        contact_key("sofia/internal/agent1003@127.0.0.1:5090"))


def test_blind_transfer_destination() -> None:
    assert blind_transfer_destination("1:u:bl_xfer:2000/agents/XML") == "2000"
    assert blind_transfer_destination("1:u:uuid_br:abc") is None
    assert blind_transfer_destination(None) is None


def test_unknown_and_background_events_change_nothing() -> None:
    state = State()
    assert apply(state, {"Event-Name": "RE_SCHEDULE"},
                 {"Event-Name": "BACKGROUND_JOB", "Job-UUID": "j", "_body": "+OK x"}) == []
