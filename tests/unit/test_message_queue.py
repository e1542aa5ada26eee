"""The batching Redis message queue against a real Redis: what goes on the wire, what a
worker keeps of it, and what happens when Redis goes away."""

from __future__ import annotations

import json
import logging
import queue
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Self

import orjson
import pytest
import redis
import socketio

from cti_middleware.web.message_queue import (
    BATCH_MARK,
    BatchingRedisManager,
    decode_message,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def channel() -> str:
    return f"cti-test-{uuid.uuid4()}"


@pytest.fixture
def wire(channel: str) -> Iterator[redis.client.PubSub]:
    """A plain subscriber on the channel: what every worker receives."""
    listener = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel)
    listener.get_message(timeout=2)
    yield listener
    listener.close()


def _publisher(channel: str, url: str = REDIS_URL) -> BatchingRedisManager:
    """What the ingest process emits through (it holds no desktops)."""
    return BatchingRedisManager(url, channel=channel, write_only=True)


def _flush(manager: BatchingRedisManager) -> None:
    assert manager._flusher is not None  # buffered: nothing has waited on Redis yet
    manager._flusher.join(timeout=5)
    assert manager._flusher is None


def _next(listener: redis.client.PubSub) -> bytes:
    message = listener.get_message(timeout=5)
    assert message is not None, "nothing published"
    return message["data"]


def _worker(channel: str) -> tuple[BatchingRedisManager, socketio.Server]:
    """A worker's manager and server, its desktops registered as the server would."""
    manager = BatchingRedisManager(REDIS_URL, channel=channel)
    server = socketio.Server(client_manager=manager, async_mode="threading")
    return manager, server


def _desktop(manager: BatchingRedisManager, namespace: str, *rooms: str) -> str:
    sid = manager.connect(f"eio-{uuid.uuid4().hex}", namespace)
    for room in rooms:
        manager.enter_room(sid, namespace, room)
    return sid


def test_one_flush_is_one_message_with_every_item_in_order(channel, wire) -> None:
    publisher = _publisher(channel)
    for i in range(5):
        publisher.emit("agent.state", {"n": i}, namespace="/agent", room=f"agent:{i}")
    publisher.close_room("supervisors", namespace="/supervisor")
    publisher.emit("hello", "all", namespace="/agent")  # broadcast: no room
    _flush(publisher)
    raw = _next(wire)
    assert wire.get_message(timeout=0.2) is None  # one Redis message for the whole tick
    assert raw.startswith(BATCH_MARK)
    head, *lines = raw.split(b"\n")
    items = [json.loads(line) for line in lines]  # each item is plain stock JSON
    assert [(m["method"], m.get("data"), m["room"]) for m in items] == [
        *[("emit", [{"n": i}], f"agent:{i}") for i in range(5)],
        ("close_room", None, "supervisors"), ("emit", ["all"], None)]
    assert all(m["host_id"] == publisher.host_id for m in items)
    header = json.loads(head)
    assert header["host_id"] == publisher.host_id
    assert header["namespaces"] == ["/agent"] * 5 + [None, None]
    assert header["rooms"] == [f"agent:{i}" for i in range(5)] + [None, None]


def test_large_flush_is_split_into_batches_in_order(channel, wire) -> None:
    publisher = _publisher(channel)
    publisher.max_batch = 3
    for i in range(7):
        publisher.emit("agent.state", i, namespace="/agent", room="agent:1")
    _flush(publisher)
    got = []
    for _ in range(3):
        got += [json.loads(line)["data"][0] for line in _next(wire).split(b"\n")[1:]]
    assert got == list(range(7))


def test_worker_decodes_only_what_it_can_deliver(channel, wire) -> None:
    worker, _server = _worker(channel)
    _desktop(worker, "/agent", "agent:2")
    _desktop(worker, "/supervisor")  # connected, but not in "supervisors"
    publisher = _publisher(channel)
    for i in range(4):
        publisher.emit("agent.state", i, namespace="/agent", room=f"agent:{i}")
        publisher.emit("agent.state", i, namespace="/supervisor", room="supervisors")
    publisher.emit("ping", "everyone", namespace="/agent")
    publisher.leave_room("somebody", "/agent", "agent:2")  # not here: goes on the queue
    _flush(publisher)
    kept = list(worker._unpack(_next(wire)))
    assert [(m["method"], m.get("room"), m.get("data")) for m in kept] == [
        ("emit", "agent:2", [2]), ("emit", None, ["everyone"]), ("leave_room", "agent:2", None)]
    assert worker.dropped == 7


def test_decode_message_reads_both_formats(channel, wire) -> None:
    stock = {"method": "close_room", "room": "r", "namespace": "/", "host_id": "h"}
    assert decode_message(json.dumps(stock)) == [stock]
    publisher = _publisher(channel)
    publisher._publish(stock)
    publisher._publish({**stock, "room": "s"})
    _flush(publisher)
    assert decode_message(_next(wire)) == [stock, {**stock, "room": "s"}]


def test_own_emits_are_not_delivered_twice(channel, wire) -> None:
    worker, _server = _worker(channel)
    _desktop(worker, "/agent", "agent:1")
    worker._publish({"method": "emit", "event": "x", "data": [1], "namespace": "/agent",
                     "room": "agent:1", "host_id": worker.host_id})
    _flush(worker)
    assert list(worker._unpack(_next(wire))) == []


class _Delivered:
    """The worker's stock listening thread on the real channel; what reaches its desktops."""

    def __init__(self, manager: BatchingRedisManager, server: socketio.Server) -> None:
        self.manager = manager
        self.packets: queue.Queue = queue.Queue()
        server._send_eio_packet = lambda eio_sid, pkt: self.packets.put((eio_sid, pkt.data))
        self.thread = threading.Thread(target=manager._thread, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        client = redis.Redis.from_url(REDIS_URL)
        deadline = time.monotonic() + 10
        while dict(client.pubsub_numsub(self.manager.channel))[self.manager.channel.encode()] < 1:
            assert time.monotonic() < deadline, "the worker never subscribed"
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.manager.pubsub.unsubscribe(self.manager.channel)  # ends the stock loop
        self.thread.join(timeout=5)

    def take(self, count: int) -> list[tuple[str, str]]:
        return [self.packets.get(timeout=5) for _ in range(count)]


def test_stock_handling_delivers_batches_and_single_messages_in_order(channel) -> None:
    worker, server = _worker(channel)
    here = _desktop(worker, "/agent", "agent:1")
    eio_here = worker.eio_sid_from_sid(here, "/agent")
    publisher = _publisher(channel)
    with _Delivered(worker, server) as delivered:
        for i in range(300):
            publisher.emit("agent.state", i, namespace="/agent", room=f"agent:{i % 3}")
        _flush(publisher)
        # A stock publisher (one message, json.dumps) on the same channel is still heard.
        stock = {"method": "emit", "event": "agent.state", "data": ["stock"], "binary": False,
                 "namespace": "/agent", "room": "agent:1", "skip_sid": None, "callback": None,
                 "host_id": "a-stock-emitter"}
        redis.Redis.from_url(REDIS_URL).publish(channel, json.dumps(stock))
        # Room changes travel in batches too: the desktop joins agent:2 by message.
        publisher.enter_room(here, "/agent", "agent:2")
        publisher.emit("agent.state", "joined", namespace="/agent", room="agent:2")
        publisher.close_room("agent:1", namespace="/agent")
        publisher.emit("agent.state", "closed", namespace="/agent", room="agent:1")
        publisher.emit("agent.state", "last", namespace="/agent", room="agent:2")
        _flush(publisher)
        got = delivered.take(100 + 3)
    assert {eio for eio, _data in got} == {eio_here}
    payloads = [json.loads(data.split(",", 1)[1])[1] for _eio, data in got]
    assert payloads == [i for i in range(300) if i % 3 == 1] + ["stock", "joined", "last"]
    assert delivered.packets.empty()
    assert worker.dropped == 200 + 1  # the other rooms, and agent:1 after it was closed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")
def test_redis_outage_is_logged_and_later_emits_go_through(channel, caplog) -> None:
    port = _free_port()
    server = _start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        publisher = _publisher(channel, url)
        publisher.emit("agent.state", "before", namespace="/agent", room="agent:1")
        _flush(publisher)
        server.terminate()
        server.wait(timeout=10)
        with caplog.at_level(logging.ERROR, logger="cti_middleware.web.message_queue"):
            publisher.emit("agent.state", "lost", namespace="/agent", room="agent:1")
            _flush(publisher)  # no exception reaches the emitter
        assert "cannot publish 1 emits to redis" in caplog.text
        server = _start_redis(port)
        listener = redis.Redis(port=port).pubsub(ignore_subscribe_messages=True)
        listener.subscribe(channel)
        listener.get_message(timeout=2)
        publisher.emit("agent.state", "after", namespace="/agent", room="agent:1")
        _flush(publisher)
        item = orjson.loads(_next(listener).split(b"\n")[1])
        assert item["data"] == ["after"]
        listener.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
