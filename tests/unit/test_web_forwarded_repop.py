"""The internal "pop my calls again" request a web-only worker sends when a desktop
connects: signed, acting only on the session's agent, never reachable by a client."""

from __future__ import annotations

import json
import logging
import uuid
from types import SimpleNamespace

import pytest
import redis

from cti_middleware.control import Actor
from cti_middleware.sinks.sockets import AGENT_NS, SUPERVISOR_NS
from cti_middleware.web import control_handlers
from cti_middleware.web.forwarding import REPOP, CommandForwarder, CommandServer, _sign
from cti_middleware.web.shared_state import SharedSource
from cti_middleware.web.sockets import AgentNamespace

REDIS_URL = "redis://127.0.0.1:6379/0"
ALICE = Actor("1000@default", "agent")


def _channel() -> str:
    return f"cti-test-{uuid.uuid4()}"


def _server(channel: str, popped: list[str]) -> CommandServer:
    return CommandServer(REDIS_URL, channel, "secret", lambda *_a: pytest.fail("not call control"),
                         repop=popped.append)


def _serve_and_reply(server: CommandServer, forwarder: CommandForwarder, raw: str) -> dict:
    replies = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    replies.subscribe(forwarder.reply_channel)
    replies.get_message(timeout=2)
    try:
        server.serve(raw)
        message = replies.get_message(timeout=5)
    finally:
        replies.close()
    assert message is not None, "no reply published"
    return json.loads(message["data"])


def test_repop_runs_for_the_signing_actor_only_and_bypasses_call_control() -> None:
    channel, popped = _channel(), []
    server, forwarder = _server(channel, popped), CommandForwarder(REDIS_URL, channel, "secret")
    reply = _serve_and_reply(server, forwarder, forwarder.envelope("r1", ALICE, REPOP, None))
    assert reply == {"id": "r1", "ack": {"ok": True}}
    assert popped == ["1000@default"] and server.handled == 1


@pytest.mark.parametrize("arguments", [{"agent": "1001@default"}, "1001@default",
                                       {"actor": {"agent": "1001@default", "role": "admin"}}, {}])
def test_a_repop_naming_anyone_is_refused(arguments: object) -> None:
    channel, popped = _channel(), []
    server, forwarder = _server(channel, popped), CommandForwarder(REDIS_URL, channel, "secret")
    reply = _serve_and_reply(server, forwarder, forwarder.envelope("r1", ALICE, REPOP, arguments))
    assert reply["ack"]["ok"] is False and reply["ack"]["error"] == "invalid_argument"
    assert popped == []


def test_an_unsigned_or_forged_repop_is_dropped() -> None:
    channel, popped = _channel(), []
    server = _server(channel, popped)
    signed = json.loads(CommandForwarder(REDIS_URL, channel, "secret")
                        .envelope("r1", Actor("1001@default", "agent"), REPOP, None))
    body = signed["body"]
    for raw in (json.dumps({"body": body}), json.dumps({"body": body, "sig": ""}),
                json.dumps({"body": body, "sig": _sign("other", body)}),
                CommandForwarder(REDIS_URL, channel, "other").envelope(
                    "r2", Actor("1001@default", "agent"), REPOP, None)):
        server.serve(raw)
    assert popped == [] and server.handled == 0


def test_an_ingest_process_without_screen_pops_answers_unavailable() -> None:
    channel = _channel()
    server = CommandServer(REDIS_URL, channel, "secret", lambda *_a: pytest.fail("not call control"))
    forwarder = CommandForwarder(REDIS_URL, channel, "secret")
    reply = _serve_and_reply(server, forwarder, forwarder.envelope("r1", ALICE, REPOP, None))
    assert reply["ack"]["ok"] is False and reply["ack"]["error"] == "switch_unavailable"


def test_no_client_event_reaches_the_repop_request() -> None:
    for namespace in (AGENT_NS, SUPERVISOR_NS):
        assert control_handlers.handler_for(SimpleNamespace(namespace=namespace), REPOP) is None
    assert all(not event.startswith("internal.") for events in control_handlers.EVENTS.values()
               for event in events)


def test_no_ingest_process_is_logged_not_raised(caplog) -> None:
    channel = _channel()
    namespace = AgentNamespace(runtime=None, source=SharedSource(REDIS_URL, channel))
    forwarder = CommandForwarder(REDIS_URL, channel, "secret")
    namespace.forward = forwarder.forward
    try:
        with caplog.at_level(logging.INFO, logger="cti_middleware.web.sockets"):
            namespace._forward_repop(ALICE)
    finally:
        forwarder.stop()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "no screen pop again for 1000@default: no ingest process running")]
