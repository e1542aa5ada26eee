"""Domain changes become webhook events without touching the event path."""

from __future__ import annotations

import gevent.event

from cti_middleware.model.changes import (
    AgentStateChanged,
    CallBridged,
    CallEnded,
    CallOffered,
    MemberLeft,
)
from cti_middleware.store.webhooks import WebhookDelivery, add_subscription
from cti_middleware.webhooks.sink import WebhookSink, event_for
from tests.store_fixtures import db, db_url  # noqa: F401

OFFERED = CallOffered(agent="1000@default", queue="support@default", member_uuid="m1",
                      caller_number="13800138000", caller_name="张三", joined_at=1.0,
                      offered_at=2.0)


def test_mapping_of_changes():
    kind, payload = event_for(OFFERED)
    assert kind == "call.offered"
    assert payload["call_uuid"] == "m1"
    assert payload["caller"] == {"number": "13800138000", "name": "张三"}
    bridged = CallBridged(agent="1000@default", queue="q", member_uuid="m1", agent_uuid="a1",
                          caller_number="1", caller_name="n", answered_at=3.0)
    assert event_for(bridged)[0] == "call.answered"
    ended = CallEnded(member_uuid="m1", queue="q", caller_number="1", caller_name="n",
                      agent=None, joined_at=1.0, answered_at=None, ended_at=4.0,
                      cause="BREAK_OUT", abandoned=True, hangup_cause="NORMAL_CLEARING")
    assert event_for(ended)[1]["abandoned"] is True
    state = AgentStateChanged(agent="1000@default", status="Available", state="Waiting",
                              since=5.0, call_uuid=None)
    assert event_for(state) == ("agent.state", {
        "agent": "1000@default", "status": "Available", "state": "Waiting", "since": 5.0,
        "call_uuid": None})
    assert event_for(MemberLeft(queue="q", member_uuid="m1")) is None


def test_handle_never_writes_and_a_full_buffer_drops():
    written = []
    sink = WebhookSink(enqueue=lambda t, p: written.append(t), max_pending=2)
    for _ in range(3):
        sink.handle(OFFERED)
    assert written == [] and sink.dropped == 1
    assert sink.drain() == 2 and written == ["call.offered", "call.offered"]


def test_worker_writes_queue_rows(db):  # noqa: F811
    add_subscription("http://receiver.invalid/hook", ["call.offered"])
    done = gevent.event.Event()
    from cti_middleware.webhooks import enqueue

    def write(event_type, payload):
        enqueue(event_type, payload)
        done.set()

    sink = WebhookSink(enqueue=write)
    sink.start()
    try:
        sink.handle(OFFERED)
        assert done.wait(timeout=5)
    finally:
        sink.stop()
    row = WebhookDelivery.get()
    assert (row.event_type, row.status) == ("call.offered", "pending")
