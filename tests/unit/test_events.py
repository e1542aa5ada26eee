"""Typed events from the recorded header dicts (plain and json alike)."""

from __future__ import annotations

import pytest

from cti_middleware import events as ev

from .captures import header_dicts, scenarios_with_events, typed_events

SCENARIOS = scenarios_with_events()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_plain_and_json_give_identical_events(scenario: str) -> None:
    plain = typed_events(scenario, "plain")
    json = typed_events(scenario, "json")
    assert plain, "every recording holds events"
    assert plain == json
    assert [type(e) for e in plain] == [type(e) for e in json]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_recorded_event_is_known(scenario: str) -> None:
    for headers in header_dicts(scenario, "plain"):
        event = ev.parse_event(headers)
        assert not isinstance(event, ev.UnknownEvent), ev.event_key(headers)
        assert event.ts > 1.7e9


def test_table_covers_every_recorded_callcenter_action() -> None:
    actions = {
        h["CC-Action"]
        for s in SCENARIOS
        for h in header_dicts(s, "plain")
        if h.get("Event-Subclass") == "callcenter::info"
    }
    assert {"agent-offering", "bridge-agent-fail", "agent-max-no-answer", "agent-add"} <= actions
    for action in actions:
        assert f"callcenter::info/{action}" in ev.PARSERS


def test_offering_fields_and_time_from_event() -> None:
    offering = next(e for e in typed_events("03", "plain") if isinstance(e, ev.AgentOffering))
    assert offering == ev.AgentOffering(
        1795457125.330676, "1001@default", "support@default",
        "70d7031c-5381-4191-a61b-c289f13fc69c", "3fa96a50-4745-45c4-b000-0c46763d9561",
        "13800138000", "张三",
    )


def test_member_queue_end_cancel_and_terminated() -> None:
    cancel = next(e for e in typed_events("04", "json") if isinstance(e, ev.MemberQueueEnd))
    assert (cancel.cause, cancel.cancel_reason, cancel.agent) == ("Cancel", "BREAK_OUT", None)
    assert cancel.hangup_cause == "NORMAL_CLEARING" and not cancel.channel_alive
    done = next(e for e in typed_events("03", "json") if isinstance(e, ev.MemberQueueEnd))
    assert (done.cause, done.agent, done.answered_at) == ("Terminated", "1001@default", 1795457126.0)
    blind = next(e for e in typed_events("08", "plain") if isinstance(e, ev.MemberQueueEnd))
    assert blind.channel_alive and ":bl_xfer:2000/agents/XML" in (blind.transfer_source or "")


def test_channel_events_carry_agent_variables() -> None:
    creates = [e for e in typed_events("13", "plain") if isinstance(e, ev.ChannelCreate)]
    agent_leg = next(e for e in creates if e.cc_side == "agent")
    assert agent_leg.cc_agent == "1003@default"
    assert agent_leg.name == "sofia/internal/agent1003@127.0.0.1:5090"
    assert agent_leg.cc_member_uuid == "8dbec7b1-1f9d-4249-8691-25452b5d90ae"
    holds = [type(e) for e in typed_events("13", "plain") if isinstance(e, ev.ChannelEvent)]
    assert ev.ChannelHold in holds and ev.ChannelUnhold in holds


def test_bridge_peer_is_the_other_leg() -> None:
    bridges = [e for e in typed_events("15", "plain") if isinstance(e, ev.ChannelBridge)]
    last = bridges[-1]
    assert (last.name, last.other_uuid) == (
        "null/agent1001", "d9876aad-e6c3-49d2-b879-06ab96c6689e"
    )


def test_hostile_values_stay_inside_their_field() -> None:
    for fmt in ("plain", "json"):
        events = typed_events("09", fmt)
        assert not any(isinstance(e, (ev.Heartbeat, ev.UnknownEvent)) for e in events)
        agents = {getattr(e, "agent", None) for e in events}
        assert "9999@default" not in agents
        offering = next(e for e in events if isinstance(e, ev.AgentOffering))
        assert offering.agent == "1000@default"
        assert offering.caller_name == (
            "Mallory\nCC-Agent: 9999@default\nCC-Action: agent-offering"
        )


def test_background_job_and_registration() -> None:
    job = next(e for e in typed_events("11", "json") if isinstance(e, ev.BackgroundJob))
    assert job.command == "originate" and job.body.startswith("+OK ")
    regs = [e for e in typed_events("17", "plain") if isinstance(e, ev.Registration)]
    assert [(r.registered, r.user, r.domain, r.agent) for r in regs] == [
        (True, "1003", "default", "1003@default"),
        (False, "1003", "default", "1003@default"),
    ]
    assert regs[0].expires == 60 and regs[1].expires == 0


def test_unknown_events_never_raise() -> None:
    unknown = ev.parse_event({"Event-Name": "RE_SCHEDULE", "Event-Date-Timestamp": "5000000"})
    assert unknown == ev.UnknownEvent(5.0, "RE_SCHEDULE", None)
    other = ev.parse_event({"Event-Name": "CUSTOM", "Event-Subclass": "callcenter::info",
                            "CC-Action": "something-new"})
    assert isinstance(other, ev.UnknownEvent) and other.ts == 0.0
    assert isinstance(ev.parse_event({}), ev.UnknownEvent)


@pytest.mark.parametrize(
    "headers",
    [
        {"Event-Name": "CHANNEL_CREATE", "Event-Date-Timestamp": "1"},
        {"Event-Name": "CUSTOM", "Event-Subclass": "callcenter::info",
         "CC-Action": "agent-offering", "CC-Agent": "1000@default"},
        {"Event-Name": "CUSTOM", "Event-Subclass": "callcenter::info",
         "CC-Action": "members-count", "CC-Queue": "q", "CC-Count": "many"},
        {"Event-Name": "HEARTBEAT", "Event-Date-Timestamp": "yesterday"},
    ],
)
def test_known_event_missing_required_header_raises(headers: dict[str, str]) -> None:
    with pytest.raises(ev.EventError):
        ev.parse_event(headers)


def test_heartbeat() -> None:
    beat = ev.parse_event({"Event-Name": "HEARTBEAT", "Event-Date-Timestamp": "1500000",
                           "Core-UUID": "c", "Uptime-msec": "42", "Session-Count": "3"})
    assert beat == ev.Heartbeat(1.5, "c", 42, 3)
