"""Shared data for the dialplan tests: the captured xml_curl requests and a
routing database shaped like the reference box (captures/freeswitch.xml)."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import pytest

from cti_middleware.store import routing
from cti_middleware.store.customers import add_customer
from cti_middleware.store.models import Customer

CAPTURES = Path(os.environ.get("CTI_CAPTURES", "/work/shared/captures"))
GOLDEN = Path(__file__).resolve().parents[1] / "golden"
MOH = "tone_stream://%(2000,4000,440,480);loops=-1"

KNOWN = "13800138000"  # 张三, served last by 1000@default
VIP = "13900139000"  # 李四, VIP
BLOCKED = "13700137000"
UNKNOWN = "13600136000"


def captured_requests() -> list[dict[str, str]]:
    """Every form FreeSWITCH posted in captures/xml_curl, decoded."""
    text = (CAPTURES / "xml_curl" / "requests.txt").read_text()
    forms = []
    for block in text.split("POST /freeswitch/xml\n")[1:]:
        head, body = block.split("\n\n", 1)
        length = int(next(h for h in head.splitlines() if h.startswith("Content-Length:")).split()[1])
        raw = body.encode()[:length]
        assert len(raw) == length
        forms.append(dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True)))
    return forms


def raw_requests() -> list[bytes]:
    text = (CAPTURES / "xml_curl" / "requests.txt").read_text()
    out = []
    for block in text.split("POST /freeswitch/xml\n")[1:]:
        head, body = block.split("\n\n", 1)
        length = int(next(h for h in head.splitlines() if h.startswith("Content-Length:")).split()[1])
        out.append(body.encode()[:length])
    return out


def sip_dialplan_request(**changes: str) -> dict[str, str]:
    """The captured SIP call's dialplan request with some fields replaced."""
    form = next(
        f for f in captured_requests()
        if f["section"] == "dialplan" and f["Caller-Source"] == "mod_sofia"
    )
    form = dict(form)
    number = changes.pop("number", None)
    if number is not None:
        for key in ("Caller-Caller-ID-Number", "Caller-ANI", "Hunt-Caller-ID-Number", "Hunt-ANI"):
            form[key] = number
    dest = changes.pop("dest", None)
    if dest is not None:
        form["Hunt-Destination-Number"] = form["Caller-Destination-Number"] = dest
    context = changes.pop("context", None)
    if context is not None:
        form["Hunt-Context"] = form["Caller-Context"] = context
    for key, value in changes.items():
        form[key if key[0].isupper() else "variable_" + key] = value
    return form


def seed_routing() -> None:
    support = routing.Queue.create(name="support@default", moh_sound=MOH, max_wait_time=300,
                                   timeout_action="callback", announce_sound="/snd/hold.wav",
                                   announce_frequency=30)
    vip = routing.Queue.create(name="vip@default", strategy="ring-all", moh_sound=MOH)
    agents = {}
    for n, contact in (
        ("1000", "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1000"),
        ("1001", "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1001"),
        ("1002", "[leg_timeout=4,null_enable_auto_answer=false]null/agent1002"),
        ("1003", "[leg_timeout=10]sofia/internal/sip:agent1003@127.0.0.1:5090"),
    ):
        agents[n] = routing.AgentConfig.create(
            agent_id=f"{n}@default", contact=contact, wrap_up_time=3, reject_delay_time=5,
            busy_delay_time=5, no_answer_delay_time=5, max_no_answer=1 if n == "1002" else 3,
        )
    agents["1003"].phone_user = "1003"
    agents["1003"].name = "Agent \"Zhao\" <1003>"
    agents["1003"].phone_a1_hash = "5e1f0c6cf2b8b5c4d5c3c1f5b0a1e2d3"
    agents["1003"].employee_no = "8003"
    agents["1003"].save()
    for agent, queue, level, position in (
        ("1000", support, 1, 1), ("1001", support, 1, 2), ("1002", support, 2, 1),
        ("1003", support, 1, 3), ("1000", vip, 1, 1), ("1001", vip, 1, 1),
    ):
        routing.Tier.create(agent=agents[agent], queue=queue, level=level, position=position)
    routing.EntryPoint.create(dnis="support", name="Support line", queue=support, vip_queue=vip,
                              calendar="office", voicemail_box="support",
                              caller_id_number="4008001234")
    routing.EntryPoint.create(dnis="hotline", queue=support, language_menu=False, main_menu=False,
                              blacklist_mode="reject", survey=False, sticky_agent=False)
    for day in range(5):
        routing.BusinessHours.create(calendar="office", weekday=day, opens="08:00", closes="20:00")
    routing.BusinessHours.create(calendar="office", weekday=5, opens="09:00", closes="12:00")
    routing.BlacklistEntry.create(number="+86 137-0013-7000", reason="abuse", added_by="1000@default")
    add_customer("张三", [KNOWN])
    Customer.update(last_agent="1000@default").where(Customer.name == "张三").execute()
    add_customer('李四 <VIP> & "${jailbreak}"\nEvent-Name: HEARTBEAT', [VIP], vip=True)


@pytest.fixture
def routing_db(db):
    seed_routing()
    return db


def golden(name: str, text: str) -> None:
    """Compare ``text`` with tests/golden/<name>.xml (CTI_UPDATE_GOLDEN=1 rewrites)."""
    path = GOLDEN / f"{name}.xml"
    if os.environ.get("CTI_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    if not path.exists():
        pytest.fail(f"golden file {path} missing (run with CTI_UPDATE_GOLDEN=1)")
    assert text == path.read_text(), f"{name} differs from {path}"
