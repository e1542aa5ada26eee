"""The simulator's mod_callcenter configuration from mod_xml_curl, and its after-bridge dialplan.

In-process simulator with stand-in servers: one answers ``callcenter.conf`` from a
document the test edits, the other answers hunts from a small dialplan.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import gevent
import pytest

from cti_middleware.dialplan.provision import parse_table
from cti_middleware.simulator import SimConfig, Simulator
from cti_middleware.simulator.ccconf import (
    ConfigSource,
    parse,
    phone_of,
    queue_from_params,
)
from cti_middleware.simulator.entry import DialplanEntry
from cti_middleware.simulator.xml_fetch import config_params, is_not_found

CAPTURES = Path(os.environ.get("CTI_CAPTURES", "/work/shared/captures"))
MOH = "tone_stream://%(2000,4000,440,480);loops=-1"


def _conf(queues: dict[str, dict[str, str]], agents: str = "", tiers: str = "") -> str:
    body = "".join(
        f'<queue name="{name}">' + "".join(f'<param name="{k}" value="{v}"/>' for k, v in params.items())
        + "</queue>" for name, params in queues.items())
    return (f'<document type="freeswitch/xml"><section name="configuration">'
            f'<configuration name="callcenter.conf"><settings/><queues>{body}</queues>'
            f"<agents>{agents}</agents><tiers>{tiers}</tiers></configuration></section></document>")


class ConfServer:
    """Answers every configuration request with ``document``; keeps the forms."""

    def __init__(self, document: str | None) -> None:
        self.document = document
        self.forms: list[list[tuple[str, str]]] = []

    def fetch(self, params: list[tuple[str, str]], section: str = "dialplan") -> str | None:
        self.forms.append(list(params))
        if self.document is None or is_not_found(self.document, section):
            return None
        return self.document


def _sim(document: str | None, load: bool = True) -> tuple[Simulator, ConfServer]:
    sim = Simulator(SimConfig.default(time_scale=0.02)).start()
    server = ConfServer(document)
    sim.callcenter.conf_source = ConfigSource(server, "vm")  # type: ignore[arg-type]
    if load:
        sim.callcenter.load_module_config()
    return sim, server


def _queues(sim: Simulator) -> dict[str, dict[str, str]]:
    return {row["name"]: row for row in parse_table(sim.api("callcenter_config queue list"))}


def _wait(predicate, timeout: float = 5.0) -> None:
    with gevent.Timeout(timeout):
        while not predicate():
            gevent.sleep(0.01)


# -- the document ----------------------------------------------------------------------
def test_queue_params_override_the_module_defaults() -> None:
    queue = queue_from_params("q@default", {"strategy": "ring-all", "max-wait-time": "90",
                                            "tier-rules-apply": "true", "unknown-param": "x",
                                            "discard-abandoned-after": "soon"})
    assert (queue.strategy, queue.max_wait_time, queue.tier_rules_apply) == ("ring-all", 90, True)
    assert queue.discard_abandoned_after == 60  # not a number: the default stays
    assert queue.max_wait_time_with_no_agent_time_reached == 5


def test_a_document_without_callcenter_conf_is_no_configuration() -> None:
    assert parse("<document><section name='configuration'/></document>") is None
    assert parse("not xml") is None
    conf = parse(_conf({"a@default": {"strategy": "ring-all"}}))
    assert conf is not None and conf.queues == {"a@default": {"strategy": "ring-all"}}


def test_phone_behaviour_follows_the_contact() -> None:
    assert phone_of("[leg_timeout=4,null_enable_auto_answer=false]null/agent1002") == (None, 4.0)
    assert phone_of("[leg_timeout=10,null_auto_answer_delay=2500]null/agent1000") == (2.5, 10.0)
    assert phone_of("user/1000@default") == (1.0, 10.0)


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="reference recordings not available")
def test_config_request_is_the_recorded_one() -> None:
    recorded = (CAPTURES / "xml_curl" / "requests.txt").read_text().splitlines()
    line = next(row for row in recorded if "key_value=callcenter.conf" in row)
    assert urllib.parse.urlencode(config_params("vm", "callcenter.conf")) == line


# -- module load ---------------------------------------------------------------------------
def test_module_load_takes_queues_agents_and_tiers_from_the_server() -> None:
    agents = ('<agent name="1000@default" type="callback" contact="[leg_timeout=10]null/agent1000" '
              'wrap-up-time="9"/>'
              '<agent name="2000@default" type="callback" '
              'contact="[leg_timeout=4,null_enable_auto_answer=false]null/agent2000" status="Available"/>'
              '<agent name="bad@default" type="robot" contact="null/x"/>')
    tiers = ('<tier agent="2000@default" queue="sales@default" level="2" position="3"/>'
             '<tier agent="2000@default" queue="nowhere@default"/>')
    sim, server = _sim(_conf({"sales@default": {"strategy": "ring-all", "moh-sound": MOH}}, agents, tiers))
    try:
        assert list(_queues(sim)) == ["sales@default"]
        assert _queues(sim)["sales@default"]["strategy"] == "ring-all"
        assert set(sim.agents) == {"1000@default", "2000@default"}
        assert sim.agents["1000@default"].wrap_up_time == 9
        assert sim.agent_status("2000@default") == ("Available", "Waiting")
        assert sim.agents["2000@default"].answer_delay is None
        assert sim.api("callcenter_config tier list") == (
            "queue|agent|state|level|position\nsales@default|2000@default|Ready|2|3\n+OK\n")
        assert server.forms == [config_params("vm", "callcenter.conf")]
    finally:
        sim.stop()


def test_no_answer_from_the_server_keeps_the_built_in_configuration() -> None:
    sim, _server = _sim(None)
    try:
        assert set(_queues(sim)) == {"support@default", "vip@default"}
        assert "1002@default" in sim.agents
    finally:
        sim.stop()


def test_unreachable_server_at_start_keeps_the_built_in_configuration() -> None:
    config = SimConfig.default(time_scale=0.02)
    config.xml_curl, config.xml_curl_timeout = "http://127.0.0.1:9/freeswitch/xml", 1.0
    sim = Simulator(config).start()
    try:
        assert set(_queues(sim)) == {"support@default", "vip@default"}
    finally:
        sim.stop()


# -- callcenter_config queue load / reload / unload ----------------------------------------------
def test_queue_load_reload_unload_follow_the_server() -> None:
    support = {"strategy": "longest-idle-agent", "moh-sound": MOH}
    sim, server = _sim(_conf({"support@default": support}))
    try:
        assert sim.api("callcenter_config queue load sales@default") == "-ERR Invalid Queue not found!\n"
        server.document = _conf({"support@default": support, "sales@default": {"max-wait-time": "30"}})
        assert sim.api("callcenter_config queue load sales@default") == "+OK\n"
        assert _queues(sim)["sales@default"]["max_wait_time"] == "30"

        server.document = _conf({"support@default": support, "sales@default": {"max-wait-time": "45"}})
        assert sim.api("callcenter_config queue load sales@default") == "+OK\n"  # in memory: not re-read
        assert _queues(sim)["sales@default"]["max_wait_time"] == "30"
        assert sim.api("callcenter_config queue reload sales@default") == "+OK\n"
        assert _queues(sim)["sales@default"]["max_wait_time"] == "45"

        assert sim.api("callcenter_config queue unload sales@default") == "+OK\n"
        assert "sales@default" not in _queues(sim)
        server.document = _conf({"support@default": support})
        assert sim.api("callcenter_config queue reload sales@default") == "-ERR Invalid Queue not found!\n"
        assert sim.api("callcenter_config queue unload") == "-ERR Invalid!\n"
        assert list(_queues(sim)) == ["support@default"]
    finally:
        sim.stop()


def test_without_an_answer_a_reload_reads_the_built_in_file() -> None:
    sim, server = _sim(_conf({"support@default": {"max-wait-time": "20"}}))
    try:
        assert _queues(sim)["support@default"]["max_wait_time"] == "20"
        server.document = None  # server down: FreeSWITCH falls back to its own callcenter.conf
        assert sim.api("callcenter_config queue reload support@default") == "+OK\n"
        assert _queues(sim)["support@default"]["max_wait_time"] == "0"
        assert sim.api("callcenter_config queue load vip@default") == "+OK\n"
        assert sim.api("callcenter_config queue load sales@default") == "-ERR Invalid Queue not found!\n"
    finally:
        sim.stop()


def test_tier_add_loads_a_queue_only_the_server_knows() -> None:
    sim, server = _sim(_conf({"support@default": {}}), load=False)
    try:
        assert sim.api("callcenter_config tier add new@default 1000@default") == "-ERR Queue not found!\n"
        server.document = _conf({"new@default": {}})
        assert sim.api("callcenter_config tier add new@default 1000@default") == "+OK\n"
        assert "new@default" in _queues(sim)
    finally:
        sim.stop()


def test_without_a_server_the_queue_commands_change_nothing() -> None:
    sim = Simulator(SimConfig.default(time_scale=0.02)).start()
    try:
        assert sim.api("callcenter_config queue unload vip@default") == "+OK\n"
        assert sim.api("callcenter_config queue reload vip@default") == "+OK\n"
        assert sim.api("callcenter_config queue load sales@default") == "-ERR Invalid Queue not found!\n"
        assert set(_queues(sim)) == {"support@default", "vip@default"}
    finally:
        sim.stop()


# -- after the bridge ----------------------------------------------------------------------------
def _dialplan(context: str, extensions: dict[str, list[tuple[str, str]]]) -> str:
    body = "".join(
        f'<extension name="{dest}"><condition field="destination_number" expression="^{dest}$">'
        + "".join(f'<action application="{app}" data="{data}"/>' for app, data in actions)
        + "</condition></extension>" for dest, actions in extensions.items())
    return (f'<document type="freeswitch/xml"><section name="dialplan"><context name="{context}">'
            f"{body}</context></section></document>")


class HuntServer:
    def __init__(self, documents: dict[str, str]) -> None:
        self.documents = documents
        self.hunts: list[str] = []

    def fetch(self, params: list[tuple[str, str]], section: str = "dialplan") -> str | None:
        form = dict(params)
        self.hunts.append(form["Hunt-Destination-Number"])
        return self.documents.get(form["Hunt-Context"])


QUEUE_CALL = {
    "support": [("answer", ""), ("set", "hangup_after_bridge=false"),
                ("set", "bridge_pre_execute_app=execute_extension"),
                ("set", "bridge_pre_execute_data=agent-intro XML cti"),
                ("callcenter", "support@default"), ("transfer", "after-queue XML cti")],
}
CTI = {
    "agent-intro": [("set", "cti_intro_for=${cc_agent}"), ("playback", "intro.wav")],
    "after-queue": [("set", "cti_after=${cc_cause}"), ("park", "")],
}


def _queue_sim(queue_call: dict[str, list[tuple[str, str]]]) -> tuple[Simulator, HuntServer]:
    sim = Simulator(SimConfig.default(time_scale=0.02)).start()
    server = HuntServer({"default": _dialplan("default", queue_call), "cti": _dialplan("cti", CTI)})
    sim.dialplan.client = server  # type: ignore[assignment]
    sim.commands.originator.cc = DialplanEntry(sim.callcenter, sim.dialplan)  # type: ignore[assignment]
    sim.api("callcenter_config agent set status 1000@default Available")
    return sim, server


def _call(sim: Simulator) -> tuple[str, str]:
    reply = sim.api("originate {origination_caller_id_number=13800138000}loopback/support/default &park()")
    a_leg = reply[4:].strip()
    return a_leg, sim.api(f"uuid_getvar {a_leg} other_loopback_leg_uuid").strip()


def test_caller_continues_the_dialplan_when_the_agent_hangs_up() -> None:
    sim, server = _queue_sim(QUEUE_CALL)
    events: list[dict[str, str]] = []
    sim.observe(lambda headers, _body: events.append(dict(headers)))
    try:
        _a_leg, b_leg = _call(sim)
        member = sim.switch.get(b_leg)
        _wait(lambda: member.bridged is not None)
        agent = member.bridged
        # the intro runs on the caller's leg as the bridge starts, with the agent known
        _wait(lambda: member.variables.get("cti_intro_for") == "1000@default")
        assert member.bridged is agent and "agent-intro" in server.hunts
        sim.api(f"uuid_kill {agent.uuid}")
        _wait(lambda: member.variables.get("cti_after") == "answered")
        assert member.alive and not member.hanging_up and member.bridged is None
        assert not agent.alive
        actions = [e.get("CC-Action") for e in events if e.get("CC-Action")]
        assert actions[-3:-1] == ["bridge-agent-end", "member-queue-end"]
        assert sim.agent_status("1000@default") == ("Available", "Waiting")
        unbridge = [e for e in events if e["Event-Name"] == "CHANNEL_UNBRIDGE"]
        assert [e["Unique-ID"] for e in unbridge] == [b_leg]
        hangups = [e["Unique-ID"] for e in events if e["Event-Name"] == "CHANNEL_HANGUP"]
        assert hangups == [agent.uuid]
    finally:
        sim.stop()


def test_hangup_after_bridge_true_still_ends_the_call_with_the_agent() -> None:
    call = {"support": [("answer", ""), ("set", "hangup_after_bridge=true"),
                        ("callcenter", "support@default"), ("transfer", "after-queue XML cti")]}
    sim, server = _queue_sim(call)
    try:
        a_leg, b_leg = _call(sim)
        member = sim.switch.get(b_leg)
        _wait(lambda: member.bridged is not None)
        sim.api(f"uuid_kill {member.bridged.uuid}")
        _wait(lambda: sim.switch.get(b_leg) is None and sim.switch.get(a_leg) is None)
        assert "after-queue" not in server.hunts
    finally:
        sim.stop()
