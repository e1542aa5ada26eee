"""One call from an ESL frame to a screen pop, end to end over real sockets."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from cti_middleware.store import db as store_db
from cti_middleware.store.calls import get_call
from tests.harness import Desktop, EslTestClient, start_middleware, start_simulator
from tests.integration.conftest import AGENT_PASSWORD, SIM_ARGS


def _only_1000_available(esl: EslTestClient) -> None:
    for agent in ("1001@default", "1002@default"):
        assert esl.api(f"callcenter_config agent set status {agent} 'Logged Out'").startswith("+OK")
    assert esl.api("callcenter_config agent set status 1000@default Available").startswith("+OK")


def _originate(esl: EslTestClient, number: str, name: str) -> str:
    reply = esl.api(
        f"originate {{origination_caller_id_number={number},origination_caller_id_name={name}}}"
        "loopback/support/default &park()"
    )
    assert reply.startswith("+OK "), reply
    return reply.split()[1]


def _stored_call(db_url: str, call_uuid: str, timeout: float = 10.0):
    """The call record, once the middleware's background writer has stored it."""
    store_db.open_database(db_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = get_call(call_uuid)
            if record is not None and record.ended_at is not None:
                return record
            time.sleep(0.05)
        return get_call(call_uuid)
    finally:
        store_db.close_database()


def test_known_customer_gets_a_full_screen_pop_and_a_call_record(middleware, esl, seeded_db):
    _proc, url = middleware
    desk = Desktop(url, "1000@default", AGENT_PASSWORD)
    try:
        session = desk.wait("session")
        assert session == {"agent": "1000@default", "name": "Alice", "role": "agent"}
        _only_1000_available(esl)
        desk.wait("agent.state", lambda d: d["status"] == "Available")

        _originate(esl, "13800138000", "张三")
        offered = desk.wait("screen.pop", lambda d: d["stage"] == "offered")
        assert offered["agent"] == "1000@default"
        assert offered["queue"] == "support@default"
        assert offered["caller"] == {"number": "13800138000", "name": "张三"}
        assert offered["new_caller"] is False
        customer = offered["customer"]
        assert customer["name"] == "张三"
        assert customer["vip"] is True
        assert customer["address"] == "北京市朝阳区建国路88号"
        assert "13800138000" in customer["phones"]
        member_uuid = offered["call_uuid"]

        bridged = desk.wait("screen.pop", lambda d: d["stage"] == "bridged")
        assert bridged["call_uuid"] == member_uuid
        assert bridged["answered_at"] >= bridged["offered_at"]
        desk.wait("agent.state", lambda d: d["state"] == "In a queue call")

        # A desktop opened (or reloaded) mid-call gets the call's pop again at once.
        second = Desktop(url, "1000@default", AGENT_PASSWORD)
        try:
            again = second.wait("screen.pop")
            assert again["call_uuid"] == member_uuid and again["stage"] == "bridged"
            assert again["customer"]["name"] == "张三"
        finally:
            second.close()

        esl.api(f"uuid_kill {member_uuid}")
        ended = desk.wait("call.ended", lambda d: d["call_uuid"] == member_uuid)
        assert ended["cause"] == "Terminated"
        desk.wait("agent.state", lambda d: d["state"] == "Waiting" and d["call_uuid"] is None)
        stats = desk.wait("agent.stats", lambda d: d["calls_today"] == 1)
        assert stats["talk_time"] >= 0 and stats["avg_handle_time"] == stats["talk_time"]
    finally:
        desk.close()

    record = _stored_call(seeded_db, member_uuid)
    assert record is not None
    assert record.caller_number == "13800138000"
    assert record.agent == "1000@default"
    assert record.queue == "support@default"
    assert record.abandoned is False
    assert record.answered_at is not None and record.ended_at is not None


def test_unknown_number_pops_as_new_caller_with_region(middleware, esl):
    _proc, url = middleware
    desk = Desktop(url, "1000@default", AGENT_PASSWORD)
    try:
        _only_1000_available(esl)
        desk.wait("agent.state", lambda d: d["status"] == "Available")
        _originate(esl, "13912345678", "Stranger")
        pop = desk.wait("screen.pop", lambda d: d["stage"] == "offered")
        assert pop["new_caller"] is True
        assert pop["customer"] is None
        assert pop["region"] and "江苏" in pop["region"]
        esl.api(f"uuid_kill {pop['call_uuid']}")
        # Hung up while ringing: the offer is withdrawn, the desktop clears the pop.
        gone = desk.wait("call.withdrawn", lambda d: d["call_uuid"] == pop["call_uuid"])
        assert gone["reason"] == "caller-left"
    finally:
        desk.close()


def test_abandoned_call_is_recorded(middleware, esl, seeded_db):
    for agent in ("1000@default", "1001@default", "1002@default"):
        esl.api(f"callcenter_config agent set status {agent} 'Logged Out'")
    caller = _originate(esl, "13800138000", "张三")
    # originate returns once the caller's leg is up, so the queue member (the loopback
    # B leg, the one that ran `callcenter`) is already in the switch's channel list.
    rows = json.loads(esl.api("show channels as json")).get("rows", [])
    member_leg = next(r["uuid"] for r in rows if r["name"].endswith("support-b"))
    esl.api(f"uuid_kill {caller}")
    record = _stored_call(seeded_db, member_leg)
    assert record is not None
    assert record.abandoned is True
    assert record.answered_at is None
    assert record.cc_cause == "Cancel"


def test_wrong_agent_password_is_refused(middleware):
    _proc, url = middleware
    with pytest.raises(socketio.exceptions.ConnectionError, match="invalid credentials"):
        Desktop(url, "1000@default", "wrong")
    with pytest.raises(socketio.exceptions.ConnectionError, match="invalid credentials"):
        Desktop(url, "nobody@default", "x")


def test_agent_cannot_open_supervisor_namespace(middleware):
    _proc, url = middleware
    with pytest.raises(socketio.exceptions.ConnectionError, match="supervisor role required"):
        Desktop(url, "1000@default", AGENT_PASSWORD, namespace="/supervisor")
    sup = Desktop(url, "9000@default", AGENT_PASSWORD, namespace="/supervisor")
    try:
        agents = sup.wait("supervisor.agents")
        assert {a["agent"] for a in agents} >= {"1000@default", "1001@default"}
    finally:
        sup.close()


def test_simulator_restart_mid_call_resyncs(simulator, seeded_db, tmp_path: Path):
    sim, port = simulator
    mw, url = start_middleware(port, seeded_db, log_path=tmp_path / "mw.log")
    try:
        mw.wait_for(r"resynced from FreeSWITCH")
        desk = Desktop(url, "1000@default", AGENT_PASSWORD)
        esl = EslTestClient(port)
        _only_1000_available(esl)
        _originate(esl, "13800138000", "张三")
        desk.wait("screen.pop", lambda d: d["stage"] == "bridged")
        desk.wait("agent.state", lambda d: d["state"] == "In a queue call")

        sim.kill()
        mw.wait_for(r"lost FreeSWITCH")
        assert mw.alive()

        sim2, _ = start_simulator(port=port, extra=SIM_ARGS, log_path=tmp_path / "sim2.log")
        try:
            esl2 = EslTestClient(port)
            mw.wait_for(r"resynced from FreeSWITCH")
            # The restarted switch has no call and every agent logged out: the desktop
            # must be told, since FreeSWITCH itself never announces it.
            expected = esl2.api("callcenter_config agent get status 1000@default").strip()
            state = desk.wait("agent.state", lambda d: d["call_uuid"] is None)
            assert state["status"] == expected == "Logged Out"
            esl2.api("callcenter_config agent set status 1000@default Available")
            state = desk.wait("agent.state", lambda d: d["status"] == "Available")
            assert esl2.api("callcenter_config agent get status 1000@default").strip() == "Available"
            esl2.close()
        finally:
            sim2.stop()
        desk.close()
    finally:
        mw.stop()


def test_wrong_esl_password_is_a_clear_error_and_the_process_stays_up(simulator, seeded_db, tmp_path):
    _sim, port = simulator
    mw, url = start_middleware(port, seeded_db, password="not-the-password",
                               log_path=tmp_path / "mw.log")
    try:
        line = mw.wait_for(r"refused the event-socket password").string
        assert "CTI_ESL_PASSWORD" in line
        assert mw.alive()
        health = requests.get(f"{url}/healthz", timeout=5)
        assert health.status_code == 503
        assert "password" in health.json()["last_error"]
    finally:
        mw.stop()


class _GarbageSwitch:
    """A fake event socket that authenticates, then sends a frame that is not ESL."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.sendall(b"Content-Type: auth/request\n\n")
                conn.recv(1024)
                conn.sendall(b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n")
                conn.recv(1024)
                conn.sendall(b"Content-Type: command/reply\nReply-Text: +OK event listener enabled json\n\n")
                conn.sendall(b"Content-Length: banana\nContent-Type: text/event-json\n\n{}")
                conn.recv(1024)

    def close(self) -> None:
        self.server.close()


def test_malformed_esl_frame_is_logged_and_the_process_stays_up(seeded_db, tmp_path):
    fake = _GarbageSwitch()
    mw, url = start_middleware(fake.port, seeded_db, log_path=tmp_path / "mw.log")
    try:
        mw.wait_for(r"malformed ESL frame: invalid Content-Length 'banana'")
        mw.wait_for(r"lost FreeSWITCH .*malformed ESL frame")
        mw.wait_for(r"malformed ESL frame")  # it reconnected and met the same garbage again
        assert mw.alive()
        assert requests.get(f"{url}/", timeout=5).status_code == 200
    finally:
        mw.stop()
        fake.close()
