"""mod_callcenter follows the database: drift fixed at connect, REST edits applied live.

Real simulator, real middleware process started with CTI_PROVISION=1; what the
switch holds is read back over its own event socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from cti_middleware import routing_admin as admin
from cti_middleware.dialplan.provision import parse_table
from cti_middleware.store import db as store_db
from cti_middleware.store.routing import AgentConfig, Queue, Tier
from cti_middleware.store.tokens import create_token
from tests.harness import EslTestClient, Proc, start_middleware

SIM_CONTACT = "[leg_timeout=10,null_auto_answer_delay=1000]null/agent1000"
PASS_DONE = r"mod_callcenter provisioning \(api\): \d+ commands, 0 failed"


def _open(db_url: str) -> None:
    import cti_middleware.api  # noqa: F401  (every table joins the schema)

    store_db.open_database(db_url)
    store_db.create_schema()


def _token(scopes: list[str]) -> dict[str, str]:
    _, plain = create_token("ops", scopes)
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def routing_db(db_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The simulator's two queues and agent 1000, but with wrap-up 7 instead of its 3 and
    without agents 1001/1002: drift the middleware must find at connect."""
    _open(db_url)
    admin.create(Queue, {"name": "support@default", "moh_sound": "tone_stream://%(2000,4000,440,480);loops=-1"})
    admin.create(Queue, {"name": "vip@default", "strategy": "ring-all",
                         "moh_sound": "tone_stream://%(2000,4000,440,480);loops=-1",
                         "tier_rule_wait_second": 0, "tier_rule_wait_multiply_level": False,
                         "tier_rule_no_agent_no_wait": True})
    admin.create(AgentConfig, {"agent_id": "1000@default", "contact": SIM_CONTACT,
                               "wrap_up_time": 7, "reject_delay_time": 5, "busy_delay_time": 5,
                               "no_answer_delay_time": 5})
    admin.create(Tier, {"queue": "support@default", "agent": "1000@default"})
    admin.create(Tier, {"queue": "vip@default", "agent": "1000@default"})
    headers = _token(["data:read", "data:write"])
    store_db.close_database()
    yield db_url, headers


def _agents(esl: EslTestClient) -> dict[str, dict[str, str]]:
    return {r["name"]: r for r in parse_table(esl.api("callcenter_config agent list"), "contact")}


def _tiers(esl: EslTestClient) -> set[tuple[str, str, str, str]]:
    return {(r["queue"], r["agent"], r["level"], r["position"])
            for r in parse_table(esl.api("callcenter_config tier list"))}


def _start(simulator: tuple[Proc, int], db_url: str, tmp_path: Path,
           provision: bool) -> tuple[Proc, str]:
    env = {"CTI_PROVISION": "1", "CTI_PROVISION_DEBOUNCE": "0.1"} if provision else {}
    return start_middleware(simulator[1], db_url, log_path=tmp_path / "middleware.log",
                            extra_env=env)


def test_switch_follows_the_database(simulator, routing_db, esl, tmp_path):
    db_url, headers = routing_db
    assert {"1001@default", "1002@default"} <= set(_agents(esl))
    proc, url = _start(simulator, db_url, tmp_path, provision=True)
    try:
        # drift at connect: corrected and said so
        proc.wait_for(r"drift, correcting: callcenter_config agent set wrap_up_time 1000@default 7")
        proc.wait_for(r"mod_callcenter provisioning \(connect\): \d+ commands, 0 failed")
        agents = _agents(esl)
        assert set(agents) == {"1000@default"}
        assert agents["1000@default"]["wrap_up_time"] == "7"
        assert _tiers(esl) == {("support@default", "1000@default", "1", "1"),
                               ("vip@default", "1000@default", "1", "1")}

        # create through REST: on the switch without restarting anything
        r = requests.post(f"{url}/api/agent-configs", headers=headers, timeout=10, json={
            "agent_id": "1003@default", "contact": "null/agent1003", "wrap_up_time": 4})
        assert r.status_code == 201, r.text
        agent_id = r.json()["id"]
        proc.wait_for(PASS_DONE)
        r = requests.post(f"{url}/api/tiers", headers=headers, timeout=10, json={
            "queue": "support@default", "agent": "1003@default", "level": 2, "position": 3})
        assert r.status_code == 201, r.text
        proc.wait_for(PASS_DONE)
        agents = _agents(esl)
        assert agents["1003@default"]["contact"] == "null/agent1003"
        assert agents["1003@default"]["wrap_up_time"] == "4"
        assert ("support@default", "1003@default", "2", "3") in _tiers(esl)

        # change: the switch reports the new value
        r = requests.patch(f"{url}/api/agent-configs/{agent_id}", headers=headers, timeout=10,
                           json={"wrap_up_time": 15})
        assert r.status_code == 200, r.text
        proc.wait_for(PASS_DONE)
        assert _agents(esl)["1003@default"]["wrap_up_time"] == "15"

        # delete: agent and its tier are gone from the switch
        r = requests.delete(f"{url}/api/agent-configs/{agent_id}", headers=headers, timeout=10)
        assert r.status_code == 204
        proc.wait_for(PASS_DONE)
        assert "1003@default" not in _agents(esl)
        assert not any(agent == "1003@default" for _q, agent, _l, _p in _tiers(esl))

        # drift made on the switch behind our back: corrected on demand and logged as drift
        assert esl.api("callcenter_config agent set wrap_up_time 1000@default 99").startswith("+OK")
        r = requests.post(f"{url}/api/provisioning/sync", headers=headers, timeout=10)
        assert r.status_code == 202
        proc.wait_for(r"drift, correcting: callcenter_config agent set wrap_up_time 1000@default 7")
        proc.wait_for(r"mod_callcenter provisioning \(manual\): 1 commands, 0 failed")
        assert _agents(esl)["1000@default"]["wrap_up_time"] == "7"

        # a queue parameter change reloads the queue
        queues = requests.get(f"{url}/api/queues", headers=headers, timeout=10).json()["items"]
        support = next(q for q in queues if q["name"] == "support@default")
        r = requests.patch(f"{url}/api/queues/{support['id']}", headers=headers, timeout=10,
                           json={"max_wait_time": 90})
        assert r.status_code == 200 and r.json()["max_wait_time"] == 90
        proc.wait_for(r"mod_callcenter change: callcenter_config queue reload support@default")
        proc.wait_for(PASS_DONE)

        status = requests.get(f"{url}/api/provisioning", headers=headers, timeout=10).json()
        assert status["enabled"] and status["commands_failed"] == 0 and status["failures"] == []
    finally:
        proc.stop()


def test_empty_database_never_empties_the_switch(simulator, db_url, esl, tmp_path):
    _open(db_url)
    store_db.close_database()
    before = set(_agents(esl))
    proc, _url = _start(simulator, db_url, tmp_path, provision=True)
    try:
        proc.wait_for(r"provisioning refused \(connect\): the database holds no queues")
        assert set(_agents(esl)) == before
    finally:
        proc.stop()


def test_provisioning_is_off_by_default(simulator, routing_db, esl, tmp_path):
    db_url, headers = routing_db
    proc, url = _start(simulator, db_url, tmp_path, provision=False)
    try:
        proc.wait_for(r"resynced from FreeSWITCH")
        r = requests.post(f"{url}/api/tiers", headers=headers, timeout=10, json={
            "queue": "vip@default", "agent": "1000@default"})
        assert r.status_code == 409  # already in the database; nothing else changes
        assert requests.get(f"{url}/api/provisioning", headers=headers,
                            timeout=10).json() == {"enabled": False}
        agents = _agents(esl)
        assert {"1001@default", "1002@default"} <= set(agents)
        assert agents["1000@default"]["wrap_up_time"] == "3"
    finally:
        proc.stop()
