"""Webhooks: signing, the retry schedule, and delivery to a real receiver."""

from __future__ import annotations

import json
import queue
import re
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import gevent.event
import pytest

import cti_middleware.webhooks as webhooks_pkg
from cti_middleware.store.db import utcnow
from cti_middleware.store.webhooks import WebhookDelivery, add_subscription
from cti_middleware.webhooks import (
    RETRY_DELAYS,
    WebhookDispatcher,
    enqueue,
    next_attempt,
    sign,
    verify_signature,
)
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.test_api_rest import app, bearer, client  # noqa: F401

T0 = datetime(2026, 1, 1, tzinfo=UTC)


# -- pure parts ---------------------------------------------------------------

def test_signature_round_trip_and_tampering():
    header = sign("s3cret", "ev-1", '{"a":1}', timestamp=1_000_000)
    assert header.startswith("t=1000000,v1=")
    assert verify_signature("s3cret", header, "ev-1", b'{"a":1}', now=1_000_100)
    assert not verify_signature("other", header, "ev-1", '{"a":1}', now=1_000_100)
    assert not verify_signature("s3cret", header, "ev-2", '{"a":1}', now=1_000_100)
    assert not verify_signature("s3cret", header, "ev-1", '{"a":2}', now=1_000_100)
    assert not verify_signature("s3cret", header, "ev-1", '{"a":1}', now=1_000_301)
    assert not verify_signature("s3cret", None, "ev-1", '{"a":1}')
    assert not verify_signature("s3cret", "t=abc,v1=00", "ev-1", '{"a":1}')
    assert not verify_signature("s3cret", "v1=00", "ev-1", '{"a":1}')
    rotated = "t=1000000,v1=deadbeef," + header.split(",")[1]
    assert verify_signature("s3cret", rotated, "ev-1", '{"a":1}', now=1_000_000)


def test_retry_schedule():
    assert RETRY_DELAYS == (10, 30, 120, 600, 3600)
    waits = [(next_attempt(n, T0) - T0).total_seconds() for n in range(1, 6)]
    assert waits == [10, 30, 120, 600, 3600]
    assert next_attempt(6, T0) is None


# -- a real receiver ----------------------------------------------------------

class Receiver:
    """HTTP server on an ephemeral port answering with scripted statuses."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: queue.Queue = queue.Queue()
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                receiver.requests.put((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def next(self) -> tuple[dict[str, str], bytes]:
        return self.requests.get(timeout=5)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    rx = Receiver()
    yield rx
    rx.close()


def _delivery(delivery_id: int) -> WebhookDelivery:
    return WebhookDelivery.get_by_id(delivery_id)


def test_signed_delivery_is_verified_by_receiver(client, receiver):  # noqa: F811
    auth = bearer(["events:read", "data:write"])
    r = client.post("/api/webhooks", headers=auth,
                    json={"url": receiver.url, "events": ["call.offered"]})
    assert r.status_code == 201
    sub = r.get_json()
    secret = sub["secret"]
    assert "secret" not in client.get("/api/webhooks", headers=auth).get_json()["items"][0]
    assert enqueue("call.offered", {"call_uuid": "u1", "caller": "13800138000"}) == 1
    assert enqueue("agent.state", {"agent": "1000@default"}) == 0  # not subscribed
    assert WebhookDispatcher().run_once() == 1
    headers, body = receiver.next()
    event_id = headers["X-CTI-Event-Id"]
    assert headers["X-CTI-Event-Type"] == "call.offered"
    assert verify_signature(secret, headers["X-CTI-Signature"], event_id, body)
    assert not verify_signature("wrong" * 4, headers["X-CTI-Signature"], event_id, body)
    envelope = json.loads(body)
    assert envelope["id"] == event_id and envelope["type"] == "call.offered"
    assert envelope["data"] == {"call_uuid": "u1", "caller": "13800138000"}
    log = client.get(f"/api/webhooks/{sub['id']}/deliveries", headers=auth).get_json()
    assert log["total"] == 1
    assert log["items"][0]["status"] == "delivered" and log["items"][0]["attempts"] == 1


def test_retry_after_server_error(db, receiver):  # noqa: F811
    receiver.statuses = [500]
    add_subscription(receiver.url, ["call.ended"])
    enqueue("call.ended", {"call_uuid": "u1"})
    dispatcher = WebhookDispatcher()
    t0 = utcnow()
    assert dispatcher.run_once(t0) == 1
    first_headers, _ = receiver.next()
    row = WebhookDelivery.get()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 500")
    assert row.next_attempt_at == t0 + timedelta(seconds=10)
    assert dispatcher.run_once(t0 + timedelta(seconds=9)) == 0
    assert dispatcher.run_once(t0 + timedelta(seconds=10)) == 1
    second_headers, _ = receiver.next()
    assert second_headers["X-CTI-Event-Id"] == first_headers["X-CTI-Event-Id"]
    row = _delivery(row.id)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, None)


def test_gives_up_after_the_schedule(db):  # noqa: F811
    add_subscription("http://receiver.invalid/hook", ["agent.state"])
    enqueue("agent.state", {"agent": "1000@default"})
    calls = []

    def failing(url, body, headers):
        calls.append(url)
        raise ConnectionRefusedError("refused")

    dispatcher = WebhookDispatcher(sender=failing)
    now = utcnow()
    while dispatcher.run_once(now):
        now += timedelta(hours=2)
    row = WebhookDelivery.get()
    assert len(calls) == 1 + len(RETRY_DELAYS)
    assert (row.status, row.attempts) == ("failed", 6)
    assert "refused" in row.last_error


def test_redelivery_sends_the_same_event_again(client, receiver):  # noqa: F811
    auth = bearer(["events:read", "data:write"])
    add_subscription(receiver.url, ["workorder.created"])
    # The API's own write queues the event.
    r = client.post("/api/workorders", headers=bearer(["data:write"], name="desk"),
                    json={"type": "inquiry", "summary": "s"})
    assert r.status_code == 201
    dispatcher = WebhookDispatcher()
    dispatcher.run_once()
    first, body1 = receiver.next()
    assert json.loads(body1)["data"]["id"] == r.get_json()["id"]
    original = WebhookDelivery.get()
    r = client.post(f"/api/deliveries/{original.id}/redeliver", headers=auth)
    assert r.status_code == 202 and r.get_json()["status"] == "pending"
    assert dispatcher.run_once() == 1
    second, body2 = receiver.next()
    assert second["X-CTI-Event-Id"] == first["X-CTI-Event-Id"] and body2 == body1
    assert client.post("/api/deliveries/999/redeliver", headers=auth).status_code == 404


def test_dead_receiver_never_touches_enqueue(db):  # noqa: F811
    """enqueue only writes rows; a receiver that never answers costs the
    dispatcher one short timeout, recorded as a retry."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        add_subscription(f"http://127.0.0.1:{port}/hook", ["call.answered"])
        for i in range(20):
            assert enqueue("call.answered", {"n": i}) == 1
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected while enqueueing
        assert WebhookDelivery.select().where(WebhookDelivery.status == "pending").count() == 20
        dispatcher = WebhookDispatcher(timeout=0.2, batch=1)
        assert dispatcher.run_once() == 1
        failed = WebhookDelivery.select().where(WebhookDelivery.attempts == 1).get()
        assert "timed out" in failed.last_error
        assert failed.status == "pending"
    finally:
        listener.close()


def test_webhook_api_validation_and_delete(client, db):  # noqa: F811
    auth = bearer(["events:read", "data:write"])
    bad = [
        {"url": "ftp://x/y", "events": ["call.offered"]},
        {"url": "http://x/y", "events": ["call.nope"]},
        {"url": "http://x/y", "events": []},
        {"url": "http://x/y", "events": ["call.offered"], "secret": "short"},
    ]
    for payload in bad:
        assert client.post("/api/webhooks", headers=auth, json=payload).status_code == 422
    reader = bearer(["events:read"], name="reader")
    assert client.post("/api/webhooks", headers=reader,
                       json={"url": "http://x/y", "events": ["call.offered"]}).status_code == 403
    sub = client.post("/api/webhooks", headers=auth,
                      json={"url": "http://x/y", "events": ["call.offered"]}).get_json()
    enqueue("call.offered", {})
    assert client.delete(f"/api/webhooks/{sub['id']}", headers=auth).status_code == 204
    assert WebhookDelivery.select().count() == 0
    assert client.get(f"/api/webhooks/{sub['id']}/deliveries", headers=auth).status_code == 404


def test_readme_example_signature_is_valid():
    text = (Path(webhooks_pkg.__file__).parent / "README.md").read_text()
    body = re.search(r'^(\{"id":.*\})$', text, re.MULTILINE).group(1)
    header = re.search(r"^X-CTI-Signature: (.*)$", text, re.MULTILINE).group(1)
    event_id = re.search(r"^X-CTI-Event-Id: (.*)$", text, re.MULTILINE).group(1)
    t = int(header.split(",")[0][2:])
    assert verify_signature("whsec_example", header, event_id, body.encode(), now=t)


def test_started_dispatcher_sends_when_woken(db):  # noqa: F811
    add_subscription("http://receiver.invalid/hook", ["call.offered"])
    sent = gevent.event.Event()

    def sender(url, body, headers):
        sent.set()
        return 204

    dispatcher = WebhookDispatcher(poll_interval=60, sender=sender)
    dispatcher.start()
    try:
        enqueue("call.offered", {})
        dispatcher.wake()
        assert sent.wait(timeout=5)
    finally:
        dispatcher.stop()
    assert dispatcher.sent == 1
    assert WebhookDelivery.get().status == "delivered"
