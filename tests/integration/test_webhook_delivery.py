"""Webhooks still reach a receiver end to end: a subscription made through the REST
API is seen by the running sink at once, and each matching event of a real call is
stored and POSTed, signed, in the order it happened; unsubscribed events are not."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from cti_middleware.store import db as store_db
from cti_middleware.store.tokens import create_token
from cti_middleware.webhooks import verify_signature
from tests.harness import EslTestClient

ARRIVE_TIMEOUT = 15.0


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue]]:
    received: queue.Queue = queue.Queue()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _token(db_url: str) -> str:
    store_db.open_database(db_url)
    try:
        return create_token("hooks", ["events:read", "data:write"])[1]
    finally:
        store_db.close_database()


def _deliveries_once_settled(url: str, auth: dict[str, str], timeout: float = 10.0) -> list[dict]:
    """The delivery log once no delivery is pending any more (or the timeout's last view)."""
    deadline = time.monotonic() + timeout
    while True:
        items = requests.get(url, headers=auth, timeout=10).json()["items"]
        if all(d["status"] != "pending" for d in items) or time.monotonic() > deadline:
            return items
        time.sleep(0.05)


def test_a_call_is_delivered_to_a_subscriber(middleware, esl: EslTestClient, seeded_db, receiver):
    _proc, url = middleware
    hook_url, received = receiver
    auth = {"Authorization": f"Bearer {_token(seeded_db)}"}
    reply = requests.post(f"{url}/api/webhooks", headers=auth, timeout=10,
                          json={"url": hook_url, "events": ["call.offered", "call.ended"]})
    assert reply.status_code == 201, reply.text
    secret = reply.json()["secret"]

    for agent in ("1001@default", "1002@default"):
        esl.api(f"callcenter_config agent set status {agent} 'Logged Out'")
    assert esl.api("callcenter_config agent set status 1000@default Available").startswith("+OK")
    originated = esl.api("originate {origination_caller_id_number=13800138000}"
                         "loopback/support/default &park()")
    assert originated.startswith("+OK "), originated

    headers, body = received.get(timeout=ARRIVE_TIMEOUT)
    offered = json.loads(body)
    assert offered["type"] == "call.offered"
    assert offered["data"]["agent"] == "1000@default"
    signature = next(v for k, v in headers.items() if k.lower() == "x-cti-signature")
    assert verify_signature(secret, signature, offered["id"], body)

    call_uuid = offered["data"]["call_uuid"]
    assert esl.api(f"uuid_kill {call_uuid}").startswith("+OK")
    _headers, body = received.get(timeout=ARRIVE_TIMEOUT)
    ended = json.loads(body)
    assert (ended["type"], ended["data"]["call_uuid"]) == ("call.ended", call_uuid)
    # agent.state changes happened all along; nobody subscribed, so none was sent.
    assert received.empty()

    # The receiver has answered; the dispatcher marks a delivery once that answer is back.
    items = _deliveries_once_settled(f"{url}/api/webhooks/{reply.json()['id']}/deliveries", auth)
    assert sorted(d["event_type"] for d in items) == ["call.ended", "call.offered"]
    assert {d["status"] for d in items} == {"delivered"}
