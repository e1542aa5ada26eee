"""Call control: authorisation, validation, error mapping and audit, against a fake switch."""

from __future__ import annotations

from typing import Any

import pytest

from cti_middleware.control import Actor, CallControl
from cti_middleware.esl.client import CommandError, CommandTimeout, NotConnectedError
from cti_middleware.model.entities import Agent, Channel, Member, Queue
from cti_middleware.model.snapshot import TierRow
from cti_middleware.model.state import State
from cti_middleware.store.audit import recent_audit
from tests.store_fixtures import db, db_url  # noqa: F401

MEMBER = "11111111-1111-4111-8111-111111111111"
AGENT_LEG = "22222222-2222-4222-8222-222222222222"
RINGING = "33333333-3333-4333-8333-333333333333"
OTHER_MEMBER = "44444444-4444-4444-8444-444444444444"
SUP_LEG = "55555555-5555-4555-8555-555555555555"

ALICE = Actor("1000@default", "agent")
BOB = Actor("1001@default", "agent")
SUE = Actor("9000@default", "supervisor")


class FakeSwitch:
    """Records commands; replies from a table of prefixes, ``+OK`` otherwise."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.replies: dict[str, Any] = {}

    def __call__(self, command: str, timeout: float | None = None) -> str:
        self.sent.append(command)
        for prefix, reply in self.replies.items():
            if command.startswith(prefix):
                if isinstance(reply, Exception):
                    raise reply
                return reply
        return "+OK\n"


def _state() -> State:
    state = State()
    for name, status, st in (("1000@default", "Available", "In a queue call"),
                             ("1001@default", "Available", "Waiting"),
                             ("1002@default", "Available", "Waiting"),
                             ("9000@default", "Logged Out", "Waiting")):
        state.agents[name] = Agent(name, status=status, state=st, contact=f"user/{name}")
    state.queues["support@default"] = Queue("support@default")
    alice = state.agents["1000@default"]
    alice.call_uuid, alice.agent_uuid = MEMBER, AGENT_LEG
    state.members[MEMBER] = Member(MEMBER, "support@default", "13800138000", "Z", 1.0,
                                   state="Answered", agent="1000@default", agent_uuid=AGENT_LEG)
    state.members[OTHER_MEMBER] = Member(OTHER_MEMBER, "support@default", "13900000000", "Y", 2.0,
                                         offered_to={"1002@default"})
    state.channels[RINGING] = Channel(RINGING, "user/1002@default", cc_side="agent",
                                      cc_agent="1002@default", cc_member_uuid=OTHER_MEMBER)
    return state


@pytest.fixture
def switch() -> FakeSwitch:
    return FakeSwitch()


@pytest.fixture
def audits() -> list[tuple]:
    return []


def _control(state: State, switch: FakeSwitch, audit: Any, tiers: list[TierRow] | None = None) -> CallControl:
    attached: dict[str, dict] = {}
    control = CallControl(
        state, api=switch, bgapi=switch,
        tiers=lambda: tiers or [],
        not_ready_reasons=("break", "lunch"),
        attach=lambda uuid, data: attached.setdefault(uuid, {}).update(data),
        audit=audit,
    )
    control.attached = attached  # type: ignore[attr-defined]
    return control


@pytest.fixture
def control(switch: FakeSwitch, audits: list[tuple]) -> CallControl:
    return _control(_state(), switch, lambda *a: audits.append(a))


# --- agent status ---------------------------------------------------------------------

def test_login_ready_not_ready_logout_send_status_commands(control, switch):
    assert control.run(ALICE, "agent.login", {}) == {"ok": True, "status": "Available"}
    assert control.run(ALICE, "agent.not_ready", {"reason": "lunch"}) == {
        "ok": True, "status": "On Break", "reason": "lunch"}
    assert control.not_ready_reason("1000@default") == "lunch"
    assert control.run(ALICE, "agent.logout", None)["ok"] is True
    assert control.not_ready_reason("1000@default") is None
    assert switch.sent == [
        "callcenter_config agent set status 1000@default Available",
        "callcenter_config agent set status 1000@default 'On Break'",
        "callcenter_config agent set status 1000@default 'Logged Out'",
    ]


def test_ready_after_wrapup_returns_to_waiting(control, switch):
    assert control.run(BOB, "agent.wrapup", {})["ok"] is True
    control.state.agents["1001@default"].state = "Idle"
    assert control.run(BOB, "agent.ready", {})["ok"] is True
    assert switch.sent == [
        "callcenter_config agent set state 1001@default Idle",
        "callcenter_config agent set status 1001@default Available",
        "callcenter_config agent set state 1001@default Waiting",
    ]


@pytest.mark.parametrize("reason", ["nap", "", None, 5, "break\n", "x" * 5000])
def test_not_ready_reason_must_be_configured(control, switch, reason):
    ack = control.run(ALICE, "agent.not_ready", {"reason": reason})
    assert ack["ok"] is False and ack["error"] == "invalid_argument"
    assert switch.sent == []


# --- call actions ---------------------------------------------------------------------

def test_hold_unhold_hangup_own_call(control, switch, audits):
    assert control.run(ALICE, "call.hold", {"uuid": MEMBER}) == {"ok": True, "held": True}
    assert control.run(ALICE, "call.unhold", {"uuid": AGENT_LEG}) == {"ok": True, "held": False}
    assert control.run(ALICE, "call.hangup", {"uuid": MEMBER})["ok"] is True
    assert switch.sent == [f"uuid_hold {MEMBER}", f"uuid_hold off {MEMBER}",
                           f"uuid_kill {MEMBER} NORMAL_CLEARING"]
    assert [(a[0], a[1], a[2], a[4]) for a in audits] == [
        ("1000@default", "call.hold", MEMBER, "ok"),
        ("1000@default", "call.unhold", AGENT_LEG, "ok"),
        ("1000@default", "call.hangup", MEMBER, "ok"),
    ]


def test_someone_elses_call_is_forbidden_and_audited(control, switch, audits):
    ack = control.run(BOB, "call.hangup", {"uuid": MEMBER})
    assert ack["ok"] is False and ack["error"] == "forbidden"
    assert switch.sent == []
    assert audits[-1][:3] == ("1001@default", "call.hangup", MEMBER)
    assert audits[-1][4].startswith("forbidden")


def test_unknown_call_is_not_found(control, switch):
    ack = control.run(ALICE, "call.hold", {"uuid": "99999999-9999-4999-8999-999999999999"})
    assert ack["error"] == "not_found"
    assert switch.sent == []


def test_hold_of_an_offered_call_is_illegal_state(control, switch):
    ack = control.run(Actor("1002@default", "agent"), "call.hold", {"uuid": OTHER_MEMBER})
    assert ack["error"] == "illegal_state"
    assert switch.sent == []


def test_answer_uses_the_ringing_agent_leg(control, switch):
    ack = control.run(Actor("1002@default", "agent"), "call.answer", {"uuid": OTHER_MEMBER})
    assert ack["ok"] is True
    assert switch.sent == [f"uuid_phone_event {RINGING} talk"]


@pytest.mark.parametrize("bad", [
    MEMBER + "\napi hupall",
    MEMBER + " ",
    MEMBER + "&park",
    "{x=1}" + MEMBER,
    MEMBER[:-1] + "'",
    MEMBER + "|",
    '"' + MEMBER + '"',
    "a" * 10000,
    None,
    123,
    ["x"],
])
def test_injection_and_malformed_uuids_never_reach_the_switch(control, switch, audits, bad):
    for action in ("call.hold", "call.hangup", "call.transfer", "call.dtmf"):
        ack = control.run(ALICE, action, {"uuid": bad, "target": "2000", "digits": "1"})
        assert ack["ok"] is False and ack["error"] == "invalid_argument", action
    assert switch.sent == []
    assert len(audits) == 4 and all(a[4].startswith("invalid_argument") for a in audits)


@pytest.mark.parametrize("target", ["2000\nhupall", "20 00", "sup{port}", "a&b", "x|y", "'2000'",
                                    "9" * 40, "nope@default"])
def test_transfer_target_injection_refused(control, switch, target):
    ack = control.run(ALICE, "call.transfer", {"uuid": MEMBER, "target": target})
    assert ack["ok"] is False and ack["error"] in ("invalid_argument", "not_found")
    assert switch.sent == []


def test_transfer_targets_map_to_extensions(control, switch):
    for target in ("2000", "support@default", "1001@default"):
        assert control.run(ALICE, "call.transfer", {"uuid": MEMBER, "target": target})["ok"]
    assert switch.sent == [
        f"uuid_transfer {AGENT_LEG} -bleg 2000 XML default",
        f"uuid_transfer {AGENT_LEG} -bleg support XML default",
        f"uuid_transfer {AGENT_LEG} -bleg 1001 XML default",
    ]


def test_consult_and_its_keys(control, switch):
    assert control.run(ALICE, "call.consult", {"uuid": MEMBER, "target": "1001@default"})["ok"]
    assert control.run(ALICE, "call.consult", {"uuid": MEMBER, "target": "support@default"})["ok"]
    for action in ("call.consult_cancel", "call.consult_complete", "call.conference"):
        assert control.run(ALICE, action, {"uuid": MEMBER})["ok"]
    assert switch.sent == [
        f"uuid_broadcast {AGENT_LEG} att_xfer::user/1001@default aleg",
        f"uuid_broadcast {AGENT_LEG} att_xfer::loopback/support/default aleg",
        f"uuid_recv_dtmf {AGENT_LEG} #",
        f"uuid_recv_dtmf {AGENT_LEG} *",
        f"uuid_recv_dtmf {AGENT_LEG} 0",
    ]


def test_dial_originates_agent_phone_then_number(control, switch):
    switch.replies["originate"] = "+OK 66666666-6666-4666-8666-666666666666\n"
    ack = control.run(ALICE, "call.dial", {"number": "13800138000"})
    assert ack == {"ok": True, "uuid": "66666666-6666-4666-8666-666666666666"}
    (command,) = switch.sent
    assert command.startswith("originate {origination_caller_id_number=13800138000,"
                              "effective_caller_id_number=4008001234,")
    assert "cc_outbound_agent=1000@default}user/1000@default 13800138000 XML default" in command


@pytest.mark.parametrize("number", ["138 0013", "1380013800;hupall", "+", "1" * 30, "", None, "abc"])
def test_dial_refuses_bad_numbers(control, switch, number):
    assert control.run(ALICE, "call.dial", {"number": number})["error"] == "invalid_argument"
    assert switch.sent == []


def test_dtmf_goes_to_the_customer_and_is_checked(control, switch):
    assert control.run(ALICE, "call.dtmf", {"uuid": MEMBER, "digits": "12#"})["ok"]
    assert control.run(ALICE, "call.dtmf", {"uuid": MEMBER, "digits": "1 2"})["error"] == "invalid_argument"
    assert switch.sent == [f"uuid_send_dtmf {MEMBER} 12#"]


def test_attach_data_is_stored_for_the_call(control):
    ack = control.run(ALICE, "call.attach_data", {"uuid": AGENT_LEG, "notes": "wants refund", "work_order": 7})
    assert ack == {"ok": True, "call_uuid": MEMBER}
    assert control.attached[MEMBER] == {"notes": "wants refund", "work_order": 7}
    assert control.run(ALICE, "call.attach_data", {"uuid": MEMBER, "notes": "x" * 3000})["error"] == \
        "invalid_argument"
    assert control.run(BOB, "call.attach_data", {"uuid": MEMBER, "notes": "x"})["error"] == "forbidden"


# --- switch failures ------------------------------------------------------------------

@pytest.mark.parametrize(("failure", "code"), [
    (CommandError("-ERR Operation failed"), "switch_error"),
    (CommandTimeout("no reply"), "switch_timeout"),
    (NotConnectedError("FreeSWITCH is not connected"), "switch_unavailable"),
    ("-ERR No such channel!\n", "switch_error"),
])
def test_switch_failures_are_mapped(control, switch, audits, failure, code):
    switch.replies["uuid_hold"] = failure
    ack = control.run(ALICE, "call.unhold", {"uuid": MEMBER})
    assert ack["ok"] is False and ack["error"] == code
    if code == "switch_error":
        assert ack["message"].startswith("-ERR ")
    assert audits[-1][4].startswith(code)


def test_unknown_action_and_non_object_arguments(control, switch):
    assert control.run(ALICE, "call.explode", {})["error"] == "invalid_argument"
    assert control.run(ALICE, "call.hold", "uuid")["error"] == "invalid_argument"
    assert switch.sent == []


# --- supervisor -------------------------------------------------------------------------

def test_agent_cannot_use_supervisor_actions(control, switch):
    for action in ("supervisor.force", "supervisor.listen", "supervisor.release", "supervisor.takeover"):
        ack = control.run(ALICE, action, {"agent": "1001@default", "status": "On Break"})
        assert ack["error"] == "forbidden", action
    assert switch.sent == []


def test_force_status(control, switch):
    assert control.run(SUE, "supervisor.force", {"agent": "1001@default", "status": "On Break"})["ok"]
    assert control.run(SUE, "supervisor.force", {"agent": "1001@default", "status": "Dancing"})["error"] == \
        "invalid_argument"
    assert control.run(SUE, "supervisor.force", {"agent": "7@default", "status": "On Break"})["error"] == \
        "not_found"
    assert switch.sent == ["callcenter_config agent set status 1001@default 'On Break'"]


def test_supervisor_scope_follows_its_tiers(switch, audits):
    tiers = [TierRow("support@default", "1000@default", "Ready", 1, 1),
             TierRow("vip@default", "9000@default", "Ready", 1, 1),
             TierRow("vip@default", "1001@default", "Ready", 1, 1)]
    control = _control(_state(), switch, lambda *a: audits.append(a), tiers)
    assert control.run(SUE, "supervisor.force", {"agent": "1000@default", "status": "On Break"})["error"] == \
        "forbidden"
    assert control.run(SUE, "supervisor.force", {"agent": "1001@default", "status": "On Break"})["ok"]
    admin = Actor("9999@default", "admin")
    assert control.run(admin, "supervisor.force", {"agent": "1000@default", "status": "Available"})["ok"]
    assert len(switch.sent) == 2


def test_listen_then_switch_modes_then_stop(control, switch):
    switch.replies["originate"] = f"+OK {SUP_LEG}\n"
    ack = control.run(SUE, "supervisor.listen", {"agent": "1000@default"})
    assert ack == {"ok": True, "uuid": SUP_LEG, "mode": "listen"}
    assert control.run(SUE, "supervisor.whisper", {"agent": "1000@default"})["mode"] == "whisper"
    assert control.run(SUE, "supervisor.barge", {"agent": "1000@default"})["ok"]
    assert control.run(SUE, "supervisor.stop", {"agent": "1000@default"})["ok"]
    assert control.run(SUE, "supervisor.stop", {"agent": "1000@default"})["error"] == "illegal_state"
    assert switch.sent[0].startswith("originate {origination_caller_id_number=eavesdrop,"
                                     "cc_supervisor=9000@default,eavesdrop_enable_dtmf=true}")
    assert switch.sent[0].endswith(f"user/9000@default &eavesdrop({AGENT_LEG})")
    assert switch.sent[1:] == [f"uuid_recv_dtmf {SUP_LEG} 2", f"uuid_recv_dtmf {SUP_LEG} 3",
                               f"uuid_kill {SUP_LEG} NORMAL_CLEARING"]


def test_listen_to_idle_agent_is_illegal_state(control, switch):
    assert control.run(SUE, "supervisor.listen", {"agent": "1001@default"})["error"] == "illegal_state"
    assert control.run(SUE, "supervisor.release", {"agent": "1001@default"})["error"] == "illegal_state"
    assert switch.sent == []


def test_release_and_takeover(control, switch):
    assert control.run(SUE, "supervisor.release", {"agent": "1000@default"})["ok"]
    assert control.run(SUE, "supervisor.takeover", {"agent": "1000@default"})["ok"]
    assert switch.sent[0] == f"uuid_kill {MEMBER} NORMAL_CLEARING"
    assert switch.sent[1].endswith(f"user/9000@default &intercept({MEMBER})")


# --- the real audit trail -------------------------------------------------------------

def test_audit_trail_records_allowed_and_refused_actions(db, switch):  # noqa: F811
    from cti_middleware.store.audit import audit

    control = _control(_state(), switch, audit)
    control.run(ALICE, "call.hold", {"uuid": MEMBER})
    control.run(BOB, "call.hold", {"uuid": MEMBER})
    control.run(BOB, "call.hold", {"uuid": "x\ny", "extra": "z" * 20000})
    entries = recent_audit(10)
    assert [(e["actor"], e["action"], e["result"].split(":")[0]) for e in reversed(entries)] == [
        ("1000@default", "call.hold", "ok"),
        ("1001@default", "call.hold", "forbidden"),
        ("1001@default", "call.hold", "invalid_argument"),
    ]
    assert entries[-1]["target"] == MEMBER
    assert entries[-1]["arguments"] == {"uuid": MEMBER}


def test_mode_change_after_the_supervisor_hung_up_starts_a_new_session(control, switch):
    switch.replies["originate"] = f"+OK {SUP_LEG}\n"
    assert control.run(SUE, "supervisor.listen", {"agent": "1000@default"})["ok"]
    switch.replies["uuid_recv_dtmf"] = CommandError("-ERR no such session")
    assert control.run(SUE, "supervisor.barge", {"agent": "1000@default"})["ok"]
    assert switch.sent[-1].endswith(f"&eavesdrop({AGENT_LEG})")
    assert "eavesdrop_whisper_aleg=true,eavesdrop_whisper_bleg=true" in switch.sent[-1]
    switch.replies["uuid_recv_dtmf"] = CommandError("-ERR uuid_recv_dtmf Command not found!")
    ack = control.run(SUE, "supervisor.listen", {"agent": "1000@default"})
    assert ack["error"] == "switch_error"
