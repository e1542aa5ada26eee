"""Reconciling mod_callcenter with the store, checked against the list
replies FreeSWITCH gave in captures/01-config-lists."""

from __future__ import annotations

import pytest

from cti_middleware.dialplan import provision
from cti_middleware.dialplan.provision import (
    Desired,
    DesiredAgent,
    DesiredQueue,
    DesiredTier,
)
from cti_middleware.esl.wire import FrameParser
from cti_middleware.store import routing
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.test_dialplan_support import CAPTURES, routing_db  # noqa: F401 (fixture)


def _replies() -> dict[str, str]:
    """api command -> reply body, first occurrence, from scenario 01."""
    folder = CAPTURES / "01-config-lists"
    commands = [
        line.split(" ", 1)[1][4:]
        for line in (folder / "commands.txt").read_text().splitlines()
        if line.split(" ", 1)[1].startswith("api ")
    ]
    frames = FrameParser().feed((folder / "replies.esl").read_bytes())
    bodies = [f.body.decode() for f in frames if f.content_type == "api/response"]
    assert len(bodies) == len(commands)
    out: dict[str, str] = {}
    for cmd, body in zip(commands, bodies, strict=True):
        out.setdefault(cmd, body)
    return out


REPLIES = _replies()
QUEUES = REPLIES["callcenter_config queue list"]
AGENTS = REPLIES["callcenter_config agent list"]
TIERS = REPLIES["callcenter_config tier list"]
QUEUE_PARAMS = {
    "strategy": "longest-idle-agent",
    "moh_sound": "tone_stream://%(2000,4000,440,480);loops=-1",
    "time_base_score": "system",
    "tier_rules_apply": "false",
    "tier_rule_wait_second": "300",
    "tier_rule_wait_multiply_level": "true",
    "tier_rule_no_agent_no_wait": "false",
    "discard_abandoned_after": "60",
    "abandoned_resume_allowed": "false",
    "max_wait_time": "0",
    "max_wait_time_with_no_agent": "0",
    "max_wait_time_with_no_agent_time_reached": "5",
}


def _agent(n: str, contact: str, max_no_answer: str = "3") -> DesiredAgent:
    return DesiredAgent(f"{n}@default", "callback", {
        "contact": contact, "max_no_answer": max_no_answer, "wrap_up_time": "3",
        "reject_delay_time": "5", "busy_delay_time": "5", "no_answer_delay_time": "5",
    })


def captured_state() -> Desired:
    """Exactly what the captured box ran (freeswitch.xml minus agent 1003)."""
    vip = dict(QUEUE_PARAMS, strategy="ring-all", tier_rule_wait_second="0",
               tier_rule_wait_multiply_level="false", tier_rule_no_agent_no_wait="true")
    return Desired(
        queues=[DesiredQueue("support@default", dict(QUEUE_PARAMS)), DesiredQueue("vip@default", vip)],
        agents=[
            _agent("1000", "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1000"),
            _agent("1001", "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1001"),
            _agent("1002", "[leg_timeout=4,null_enable_auto_answer=false]null/agent1002", "1"),
        ],
        tiers=[
            DesiredTier("support@default", "1000@default", 1, 1),
            DesiredTier("support@default", "1001@default", 1, 2),
            DesiredTier("support@default", "1002@default", 2, 1),
            DesiredTier("vip@default", "1000@default", 1, 1),
            DesiredTier("vip@default", "1001@default", 1, 1),
        ],
    )


def test_parse_captured_tables():
    agents = provision.parse_table(AGENTS, "contact")
    assert [a["name"] for a in agents] == ["1000@default", "1001@default", "1002@default"]
    assert agents[2]["contact"] == "[leg_timeout=4,null_enable_auto_answer=false]null/agent1002"
    assert provision.parse_table(REPLIES["callcenter_config queue list members support@default"]) == []
    with pytest.raises(provision.ProvisionError):
        provision.parse_table("-ERR no reply\n")


def test_contact_with_pipe_is_reassembled():
    header = AGENTS.splitlines()[0]
    row = AGENTS.splitlines()[1].replace("null/agent1000", "null/a|null/b")
    rows = provision.parse_table(f"{header}\n{row}\n+OK\n", "contact")
    assert rows[0]["contact"].endswith("null/a|null/b") and rows[0]["status"] == "Available"


def test_no_drift_no_commands():
    assert provision.reconcile(captured_state(), QUEUES, AGENTS, TIERS) == []


def test_drift_is_corrected_in_order():
    desired = captured_state()
    desired.queues[0].params["max_wait_time"] = "120"
    desired.queues.append(DesiredQueue("sales@default", dict(QUEUE_PARAMS)))
    desired.agents[1] = _agent("1001", "user/1001@default")
    desired.agents.append(_agent("1003", "[leg_timeout=10]sofia/internal/sip:agent1003@127.0.0.1:5090"))
    desired.agents = [a for a in desired.agents if a.name != "1002@default"]
    desired.tiers = [t for t in desired.tiers if t.agent != "1002@default"]
    desired.tiers[1] = DesiredTier("support@default", "1001@default", 2, 5)
    desired.tiers.append(DesiredTier("sales@default", "1003@default", 1, 1))
    cmds = provision.reconcile(desired, QUEUES, AGENTS, TIERS)
    assert cmds == [
        "callcenter_config queue reload support@default",
        "callcenter_config queue load sales@default",
        "callcenter_config agent set contact 1001@default user/1001@default",
        "callcenter_config agent add 1003@default callback",
        "callcenter_config agent set contact 1003@default [leg_timeout=10]sofia/internal/sip:agent1003@127.0.0.1:5090",
        "callcenter_config agent set max_no_answer 1003@default 3",
        "callcenter_config agent set wrap_up_time 1003@default 3",
        "callcenter_config agent set reject_delay_time 1003@default 5",
        "callcenter_config agent set busy_delay_time 1003@default 5",
        "callcenter_config agent set no_answer_delay_time 1003@default 5",
        "callcenter_config tier del support@default 1002@default",
        "callcenter_config tier set level support@default 1001@default 2",
        "callcenter_config tier set position support@default 1001@default 5",
        "callcenter_config tier add sales@default 1003@default 1 1",
        "callcenter_config agent del 1002@default",
    ]
    keep = provision.reconcile(desired, QUEUES, AGENTS, TIERS, remove_extra=False)
    assert not any(" del " in c or "unload" in c for c in keep)


@pytest.mark.parametrize(
    "desired",
    [
        Desired(queues=[DesiredQueue("support@default queue unload x", {})]),
        Desired(agents=[DesiredAgent("1@d", "callback", dict(_agent("1", "x y").settings))]),
        Desired(agents=[DesiredAgent("1@d", "callback'", dict(_agent("1", "null/x").settings))]),
        Desired(tiers=[DesiredTier("q@d", "a@d", "1; hupall", 1)]),
    ],
)
def test_unsafe_arguments_never_become_commands(desired):
    with pytest.raises(provision.ProvisionError):
        provision.reconcile(desired, "+OK\n", "+OK\n", "+OK\n")


def test_apply_retries_and_reports():
    calls: list[str] = []
    answers = {"a": ["-ERR busy", "+OK"], "b": ["-ERR Invalid Agent Status!"] * 3}

    def api(cmd):
        calls.append(cmd)
        if cmd == "c":
            raise ConnectionError("socket closed")
        return answers[cmd].pop(0)

    report = provision.apply(["a", "b", "c"], api, retries=3, sleep=lambda s: None)
    assert calls == ["a", "a", "b", "b", "b", "c", "c", "c"]
    assert [(o.command, o.ok, o.attempts) for o in report.outcomes] == [
        ("a", True, 2), ("b", False, 3), ("c", False, 3)]
    assert not report.ok and report.failures[1].reply.startswith("-ERR socket closed")


@pytest.mark.usefixtures("routing_db")
def test_sync_from_store(caplog):
    sent: list[str] = []
    lists = dict(zip(provision.LIST_COMMANDS, (QUEUES, AGENTS, TIERS), strict=True))

    def api(cmd):
        sent.append(cmd)
        return lists.get(cmd, "+OK\n")

    report = provision.sync(api, sleep=lambda s: None)
    assert report.ok
    changes = sent[3:]
    # the seeded store differs from the captured box: timeout and announce on
    # support, agent 1003 added, its tier added
    assert "callcenter_config queue reload support@default" in changes
    assert "callcenter_config agent add 1003@default callback" in changes
    assert "callcenter_config tier add support@default 1003@default 1 3" in changes
    assert "mod_callcenter drift" in caplog.text
    # an empty box gets everything
    queues, agents, tiers = routing.provisioning_snapshot()
    desired = provision.desired_from_models(queues, agents, tiers)
    assert set(provision.provisioning_commands(desired)) >= {
        "callcenter_config queue load support@default",
        "callcenter_config tier add vip@default 1001@default 1 1",
    }
