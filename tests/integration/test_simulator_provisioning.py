"""Provisioning against a simulator that reads callcenter.conf from the middleware.

With ``--xml-curl`` the simulator's ``queue load|reload|unload`` fetch the
configuration the middleware serves from its database, as FreeSWITCH does, so a
queue created, changed or deleted through REST shows up in ``queue list`` without
a restart and the provisioner finds nothing left to do afterwards.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from cti_middleware.dialplan.provision import parse_table
from cti_middleware.store.tokens import create_token
from tests.integration.test_simulator_after_bridge import MOH, base_routing
from tests.integration.xml_curl_stack import XmlCurlSwitch

PROVISION = {"CTI_PROVISION": "1", "CTI_PROVISION_DEBOUNCE": "0.1"}
PASS_DONE = r"mod_callcenter provisioning \(api\): \d+ commands, 0 failed"


def _queues(switch: XmlCurlSwitch) -> dict[str, dict[str, str]]:
    return {row["name"]: row for row in parse_table(switch.control.api("callcenter_config queue list"))}


def _settled(url: str, headers: dict[str, str], after_passes: int, timeout: float = 20.0) -> dict[str, Any]:
    """The provisioning status once a pass after ``after_passes`` ran and none is pending."""
    deadline = time.monotonic() + timeout
    while True:
        status = requests.get(f"{url}/api/provisioning", headers=headers, timeout=10).json()
        if status["passes"] > after_passes and not status["pending"]:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def _quiet_pass(switch: XmlCurlSwitch, headers: dict[str, str]) -> dict[str, Any]:
    """A manual pass: it must find the switch equal to the database (no command at all)."""
    before = requests.get(f"{switch.url}/api/provisioning", headers=headers, timeout=10).json()
    assert requests.post(f"{switch.url}/api/provisioning/sync", headers=headers, timeout=10).status_code == 202
    after = _settled(switch.url, headers, before["passes"])
    assert after["commands_sent"] == before["commands_sent"], after
    assert after["commands_failed"] == 0 and after["failures"] == [] and after["last_error"] is None
    return after


def test_queues_follow_rest_edits_through_xml_curl(xml_curl_switch):
    headers: dict[str, str] = {}

    def setup() -> None:
        base_routing()
        _, plain = create_token("ops", ["data:read", "data:write"])
        headers["Authorization"] = f"Bearer {plain}"

    switch = xml_curl_switch(setup, PROVISION)
    # at connect the built-in queues were reloaded from the middleware's configuration
    switch.middleware.wait_for(r"mod_callcenter provisioning \(connect\): \d+ commands, 0 failed")
    _settled(switch.url, headers, 0)
    assert _queues(switch)["support@default"]["tier_rule_wait_second"] == "300"
    _quiet_pass(switch, headers)

    # a queue created through REST is loaded from the server, without a restart
    r = requests.post(f"{switch.url}/api/queues", headers=headers, timeout=10, json={
        "name": "sales@default", "moh_sound": MOH, "max_wait_time": 30})
    assert r.status_code == 201, r.text
    queue_id = r.json()["id"]
    switch.middleware.wait_for(r"mod_callcenter change: callcenter_config queue load sales@default")
    switch.middleware.wait_for(PASS_DONE)
    assert _queues(switch)["sales@default"]["max_wait_time"] == "30"

    # a changed parameter is re-read by queue reload
    r = requests.patch(f"{switch.url}/api/queues/{queue_id}", headers=headers, timeout=10,
                       json={"max_wait_time": 90})
    assert r.status_code == 200, r.text
    switch.middleware.wait_for(r"mod_callcenter change: callcenter_config queue reload sales@default")
    switch.middleware.wait_for(PASS_DONE)
    assert _queues(switch)["sales@default"]["max_wait_time"] == "90"

    # a deleted queue is really unloaded
    r = requests.delete(f"{switch.url}/api/queues/{queue_id}", headers=headers, timeout=10)
    assert r.status_code == 204, r.text
    switch.middleware.wait_for(r"mod_callcenter change: callcenter_config queue unload sales@default")
    switch.middleware.wait_for(PASS_DONE)
    assert "sales@default" not in _queues(switch)

    # and nothing is repeated: the next pass has nothing to do
    _quiet_pass(switch, headers)
    assert switch.control.api("callcenter_config queue load sales@default") == (
        "-ERR Invalid Queue not found!\n")
