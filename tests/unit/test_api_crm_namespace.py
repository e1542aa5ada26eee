"""The /crm namespace: subscriptions and click-to-call for API tokens."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask
from flask_socketio import SocketIO

from cti_middleware.api.crm_socket import CRM_NS, CrmNamespace, CrmSocketSink
from cti_middleware.control import FORBIDDEN, CallControl, token_actor
from cti_middleware.model.changes import AgentStateChanged, CallOffered
from cti_middleware.model.entities import Agent
from cti_middleware.store.audit import recent_audit
from cti_middleware.store.tokens import create_token
from tests.store_fixtures import db, db_url  # noqa: F401

SUPPORT, VIP = "support@default", "vip@default"
CALL_1000, CALL_1002 = "0b3c7d2e-1000-4000-8000-000000001000", "0b3c7d2e-1002-4000-8000-000000001002"
TIERS = [SimpleNamespace(queue=SUPPORT, agent="1000@default"), SimpleNamespace(queue=VIP, agent="1000@default"),
         SimpleNamespace(queue=SUPPORT, agent="1002@default")]


class FakeRuntime:
    """What call control reads from a running middleware, with the switch recorded."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        agents = {name: Agent(name, status="Available", contact=f"null/agent{name[:4]}")
                  for name in ("1000@default", "1002@default")}
        agents["1000@default"].call_uuid = CALL_1000
        agents["1002@default"].call_uuid = CALL_1002
        self.state = SimpleNamespace(agents=agents, members={}, channels={}, queues={})
        self.link = SimpleNamespace(api=self._api, bgapi=self._bgapi)
        self.pipeline = SimpleNamespace(tiers=TIERS)
        self.settings = SimpleNamespace(not_ready_reasons=("lunch",))
        self.screen_pops = SimpleNamespace(attach=lambda *_a: None)
        self.break_reasons = None

    def _api(self, command: str) -> str:
        self.sent.append(command)
        return "+OK\n"

    def _bgapi(self, command: str, timeout: float = 0.0) -> str:
        self.sent.append(command)
        return "+OK new-leg\n"


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime()


@pytest.fixture
def server(db, runtime):  # noqa: F811
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="threading")
    socketio.on_namespace(CrmNamespace(runtime=runtime))
    return app, socketio


def _connect(server, scopes, queues=None, name="crm"):
    app, socketio = server
    row, plain = create_token(name, scopes, queues=queues)
    client = socketio.test_client(app, namespace=CRM_NS, auth={"token": plain})
    assert client.is_connected(CRM_NS)
    return row, client


def _ask(client, event, data=None):
    return client.emit(event, data, namespace=CRM_NS, callback=True)


def _offer(server, *queues):
    sink = CrmSocketSink(server[1].emit)
    for queue in queues:
        sink.handle(CallOffered(agent="1000@default", queue=queue, member_uuid=f"m-{queue}",
                                caller_number="13800138000", caller_name="Z", joined_at=1.0, offered_at=2.0))
    sink.handle(AgentStateChanged(agent="1000@default", status="Available", state="Waiting",
                                  since=1.0, call_uuid=None))


def _received(client) -> list[tuple[str, str | None]]:
    return [(p["name"], p["args"][0].get("queue")) for p in client.get_received(CRM_NS)]


# -- subscriptions ---------------------------------------------------------------------

def test_unrestricted_token_narrows_and_widens_its_feed(server):
    _, client = _connect(server, ["events:read"])
    # Already covered by "all": remembered, not joined twice.
    assert _ask(client, "subscribe", {"queue": SUPPORT}) == {"ok": True, "rooms": ["crm:all"]}
    assert _ask(client, "unsubscribe", {"all": True}) == {"ok": True, "rooms": [f"crm:queue:{SUPPORT}"]}
    _offer(server, SUPPORT, VIP)
    assert _received(client) == [("call.offered", SUPPORT)]

    assert _ask(client, "subscribe", {"all": True}) == {"ok": True, "rooms": ["crm:all"]}
    _offer(server, SUPPORT, VIP)
    assert _received(client) == [("call.offered", SUPPORT), ("call.offered", VIP), ("agent.state", None)]


def test_queue_limited_token_cannot_widen_its_feed(server):
    _, client = _connect(server, ["events:read"], queues=[SUPPORT])
    for request in ({"queue": VIP}, {"all": True}):
        ack = _ask(client, "subscribe", request)
        assert ack["ok"] is False and ack["error"] == FORBIDDEN, ack
    assert _ask(client, "unsubscribe", {"queue": SUPPORT}) == {"ok": True, "rooms": []}
    _offer(server, SUPPORT, VIP)
    assert _received(client) == []
    assert _ask(client, "subscribe", {"queue": SUPPORT}) == {"ok": True, "rooms": [f"crm:queue:{SUPPORT}"]}
    _offer(server, SUPPORT, VIP)
    assert _received(client) == [("call.offered", SUPPORT)]


@pytest.mark.parametrize("request_", [None, "support@default", {}, {"queue": SUPPORT, "all": True},
                                      {"all": False}, {"all": "yes"}, {"queue": "support"},
                                      {"queue": "support@default\nbgapi hupall"}, {"queue": 5}])
def test_malformed_subscriptions_are_invalid_argument(server, request_):
    _, client = _connect(server, ["events:read"])
    ack = _ask(client, "subscribe", request_)
    assert ack["ok"] is False and ack["error"] == "invalid_argument" and ack["message"]


def test_control_only_token_connects_to_an_empty_feed(server):
    _, client = _connect(server, ["calls:control"])
    _offer(server, SUPPORT)
    assert _received(client) == []
    ack = _ask(client, "subscribe", {"queue": SUPPORT})
    assert ack["ok"] is False and ack["error"] == FORBIDDEN


def test_token_without_feed_or_control_scope_is_refused(server):
    app, socketio = server
    _, plain = create_token("reader", ["data:read"])
    assert not socketio.test_client(app, namespace=CRM_NS, auth={"token": plain}).is_connected(CRM_NS)


# -- click-to-call ------------------------------------------------------------------------

def test_dial_for_an_agent_rings_its_phone_and_is_audited(server, runtime):
    row, client = _connect(server, ["calls:control"])
    ack = _ask(client, "call.dial", {"agent": "1000@default", "number": "13800138000"})
    assert ack == {"ok": True, "uuid": "new-leg"}
    assert len(runtime.sent) == 1
    assert runtime.sent[0].startswith("originate {")
    assert "cc_outbound_agent=1000@default" in runtime.sent[0]
    assert runtime.sent[0].endswith("}null/agent1000 13800138000 XML default")
    [entry] = recent_audit(10)
    assert (entry["actor"], entry["action"], entry["target"], entry["result"]) == \
        (f"token:{row.id}", "call.dial", "1000@default", "ok")


def test_dial_refusals_reach_no_switch(server, runtime):
    feed, reader = _connect(server, ["events:read"], name="feed")
    vip, vip_client = _connect(server, ["calls:control"], queues=[VIP], name="vip")
    _, full = _connect(server, ["calls:control"], name="full")
    refusals = [
        (reader, {"agent": "1000@default", "number": "13800138000"}, FORBIDDEN),
        (vip_client, {"agent": "1002@default", "number": "13800138000"}, FORBIDDEN),
        (full, {"agent": "1000@default\nbgapi hupall", "number": "13800138000"}, "invalid_argument"),
        (full, {"agent": "1000@default", "number": "138 XML evil"}, "invalid_argument"),
        (full, {"number": "13800138000"}, "invalid_argument"),
        (full, {"agent": "4321@default", "number": "13800138000"}, "not_found"),
        (full, ["1000@default"], "invalid_argument"),
    ]
    for client, data, code in refusals:
        ack = _ask(client, "call.dial", data)
        assert ack["ok"] is False and ack["error"] == code, (data, ack)
    assert runtime.sent == []
    actors = [(e["actor"], e["result"].split(":")[0]) for e in reversed(recent_audit(20))]
    assert actors[:2] == [(f"token:{feed.id}", FORBIDDEN), (f"token:{vip.id}", FORBIDDEN)]
    assert len(actors) == len(refusals)

    assert _ask(vip_client, "call.dial", {"agent": "1000@default", "number": "13800138000"})["ok"] is True


def test_hangup_only_for_calls_of_the_tokens_queues(server, runtime):
    _, vip_client = _connect(server, ["calls:control"], queues=[VIP])
    assert _ask(vip_client, "call.hangup", {"uuid": CALL_1002})["error"] == FORBIDDEN
    assert _ask(vip_client, "call.hangup", {"uuid": f"{CALL_1002} USER_BUSY"})["error"] == "invalid_argument"
    assert runtime.sent == []
    assert _ask(vip_client, "call.hangup", {"uuid": CALL_1000}) == {"ok": True}
    assert runtime.sent == [f"uuid_kill {CALL_1000} NORMAL_CLEARING"]


def test_desktop_actions_are_not_crm_events(server, runtime):
    _, client = _connect(server, ["calls:control"])
    assert not _ask(client, "agent.login")  # no handler, no acknowledgement
    assert runtime.sent == []


def test_call_control_refuses_other_actions_for_a_token(db, runtime):  # noqa: F811
    control = CallControl(runtime.state, api=runtime._api, bgapi=runtime._bgapi, tiers=lambda: TIERS,
                          not_ready_reasons=["lunch"], attach=lambda *_a: None, audit=lambda *_a: None)
    for action in ("agent.login", "call.hold", "supervisor.force"):
        ack = control.run(token_actor(7, None), action, {"uuid": CALL_1000, "agent": "1000@default"})
        assert ack["ok"] is False and ack["error"] == FORBIDDEN
    assert runtime.sent == []
