"""Forwarded call control and the shared state view, over a real Redis."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace

import gevent
import gevent.event
import pytest
import redis

from cti_middleware.control import Actor
from cti_middleware.web.forwarding import (
    CommandForwarder,
    CommandServer,
    command_channel,
)
from cti_middleware.web.shared_state import SharedSource, SnapshotWriter, state_key

REDIS_URL = "redis://127.0.0.1:6379/0"


def _channel() -> str:
    return f"cti-test-{uuid.uuid4()}"


def test_no_ingest_process_is_switch_unavailable() -> None:
    forwarder = CommandForwarder(REDIS_URL, _channel(), "secret")
    try:
        ack = forwarder.forward(Actor("1000@default", "agent"), "agent.ready", {})
    finally:
        forwarder.stop()
    assert ack["ok"] is False and ack["error"] == "switch_unavailable"


# The listening greenlets need gevent's patched sockets (the running middleware has
# them); here each side is driven directly, with plain Redis clients in between.


def _reply(pubsub) -> dict:
    message = pubsub.get_message(timeout=5)
    assert message is not None, "no reply published"
    return json.loads(message["data"])


def test_action_runs_as_the_session_actor_and_the_reply_comes_back() -> None:
    channel = _channel()
    seen = []

    def run(actor: Actor, action: str, arguments: object) -> dict:
        seen.append((actor, action, arguments))
        return {"ok": True, "status": "On Break", "reason": "lunch"}

    server = CommandServer(REDIS_URL, channel, "secret", run)
    forwarder = CommandForwarder(REDIS_URL, channel, "secret")
    replies = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    replies.subscribe(forwarder.reply_channel)
    replies.get_message(timeout=2)
    arguments = {"reason": "lunch", "actor": {"agent": "x", "role": "admin"}}
    try:
        server.serve(forwarder.envelope("r1", Actor("1000@default", "agent"), "agent.not_ready",
                                        arguments))
        reply = _reply(replies)
    finally:
        replies.close()
    # The actor is the one the worker's session signed, whatever the arguments say.
    assert seen == [(Actor("1000@default", "agent"), "agent.not_ready", arguments)]
    assert reply == {"id": "r1", "ack": {"ok": True, "status": "On Break", "reason": "lunch"}}
    waiter = forwarder.pending["r1"] = gevent.event.AsyncResult()
    forwarder.deliver(json.dumps(reply))
    assert waiter.get(timeout=1) == reply["ack"] and forwarder.pending == {}
    forwarder.deliver(b"garbage")
    forwarder.deliver(json.dumps({"id": "unknown", "ack": {}}))


def test_a_request_signed_with_another_secret_is_not_run() -> None:
    server = CommandServer(REDIS_URL, _channel(), "secret",
                           lambda *_a: pytest.fail("must not run"))
    forged = CommandForwarder(REDIS_URL, _channel(), "other")
    server.serve(forged.envelope("r1", Actor("9000@default", "admin"), "supervisor.force", {}))
    assert server.handled == 0


def test_no_reply_within_the_timeout_is_switch_timeout(monkeypatch) -> None:
    channel = _channel()
    silent = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    silent.subscribe(command_channel(channel))
    silent.get_message(timeout=2)
    forwarder = CommandForwarder(REDIS_URL, channel, "secret", timeout=0.3)
    monkeypatch.setattr(forwarder, "_ensure_listening", lambda: None)
    try:
        ack = forwarder.forward(Actor("1000@default", "agent"), "agent.ready", {})
    finally:
        silent.close()
    assert ack["ok"] is False and ack["error"] == "switch_timeout"
    assert forwarder.pending == {}


def test_malformed_requests_are_dropped() -> None:
    server = CommandServer(REDIS_URL, _channel(), "secret", lambda *_a: {"ok": True})
    for raw in (b"not json", json.dumps({"body": "{}", "sig": "x"}), json.dumps([1])):
        server.serve(raw)
    assert server.handled == 0


def test_unserialisable_arguments_are_invalid() -> None:
    forwarder = CommandForwarder(REDIS_URL, _channel(), "secret")
    ack = forwarder.forward(Actor("1000@default", "agent"), "call.dtmf", {"digits": b"1"})
    assert ack["error"] == "invalid_argument"


def _runtime() -> SimpleNamespace:
    agent = SimpleNamespace(name="1000@default", status="On Break", state="Idle", since=1.0,
                            call_uuid=None, wrap_up_until=None)
    queue = SimpleNamespace(waiting=2)
    return SimpleNamespace(
        state=SimpleNamespace(agents={"1000@default": agent}, queues={"support@default": queue}),
        pipeline=SimpleNamespace(tiers=[SimpleNamespace(agent="1000@default", queue="support@default")],
                                 queues_of=lambda a: ["support@default"] if a == "1000@default" else [],
                                 longest_wait_since=lambda q: 123.0),
        display_name=lambda a: "Alice",
        break_reasons=SimpleNamespace(current=lambda a, s: "lunch" if s == "On Break" else None),
    )


def test_the_written_view_reads_back_as_the_ingest_would_emit() -> None:
    channel = _channel()
    writer = SnapshotWriter(_runtime(), REDIS_URL, channel)
    source = SharedSource(REDIS_URL, channel)
    try:
        assert source.agent_state("1000@default") is None and source.queues_of("1000@default") == []
        writer.write()
        state = source.agent_state("1000@default")
        assert state is not None
        assert (state["agent"], state["name"], state["status"], state["reason"]) == \
            ("1000@default", "Alice", "On Break", "lunch")
        assert "queues" not in state
        assert source.queues_of("1000@default") == ["support@default"]
        assert source.queue_waiting("support@default") == \
            {"queue": "support@default", "waiting": 2, "longest_wait_since": 123.0}
        assert [a["agent"] for a in source.agents()] == ["1000@default"]
    finally:
        redis.Redis.from_url(REDIS_URL).delete(state_key(channel))


def test_changes_are_written_by_the_background_writer_not_on_the_event_path() -> None:
    channel = _channel()
    writer = SnapshotWriter(_runtime(), REDIS_URL, channel, interval=0.01)
    writer.dirty = False
    writer.handle(object())
    assert writer.writes == 0  # nothing waited on Redis inside handle()
    writer.start()
    try:
        with gevent.Timeout(5):
            while writer.writes == 0:
                gevent.sleep(0.01)
        assert SharedSource(REDIS_URL, channel).queues_of("1000@default") == ["support@default"]
    finally:
        writer.stop()
        redis.Redis.from_url(REDIS_URL).delete(state_key(channel))
