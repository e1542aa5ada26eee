"""The /freeswitch/xml endpoint, fed the requests FreeSWITCH really sent."""

from __future__ import annotations

import base64
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from flask import Flask

from cti_middleware.dialplan.xml_curl import client_allowed, xml_curl_bp
from cti_middleware.store import routing
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.test_dialplan_support import (  # noqa: F401
    captured_requests,
    raw_requests,
    routing_db,
)

SECRET = "s3cret-curl"
AUTH = "Basic " + base64.b64encode(b"freeswitch:" + SECRET.encode()).decode()


@pytest.fixture
def client():
    app = Flask(__name__)
    app.config.update(CTI_XML_CURL_SECRET=SECRET, CTI_XML_CURL_ALLOW="127.0.0.1/32, 10.0.0.0/8")
    app.extensions["cti_agent_status"] = lambda agent: "Available"
    app.register_blueprint(xml_curl_bp)
    return app.test_client()


def _post(client, body: bytes, auth=AUTH, addr="127.0.0.1", query=""):
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "freeswitch-xml/1.0"}
    if auth:
        headers["Authorization"] = auth
    return client.post("/freeswitch/xml" + query, data=body, headers=headers,
                       environ_base={"REMOTE_ADDR": addr})


def _status(resp) -> str | None:
    result = ET.fromstring(resp.data).find("./section/result")
    return None if result is None else result.get("status")


@pytest.mark.usefixtures("routing_db")
def test_every_captured_request_is_answered(client):
    forms = captured_requests()
    for raw, form in zip(raw_requests(), forms, strict=True):
        resp = _post(client, raw)
        assert resp.status_code == 200 and resp.mimetype == "text/xml"
        root = ET.fromstring(resp.data)
        served = (
            form["section"] == "dialplan"
            or (form["section"] == "configuration" and form["key_value"] == "callcenter.conf")
        )
        if served:
            assert _status(resp) is None, form.get("key_value")
            assert root.find("./section").get("name") == form["section"]
        else:
            assert _status(resp) == "not found", form.get("key_value")


@pytest.mark.usefixtures("routing_db")
def test_dialplan_answer_matches_the_channel(client):
    raw = next(r for r, f in zip(raw_requests(), captured_requests(), strict=True)
               if f["section"] == "dialplan" and f["Caller-Source"] == "mod_loopback")
    root = ET.fromstring(_post(client, raw).data)
    assert root.find("./section/context").get("name") == "default"
    cond = root.find(".//extension/condition")
    assert cond.get("field") == "destination_number" and cond.get("expression") == "^support$"


@pytest.mark.usefixtures("routing_db")
def test_directory_for_agent_phone(client):
    raw = next(r for r, f in zip(raw_requests(), captured_requests(), strict=True)
               if f["section"] == "directory")
    assert _status(_post(client, raw)) == "not found"  # 1000 has no phone account
    agent = routing.AgentConfig.get(routing.AgentConfig.agent_id == "1000@default")
    agent.phone_user = "1000"
    agent.save()
    root = ET.fromstring(_post(client, raw).data)
    assert root.find("./section/domain").get("name") == "default"
    assert root.find(".//user").get("id") == "1000"


def test_secret_required(client):
    body = b"section=configuration&key_value=callcenter.conf"
    assert _post(client, body, auth=None).status_code == 401
    bad = "Basic " + base64.b64encode(b"freeswitch:nope").decode()
    assert _post(client, body, auth=bad).status_code == 401
    wrong_user = "Basic " + base64.b64encode(b"admin:" + SECRET.encode()).decode()
    assert _post(client, body, auth=wrong_user).status_code == 401
    assert _post(client, b"section=nothing", auth=None,
                 query="?" + urllib.parse.urlencode({"secret": SECRET})).status_code == 200


def test_no_secret_configured_refuses_everything():
    app = Flask(__name__)
    app.register_blueprint(xml_curl_bp)
    resp = _post(app.test_client(), b"section=dialplan")
    assert resp.status_code == 401


def test_allow_list(client):
    assert _post(client, b"section=x", addr="192.0.2.9").status_code == 403
    resp = _post(client, b"section=x", addr="10.1.2.3")
    assert resp.status_code == 200 and _status(resp) == "not found"


def test_unknown_section_is_not_found(client):
    resp = _post(client, b"section=languages&key_value=zh")
    assert _status(resp) == "not found"


def test_failure_inside_a_handler_answers_not_found(client):
    # no database bound: the dialplan lookup fails, FreeSWITCH must still get a document
    resp = _post(client, b"section=dialplan&Hunt-Context=default&Hunt-Destination-Number=support")
    assert resp.status_code == 200 and _status(resp) == "not found"


@pytest.mark.parametrize(
    "addr, allow, ok",
    [
        ("127.0.0.1", "127.0.0.1/32", True),
        ("::ffff:127.0.0.1", "127.0.0.1/32", True),
        ("127.0.0.2", "127.0.0.1/32", False),
        ("::1", "127.0.0.1/32", False),
        ("fd00::2", "fd00::/8", True),
        ("garbage", "0.0.0.0/0", False),
        (None, "0.0.0.0/0", False),
    ],
)
def test_client_allowed(addr, allow, ok):
    assert client_allowed(addr, allow) is ok
