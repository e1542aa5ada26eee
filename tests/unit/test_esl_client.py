"""The event-socket client against a scripted switch: timeouts, correlation, bounds."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import gevent
import gevent.queue
import pytest
from gevent.server import StreamServer

from cti_middleware.esl.client import (
    AuthenticationError,
    CommandError,
    CommandTimeout,
    EslConnection,
    NotConnectedError,
)
from cti_middleware.esl.wire import encode_event_json, encode_frame


class ScriptedSwitch:
    """Speaks ESL framing; what it answers to each command is up to the test."""

    def __init__(self, on_command: Callable[[object, str], None], password: str = "ClueCon") -> None:
        self.on_command = on_command
        self.password = password
        self.commands: gevent.queue.Queue = gevent.queue.Queue()
        self.server = StreamServer(("127.0.0.1", 0), self._handle)
        self.server.start()
        self.port = self.server.server_port

    def _handle(self, sock: object, _addr: object) -> None:
        sock.sendall(encode_frame([("Content-Type", "auth/request")]))
        buf = b""
        while True:
            data = sock.recv(65536)
            if not data:
                return
            buf += data
            while b"\n\n" in buf:
                raw, buf = buf.split(b"\n\n", 1)
                text = raw.decode()
                self.commands.put(text)
                if text.startswith("auth "):
                    ok = text == f"auth {self.password}"
                    sock.sendall(encode_frame([("Content-Type", "command/reply"),
                                               ("Reply-Text", "+OK accepted" if ok else "-ERR invalid")]))
                    if not ok:
                        sock.close()
                        return
                else:
                    self.on_command(sock, text)

    def stop(self) -> None:
        self.server.stop()


def reply(sock: object, text: str) -> None:
    sock.sendall(encode_frame([("Content-Type", "command/reply"), ("Reply-Text", text)]))


def api_response(sock: object, body: str) -> None:
    sock.sendall(encode_frame([("Content-Type", "api/response"), ("Content-Length", "0")], body))


def job_event(job_uuid: str, body: str) -> bytes:
    return encode_event_json([("Event-Name", "BACKGROUND_JOB"), ("Job-UUID", job_uuid),
                              ("Event-Date-Timestamp", "1795457110830734")], body)


@pytest.fixture
def switch_factory() -> Iterator[Callable[..., ScriptedSwitch]]:
    made: list[ScriptedSwitch] = []

    def make(on_command: Callable[[object, str], None], **kw: object) -> ScriptedSwitch:
        sw = ScriptedSwitch(on_command, **kw)
        made.append(sw)
        return sw

    yield make
    for sw in made:
        sw.stop()


def test_a_command_without_reply_times_out_and_later_replies_stay_matched(switch_factory):
    held: list[object] = []

    def on_command(sock, text):
        if text == "api slow":
            held.append(sock)  # answered only after the next command arrives
        elif text == "api fast":
            api_response(sock, "late answer to slow\n")
            api_response(sock, "+OK fast\n")

    sw = switch_factory(on_command)
    conn = EslConnection("127.0.0.1", sw.port, "ClueCon", command_timeout=0.2)
    conn.connect()
    with pytest.raises(CommandTimeout, match="no reply to 'api'"):
        conn.api("slow")
    assert conn.api("fast") == "+OK fast\n"
    conn.close()


def test_api_err_becomes_command_error(switch_factory):
    sw = switch_factory(lambda sock, text: api_response(sock, "-ERR no_such_command Command not found!\n"))
    conn = EslConnection("127.0.0.1", sw.port, "ClueCon")
    conn.connect()
    with pytest.raises(CommandError, match="Command not found"):
        conn.api("no_such_command")
    conn.close()


def test_bgapi_results_are_matched_by_job_uuid_not_order(switch_factory):
    pending: list[tuple[object, str, str]] = []

    def on_command(sock, text):
        lines = text.split("\n")
        job = next(line.split(": ", 1)[1] for line in lines if line.startswith("Job-UUID: "))
        reply(sock, f"+OK Job-UUID: {job}")
        pending.append((sock, job, lines[0]))
        if len(pending) == 2:
            # Finish the second job first.
            for s, j, cmd in reversed(pending):
                s.sendall(job_event(j, f"+OK result of {cmd}\n"))

    sw = switch_factory(on_command)
    conn = EslConnection("127.0.0.1", sw.port, "ClueCon")
    conn.connect()
    first = gevent.spawn(conn.bgapi, "originate a")
    second = gevent.spawn(conn.bgapi, "originate b")
    gevent.joinall([first, second], timeout=5, raise_error=True)
    assert first.value == "+OK result of bgapi originate a\n"
    assert second.value == "+OK result of bgapi originate b\n"
    conn.close()


def test_event_flood_is_bounded_and_counted(switch_factory):
    def on_command(sock, text):
        reply(sock, "+OK event listener enabled json")
        flood = b"".join(job_event(f"j{i}", "x") for i in range(500))
        sock.sendall(flood)

    sw = switch_factory(on_command)
    conn = EslConnection("127.0.0.1", sw.port, "ClueCon", queue_size=50)
    overflow: list[int] = []
    conn.on_overflow = overflow.append
    conn.connect()
    conn.subscribe("json", ["BACKGROUND_JOB"])
    with gevent.Timeout(5):
        while conn.dropped < 450:
            gevent.sleep(0.01)
    assert conn.events.qsize() == 50
    assert conn.dropped == 450
    assert overflow and overflow[-1] == 450
    conn.close()


def test_wrong_password_is_an_authentication_error(switch_factory):
    sw = switch_factory(lambda sock, text: None, password="right")
    conn = EslConnection("127.0.0.1", sw.port, "wrong")
    with pytest.raises(AuthenticationError, match="CTI_ESL_PASSWORD"):
        conn.connect()
    assert not conn.connected


@pytest.mark.parametrize("command", ["api status\napi hupall", "api status\r", "bgapi x\nJob-UUID: y"])
def test_line_breaks_never_reach_the_socket(switch_factory, command):
    sw = switch_factory(lambda sock, text: api_response(sock, "+OK\n"))
    conn = EslConnection("127.0.0.1", sw.port, "ClueCon")
    conn.connect()
    with pytest.raises(ValueError, match="line break"):
        conn.send(command)
    assert sw.commands.get(timeout=1).startswith("auth ")
    assert sw.commands.empty()
    conn.close()


def test_commands_fail_fast_when_the_switch_goes_away(switch_factory):
    def on_command(sock, text):
        sock.close()

    sw = switch_factory(on_command)
    conn = EslConnection("127.0.0.1", sw.port, "ClueCon", command_timeout=5)
    conn.connect()
    with pytest.raises(NotConnectedError):
        conn.api("status")
    assert conn.closed.is_set()
    with pytest.raises(NotConnectedError):
        conn.api("status")
