"""The runtime provisioner: safety on an empty store, drift correction, retries, debounce."""

from __future__ import annotations

import logging

import pytest

from cti_middleware import routing_admin as admin
from cti_middleware.provisioner import Provisioner, enabled_from_env
from cti_middleware.store.routing import AgentConfig, Queue, Tier
from tests.store_fixtures import db, db_url  # noqa: F401

QUEUE_HEADER = ("name|strategy|moh_sound|time_base_score|tier_rules_apply|tier_rule_wait_second|"
                "tier_rule_wait_multiply_level|tier_rule_no_agent_no_wait|discard_abandoned_after|"
                "abandoned_resume_allowed|max_wait_time|max_wait_time_with_no_agent|"
                "max_wait_time_with_no_agent_time_reached")
AGENT_KEYS = ("type", "contact", "max_no_answer", "wrap_up_time", "reject_delay_time",
              "busy_delay_time", "no_answer_delay_time")


class FakeSwitch:
    """mod_callcenter's queue/agent/tier tables behind ``callcenter_config``."""

    def __init__(self) -> None:
        self.queues = {"support@default": "support@default|longest-idle-agent|local_stream://moh|"
                                          "system|false|300|true|false|60|false|0|0|5"}
        self.agents: dict[str, dict[str, str]] = {}
        self.tiers: dict[tuple[str, str], tuple[str, str]] = {}
        self.sent: list[str] = []
        self.refuse: dict[str, int] = {}  # command prefix -> times still to refuse

    def add_agent(self, name: str, **values: str) -> None:
        self.agents[name] = {"type": "callback", "contact": "user/x", "max_no_answer": "3",
                             "wrap_up_time": "10", "reject_delay_time": "10",
                             "busy_delay_time": "60", "no_answer_delay_time": "60", **values}

    def __call__(self, command: str) -> str:
        self.sent.append(command)
        for prefix, times in self.refuse.items():
            if command.startswith(prefix) and times:
                self.refuse[prefix] = times - 1
                raise RuntimeError("-ERR refused")
        words = command.split()[1:]
        match words:
            case ["queue", "list"]:
                return "\n".join([QUEUE_HEADER, *self.queues.values(), "+OK\n"])
            case ["agent", "list"]:
                rows = ["|".join([n, *(a[k] for k in AGENT_KEYS)]) for n, a in self.agents.items()]
                return "\n".join(["name|" + "|".join(AGENT_KEYS), *rows, "+OK\n"])
            case ["tier", "list"]:
                rows = [f"{q}|{a}|Ready|{lv}|{pos}" for (q, a), (lv, pos) in self.tiers.items()]
                return "\n".join(["queue|agent|state|level|position", *rows, "+OK\n"])
            case ["agent", "add", name, kind]:
                self.add_agent(name, type=kind)
            case ["agent", "set", key, name, value]:
                self.agents[name][key] = value
            case ["agent", "del", name]:
                self.agents.pop(name)
            case ["tier", "add", q, a, level, position]:
                self.tiers[(q, a)] = (level, position)
            case ["tier", "set", key, q, a, value]:
                level, position = self.tiers[(q, a)]
                self.tiers[(q, a)] = (value, position) if key == "level" else (level, value)
            case ["tier", "del", q, a]:
                self.tiers.pop((q, a))
            case ["queue", ("load" | "reload" | "unload"), _name]:
                pass
            case _:
                return "-ERR Invalid!\n"
        return "+OK\n"


def _provisioner(switch: FakeSwitch, **kwargs) -> Provisioner:
    return Provisioner(switch, command_delay=0, retry_first=0.01, debounce=0.01, **kwargs)


def _seed(wrap_up: int = 5) -> None:
    admin.create(Queue, {"name": "support@default"})
    admin.create(AgentConfig, {"agent_id": "1000@default", "contact": "user/1000@default",
                               "wrap_up_time": wrap_up})
    admin.create(Tier, {"queue": "support@default", "agent": "1000@default", "level": 2})


def test_flag_is_opt_in():
    assert not enabled_from_env({})
    assert not enabled_from_env({"CTI_PROVISION": "0"})
    assert enabled_from_env({"CTI_PROVISION": "1"})


def test_empty_store_never_empties_the_switch(db, caplog):  # noqa: F811
    switch = FakeSwitch()
    switch.add_agent("1000@default")
    prov = _provisioner(switch)
    with caplog.at_level(logging.ERROR):
        assert prov.run_once({"connect"})
    assert switch.sent == [] and "1000@default" in switch.agents
    assert prov.refused == 1 and "no routing data" in prov.status()["last_error"]
    assert "refused" in caplog.text and "untouched" in caplog.text


def test_drift_is_corrected_and_logged(db, caplog):  # noqa: F811
    _seed()
    switch = FakeSwitch()
    switch.add_agent("1000@default", wrap_up_time="30")
    switch.add_agent("1002@default")
    prov = _provisioner(switch)
    with caplog.at_level(logging.WARNING):
        assert prov.run_once({"connect"})
    assert switch.agents["1000@default"]["wrap_up_time"] == "5"
    assert switch.agents["1000@default"]["contact"] == "user/1000@default"
    assert "1002@default" not in switch.agents
    assert switch.tiers == {("support@default", "1000@default"): ("2", "1")}
    assert "drift, correcting: callcenter_config agent del 1002@default" in caplog.text
    # a second pass finds nothing left to do
    sent = len(switch.sent)
    assert prov.run_once({"periodic"})
    assert len(switch.sent) == sent + 3  # only the three list commands


def test_tier_edits_make_the_tier_picture_reread(db):  # noqa: F811
    _seed()
    switch, reread = FakeSwitch(), []
    switch.add_agent("1000@default", contact="user/1000@default", wrap_up_time="5")
    prov = _provisioner(switch, on_tiers_changed=lambda: reread.append(1))
    assert prov.run_once({"api"}) and reread == [1]
    assert prov.run_once({"api"}) and reread == [1]  # nothing changed, nothing re-read


def test_refused_command_is_reported_then_retried_until_done(db):  # noqa: F811
    _seed()
    switch = FakeSwitch()
    switch.refuse["callcenter_config tier add"] = 3  # more than one pass's retries
    prov = _provisioner(switch)
    assert not prov.run_once({"api"})
    status = prov.status()
    assert status["commands_failed"] == 1
    assert status["failures"][0]["command"].startswith("callcenter_config tier add support@default")
    assert not switch.tiers
    assert prov.run_once({"retry"})
    assert switch.tiers and prov.status()["failures"] == []


def test_loop_debounces_edits_and_retries_with_backoff(db):  # noqa: F811
    _seed()
    switch = FakeSwitch()
    switch.refuse["callcenter_config agent add"] = 4
    prov = _provisioner(switch, interval=None)
    prov.start()
    try:
        for _ in range(5):
            prov.request("api")
        assert prov.idle.wait(timeout=5)
    finally:
        prov.stop()
    assert "1000@default" in switch.agents
    assert prov.passes == 2  # one debounced pass that failed, one retry
    # the refused add also failed the settings that depend on it; all were redone
    assert prov.commands_failed >= 1 and prov.status()["failures"] == []


@pytest.mark.parametrize("broken", ["callcenter_config agent list"])
def test_unreadable_switch_is_a_failed_pass(db, broken):  # noqa: F811
    _seed()
    switch = FakeSwitch()
    switch.refuse[broken] = 1
    prov = _provisioner(switch)
    assert not prov.run_once({"connect"})
    assert "refused" in prov.status()["last_error"]
