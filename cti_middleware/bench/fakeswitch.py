"""A stand-in FreeSWITCH event socket for load: the real handshake, then scripted output.

It answers ``auth`` and ``event`` like mod_event_socket, ``api`` commands from a
function (canned ``callcenter_config`` tables for a resync), and once a client has
subscribed hands the connection to a script: a flood of pre-encoded frames as fast as
the socket takes them, or calls paced in time.  It runs in its own process so the
measured side has a core of its own.
"""

from __future__ import annotations

import multiprocessing as mp
import socket
import threading
from collections.abc import Callable

ApiHandler = Callable[[str], str]

AUTH_REQUEST = b"Content-Type: auth/request\n\n"


class SwitchConn:
    """One client connection; ``send`` is safe from the reply and script threads."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.closed = threading.Event()

    def send(self, data: bytes) -> bool:
        try:
            with self.lock:
                self.sock.sendall(data)
            return True
        except OSError:
            self.closed.set()
            return False

    def reply(self, text: str) -> None:
        self.send(f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode())

    def api_response(self, body: str) -> None:
        data = body.encode("utf-8")
        self.send(b"Content-Type: api/response\nContent-Length: %d\n\n" % len(data) + data)

    def close(self) -> None:
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


Script = Callable[[SwitchConn, str], None]


def _commands(sock: socket.socket):
    buf = b""
    while True:
        try:
            data = sock.recv(65536)
        except OSError:
            return
        if not data:
            return
        buf += data
        while b"\n\n" in buf:
            cmd, buf = buf.split(b"\n\n", 1)
            yield cmd.decode("utf-8", "replace").split("\n", 1)[0]


def _serve_conn(sock: socket.socket, api: ApiHandler | None, script: Script | None,
                password: str) -> None:
    conn = SwitchConn(sock)
    conn.send(AUTH_REQUEST)
    for cmd in _commands(sock):
        if cmd.startswith("auth "):
            conn.reply("+OK accepted" if cmd[5:] == password else "-ERR invalid")
        elif cmd.startswith("event "):
            fmt = cmd.split()[1]
            conn.reply(f"+OK event listener enabled {fmt}")
            if script is not None:
                threading.Thread(target=script, args=(conn, fmt), daemon=True).start()
        elif cmd.startswith("api "):
            conn.api_response(api(cmd[4:]) if api else "-ERR no reply\n")
        elif cmd == "exit":
            conn.reply("+OK bye")
            break
        else:
            conn.reply("-ERR command not found")
    conn.close()


def _run(port_out: mp.connection.Connection, api: ApiHandler | None, script: Script | None,
         password: str) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port_out.send(server.getsockname()[1])
    while True:
        sock, _ = server.accept()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as mod_event_socket does
        threading.Thread(target=_serve_conn, args=(sock, api, script, password),
                         daemon=True).start()


class FakeSwitch:
    """The switch process; ``port`` is known once started, ``stop`` ends it."""

    def __init__(self, api: ApiHandler | None = None, script: Script | None = None,
                 password: str = "ClueCon") -> None:
        self.api, self.script, self.password = api, script, password
        self.proc: mp.Process | None = None
        self.port = 0

    def start(self) -> int:
        ctx = mp.get_context("fork")  # the pre-encoded buffers are shared, not pickled
        parent, child = ctx.Pipe()
        self.proc = ctx.Process(target=_run, args=(child, self.api, self.script, self.password),
                                daemon=True)
        self.proc.start()
        if not parent.poll(20):
            raise RuntimeError("the fake switch did not start")
        self.port = parent.recv()
        return self.port

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join(5)

    def __enter__(self) -> FakeSwitch:  # noqa: PYI034
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def flood(buffers: dict[str, bytes], repeat: int) -> Script:
    """A script sending the buffer for the subscribed format ``repeat`` times, then closing."""

    def script(conn: SwitchConn, fmt: str) -> None:
        data = buffers[fmt]
        for _ in range(repeat):
            if not conn.send(data):
                return
        conn.close()

    return script
