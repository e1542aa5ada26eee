"""The Flask application: pages, health, and the Socket.IO namespaces around the runtime."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, jsonify, request, send_from_directory
from flask_socketio import SocketIO

from ..api import CrmNamespace, CrmSocketSink, api_bp
from ..api.crm_presence import CrmPresence
from ..api.workorder_events import start_overdue_checker
from ..config import Settings
from ..dialplan.xml_curl import xml_curl_bp
from ..runtime import Runtime
from . import callback_handlers
from .control_handlers import control_for
from .forwarding import CommandForwarder, CommandServer
from .message_queue import BatchingRedisManager
from .shared_state import LocalSource, SharedSource, SnapshotWriter
from .sockets import AgentNamespace, SupervisorNamespace

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")
NODE_DIR = os.path.join(os.path.dirname(__file__), "node_modules")
VENDOR = {
    "socket.io.min.js": os.path.join(NODE_DIR, "socket.io-client", "dist"),
    "socket.io.min.js.map": os.path.join(NODE_DIR, "socket.io-client", "dist"),
}


def create_app(settings: Settings | None = None, start: bool = True,
               web_only: bool = False) -> tuple[Flask, SocketIO, Runtime]:
    """Build the app, its Socket.IO server and the runtime they share.

    ``web_only``: a worker that serves pages, the API and Socket.IO but never links
    to FreeSWITCH; what it pushes comes from the ingest process through the message
    queue, which is how several workers share one switch's events.
    """
    settings = settings or Settings.from_env()
    if web_only and not settings.message_queue:
        raise ValueError("a web-only worker needs CTI_MESSAGE_QUEUE (e.g. redis://host:6379/0)")
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=1024 * 1024,
        CTI_XML_CURL_SECRET=settings.xml_curl_secret,
        CTI_XML_CURL_ALLOW=settings.xml_curl_allow,
        CTI_RECORDINGS_DIR=settings.recordings_dir,
    )
    channel = os.environ.get("CTI_MESSAGE_QUEUE_CHANNEL") or "flask-socketio"
    # Deployments sharing one Redis keep their messages apart by channel.
    queue: dict[str, Any] = {"message_queue": settings.message_queue, "channel": channel}
    if (settings.message_queue or "").startswith(("redis://", "rediss://")):
        queue = {"client_manager": BatchingRedisManager(settings.message_queue, channel=channel)}
    socketio = SocketIO(
        app,
        async_mode="gevent",
        **queue,
        max_http_buffer_size=64 * 1024,
        cors_allowed_origins=[],
        ping_interval=20,
        ping_timeout=20,
    )
    runtime = Runtime(settings, socketio.emit)
    app.extensions["cti_runtime"] = runtime
    app.extensions["cti_web_only"] = web_only
    agent_ns, supervisor_ns = _namespaces(settings, runtime, channel, web_only, start)
    socketio.on_namespace(agent_ns)
    socketio.on_namespace(supervisor_ns)
    crm_presence = CrmPresence.for_queue(settings.message_queue, channel)
    socketio.on_namespace(CrmNamespace(presence=crm_presence))
    runtime.notifier.add(CrmSocketSink(socketio.emit, presence=crm_presence))
    app.register_blueprint(api_bp)
    _register_api_errors(app)
    _register_pages(app)
    _register_health(app, runtime)
    _register_switch_config(app, runtime)
    # Every process pushes the callback tasks it assigns; the ingest process also the due retries.
    callback_handlers.install(socketio, watch_due=start and not web_only)
    if start and not web_only:
        crm_presence.start()
        runtime.start()
        # One process announces overdue work orders; the once-only mark lives in the database.
        start_overdue_checker(socketio)
    return app, socketio, runtime


def _namespaces(settings: Settings, runtime: Runtime, channel: str, web_only: bool,
                start: bool) -> tuple[AgentNamespace, SupervisorNamespace]:
    """The desktop namespaces; with Redis, workers and the ingest process share state and commands."""
    url = settings.message_queue or ""
    if not url.startswith(("redis://", "rediss://")):
        return AgentNamespace(runtime), SupervisorNamespace(runtime)
    if web_only:
        source = SharedSource(url, channel)
        forwarder = CommandForwarder(url, channel, settings.secret_key,
                                     timeout=settings.esl_command_timeout + 2.0)
        namespaces = AgentNamespace(runtime, source), SupervisorNamespace(runtime, source)
        for namespace in namespaces:
            namespace.forward = forwarder.forward
        return namespaces
    if start:
        writer = SnapshotWriter(runtime, url, channel)
        runtime.notifier.add(writer)
        runtime.break_reasons.subscribe(writer.mark)
        runtime.resync_listeners.append(writer.write)
        writer.start()
        runtime.shared_state = writer  # type: ignore[attr-defined]
        server = CommandServer(url, channel, settings.secret_key,
                               lambda actor, action, args: control_for(runtime).run(actor, action, args),
                               repop=LocalSource(runtime).repop)
        server.start()
        runtime.command_server = server  # type: ignore[attr-defined]
    return AgentNamespace(runtime), SupervisorNamespace(runtime)


def _register_pages(app: Flask) -> None:
    @app.get("/")
    def index() -> Any:
        return send_from_directory(STATIC_DIR, "index.html")

    @app.get("/static/vendor/<path:name>")
    def vendor(name: str) -> Any:
        folder = VENDOR.get(name)
        if folder is None:
            abort(404)
        return send_from_directory(folder, name)

    @app.get("/static/<path:name>")
    def static_file(name: str) -> Any:
        return send_from_directory(STATIC_DIR, name)


def _register_api_errors(app: Flask) -> None:
    """Unknown paths and methods under /api answer JSON too, like every other API error."""

    @app.errorhandler(404)
    def not_found(exc: Exception) -> Any:
        if request.path.startswith("/api/"):
            return jsonify({"error": "not_found", "message": "no such endpoint"}), 404
        return exc

    @app.errorhandler(405)
    def bad_method(exc: Exception) -> Any:
        if request.path.startswith("/api/"):
            return jsonify({"error": "method_not_allowed", "message": "method not allowed here"}), 405
        return exc


def _register_health(app: Flask, runtime: Runtime) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        if app.extensions.get("cti_web_only"):
            return jsonify({"role": "web-only", "freeswitch": "not linked here"}), 200
        link = runtime.link
        body = {
            "freeswitch": "connected" if link.connected.is_set() else "disconnected",
            "last_error": link.last_error,
            "connects": link.connects,
            "events": runtime.pipeline.events,
            "skipped": runtime.pipeline.skipped,
            "resyncs": runtime.pipeline.resyncs,
            "call_records_written": runtime.records.written,
            "provisioning": (runtime.provisioner.status() if runtime.provisioner is not None
                             else {"enabled": False}),
        }
        return jsonify(body), 200 if link.connected.is_set() else 503


def _register_switch_config(app: Flask, runtime: Runtime) -> None:
    """mod_xml_curl asks here for dialplan, callcenter.conf and phone users."""

    def agent_status(agent_id: str) -> str | None:
        agent = runtime.state.agents.get(agent_id)
        return agent.status if agent else None

    app.extensions["cti_agent_status"] = agent_status
    app.register_blueprint(xml_curl_bp)
