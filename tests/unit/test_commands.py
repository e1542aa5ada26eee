"""Nothing a user types can become more than one argument of one ESL command."""

from __future__ import annotations

import pytest

from cti_middleware import commands as c

UUID = "907231bc-e280-4158-a436-53e18d87d60e"

HOSTILE = [
    "1000@default\napi hupall",
    "1000@default api hupall",
    "{origination_caller_id_number=1}",
    "1000@default'",
    '1000@default"',
    "1000@default&park()",
    "1000@default|x",
    "",
    "a" * 500,
    None,
    42,
    ["1000@default"],
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_agent_ids_are_refused(value):
    with pytest.raises(c.InvalidArgument):
        c.agent_set_status(value, "Available")


@pytest.mark.parametrize("value", [UUID + "\n", UUID + " off", "not-a-uuid", UUID[:-1] + "g", "", None])
def test_hostile_uuids_are_refused(value):
    for build in (c.hold, c.hangup, lambda u: c.send_dtmf(u, "1"), lambda u: c.blind_transfer(u, "2000")):
        with pytest.raises(c.InvalidArgument):
            build(value)


@pytest.mark.parametrize("value", ["2000 XML evil", "2000\n", "20{0}", "2000&x", "20'00", "2000|1", "x" * 40])
def test_hostile_extensions_are_refused(value):
    with pytest.raises(c.InvalidArgument):
        c.blind_transfer(UUID, value)


@pytest.mark.parametrize("value", ["138 0013 8000", "13800138000\n", "1380013800a", "+", "{x=1}13800138000"])
def test_hostile_numbers_are_refused(value):
    with pytest.raises(c.InvalidArgument):
        c.outbound_call("user/1000@default", value, "4008001234")


@pytest.mark.parametrize(
    "value",
    ["user/1000@default&park()", "user/1000 x", "[a=b}]user/1000", "[a=${evil}]user/1000", "user/1000\napi x",
     "{a=b}user/1000"],
)
def test_hostile_dial_strings_are_refused(value):
    with pytest.raises(c.InvalidArgument):
        c.eavesdrop(value, UUID, "listen", "9000@default")


def test_statuses_come_from_a_fixed_list_and_are_quoted_as_freeswitch_expects():
    assert c.agent_set_status("1000@default", "Logged Out") == \
        "callcenter_config agent set status 1000@default 'Logged Out'"
    assert c.agent_set_status("1000@default", "Available") == \
        "callcenter_config agent set status 1000@default Available"
    with pytest.raises(c.InvalidArgument):
        c.agent_set_status("1000@default", "Available' 'x")
    with pytest.raises(c.InvalidArgument):
        c.agent_set_state("1000@default", "Sleeping")


def test_well_formed_commands():
    assert c.hold(UUID) == f"uuid_hold {UUID}"
    assert c.hold(UUID, on=False) == f"uuid_hold off {UUID}"
    assert c.blind_transfer(UUID, "2000", "agents") == f"uuid_transfer {UUID} -bleg 2000 XML agents"
    assert c.attended_transfer(UUID, "null/agent1001") == f"uuid_broadcast {UUID} att_xfer::null/agent1001 aleg"
    assert c.phone_event(UUID) == f"uuid_phone_event {UUID} talk"
    assert c.recv_dtmf(UUID, "*") == f"uuid_recv_dtmf {UUID} *"
    cmd = c.outbound_call("[leg_timeout=10]sofia/internal/1000@10.0.0.5:5060", "13800138000",
                          "4008001234", agent="1000@default")
    assert cmd.startswith("originate {origination_caller_id_number=13800138000,")
    assert cmd.endswith("[leg_timeout=10]sofia/internal/1000@10.0.0.5:5060 13800138000 XML default")
    assert c.eavesdrop("user/9000@default", UUID, "whisper", "9000@default").endswith(f"&eavesdrop({UUID})")
    whisper = c.eavesdrop("user/9000@default", UUID, "whisper", "9000@default")
    assert "eavesdrop_whisper_bleg=true" in whisper and "whisper_aleg" not in whisper
    barge = c.eavesdrop("user/9000@default", UUID, "barge", "9000@default")
    assert "eavesdrop_whisper_aleg=true,eavesdrop_whisper_bleg=true" in barge
    assert barge.endswith(f"&eavesdrop({UUID})")
    with pytest.raises(c.InvalidArgument):
        c.eavesdrop("user/9000@default", UUID, "spy", "9000@default")
