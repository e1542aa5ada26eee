"""The /crm Socket.IO feed: token auth and queue-scoped rooms."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_socketio import SocketIO

from cti_middleware.api.crm_presence import CrmPresence
from cti_middleware.api.crm_socket import CRM_NS, CrmNamespace, CrmSocketSink
from cti_middleware.model.changes import AgentStateChanged, CallOffered
from cti_middleware.store.tokens import create_token
from tests.store_fixtures import db, db_url  # noqa: F401


def offered(queue: str) -> CallOffered:
    return CallOffered(agent="1000@default", queue=queue, member_uuid=f"m-{queue}",
                       caller_number="13800138000", caller_name="张三", joined_at=1.0,
                       offered_at=2.0)


@pytest.fixture
def server(db):  # noqa: F811
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading")
    socketio.on_namespace(CrmNamespace())
    return app, socketio


def _connect(server, auth):
    app, socketio = server
    return socketio.test_client(app, namespace=CRM_NS, auth=auth)


def _events(client) -> list[tuple[str, str | None]]:
    return [(p["name"], p["args"][0].get("queue")) for p in client.get_received(CRM_NS)]


def test_rejects_missing_wrong_or_unscoped_tokens(server):
    _, plain = create_token("writer", ["data:write"])
    for auth in (None, {"token": "cti_nope"}, {"token": plain}):
        assert not _connect(server, auth).is_connected(CRM_NS)


def test_feed_respects_queue_restriction(server):
    _, everything = create_token("wall", ["events:read"])
    _, support_only = create_token("support", ["events:read"], queues=["support@default"])
    wall = _connect(server, {"token": everything})
    support = _connect(server, {"token": support_only})
    assert wall.is_connected(CRM_NS) and support.is_connected(CRM_NS)
    sink = CrmSocketSink(server[1].emit)
    sink.handle(offered("support@default"))
    sink.handle(offered("sales@default"))
    sink.handle(AgentStateChanged(agent="1000@default", status="Available", state="Waiting",
                                  since=1.0, call_uuid=None))
    assert _events(wall) == [("call.offered", "support@default"),
                             ("call.offered", "sales@default"), ("agent.state", None)]
    assert _events(support) == [("call.offered", "support@default")]


class Recorder:
    def __init__(self):
        self.emits: list[tuple[str, str]] = []

    def __call__(self, event_type, payload, to=None, namespace=None):
        self.emits.append((event_type, to))


STATE = AgentStateChanged(agent="1000@default", status="Available", state="Waiting",
                          since=1.0, call_uuid=None)


def test_nothing_is_emitted_while_no_client_is_connected(db):  # noqa: F811
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading")
    presence = CrmPresence()
    socketio.on_namespace(CrmNamespace(presence=presence))
    recorder = Recorder()
    sink = CrmSocketSink(recorder, presence=presence)
    sink.handle(STATE)
    assert recorder.emits == [] and sink.skipped == 1
    _, plain = create_token("wall", ["events:read"])
    refused = socketio.test_client(app, namespace=CRM_NS, auth={"token": "cti_nope"})
    assert not refused.is_connected(CRM_NS) and presence.local == 0
    client = socketio.test_client(app, namespace=CRM_NS, auth={"token": plain})
    assert client.is_connected(CRM_NS) and presence.local == 1
    sink.handle(offered("support@default"))
    assert recorder.emits == [("call.offered", "crm:all"),
                              ("call.offered", "crm:queue:support@default")]
    client.disconnect(namespace=CRM_NS)
    assert presence.local == 0
    sink.handle(STATE)
    assert len(recorder.emits) == 2


class FakeRedis:
    """The commands presence uses, on one shared dict."""

    def __init__(self):
        self.sets: dict[str, dict[str, float]] = {}
        self.published: list[tuple[str, str]] = []

    def zadd(self, key, mapping):
        self.sets.setdefault(key, {}).update(mapping)

    def zremrangebyscore(self, key, _low, high):
        self.sets[key] = {m: s for m, s in self.sets.get(key, {}).items() if s > high}

    def zrem(self, key, member):
        self.sets.get(key, {}).pop(member, None)

    def zcount(self, key, low, _high):
        return sum(1 for score in self.sets.get(key, {}).values() if score >= low)

    def publish(self, channel, message):
        self.published.append((channel, message))


def _shared(redis: FakeRedis) -> CrmPresence:
    presence = CrmPresence("redis://fake", "test")
    presence._redis = redis
    return presence


def test_clients_of_another_process_get_every_event_from_their_connect():
    redis = FakeRedis()
    ingest, worker = _shared(redis), _shared(redis)
    redis.sets["test:crm-clients"] = {"crashed-worker": 50.0}  # expired long ago
    now = [100.0]
    recorder = Recorder()
    sink = CrmSocketSink(recorder, presence=ingest, replay=2.0, clock=lambda: now[0])
    # no ingest.start(): the test plays the watcher's part itself
    assert not ingest.check()
    sink.handle(offered("old@default"))  # long before anyone connects: dropped
    now[0] = 103.0
    sink.handle(offered("before@default"))  # just before the connect: not for that client
    now[0] = 103.5
    sink.handle(offered("after@default"))  # after it, before the news arrived: kept
    assert recorder.emits == []
    worker.connected()
    worker.stop()
    assert list(redis.sets["test:crm-clients"]) == [worker.member]
    (channel, since), = redis.published
    assert channel == "test:crm-connect" and float(since) > 0
    now[0] = 103.6
    assert ingest.check(103.4)  # what the wake loop does with the published time
    assert recorder.emits == [("call.offered", "crm:all"),
                              ("call.offered", "crm:queue:after@default")]
    sink.handle(STATE)
    assert recorder.emits[-1] == ("agent.state", "crm:all")
    worker.disconnected()
    assert not ingest.check()
    sink.handle(STATE)
    assert len(recorder.emits) == 3


def test_presence_from_the_message_queue_url():
    assert not CrmPresence.for_queue(None).shared
    assert CrmPresence.for_queue("redis://127.0.0.1:6379/0").shared
    other = CrmPresence.for_queue("amqp://guest@localhost//")
    assert other.listening and not other.shared
