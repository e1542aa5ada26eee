"""The /crm Socket.IO API end to end: a CRM's feed and click-to-call against the simulator."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest
import socketio

from cti_middleware.esl.wire import parse_event_body
from cti_middleware.store import db as store_db
from cti_middleware.store.audit import recent_audit
from cti_middleware.store.tokens import create_token
from tests.harness import Desktop, EslTestClient, Proc

SUPPORT, VIP, SALES = "support@default", "vip@default", "sales@default"
NUMBER = "13800138000"
TOKENS = {
    # name: (scopes, queues)
    "wall": (["events:read", "calls:control"], None),
    "vip-feed": (["events:read"], [VIP]),
    "sales-control": (["events:read", "calls:control"], [SALES]),
    "dialer": (["calls:control"], None),
    "reader": (["events:read"], None),
    "vip-dialer": (["calls:control"], [VIP]),
}


class Crm(Desktop):
    """A real Socket.IO client on /crm, authenticated by an API token."""

    def __init__(self, base_url: str, token: str) -> None:
        self.events: queue.Queue = queue.Queue()
        self.seen: list = []
        self.namespace = "/crm"
        self.sio = socketio.Client(reconnection=False)
        self.refusal = None
        self.sio.on("*", self._on_any, namespace=self.namespace)
        self.sio.on("connect_error", self._on_refused, namespace=self.namespace)
        self.sio.connect(base_url, namespaces=[self.namespace], transports=["websocket"],
                         auth={"token": token}, wait_timeout=10)

    def received(self) -> list[str]:
        """Names of every event received so far and not awaited."""
        while not self.events.empty():
            self.seen.append(self.events.get_nowait())
        return [name for name, _ in self.seen]


@pytest.fixture
def tokens(seeded_db: str) -> Iterator[dict[str, tuple[int, str]]]:
    """name -> (id, plain token), written before the middleware starts."""
    store_db.open_database(seeded_db)
    try:
        made = {}
        for name, (scopes, queues) in TOKENS.items():
            row, plain = create_token(name, scopes, queues=queues)
            made[name] = (row.id, plain)
    finally:
        store_db.close_database()
    yield made


@pytest.fixture
def middleware(tokens, middleware: tuple[Proc, str]) -> tuple[Proc, str]:
    """The shared middleware fixture, started only once the tokens exist."""
    return middleware


def _audit(db_url: str) -> list[tuple[str, str, str]]:
    store_db.open_database(db_url)
    try:
        return [(e["actor"], e["action"], e["result"].split(":")[0]) for e in reversed(recent_audit(100))]
    finally:
        store_db.close_database()


def _only_1000_available(esl: EslTestClient) -> None:
    for agent in ("1001@default", "1002@default"):
        assert esl.api(f"callcenter_config agent set status {agent} 'Logged Out'").startswith("+OK")
    assert esl.api("callcenter_config agent set status 1000@default Available").startswith("+OK")


def _first_event(esl: EslTestClient, name: str) -> dict[str, str]:
    while True:
        frame = esl.next_frame()
        if frame.content_type == "text/event-plain":
            headers = parse_event_body(frame)
            if headers.get("Event-Name") == name:
                return headers


def test_subscribed_feed_and_hangup_for_a_queue(middleware, esl, simulator, seeded_db, tokens):
    _proc, url = middleware
    watcher = EslTestClient(simulator[1])
    wall = Crm(url, tokens["wall"][1])
    vip_feed = Crm(url, tokens["vip-feed"][1])
    sales = Crm(url, tokens["sales-control"][1])
    try:
        watcher.command("event plain CHANNEL_HANGUP")
        assert wall.call("unsubscribe", {"all": True}) == {"ok": True, "rooms": []}
        assert wall.call("subscribe", {"queue": SUPPORT}) == {"ok": True, "rooms": [f"crm:queue:{SUPPORT}"]}
        refused = vip_feed.call("subscribe", {"queue": SUPPORT})
        assert refused["ok"] is False and refused["error"] == "forbidden"

        _only_1000_available(esl)
        reply = esl.api(f"originate {{origination_caller_id_number={NUMBER},origination_caller_id_name=Z}}"
                        "loopback/support/default &park()")
        assert reply.startswith("+OK "), reply
        offered = wall.wait("call.offered")
        assert (offered["queue"], offered["agent"]) == (SUPPORT, "1000@default")
        assert offered["caller"]["number"] == NUMBER
        call = offered["call_uuid"]
        wall.wait("call.answered", lambda d: d["call_uuid"] == call)

        # Sales serves no agent of this call: its token may not end it.
        ack = sales.call("call.hangup", {"uuid": call})
        assert ack["ok"] is False and ack["error"] == "forbidden"
        ack = wall.call("call.hangup", {"uuid": f"{call}\nhupall"})
        assert ack["ok"] is False and ack["error"] == "invalid_argument"
        assert esl.api(f"uuid_exists {call}").strip() == "true"

        assert wall.call("call.hangup", {"uuid": call}) == {"ok": True}
        watcher.wait_event("CHANNEL_HANGUP", call)
        wall.wait("call.ended", lambda d: d["call_uuid"] == call)
        # The feed after "unsubscribe all" carries no agent states; the vip token saw nothing.
        assert "agent.state" not in wall.received()
        assert vip_feed.received() == [] and sales.received() == []
    finally:
        for client in (wall, vip_feed, sales):
            client.close()
        watcher.close()

    wall_id, sales_id = tokens["wall"][0], tokens["sales-control"][0]
    assert _audit(seeded_db) == [
        (f"token:{sales_id}", "call.hangup", "forbidden"),
        (f"token:{wall_id}", "call.hangup", "invalid_argument"),
        (f"token:{wall_id}", "call.hangup", "ok"),
    ]


def test_click_to_call_for_an_agent(middleware, simulator, seeded_db, tokens):
    _proc, url = middleware
    watcher = EslTestClient(simulator[1])
    dialer = Crm(url, tokens["dialer"][1])
    reader = Crm(url, tokens["reader"][1])
    vip_dialer = Crm(url, tokens["vip-dialer"][1])
    try:
        watcher.command("event plain CHANNEL_CREATE")
        refusals = [
            (reader, {"agent": "1000@default", "number": NUMBER}, "forbidden"),
            (vip_dialer, {"agent": "1002@default", "number": NUMBER}, "forbidden"),
            (dialer, {"agent": "1000@default\nbgapi originate null/x &park", "number": NUMBER},
             "invalid_argument"),
            (dialer, {"agent": "1000@default", "number": f"{NUMBER} XML public"}, "invalid_argument"),
        ]
        for client, data, code in refusals:
            ack = client.call("call.dial", data)
            assert ack["ok"] is False and ack["error"] == code, (data, ack)

        dialed = dialer.call("call.dial", {"agent": "1000@default", "number": NUMBER})
        assert dialed["ok"] is True and dialed["uuid"], dialed
        # The first channel since the refusals is the one asked for: nothing else reached the switch.
        created = _first_event(watcher, "CHANNEL_CREATE")
        assert created["Unique-ID"] == dialed["uuid"]
        assert created["Channel-Name"] == "null/agent1000"
        assert created["variable_cc_outbound_agent"] == "1000@default"
        assert created["variable_origination_caller_id_number"] == NUMBER

        # 1000 serves vip too, so the vip token may dial for it.
        again = vip_dialer.call("call.dial", {"agent": "1000@default", "number": NUMBER})
        assert again["ok"] is True, again
        assert watcher.wait_event("CHANNEL_CREATE", again["uuid"])["Channel-Name"] == "null/agent1000"
    finally:
        for client in (dialer, reader, vip_dialer):
            client.close()
        watcher.close()

    ids = {name: token_id for name, (token_id, _plain) in tokens.items()}
    assert _audit(seeded_db) == [
        (f"token:{ids['reader']}", "call.dial", "forbidden"),
        (f"token:{ids['vip-dialer']}", "call.dial", "forbidden"),
        (f"token:{ids['dialer']}", "call.dial", "invalid_argument"),
        (f"token:{ids['dialer']}", "call.dial", "invalid_argument"),
        (f"token:{ids['dialer']}", "call.dial", "ok"),
        (f"token:{ids['vip-dialer']}", "call.dial", "ok"),
    ]


def test_token_without_feed_or_control_scope_is_refused(middleware, seeded_db):
    _proc, url = middleware
    store_db.open_database(seeded_db)
    try:
        _, plain = create_token("writer", ["data:write"])
    finally:
        store_db.close_database()
    with pytest.raises(socketio.exceptions.ConnectionError):
        Crm(url, plain)
