"""The event-socket conversation of 00-handshake, byte for byte (modulo uuids and numbers)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import gevent
import pytest
from gevent import socket

from cti_middleware.esl.wire import FrameParser, parse_event_body
from cti_middleware.simulator import SimConfig, Simulator

CAPTURES = Path(os.environ.get("CTI_CAPTURES", "/work/shared/captures"))
needs_captures = pytest.mark.skipif(not CAPTURES.is_dir(), reason="reference recordings not available")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATE_RE = re.compile(r"(Event-Date-(?:Local|GMT)\"?(?::|\":) ?\"?)[^\n\"]+")


@pytest.fixture
def sim():
    simulator = Simulator(SimConfig.default(time_scale=0.05)).start()
    try:
        yield simulator
    finally:
        simulator.stop()


def normalise(data: bytes) -> str:
    text = UUID_RE.sub("<uuid>", data.decode("utf-8"))
    text = DATE_RE.sub(r"\1<date>", text)
    return re.sub(r"\d+", "N", text)


def talk(port: int, commands: list[str], until_closed: bool = True) -> bytes:
    """Send each command once the previous one was answered; return every byte received."""
    sock = socket.create_connection(("127.0.0.1", port))
    parser = FrameParser()
    received = bytearray()
    frames = []

    def read_until(count: int) -> None:
        while len(frames) < count:
            data = sock.recv(65536)
            if not data:
                return
            received.extend(data)
            frames.extend(parser.feed(data))

    with gevent.Timeout(10):
        read_until(1)
        expected = 1
        for cmd in commands:
            sock.sendall(cmd.encode() + b"\n\n")
            expected += 1
            if cmd.startswith("bgapi"):
                expected += 1  # the BACKGROUND_JOB event follows the reply
            read_until(expected)
        if until_closed:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                received.extend(data)
    sock.close()
    return bytes(received)


@needs_captures
def test_bad_password_is_byte_exact(sim: Simulator) -> None:
    got = talk(sim.port, ["auth wrong-password"])
    assert got == (CAPTURES / "00-handshake" / "bad-password.esl").read_bytes()


@needs_captures
def test_session_matches_recording(sim: Simulator) -> None:
    lines = (CAPTURES / "00-handshake" / "commands.txt").read_text().splitlines()
    commands = [line.split(" ", 1)[1] for line in lines][1:]  # the bad-password connection is separate
    got = talk(sim.port, commands)
    expected = (CAPTURES / "00-handshake" / "session.esl").read_bytes()
    assert normalise(got) == normalise(expected)
    # and the frames really are what their lengths say
    frames = FrameParser().feed(got)
    jobs = [parse_event_body(f) for f in frames if f.content_type.startswith("text/event-")]
    assert [j["Job-Command"] for j in jobs] == ["status", "no_such_command"]
    assert jobs[1]["_body"] == "-ERR no_such_command Command not found!\n"


def test_commands_before_auth_are_refused(sim: Simulator) -> None:
    sock = socket.create_connection(("127.0.0.1", sim.port))
    parser = FrameParser()
    frames = []
    with gevent.Timeout(5):
        while not frames:
            frames += parser.feed(sock.recv(4096))
        sock.sendall(b"api status\n\n")
        while len(frames) < 2:
            frames += parser.feed(sock.recv(4096))
    sock.close()
    assert frames[0].content_type == "auth/request"
    assert frames[1].headers["Reply-Text"] == "-ERR command not found"


def test_kill_connections_drops_clients(sim: Simulator) -> None:
    sock = socket.create_connection(("127.0.0.1", sim.port))
    with gevent.Timeout(5):
        assert sock.recv(4096).startswith(b"Content-Type: auth/request")
        sim.kill_connections()
        assert sock.recv(4096) == b""
    sock.close()
