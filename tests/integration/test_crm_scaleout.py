"""/crm across processes: the ingest process publishes nothing for /crm while no
CRM client is connected anywhere, and a client on a web-only worker gets the
events of a call placed right after it connected."""

from __future__ import annotations

import json
import queue
import time
import uuid
from pathlib import Path

import redis
import socketio

from cti_middleware.store import db as store_db
from cti_middleware.store.tokens import create_token
from cti_middleware.web.message_queue import decode_message
from tests.harness import CLI, EslTestClient, Proc, start_middleware

REDIS_URL = "redis://127.0.0.1:6379/0"


def _messages(pubsub, until, timeout: float = 15.0) -> list[dict]:
    """Messages on the Socket.IO channel, up to and including the first ``until`` accepts."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.5)
        if message is None:
            continue
        for data in decode_message(message["data"]):
            seen.append(data)
            if until(data):
                return seen
    raise AssertionError(f"not published in {timeout}s; saw {seen[-5:]}")


def test_crm_feed_is_silent_without_clients_and_complete_with_one(
        simulator, seeded_db, esl: EslTestClient, tmp_path: Path):
    channel = f"cti-test-{uuid.uuid4()}"
    env = {"CTI_MESSAGE_QUEUE": REDIS_URL, "CTI_MESSAGE_QUEUE_CHANNEL": channel}
    pubsub = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    ingest, _url = start_middleware(simulator[1], seeded_db, log_path=tmp_path / "ingest.log",
                                    extra_env=env)
    worker = Proc([CLI, "run", "--web-only"], log_path=tmp_path / "worker.log",
                  env={**env, "CTI_DATABASE_URL": seeded_db, "CTI_HTTP_HOST": "127.0.0.1",
                       "CTI_HTTP_PORT": "0"})
    client = socketio.Client(reconnection=False)
    try:
        ingest.wait_for(r"resynced from FreeSWITCH")
        worker_url = worker.wait_for(r"listening on (http://[\d.]+:\d+)/").group(1)
        store_db.open_database(seeded_db)
        try:
            plain = create_token("crm", ["events:read"])[1]
        finally:
            store_db.close_database()

        for agent in ("1001@default", "1002@default"):
            esl.api(f"callcenter_config agent set status {agent} 'Logged Out'")
        assert esl.api("callcenter_config agent set status 1000@default Available").startswith("+OK")
        # Emits go out in change order: once the next change is seen, all of this one's are.
        assert esl.api("callcenter_config agent set status 1001@default 'On Break'").startswith("+OK")
        quiet = _messages(pubsub, lambda m: m.get("event") == "agent.state"
                          and "1001@default" in json.dumps(m.get("data")))
        assert any("1000@default" in json.dumps(m.get("data")) for m in quiet)
        assert [m for m in quiet if m.get("namespace") == "/crm"] == []

        received: queue.Queue = queue.Queue()
        client.on("call.offered", lambda data: received.put(("call.offered", data)), namespace="/crm")
        client.on("call.ended", lambda data: received.put(("call.ended", data)), namespace="/crm")
        client.connect(worker_url, namespaces=["/crm"], auth={"token": plain},
                       transports=["websocket"], wait_timeout=10)
        reply = esl.api("originate {origination_caller_id_number=13800138000}"
                        "loopback/support/default &park()")
        assert reply.startswith("+OK "), reply
        kind, offered = received.get(timeout=15)
        assert (kind, offered["agent"]) == ("call.offered", "1000@default")
        assert esl.api(f"uuid_kill {offered['call_uuid']}").startswith("+OK")
        kind, ended = received.get(timeout=15)
        assert (kind, ended["call_uuid"]) == ("call.ended", offered["call_uuid"])
    finally:
        client.disconnect()
        worker.stop()
        ingest.stop()
        pubsub.close()
