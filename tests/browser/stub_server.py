"""A stand-in Socket.IO server for page-rendering tests of the agent desktop.

It serves the static desktop exactly where the middleware serves it ("/", "/static/...",
"/static/vendor/socket.io.min.js") and speaks the /agent and /supervisor protocol with
canned data, so the page can be exercised without FreeSWITCH or the real middleware.
Every event the page sends is recorded, so tests can check what the browser asked for.
"""

from __future__ import annotations

import mimetypes
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio
from werkzeug.serving import make_server

REPO = Path(__file__).resolve().parents[2]
STATIC_DIR = REPO / "cti_middleware" / "web" / "static"
SOCKETIO_JS = REPO / "cti_middleware" / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

# agent id -> (password, display name, role)
ACCOUNTS = {
    "1000@default": ("1234", "王小明", "agent"),
    "9000@default": ("9999", "Supervisor Li", "supervisor"),
}
NOT_IMPLEMENTED = {"ok": False, "error": "NOT_IMPLEMENTED", "message": "not implemented"}

Ack = Callable[[str, Any], dict]


def agent_state(agent: str, status: str, state: str, since: float, call_uuid: str | None = None) -> dict:
    """An `agent.state` payload as the middleware sends it."""
    return {"agent": agent, "name": ACCOUNTS.get(agent, ("", None, ""))[1], "status": status,
            "state": state, "since": since, "call_uuid": call_uuid}


class StubServer:
    """Threaded WSGI server on an ephemeral loopback port; stop() shuts it down."""

    def __init__(self) -> None:
        self.sio = socketio.Server(async_mode="threading", cors_allowed_origins=[], ping_interval=25,
                                   ping_timeout=120)
        self.received: list[tuple[str, str, Any]] = []
        self._cond = threading.Condition()
        self.acks: dict[str, Ack] = {}
        self.agent_since = time.time() - 55
        self.supervisor_agents: list[dict] = []
        self._register()
        app = socketio.WSGIApp(self.sio, self._static)
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)

    # -- what the page sees -------------------------------------------------------------

    def emit(self, event: str, data: Any, namespace: str = "/agent") -> None:
        """Push a server event to every connected page on the namespace."""
        self.sio.emit(event, data, namespace=namespace)

    def wait_for(self, event: str, timeout: float = 10.0) -> Any:
        """Payload of the first recorded event with this name, waiting for it if needed."""
        def found() -> list:
            return [data for _, name, data in self.received if name == event]

        with self._cond:
            if not self._cond.wait_for(found, timeout=timeout):
                seen = [name for _, name, _ in self.received]
                raise AssertionError(f"page never sent {event!r} within {timeout}s; it sent {seen}")
            return found()[0]

    # -- protocol ---------------------------------------------------------------------------

    def _register(self) -> None:
        self.sio.on("connect", self._connect_agent, namespace="/agent")
        self.sio.on("connect", self._connect_supervisor, namespace="/supervisor")
        self.sio.on("*", self._record_agent, namespace="/agent")
        self.sio.on("*", self._record_supervisor, namespace="/supervisor")

    def _account(self, auth: Any) -> tuple[str, str, str] | None:
        if not isinstance(auth, dict):
            return None
        agent = auth.get("agent")
        account = ACCOUNTS.get(agent) if isinstance(agent, str) else None
        if account is None or auth.get("password") != account[0]:
            return None
        return agent, account[1], account[2]

    def _connect_agent(self, sid: str, environ: dict, auth: Any = None) -> None:
        account = self._account(auth)
        if account is None:
            raise socketio.exceptions.ConnectionRefusedError("invalid credentials")
        agent, name, role = account
        self.sio.emit("session", {"agent": agent, "name": name, "role": role}, to=sid, namespace="/agent")
        self.sio.emit("agent.state", agent_state(agent, "Available", "Waiting", self.agent_since),
                      to=sid, namespace="/agent")

    def _connect_supervisor(self, sid: str, environ: dict, auth: Any = None) -> None:
        account = self._account(auth)
        if account is None or account[2] != "supervisor":
            raise socketio.exceptions.ConnectionRefusedError("forbidden")
        self.sio.emit("supervisor.agents", self.supervisor_agents, to=sid, namespace="/supervisor")

    def _record(self, namespace: str, event: str, args: tuple) -> dict:
        data = args[0] if args else None
        with self._cond:
            self.received.append((namespace, event, data))
            self._cond.notify_all()
        handler = self.acks.get(event)
        return handler(event, data) if handler else NOT_IMPLEMENTED

    def _record_agent(self, event: str, sid: str, *args: Any) -> dict:
        return self._record("/agent", event, args)

    def _record_supervisor(self, event: str, sid: str, *args: Any) -> dict:
        return self._record("/supervisor", event, args)

    # -- static files, mapped like the middleware maps them ------------------------------------

    def _static(self, environ: dict, start_response: Callable) -> list[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/":
            target = STATIC_DIR / "index.html"
        elif path == "/static/vendor/socket.io.min.js":
            target = SOCKETIO_JS
        elif path.startswith("/static/"):
            target = (STATIC_DIR / path[len("/static/"):]).resolve()
            if STATIC_DIR.resolve() not in target.parents:
                target = STATIC_DIR / "missing"
        else:
            target = STATIC_DIR / "missing"
        if not target.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        ctype = "text/javascript" if target.suffix in (".js", ".mjs") else (
            mimetypes.guess_type(target.name)[0] or "application/octet-stream")
        if ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        body = target.read_bytes()
        start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
        return [body]
