"""Agent desktops and supervisors served entirely by a web-only worker: the first
picture comes from the ingest process's shared view, call control is forwarded
to the ingest process and answered with its acknowledgement."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.harness import CLI, Desktop, EslTestClient, Proc, start_middleware
from tests.integration.conftest import AGENT_PASSWORD

REDIS_URL = "redis://127.0.0.1:6379/0"


def _listed_status(esl: EslTestClient, agent: str) -> str:
    """The agent's status as ``callcenter_config agent list`` shows it."""
    lines = esl.api("callcenter_config agent list").strip().splitlines()
    header = lines[0].split("|")
    for line in lines[1:]:
        row = dict(zip(header, line.split("|")))
        if row.get("name") == agent:
            return row["status"]
    raise AssertionError(f"{agent} not listed: {lines}")


def test_worker_serves_state_rooms_and_call_control(
        simulator, seeded_db, esl: EslTestClient, tmp_path: Path):
    channel = f"cti-test-{uuid.uuid4()}"
    env = {"CTI_MESSAGE_QUEUE": REDIS_URL, "CTI_MESSAGE_QUEUE_CHANNEL": channel}
    ingest, _url = start_middleware(simulator[1], seeded_db, log_path=tmp_path / "ingest.log",
                                    extra_env=env)
    worker = Proc([CLI, "run", "--web-only"], log_path=tmp_path / "worker.log",
                  env={**env, "CTI_DATABASE_URL": seeded_db, "CTI_HTTP_HOST": "127.0.0.1",
                       "CTI_HTTP_PORT": "0"})
    desks: list[Desktop] = []
    try:
        ingest.wait_for(r"resynced from FreeSWITCH")
        worker_url = worker.wait_for(r"listening on (http://[\d.]+:\d+)/").group(1)
        for agent in ("1001@default", "1002@default"):
            assert esl.api(f"callcenter_config agent set status {agent} 'Logged Out'").startswith("+OK")
        assert esl.api("callcenter_config agent set status 1000@default Available").startswith("+OK")
        # The ingest process's own desktop sees the change first; the shared view follows it.
        local = Desktop(_url, "1000@default", AGENT_PASSWORD)
        desks.append(local)
        local.wait("agent.state", lambda d: d["status"] == "Available")
        for _attempt in range(50):
            probe = Desktop(worker_url, "1000@default", AGENT_PASSWORD)
            state = probe.wait("agent.state")
            probe.close()
            if state["status"] == "Available":
                break
        else:
            raise AssertionError("the shared view never showed 1000@default Available")

        desk = Desktop(worker_url, "1000@default", AGENT_PASSWORD)
        desks.append(desk)
        assert desk.wait("session")["agent"] == "1000@default"
        state = desk.wait("agent.state")
        assert (state["agent"], state["name"], state["status"]) == ("1000@default", "Alice", "Available")
        waiting = desk.wait("queue.waiting")
        assert waiting["queue"] == "support@default" and waiting["waiting"] == 0

        # Queue rooms joined on the worker: the new caller's count arrives there.
        reply = esl.api("originate {origination_caller_id_number=13800138000}"
                        "loopback/support/default &park()")
        assert reply.startswith("+OK "), reply
        desk.wait("queue.waiting", lambda d: d["queue"] == "support@default" and d["waiting"] == 1)
        offered = desk.wait("screen.pop", lambda d: d["stage"] == "offered")
        assert offered["agent"] == "1000@default"
        member = offered["call_uuid"]

        # Injection is refused by the ingest process's validation, and the call is untouched.
        refused = desk.call("call.hangup", {"uuid": f"{member}\nhupall"})
        assert refused["ok"] is False and refused["error"] == "invalid_argument", refused
        assert esl.api(f"uuid_exists {member}").strip() == "true"
        assert desk.call("call.hangup", {"uuid": member})["ok"] is True
        desk.wait("agent.state", lambda d: d["state"] != "In a queue call")

        ack = desk.call("agent.not_ready", {"reason": "lunch"})
        assert ack == {"ok": True, "status": "On Break", "reason": "lunch"}, ack
        assert _listed_status(esl, "1000@default") == "On Break"
        desk.wait("agent.state", lambda d: d["status"] == "On Break" and d.get("reason") == "lunch")
        assert desk.call("agent.not_ready", {"reason": "sleeping"})["error"] == "invalid_argument"

        # The client cannot choose who it acts as: the session's agent is used, so
        # an agent may not force another one.
        assert esl.api("callcenter_config agent set status 1001@default Available").startswith("+OK")
        spoofed = desk.call("agent.logout", {"agent": "1001@default",
                                             "actor": {"agent": "1001@default", "role": "admin"}})
        assert spoofed == {"ok": True, "status": "Logged Out"}, spoofed
        assert _listed_status(esl, "1000@default") == "Logged Out"
        assert _listed_status(esl, "1001@default") == "Available"

        sue = Desktop(worker_url, "9000@default", AGENT_PASSWORD, namespace="/supervisor")
        desks.append(sue)
        agents = {a["agent"]: a for a in sue.wait("supervisor.agents")}
        assert {"1000@default", "1001@default"} <= set(agents)
        forced = sue.call("supervisor.force", {"agent": "1001@default", "status": "On Break"})
        assert forced == {"ok": True, "status": "On Break"}, forced
        assert _listed_status(esl, "1001@default") == "On Break"
    finally:
        for desk in desks:
            desk.close()
        worker.stop()
        ingest.stop()
