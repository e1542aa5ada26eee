"""Every template and scenario rendered against golden files, on SQLite and
PostgreSQL; every document must be well-formed and follow the flow rules."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from cti_middleware.dialplan import render
from cti_middleware.dialplan.route import Settings, route
from cti_middleware.store import routing
from cti_middleware.store.models import CallRecord, WorkOrder
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.test_dialplan_support import (
    BLOCKED,
    KNOWN,
    UNKNOWN,
    VIP,
    golden,
    routing_db,  # noqa: F401
    sip_dialplan_request,
)

# Monday 2026-11-23 10:00 in Shanghai (open) and 22:00 (closed).
OPEN = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CLOSED = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
UUID = "2f897aea-a6bf-452e-94b3-002d733be21b"
SETTINGS = Settings(sounds_dir="/snd", recordings_dir="/rec")


def _status(available: set[str]):
    return lambda agent: "Available" if agent in available else "On Break"


def _render(form, now=OPEN, available=frozenset()):
    step = route(form, settings=SETTINGS, agent_status=_status(set(available)), now=now)
    assert step is not None
    text = render.render_dialplan(form, step.context())
    ET.fromstring(text.encode())  # well-formed
    return step, text


def _actions(text: str) -> list[tuple[str, str | None]]:
    root = ET.fromstring(text.encode())
    return [(a.get("application"), a.get("data")) for a in root.iter("action")]


SCENARIOS = {
    # name: (form changes, now, available agents)
    "entry_unknown_language_menu": ({"number": UNKNOWN}, OPEN, ()),
    "entry_known_customer": ({"number": KNOWN}, OPEN, ()),
    "entry_blacklisted": ({"number": BLOCKED}, OPEN, ()),
    "entry_blacklisted_silent": ({"number": BLOCKED, "dest": "hotline"}, OPEN, ()),
    "entry_after_hours": ({"number": KNOWN}, CLOSED, ()),
    "entry_direct_queue": ({"number": UNKNOWN, "dest": "hotline"}, CLOSED, ()),
    "lang_cantonese": ({"number": UNKNOWN, "dest": "lang-2", "context": "cti", "cti_dnis": "support"}, OPEN, ()),
    "menu_self_service": ({"dest": "menu-1", "context": "cti", "cti_dnis": "support", "cti_lang": "en"}, OPEN, ()),
    "menu_voicemail": ({"dest": "menu-2", "context": "cti", "cti_dnis": "support"}, OPEN, ()),
    "queue_vip": ({"number": VIP, "dest": "menu-0", "context": "cti", "cti_dnis": "support"}, OPEN, ()),
    "queue_sticky_available": ({"number": KNOWN, "dest": "menu-0", "context": "cti", "cti_dnis": "support"},
                               OPEN, ("1000@default",)),
    "queue_sticky_not_available": ({"number": KNOWN, "dest": "menu-0", "context": "cti", "cti_dnis": "support"},
                                   OPEN, ("1001@default",)),
    "after_queue_survey": ({"dest": "after-queue", "context": "cti", "cti_dnis": "support",
                                "cc_cause": "answered", "cc_queue": "support@default"}, OPEN, ()),
    "after_queue_timeout_callback": ({"dest": "after-queue", "context": "cti", "cti_dnis": "support",
                                          "cc_cause": "cancel", "cc_cancel_reason": "TIMEOUT",
                                          "cc_queue": "support@default"}, OPEN, ()),
    "after_sticky_no_answer": ({"number": KNOWN, "dest": "after-queue", "context": "cti", "cti_dnis": "support",
                                    "cti_agent": "1000@default", "cti_sticky_tried": "true",
                                    "originate_disposition": "NO_ANSWER"}, OPEN, ("1000@default",)),
    "agent_intro_queue": ({"dest": "agent-intro", "context": "cti", "cti_dnis": "support",
                               "cc_agent": "1003@default", "cc_queue": "support@default",
                               "cti_queue": "support@default"}, OPEN, ()),
    "agent_intro_sticky": ({"dest": "agent-intro", "context": "cti", "cti_dnis": "support", "cti_lang": "yue",
                                "cti_agent": "1000@default", "cti_queue": "support@default"}, OPEN, ()),
    "outbound_callback": ({"dest": "13800138000", "context": "cti-outbound", "cti_dnis": "support"}, OPEN, ()),
    "outbound_internal": ({"dest": "1003", "context": "cti-outbound"}, OPEN, ()),
}


@pytest.mark.usefixtures("routing_db")
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden_dialplan(name):
    changes, now, available = SCENARIOS[name]
    _step, text = _render(sip_dialplan_request(**changes), now, available)
    golden(f"dialplan_{name}", text)


@pytest.mark.usefixtures("routing_db")
def test_flow_rules():
    _, text = _render(sip_dialplan_request(number=BLOCKED))
    assert ("hangup", "CALL_REJECTED") in _actions(text)
    _, silent = _render(sip_dialplan_request(number=BLOCKED, dest="hotline"))
    assert _actions(silent) == [("set", "cti_route=blacklisted"), ("hangup", "CALL_REJECTED")]
    _, closed = _render(sip_dialplan_request(number=KNOWN), now=CLOSED)
    assert ("voicemail", "default default support") in _actions(closed)
    _, vip = _render(sip_dialplan_request(number=VIP, dest="menu-0", context="cti", cti_dnis="support"))
    assert ("callcenter", "vip@default") in _actions(vip)
    _, sticky = _render(
        sip_dialplan_request(number=KNOWN, dest="queue", context="cti", cti_dnis="support"),
        available={"1000@default"},
    )
    apps = [a for a, _ in _actions(sticky)]
    assert "bridge" in apps and "callcenter" not in apps
    _, busy = _render(sip_dialplan_request(number=KNOWN, dest="queue", context="cti", cti_dnis="support"))
    assert ("callcenter", "support@default") in _actions(busy)
    assert "bridge" not in [a for a, _ in _actions(busy)]


@pytest.mark.usefixtures("routing_db")
def test_vip_without_vip_queue_gets_base_score():
    ep = routing.EntryPoint.get(routing.EntryPoint.dnis == "support")
    ep.vip_queue = None
    ep.save()
    _, text = _render(sip_dialplan_request(number=VIP, dest="menu-0", context="cti", cti_dnis="support"))
    acts = _actions(text)
    assert ("set", "cc_base_score=300") in acts
    assert ("callcenter", "support@default") in acts


@pytest.mark.usefixtures("routing_db")
def test_holiday_closes_and_working_weekend_opens():
    routing.Holiday.create(calendar="office", day=OPEN.date(), name="festival")
    step, _ = _render(sip_dialplan_request(number=KNOWN))
    assert step.template == "after_hours.xml.j2"
    sunday = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    step, _ = _render(sip_dialplan_request(number=KNOWN), now=sunday)
    assert step.template == "after_hours.xml.j2"
    routing.Holiday.create(calendar="office", day=sunday.date(), opens="09:00", closes="18:00")
    step, _ = _render(sip_dialplan_request(number=KNOWN), now=sunday)
    assert step.template == "main_menu.xml.j2"


@pytest.mark.usefixtures("routing_db")
def test_expired_blacklist_entry_is_ignored():
    entry = routing.BlacklistEntry.get()
    entry.expires_at = datetime(2026, 1, 1, tzinfo=UTC)
    entry.save()
    step, _ = _render(sip_dialplan_request(number=BLOCKED))
    assert step.template != "blacklisted.xml.j2"


@pytest.mark.usefixtures("routing_db")
def test_survey_digit_is_stored_on_the_call_record():
    CallRecord.create(call_uuid=UUID, queue="support@default", agent="1000@default")
    _step, text = _render(sip_dialplan_request(dest="survey-4", context="cti", cti_dnis="support"))
    assert CallRecord.get(CallRecord.call_uuid == UUID).satisfaction == 4
    assert ("hangup", "NORMAL_CLEARING") in _actions(text)
    # no record yet (pipeline slower than the caller): one is created
    other = "3ff2c07a-d636-4755-b839-aff68086e365"
    _render(sip_dialplan_request(**{"Unique-ID": other, "dest": "survey-2", "context": "cti",
                                    "cti_dnis": "support"}))
    assert CallRecord.get(CallRecord.call_uuid == other).satisfaction == 2
    # out-of-range or missing digit stores nothing
    _render(sip_dialplan_request(dest="survey-9", context="cti", cti_dnis="support"))
    assert CallRecord.get(CallRecord.call_uuid == UUID).satisfaction == 4


@pytest.mark.usefixtures("routing_db")
def test_callback_request_opens_work_order():
    _, text = _render(sip_dialplan_request(number=KNOWN, dest="callback-1", context="cti",
                                           cti_dnis="support"))
    order = WorkOrder.get()
    assert order.type == "callback" and order.customer.name == "张三"
    assert order.call_uuid == UUID
    assert ("playback", "/snd/zh/callback_confirmed.wav") in _actions(text)


@pytest.mark.usefixtures("routing_db")
def test_unknown_numbers_and_steps_fall_back():
    assert route(sip_dialplan_request(dest="nowhere"), settings=SETTINGS) is None
    assert route(sip_dialplan_request(dest="menu-1", context="cti"), settings=SETTINGS) is None
    assert route(sip_dialplan_request(dest="shell", context="cti", cti_dnis="support"),
                 settings=SETTINGS) is None
    assert route(sip_dialplan_request(dest="1;rm", context="cti-outbound"), settings=SETTINGS) is None


@pytest.mark.usefixtures("routing_db")
def test_callcenter_conf_and_directory_golden():
    queues, agents, tiers = routing.provisioning_snapshot()
    conf = render.render_callcenter_conf(queues, agents, tiers, recordings_dir="/rec")
    ET.fromstring(conf.encode())
    golden("callcenter_conf", conf)
    users = [a for a in agents if a.phone_user]
    directory = render.render_directory("default", users)
    root = ET.fromstring(directory.encode())
    assert root.find(".//user").get("id") == "1003"
    golden("directory_1003", directory)


def test_not_found_golden():
    doc = render.not_found()
    root = ET.fromstring(doc.encode())
    assert root.find("./section/result").get("status") == "not found"
    golden("not_found", doc)
