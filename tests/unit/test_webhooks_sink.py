"""Domain changes become webhook events without touching the event path."""

from __future__ import annotations

import gevent
import pytest

from cti_middleware.model.changes import (
    AgentStateChanged,
    CallBridged,
    CallEnded,
    CallOffered,
    MemberLeft,
)
from cti_middleware.store.validate import StoreError
from cti_middleware.store.webhooks import (
    WebhookDelivery,
    active_event_types,
    add_subscription,
    enqueue_events,
    subscriptions_version,
)
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


class FakeStore:
    """The sink's three store calls, counted."""

    def __init__(self, types=("call.offered",)):
        self.types = frozenset(types)
        self.version = 0
        self.loads = 0
        self.batches: list[list[str]] = []

    def load(self):
        self.loads += 1
        return self.types

    def write(self, batch):
        self.batches.append([event_type for event_type, _ in batch])

    def sink(self, **kw) -> WebhookSink:
        return WebhookSink(write=self.write, load_types=self.load, version=lambda: self.version,
                           **kw)


STATE = AgentStateChanged(agent="1000@default", status="Available", state="Waiting",
                          since=5.0, call_uuid=None)


def test_handle_never_writes_and_a_full_buffer_drops():
    store = FakeStore()
    sink = store.sink(max_pending=2)
    for _ in range(3):
        sink.handle(OFFERED)
    assert store.batches == [] and sink.dropped == 1
    assert sink.drain() == 2 and store.batches == [["call.offered", "call.offered"]]


def test_unsubscribed_changes_cost_no_store_work():
    store = FakeStore(types=["call.offered"])
    sink = store.sink()
    sink.handle(STATE)  # subscriptions not read yet: queued, to be safe
    assert sink.pending.qsize() == 1
    sink.take_batch()
    sink.reload_types()
    for _ in range(100):
        sink.handle(STATE)
    sink.handle(MemberLeft(queue="q", member_uuid="m1"))
    assert sink.pending.qsize() == 0 and sink.skipped == 100 and store.loads == 1
    sink.handle(OFFERED)
    assert sink.pending.qsize() == 1


def test_a_subscription_change_is_seen_at_once():
    store = FakeStore(types=[])
    sink = store.sink(refresh=3600)
    sink.reload_types()
    sink.handle(STATE)
    assert sink.pending.qsize() == 0
    store.types, store.version = frozenset(["agent.state"]), 1  # as subscriptions_changed() does
    sink.handle(STATE)  # queued though the cache is not reloaded yet
    assert sink.pending.qsize() == 1
    sink.reload_types()
    sink.handle(STATE)
    assert sink.pending.qsize() == 2 and store.loads == 2


def test_worker_batches_one_tick_of_events():
    store = FakeStore(types=["call.offered", "agent.state"])
    sink = store.sink()
    sink.reload_types()
    sink.start()
    try:
        for _ in range(50):
            sink.handle(OFFERED)
            sink.handle(STATE)
        with gevent.Timeout(5):
            while sink.written < 100:
                gevent.sleep(0.01)
    finally:
        sink.stop()
    assert len(store.batches) == 1
    assert store.batches[0] == ["call.offered", "agent.state"] * 50


def test_worker_retries_a_failed_write_and_loses_nothing():
    from peewee import OperationalError

    store = FakeStore()
    failures = [OperationalError("database gone")]

    def flaky(batch):
        if failures:
            raise failures.pop()
        store.write(batch)

    sink = WebhookSink(write=flaky, load_types=store.load, version=lambda: 0)
    sink.reload_types()
    sink.start()
    try:
        sink.handle(OFFERED)
        with gevent.Timeout(5):
            while sink.written < 1:
                gevent.sleep(0.01)
    finally:
        sink.stop()
    assert store.batches == [["call.offered"]] and sink.dropped == 0


def test_worker_writes_queue_rows_for_subscribers_only(db):  # noqa: F811
    sub = add_subscription("http://receiver.invalid/hook", ["call.offered"])
    sink = WebhookSink()
    sink.start()
    try:
        sink.handle(OFFERED)
        sink.handle(STATE)
        with gevent.Timeout(5):
            while sink.written < 1:
                gevent.sleep(0.01)
    finally:
        sink.stop()
    rows = [(r.event_type, r.status, r.subscription_id) for r in WebhookDelivery.select()]
    assert rows == [("call.offered", "pending", sub.id)]
    assert sink.skipped == 1


def test_enqueue_events_is_one_insert_in_order(db):  # noqa: F811
    offered = add_subscription("http://a.invalid/hook", ["call.offered"])
    both = add_subscription("http://b.invalid/hook", ["call.offered", "agent.state"])
    rows = enqueue_events([("call.offered", {"n": 1}), ("agent.state", {"n": 2}),
                           ("call.ended", {"n": 3}), ("call.offered", {"n": 4})])
    assert [(r.event_type, r.subscription_id) for r in rows] == [
        ("call.offered", offered.id), ("call.offered", both.id), ("agent.state", both.id),
        ("call.offered", offered.id), ("call.offered", both.id)]
    stored = [(r.event_type, r.subscription_id, r.event_id)
              for r in WebhookDelivery.select().order_by(WebhookDelivery.id)]
    assert [s[:2] for s in stored] == [(r.event_type, r.subscription_id) for r in rows]
    assert stored[0][2] == stored[1][2] != stored[3][2]  # one id per event, shared by its copies
    assert active_event_types() == frozenset(["call.offered", "agent.state"])
    with pytest.raises(StoreError):
        enqueue_events([("call.offered", {}), ("no.such", {})])
    assert WebhookDelivery.select().count() == 5


def test_adding_a_subscription_bumps_the_version(db):  # noqa: F811
    before = subscriptions_version()
    add_subscription("http://a.invalid/hook", ["call.offered"])
    assert subscriptions_version() == before + 1


def test_stop_writes_what_is_still_buffered():
    store = FakeStore()
    sink = store.sink()
    sink.start()
    sink.handle(OFFERED)
    sink.handle(OFFERED)
    sink.stop()  # before the worker's turn came
    assert store.batches == [["call.offered", "call.offered"]] and sink.written == 2
