"""The /crm Socket.IO feed: token auth and queue-scoped rooms."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_socketio import SocketIO

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
