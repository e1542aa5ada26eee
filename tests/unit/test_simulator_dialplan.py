"""The simulator's dialplan: extension selection, the xml_curl form, and running actions.

In-process: the simulator with a stand-in xml_curl server that answers the
middleware's golden documents, so what runs is exactly what the templates emit.
"""

from __future__ import annotations

import os
import socket
import urllib.parse
from pathlib import Path

import gevent
import pytest

from cti_middleware.simulator import SimConfig, Simulator
from cti_middleware.simulator.channels import Profile
from cti_middleware.simulator.dialplan import expand, select, split_args
from cti_middleware.simulator.entry import DialplanEntry
from cti_middleware.simulator.xml_fetch import XmlCurlClient, is_not_found

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CAPTURES = Path(os.environ.get("CTI_CAPTURES", "/work/shared/captures"))
NOT_FOUND = (GOLDEN / "not_found.xml").read_text()


def _profile(dest: str, context: str = "default") -> Profile:
    return Profile("inbound", "inbound", "Z", "13800138000", None, None, dest, "u", "loopback/x-b",
                   "mod_loopback", context=context)


class FakeServer:
    """Answers (context, destination) from a table, "not found" otherwise; keeps the forms."""

    def __init__(self, docs: dict[tuple[str, str], str]) -> None:
        self.docs = docs
        self.forms: list[dict[str, str]] = []
        self.keys: list[list[str]] = []

    def fetch(self, params: list[tuple[str, str]]) -> str | None:
        form = dict(params)
        self.forms.append(form)
        self.keys.append([k for k, _ in params])
        doc = self.docs.get((form["Hunt-Context"], form["Hunt-Destination-Number"]))
        return None if doc is None or is_not_found(doc) else doc


def _sim(docs: dict[tuple[str, str], str] | None) -> tuple[Simulator, FakeServer | None, list[dict]]:
    sim = Simulator(SimConfig.default(time_scale=0.02)).start()
    server = None
    if docs is not None:
        server = FakeServer(docs)
        sim.dialplan.client = server  # type: ignore[assignment]
        sim.commands.originator.cc = DialplanEntry(sim.callcenter, sim.dialplan)  # type: ignore[assignment]
    events: list[dict] = []
    sim.observe(lambda headers, _body: events.append(dict(headers)))
    return sim, server, events


def _wait(predicate, timeout: float = 5.0) -> None:
    with gevent.Timeout(timeout):
        while not predicate():
            gevent.sleep(0.01)


def _golden(name: str) -> str:
    return (GOLDEN / name).read_text()


# -- selection ---------------------------------------------------------------------
def test_select_picks_the_matching_extension_with_captures_and_anti_actions() -> None:
    doc = """<document type="freeswitch/xml"><section name="dialplan"><context name="default">
      <extension name="other"><condition field="destination_number" expression="^2000$">
        <action application="park"/></condition></extension>
      <extension name="agents"><condition field="destination_number" expression="^(10[01][0-9])$">
        <action application="bridge" data="user/$1@default"/></condition></extension>
      <extension name="vip"><condition field="${cti_vip}" expression="^true$">
        <action application="set" data="x=1"/><anti-action application="set" data="x=0"/>
      </condition></extension>
    </context></section></document>"""
    [ext] = select(doc, _profile("1001"), {})
    assert ext.name == "agents" and ext.actions[0].data == "user/1001@default"
    [ext] = select(doc, _profile("3000"), {"cti_vip": "false"})
    assert ext.name == "vip" and [a.data for a in ext.actions] == ["x=0"]
    assert select(doc, _profile("1001", context="cti"), {}) == []


def test_golden_queue_answer_selects_its_actions_in_order() -> None:
    [ext] = select(_golden("dialplan_queue_vip.xml"), _profile("menu-0", "cti"), {})
    assert [a.app for a in ext.actions][-3:] == ["set", "callcenter", "transfer"]
    assert ext.actions[-3].data == "cc_base_score=300"


def test_expand_and_split_args() -> None:
    assert expand("menu-${cti_menu_choice} XML cti", {"cti_menu_choice": "2"}) == "menu-2 XML cti"
    assert expand("${missing}x", {}) == "x"
    assert expand("/rec/${strftime(%Y)}/${uuid}.wav", {"uuid": "u"}, now=0).endswith("/1970/u.wav")
    args = split_args("1 1 3 5000 # a.wav b.wav v ^[12]$ 3000 'menu-9 XML cti'")
    assert len(args) == 11 and args[-1] == "menu-9 XML cti"


def test_not_found_document_is_recognised() -> None:
    assert is_not_found(NOT_FOUND)
    assert is_not_found("garbage")
    assert not is_not_found(_golden("dialplan_queue_vip.xml"))


# -- the request form --------------------------------------------------------------
def _recorded_dialplan_form() -> list[str]:
    text = (CAPTURES / "xml_curl" / "requests.txt").read_text()
    for block in text.split("POST /freeswitch/xml"):
        body = block.strip().split("\n\n", 1)
        if len(body) == 2 and "section=dialplan" in body[1] and "loopback" in body[1]:
            return [k for k, _ in urllib.parse.parse_qsl(body[1].strip(), keep_blank_values=True)]
    raise AssertionError("no loopback dialplan request recorded")


@pytest.mark.skipif(not CAPTURES.is_dir(), reason="reference recordings not available")
def test_hunt_form_has_the_recorded_fields_in_order() -> None:
    sim, server, _ = _sim({})
    try:
        sim.api("originate {origination_caller_id_number=13800138000,origination_caller_id_name=Z}"
                "loopback/support/default &park()")
        _wait(lambda: server.forms)
        recorded = [k for k in _recorded_dialplan_form() if not k.startswith("variable_")]
        ours = [k for k in server.keys[0] if not k.startswith("variable_")]
        assert ours == recorded
        form = server.forms[0]
        assert form["section"] == "dialplan" and form["Event-Name"] == "REQUEST_PARAMS"
        assert form["Hunt-Destination-Number"] == "support" and form["Channel-State"] == "CS_ROUTING"
        assert form["variable_origination_caller_id_number"] == "13800138000"
    finally:
        sim.stop()


# -- running what the middleware answers --------------------------------------------
def test_ivr_digits_drive_the_menus_and_set_variables_reach_the_next_request() -> None:
    menu = _golden("dialplan_entry_unknown_language_menu.xml")
    lang = _golden("dialplan_lang_cantonese.xml")
    queue = _golden("dialplan_queue_sticky_not_available.xml")
    sim, server, events = _sim({("default", "support"): menu, ("cti", "lang-2"): lang,
                                ("cti", "menu-0"): queue})
    try:
        sim.api("originate {origination_caller_id_number=13700001234,origination_caller_id_name=Z,"
                "sim_dtmf=20}loopback/support/default &park()")
        _wait(lambda: any(e.get("CC-Action") == "member-queue-start" for e in events))
        hunted = [(f["Hunt-Context"], f["Hunt-Destination-Number"]) for f in server.forms]
        assert hunted == [("default", "support"), ("cti", "lang-2"), ("cti", "menu-0")]
        assert server.forms[1]["variable_cti_lang_choice"] == "2"
        assert server.forms[2]["variable_cti_lang"] == "yue"
        assert server.forms[2]["Hunt-RDNIS"] == "lang-2"
        start = next(e for e in events if e.get("CC-Action") == "member-queue-start")
        assert start["CC-Queue"] == "support@default" and start["variable_cti_queue_tried"] == "true"
    finally:
        sim.stop()


def test_no_digits_takes_the_failure_branch() -> None:
    menu = _golden("dialplan_entry_known_customer.xml")
    sim, server, _ = _sim({("default", "support"): menu})
    try:
        sim.api("originate {origination_caller_id_number=13800138000,origination_caller_id_name=Z}"
                "loopback/support/default &park()")
        _wait(lambda: len(server.forms) >= 2, timeout=10)
        assert server.forms[1]["Hunt-Destination-Number"] == "menu-9"
        assert server.forms[1]["variable_read_result"] == "failure"
    finally:
        sim.stop()


def test_blacklisted_silent_reject_hangs_up_and_unknown_apps_are_skipped() -> None:
    doc = _golden("dialplan_entry_blacklisted_silent.xml").replace(
        '<action application="hangup"', '<action application="no_such_app"/><action application="hangup"')
    sim, _server, events = _sim({("default", "hotline"): doc})
    try:
        sim.api("originate {origination_caller_id_number=1,origination_caller_id_name=Z}"
                "loopback/hotline/default &park()")
        _wait(lambda: any(e["Event-Name"] == "CHANNEL_DESTROY" for e in events))
        hangups = [e for e in events if e["Event-Name"] == "CHANNEL_HANGUP"]
        assert hangups and hangups[0]["Hangup-Cause"] == "CALL_REJECTED"
        assert not [e for e in events if e.get("CC-Action") == "member-queue-start"]
    finally:
        sim.stop()


def test_unreachable_or_not_found_falls_back_to_the_built_in_queue() -> None:
    sim, server, events = _sim({})
    try:
        sim.api("originate {origination_caller_id_number=1,origination_caller_id_name=Z}"
                "loopback/support/default &park()")
        _wait(lambda: any(e.get("CC-Action") == "member-queue-start" for e in events))
        assert len(server.forms) == 1
        reply = sim.api("originate {origination_caller_id_number=1,origination_caller_id_name=Z}"
                        "loopback/nowhere/default &park()")
        assert reply == "-ERR NO_ROUTE_DESTINATION\n"  # routed before answer, as FreeSWITCH does
        _wait(lambda: any(e.get("Hangup-Cause") == "NO_ROUTE_DESTINATION" for e in events))
    finally:
        sim.stop()


# -- built-in dialplan: an agent's extension ------------------------------------------
def _bridged_to_1000(sim: Simulator, events: list[dict]) -> tuple[str, str]:
    sim.api("callcenter_config agent set status 1000@default Available")
    a_leg = sim.api("originate {origination_caller_id_number=13800138000,origination_caller_id_name=Z}"
                    "loopback/support/default &park()")[4:].strip()
    _wait(lambda: any(e["Event-Name"] == "CHANNEL_BRIDGE" for e in events))
    bridge = next(e for e in events if e["Event-Name"] == "CHANNEL_BRIDGE")
    return a_leg, bridge["Bridge-B-Unique-ID"]


def test_blind_transfer_to_an_agent_extension_rings_and_bridges_that_agent() -> None:
    sim, _server, events = _sim(None)
    try:
        a_leg, agent_leg = _bridged_to_1000(sim, events)
        mark = len(events)
        assert sim.api(f"uuid_transfer {agent_leg} -bleg 1001 XML default") == "+OK\n"
        _wait(lambda: sum(e["Event-Name"] == "CHANNEL_BRIDGE" for e in events) == 2)
        after = [(e["Event-Name"], e.get("CC-Action", ""), e.get("Channel-Name", "")) for e in events[mark:]]
        names = [n if not c else c for n, c, _ in after]
        assert names[:3] == ["CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_UNBRIDGE"]
        assert names.index("bridge-agent-end") < names.index("member-queue-end")
        tail = [(n, ch) for n, c, ch in after if n.startswith("CHANNEL_")][-3:]
        assert tail == [("CHANNEL_CREATE", "null/agent1001"), ("CHANNEL_ANSWER", "null/agent1001"),
                        ("CHANNEL_BRIDGE", "loopback/support-b")]
        bridge = events[-1] if events[-1]["Event-Name"] == "CHANNEL_BRIDGE" else None
        assert bridge is not None and bridge["Other-Leg-Channel-Name"] == "null/agent1001"
        assert sim.api(f"uuid_exists {a_leg}").strip() == "true"
    finally:
        sim.stop()


def test_blind_transfer_to_a_queue_extension_joins_the_queue() -> None:
    sim, _server, events = _sim(None)
    try:
        _a_leg, agent_leg = _bridged_to_1000(sim, events)
        assert sim.api(f"uuid_transfer {agent_leg} -bleg vip XML default") == "+OK\n"
        _wait(lambda: any(e.get("CC-Queue") == "vip@default" for e in events))
    finally:
        sim.stop()


def test_unreachable_server_means_fall_back() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = XmlCurlClient(f"http://127.0.0.1:{port}/freeswitch/xml", "secret", timeout=1.0)
    assert client.fetch([("section", "dialplan")]) is None


def test_failed_bridge_without_continue_on_fail_hangs_up_with_the_cause() -> None:
    doc = """<document type="freeswitch/xml"><section name="dialplan"><context name="default">
      <extension name="x"><condition field="destination_number" expression="^busy$">
        <action application="answer"/>
        <action application="bridge" data="error/user_busy"/>
        <action application="set" data="never=reached"/>
      </condition></extension></context></section></document>"""
    sim, _server, events = _sim({("default", "busy"): doc})
    try:
        sim.api("originate {origination_caller_id_number=1,origination_caller_id_name=Z}"
                "loopback/busy/default &park()")
        _wait(lambda: any(e["Event-Name"] == "CHANNEL_HANGUP" for e in events))
        hangup = next(e for e in events if e["Event-Name"] == "CHANNEL_HANGUP")
        assert hangup["Hangup-Cause"] == "USER_BUSY"
        assert hangup["variable_originate_disposition"] == "USER_BUSY"
        assert "variable_never" not in hangup
    finally:
        sim.stop()


def test_calls_into_other_contexts_hunt_too() -> None:
    config = SimConfig.default(time_scale=0.02)
    config.xml_curl = "http://127.0.0.1:9/freeswitch/xml"  # replaced by the stand-in below
    sim = Simulator(config).start()
    server = FakeServer({})
    sim.dialplan.client = server  # type: ignore[assignment]
    try:
        sim.api("originate {origination_caller_id_number=1,origination_caller_id_name=Z}"
                "loopback/2000/agents &park()")
        _wait(lambda: server.forms)
        assert server.forms[0]["Hunt-Context"] == "agents"
        _wait(lambda: [c.application for c in sim.channels] == ["park", "park"])  # built-in fallback
    finally:
        sim.stop()
