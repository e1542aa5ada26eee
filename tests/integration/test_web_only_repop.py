"""A desktop that reconnects to a web-only worker in the middle of a call gets the
call's screen pop at once: the worker asks the ingest process, which holds the
calls, to pop them again, and the pop comes back through Redis like any other."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.harness import CLI, Desktop, EslTestClient, Proc, start_middleware
from tests.integration.conftest import AGENT_PASSWORD
from tests.integration.test_walking_skeleton import _only_1000_available, _originate

REDIS_URL = "redis://127.0.0.1:6379/0"


def _worker(env: dict[str, str], db_url: str, log_path: Path) -> Proc:
    return Proc([CLI, "run", "--web-only"], log_path=log_path,
                env={**env, "CTI_DATABASE_URL": db_url, "CTI_HTTP_HOST": "127.0.0.1",
                     "CTI_HTTP_PORT": "0"})


def test_reconnecting_desktop_is_popped_again_at_once(
        simulator, seeded_db, esl: EslTestClient, tmp_path: Path):
    env = {"CTI_MESSAGE_QUEUE": REDIS_URL, "CTI_MESSAGE_QUEUE_CHANNEL": f"cti-test-{uuid.uuid4()}"}
    ingest, _url = start_middleware(simulator[1], seeded_db, log_path=tmp_path / "ingest.log",
                                    extra_env=env)
    worker = _worker(env, seeded_db, tmp_path / "worker.log")
    desks: list[Desktop] = []
    try:
        ingest.wait_for(r"resynced from FreeSWITCH")
        worker_url = worker.wait_for(r"listening on (http://[\d.]+:\d+)/").group(1)
        desk = Desktop(worker_url, "1000@default", AGENT_PASSWORD)
        desks.append(desk)
        assert desk.wait("session")["agent"] == "1000@default"
        _only_1000_available(esl)
        desk.wait("agent.state", lambda d: d["status"] == "Available")

        _originate(esl, "13800138000", "张三")
        offered = desk.wait("screen.pop", lambda d: d["stage"] == "offered")
        member = offered["call_uuid"]
        desk.wait("screen.pop", lambda d: d["stage"] == "bridged" and d["call_uuid"] == member)
        # Bridged is the call's last change until it ends: any pop from here on is the repop.
        desk.close()
        desks.remove(desk)

        again = Desktop(worker_url, "1000@default", AGENT_PASSWORD)
        desks.append(again)
        repop = again.wait("screen.pop", lambda d: d["call_uuid"] == member)
        assert (repop["stage"], repop["agent"], repop["queue"]) == \
            ("bridged", "1000@default", "support@default")
        assert repop["caller"] == {"number": "13800138000", "name": "张三"}
        assert repop["customer"]["name"] == "张三"
        assert repop["answered_at"] is not None
        assert esl.api(f"uuid_exists {member}").strip() == "true"
    finally:
        for desk in desks:
            desk.close()
        worker.stop()
        ingest.stop()


def test_without_an_ingest_process_the_desktop_connects_as_before(seeded_db, tmp_path: Path):
    env = {"CTI_MESSAGE_QUEUE": REDIS_URL, "CTI_MESSAGE_QUEUE_CHANNEL": f"cti-test-{uuid.uuid4()}"}
    worker = _worker(env, seeded_db, tmp_path / "worker.log")
    desk = None
    try:
        worker_url = worker.wait_for(r"listening on (http://[\d.]+:\d+)/").group(1)
        desk = Desktop(worker_url, "1000@default", AGENT_PASSWORD)
        assert desk.wait("session")["agent"] == "1000@default"
        worker.wait_for(r"no screen pop again for 1000@default: no ingest process running")
        assert desk.sio.connected
        assert not [e for e, _d in desk.seen if e in ("screen.pop", "error")]
    finally:
        if desk is not None:
            desk.close()
        worker.stop()
