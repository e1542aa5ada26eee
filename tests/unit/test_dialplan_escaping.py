"""Hostile values from callers and from the database cannot break or steer
a rendered document."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cti_middleware.dialplan import render
from cti_middleware.dialplan.route import Settings, route
from cti_middleware.store import routing
from cti_middleware.store.validate import StoreError
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.test_dialplan_golden import OPEN
from tests.unit.test_dialplan_support import VIP, routing_db, sip_dialplan_request  # noqa: F401

HOSTILE = [
    'a"b',
    "a'b",
    "<x>&amp;",
    "${system(rm -rf /)}",
    "$${domain}",
    "x\nEvent-Name: HEARTBEAT",
    "a,b|c{d}[e]",
    "a\\b",
    "\u2028line",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_fs_text_is_inert(value):
    text = render.fs_text(value)
    for bad in ("$", "{", "}", ",", "|", "\n", "\r", "'", '"', "\\", "<", ">", "[", "]", "\u2028"):
        assert bad not in text


@pytest.mark.parametrize("value", HOSTILE + ["", "a b", 3.5, None])
def test_fs_token_rejects(value):
    with pytest.raises(render.UnsafeValue):
        render.fs_token(value)


def test_fs_token_accepts_identifiers():
    for value in ("support@default", "/snd/zh/menu.wav", "+8613800138000", "1000", 7):
        assert render.fs_token(value) == str(value)


def test_regex_literal_quotes_metacharacters():
    assert render.regex_literal("4008.123") == r"^4008\.123$"
    with pytest.raises(render.UnsafeValue):
        render.regex_literal("a)|(.*")


@pytest.mark.usefixtures("routing_db")
def test_hostile_customer_name_in_dialplan():
    form = sip_dialplan_request(number=VIP)
    form["Caller-Caller-ID-Name"] = 'Mallory"/><action application="bridge" data="x'
    step = route(form, settings=Settings(), now=OPEN)
    text = render.render_dialplan(form, step.context())
    root = ET.fromstring(text.encode())
    names = [a.get("data") for a in root.iter("action") if (a.get("data") or "").startswith("cti_customer_name=")]
    assert names == ["cti_customer_name=李四 VIP jailbreak Event-Name: HEARTBEAT"]
    assert "bridge" not in [a.get("application") for a in root.iter("action")]
    assert "${jailbreak}" not in text


@pytest.mark.usefixtures("routing_db")
def test_hostile_context_and_destination_are_refused():
    form = sip_dialplan_request(context='default"><x y="')
    step = route(form, settings=Settings(), now=OPEN)
    with pytest.raises(render.UnsafeValue):
        render.render_dialplan(form, step.context())


@pytest.mark.usefixtures("routing_db")
@pytest.mark.parametrize(
    "model, fields",
    [
        (routing.Queue, {"name": "support@default queue load x"}),
        (routing.Queue, {"name": "q@d", "moh_sound": "${system(id)} x"}),
        (routing.AgentConfig, {"agent_id": "9@d", "contact": "null/x|y"}),
        (routing.AgentConfig, {"agent_id": "9@d", "contact": "null/x y"}),
        (routing.AgentConfig, {"agent_id": "9@d\n", "contact": "null/x"}),
        (routing.EntryPoint, {"dnis": "1 2", "queue": 1}),
        (routing.BlacklistEntry, {"number": "abc"}),
        (routing.BusinessHours, {"calendar": "c", "weekday": 1, "opens": "18:00", "closes": "08:00"}),
    ],
)
def test_store_refuses_unsafe_rows(model, fields):
    with pytest.raises(StoreError):
        model.create(**fields)


@pytest.mark.usefixtures("routing_db")
def test_render_refuses_unsafe_row_written_around_validation():
    routing.AgentConfig.update(contact="null/x'y").where(routing.AgentConfig.agent_id == "1000@default").execute()
    queues, agents, tiers = routing.provisioning_snapshot()
    with pytest.raises(render.UnsafeValue):
        render.render_callcenter_conf(queues, agents, tiers)
