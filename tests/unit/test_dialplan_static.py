"""render-config writes the served documents as FreeSWITCH conf files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cti_middleware.dialplan.static import write_static_config
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.test_dialplan_support import routing_db  # noqa: F401

REFERENCE = Path(__file__).resolve().parents[2] / "freeswitch"


@pytest.mark.usefixtures("routing_db")
def test_write_static_config(tmp_path):
    written = write_static_config(tmp_path)
    rel = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert rel == ["autoload_configs/callcenter.conf.xml", "directory/default/cti-agents.xml"]
    conf = ET.parse(tmp_path / "autoload_configs/callcenter.conf.xml").getroot()
    assert conf.tag == "configuration" and conf.get("name") == "callcenter.conf"
    assert [q.get("name") for q in conf.iter("queue")] == ["support@default", "vip@default"]
    assert len(list(conf.iter("tier"))) == 6
    assert all(a.get("status") is None for a in conf.iter("agent"))
    users = ET.parse(tmp_path / "directory/default/cti-agents.xml").getroot()
    assert users.tag == "include" and [u.get("id") for u in users] == ["1003"]
    assert not list(tmp_path.rglob("*.tmp"))


def test_reference_configuration_is_well_formed():
    files = sorted(REFERENCE.rglob("*.xml"))
    assert len(files) >= 7
    for path in files:
        ET.parse(path)
    esl = ET.parse(REFERENCE / "autoload_configs/event_socket.conf.xml").getroot()
    params = {p.get("name"): p.get("value") for p in esl.iter("param")}
    assert params["password"] != "ClueCon" and params["apply-inbound-acl"]
    assert params["listen-ip"] in ("127.0.0.1", "::1") or params["listen-ip"].startswith(("10.", "192.168."))


def test_click_to_call_originate():
    from cti_middleware.dialplan.outbound import originate_command
    from cti_middleware.store import routing

    agent = routing.AgentConfig(agent_id="1003@default", contact="[leg_timeout=10]sofia/internal/sip:agent1003@127.0.0.1:5090")
    assert originate_command(agent, "13800138000", dnis="support", callback_id=7) == (
        "originate {cti_agent=1003@default,origination_caller_id_number=13800138000,cti_route=outbound,"
        "cti_dnis=support,cti_callback_id=7}[leg_timeout=10]sofia/internal/sip:agent1003@127.0.0.1:5090"
        " 13800138000 XML cti-outbound"
    )
    braced = routing.AgentConfig(agent_id="1000@default", contact="{x=1}user/1000@default")
    assert originate_command(braced, "10086").startswith("originate {cti_agent=1000@default,")
    assert "x=1}user/1000@default 10086 XML" in originate_command(braced, "10086")
    from cti_middleware.store.validate import StoreError

    with pytest.raises(StoreError):
        originate_command(agent, "138 &park()")
