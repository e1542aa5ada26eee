"""A web-only worker: serves the web side, never links to FreeSWITCH."""

from __future__ import annotations

import dataclasses

import pytest

from cti_middleware import cli
from cti_middleware.config import Settings


def test_web_only_run_without_a_message_queue_is_a_clear_error(monkeypatch, capsys) -> None:
    monkeypatch.delenv("CTI_MESSAGE_QUEUE", raising=False)
    monkeypatch.setattr(cli, "serve", lambda *a, **k: pytest.fail("must not serve"))
    assert cli.cmd_run(cli.build_parser().parse_args(["run", "--web-only"])) == 2
    assert "CTI_MESSAGE_QUEUE" in capsys.readouterr().err


def test_web_only_env_is_the_same_switch(monkeypatch, capsys) -> None:
    monkeypatch.delenv("CTI_MESSAGE_QUEUE", raising=False)
    monkeypatch.setenv("CTI_WEB_ONLY", "1")
    monkeypatch.setattr(cli, "serve", lambda *a, **k: pytest.fail("must not serve"))
    assert cli.cmd_run(cli.build_parser().parse_args(["run"])) == 2


def test_web_only_app_has_no_switch_link(tmp_path) -> None:
    from cti_middleware.web.app import create_app

    settings = dataclasses.replace(Settings(), database_url=f"sqlite:///{tmp_path}/x.db",
                                   message_queue="redis://127.0.0.1:6379/0")
    with pytest.raises(ValueError, match="CTI_MESSAGE_QUEUE"):
        create_app(dataclasses.replace(settings, message_queue=None), web_only=True)
    app, _socketio, runtime = create_app(settings, web_only=True)
    assert runtime.link.conn is None and runtime.link._greenlet is None
    reply = app.test_client().get("/healthz")
    assert reply.status_code == 200 and reply.get_json()["role"] == "web-only"


def test_emits_reach_redis_in_order_one_flush_per_tick() -> None:
    import uuid

    import redis

    from cti_middleware.web.message_queue import BatchingRedisManager, decode_message

    channel = f"cti-test-{uuid.uuid4()}"
    listener = redis.Redis.from_url("redis://127.0.0.1:6379/0").pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel)
    listener.get_message(timeout=2)
    manager = BatchingRedisManager("redis://127.0.0.1:6379/0", channel=channel, write_only=True)
    for i in range(5):
        manager._publish({"n": i})
    assert manager._flusher is not None  # buffered: nothing has waited on Redis yet
    manager._flusher.join(timeout=5)
    message = listener.get_message(timeout=2)
    assert message is not None
    assert decode_message(message["data"]) == [{"n": i} for i in range(5)]
    assert listener.get_message(timeout=0.2) is None  # the whole tick in one message
    listener.close()
