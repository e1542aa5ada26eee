"""The event socket (mod_event_socket, inbound mode) over gevent.

Each connection gets ``auth/request``, must ``auth`` with the password, and may then
run ``api``/``bgapi`` commands and subscribe to events in plain or json.  Everything a
connection is sent goes through one queue drained by a writer greenlet, so replies and
events reach the client in the order they were produced and the switch logic never
blocks on a slow socket.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from socket import IPPROTO_TCP, TCP_NODELAY
from typing import TYPE_CHECKING

import gevent
import gevent.queue
from gevent.server import StreamServer

from cti_middleware.esl.wire import encode_frame

if TYPE_CHECKING:
    from gevent.socket import socket

log = logging.getLogger(__name__)

GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
SHUTDOWN_NOTICE = "The system is being shut down.\n"
EVENT_NAMES = {
    "CUSTOM", "CLONE", "CHANNEL_CREATE", "CHANNEL_DESTROY", "CHANNEL_STATE", "CHANNEL_CALLSTATE",
    "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_EXECUTE",
    "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HOLD", "CHANNEL_UNHOLD", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
    "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_UNPARK",
    "CHANNEL_APPLICATION", "CHANNEL_ORIGINATE", "CHANNEL_UUID", "API", "LOG", "INBOUND_CHAN",
    "OUTBOUND_CHAN", "STARTUP", "SHUTDOWN", "PUBLISH", "UNPUBLISH", "TALK", "NOTALK", "SESSION_CRASH",
    "MODULE_LOAD", "MODULE_UNLOAD", "DTMF", "MESSAGE", "PRESENCE_IN", "NOTIFY_IN", "PRESENCE_OUT",
    "PRESENCE_PROBE", "MESSAGE_WAITING", "MESSAGE_QUERY", "ROSTER", "CODEC", "BACKGROUND_JOB",
    "DETECTED_SPEECH", "DETECTED_TONE", "PRIVATE_COMMAND", "HEARTBEAT", "TRAP", "ADD_SCHEDULE",
    "DEL_SCHEDULE", "EXE_SCHEDULE", "RE_SCHEDULE", "RELOADXML", "NOTIFY", "PHONE_FEATURE",
    "PHONE_FEATURE_SUBSCRIBE", "SEND_MESSAGE", "RECV_MESSAGE", "REQUEST_PARAMS", "CHANNEL_DATA",
    "GENERAL", "COMMAND", "SESSION_HEARTBEAT", "CLIENT_DISCONNECTED", "SERVER_DISCONNECTED",
    "SEND_INFO", "RECV_INFO", "RECV_RTCP_MESSAGE", "CALL_SECURE", "NAT", "RECORD_START", "RECORD_STOP",
    "PLAYBACK_START", "PLAYBACK_STOP", "CALL_UPDATE", "FAILURE", "SOCKET_DATA", "MEDIA_BUG_START",
    "MEDIA_BUG_STOP", "CONFERENCE_DATA_QUERY", "CONFERENCE_DATA", "CALL_SETUP_REQ", "CALL_SETUP_RESULT",
    "CALL_DETAIL", "DEVICE_STATE", "TEXT", "SHUTDOWN_REQUESTED", "ALL",
}


def reply(text: str, extra: list[tuple[str, str]] | None = None) -> bytes:
    return encode_frame([("Content-Type", "command/reply"), ("Reply-Text", text)] + (extra or []))


class Connection:
    """One client of the event socket."""

    def __init__(self, sock: socket, address: tuple, server: EslServer) -> None:
        self.sock = sock
        self.address = address
        self.server = server
        self.authed = False
        self.format = "plain"
        self.all_events = False
        self.names: set[str] = set()
        self.subclasses: set[str] = set()
        self.all_custom = False
        self.outbox: gevent.queue.Queue = gevent.queue.Queue()
        self.closed = False
        self.writer = gevent.spawn(self._write_loop)

    # -- Listener protocol ----------------------------------------------------
    def wants(self, event_name: str, subclass: str | None) -> bool:
        if not self.authed or self.closed:
            return False
        if self.all_events:
            return True
        if event_name == "CUSTOM":
            return self.all_custom or (subclass is not None and subclass in self.subclasses)
        return event_name in self.names

    def event_format(self) -> str:
        return self.format

    def send_bytes(self, data: bytes) -> None:
        if not self.closed:
            self.outbox.put(data)

    # -- I/O ------------------------------------------------------------------
    def _write_loop(self) -> None:
        while True:
            data = self.outbox.get()
            if data is None:
                break
            try:
                self.sock.sendall(data)
            except OSError:
                break
        self._really_close()

    def close_after_flush(self) -> None:
        """Send what is queued, then close (FreeSWITCH's goodbye path)."""
        if not self.closed:
            self.closed = True
            self.outbox.put(None)

    def abort(self) -> None:
        """Drop the TCP connection at once, like a network failure."""
        self.closed = True
        self._really_close()
        self.writer.kill(block=False)

    def _really_close(self) -> None:
        self.closed = True
        self.server.forget(self)
        try:
            self.sock.close()
        except OSError:
            pass

    def serve(self) -> None:
        self.send_bytes(encode_frame([("Content-Type", "auth/request")]))
        buf = b""
        try:
            while not self.closed:
                data = self.sock.recv(65536)
                if not data:
                    break
                buf += data.replace(b"\r\n", b"\n")
                while b"\n\n" in buf and not self.closed:
                    block, buf = buf.split(b"\n\n", 1)
                    if block.strip():
                        self.handle(block.decode("utf-8", "replace"))
        except OSError:
            pass
        finally:
            if not self.closed:
                self.closed = True
                self.outbox.put(None)
            self.writer.join(timeout=5)

    # -- commands -------------------------------------------------------------
    def handle(self, block: str) -> None:
        lines = [line for line in block.split("\n") if line.strip()]
        command = lines[0].strip()
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        word, _, rest = command.partition(" ")
        word = word.lower()
        if not self.authed:
            self._pre_auth(word, rest)
            return
        handler: Callable[[str, dict[str, str]], None] | None = getattr(self, f"_cmd_{word}", None)
        if handler is None:
            self.send_bytes(reply("-ERR command not found"))
            return
        handler(rest.strip(), headers)

    def _pre_auth(self, word: str, rest: str) -> None:
        if word != "auth":
            self.send_bytes(reply("-ERR command not found"))
            return
        if rest.strip() == self.server.password:
            self.authed = True
            self.send_bytes(reply("+OK accepted"))
            return
        self.send_bytes(reply("-ERR invalid"))
        self.send_bytes(encode_frame([("Content-Type", "text/disconnect-notice")], GOODBYE))
        self.close_after_flush()

    def _cmd_auth(self, rest: str, headers: dict[str, str]) -> None:
        self.send_bytes(reply("+OK accepted"))

    def _cmd_event(self, rest: str, headers: dict[str, str]) -> None:
        tokens = rest.split()
        fmt = "plain"
        if tokens and tokens[0].lower() in ("plain", "json", "xml"):
            fmt = tokens.pop(0).lower()
        self.format = "json" if fmt == "json" else "plain"
        custom = False
        for token in tokens:
            if custom:
                self.subclasses.add(token)
                continue
            upper = token.upper()
            if upper == "CUSTOM":
                custom = True
                continue
            if upper == "ALL":
                self.all_events = True
            elif upper in EVENT_NAMES:
                self.names.add(upper)
        if custom and not self.subclasses:
            self.all_custom = True
        self.send_bytes(reply(f"+OK event listener enabled {fmt}"))

    def _cmd_nixevent(self, rest: str, headers: dict[str, str]) -> None:
        for token in rest.split():
            self.names.discard(token.upper())
            self.subclasses.discard(token)
            if token.upper() == "ALL":
                self.all_events = False
        self.send_bytes(reply("+OK events removed"))

    def _cmd_noevents(self, rest: str, headers: dict[str, str]) -> None:
        self.names.clear()
        self.subclasses.clear()
        self.all_events = self.all_custom = False
        self.send_bytes(reply("+OK no longer listening for events"))

    def _cmd_filter(self, rest: str, headers: dict[str, str]) -> None:
        name, _, value = rest.partition(" ")
        self.send_bytes(reply(f"+OK filter added. [{name}]=[{value}]"))

    def _cmd_linger(self, rest: str, headers: dict[str, str]) -> None:
        self.send_bytes(reply("+OK will linger"))

    def _cmd_nolinger(self, rest: str, headers: dict[str, str]) -> None:
        self.send_bytes(reply("+OK will not linger"))

    def _cmd_exit(self, rest: str, headers: dict[str, str]) -> None:
        self.send_bytes(reply("+OK bye"))
        self.send_bytes(encode_frame([("Content-Type", "text/disconnect-notice")], GOODBYE))
        self.close_after_flush()

    def _cmd_api(self, rest: str, headers: dict[str, str]) -> None:
        output = self.server.run_api(rest)
        self.send_bytes(encode_frame([("Content-Type", "api/response")], output.encode("utf-8")))

    def _cmd_bgapi(self, rest: str, headers: dict[str, str]) -> None:
        job = headers.get("Job-UUID") or str(uuid.uuid4())
        self.send_bytes(reply(f"+OK Job-UUID: {job}", [("Job-UUID", job)]))
        gevent.spawn(self.server.run_bgapi, job, rest)


class EslServer:
    """The listening socket plus the set of live connections."""

    def __init__(self, host: str, port: int, password: str, run_api: Callable[[str], str],
                 run_bgapi: Callable[[str, str], None], register: Callable[[Connection], None],
                 unregister: Callable[[Connection], None]) -> None:
        self.password = password
        self.run_api = run_api
        self.run_bgapi = run_bgapi
        self._register = register
        self._unregister = unregister
        self.connections: list[Connection] = []
        self.stream = StreamServer((host, port), self._handle)

    @property
    def port(self) -> int:
        return self.stream.server_port

    def start(self) -> None:
        self.stream.start()

    def stop(self) -> None:
        self.stream.stop(timeout=1)

    def _handle(self, sock: socket, address: tuple) -> None:
        # mod_event_socket turns Nagle off on every listener socket: an event is
        # written the moment it happens, never held back to fill a segment.
        sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
        conn = Connection(sock, address, self)
        self.connections.append(conn)
        self._register(conn)
        conn.serve()

    def forget(self, conn: Connection) -> None:
        if conn in self.connections:
            self.connections.remove(conn)
        self._unregister(conn)

    def notify_all(self, text: str) -> None:
        for conn in list(self.connections):
            conn.send_bytes(encode_frame([("Content-Type", "text/disconnect-notice")], text))
            conn.close_after_flush()

    def kill_all(self) -> None:
        for conn in list(self.connections):
            conn.abort()
