"""The simulator facade: one object to start, inspect and stop a simulated FreeSWITCH."""

from __future__ import annotations

from collections.abc import Callable

import gevent

from cti_middleware.simulator.api import Api
from cti_middleware.simulator.callcenter import Agent, CallCenter, Member
from cti_middleware.simulator.channels import Channel
from cti_middleware.simulator.config import SimConfig
from cti_middleware.simulator.entry import DialplanEntry
from cti_middleware.simulator.events import EventBus, Headers
from cti_middleware.simulator.hunt import DialplanEngine
from cti_middleware.simulator.server import SHUTDOWN_NOTICE, Connection, EslServer
from cti_middleware.simulator.switch import Switch
from cti_middleware.simulator.xml_fetch import XmlCurlClient

SRC_JOB = ("mod_event_socket.c", "api_exec", 1572)


class Simulator:
    """A FreeSWITCH with mod_callcenter behind a real event socket, in this process.

    ``start()`` returns at once (gevent server); ``port`` is the bound port afterwards.
    The state is open for assertions: ``agents``, ``members``, ``channels``; and
    ``api()`` runs a command in-process exactly as ``api <cmd>`` over the socket would.
    """

    def __init__(self, config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0,
                 password: str = "ClueCon") -> None:
        self.config = config or SimConfig.default()
        self.bus = EventBus(self.config.hostname, self.config.ipv4, self.config.ipv6)
        self.switch = Switch(self.config, self.bus)
        self.callcenter = CallCenter(self.config, self.bus, self.switch)
        self.commands = Api(self.switch, self.callcenter, self.shutdown)
        self.dialplan = self._dialplan_engine()
        self.server = EslServer(host, port, password, self.api, self._bgapi, self._register, self._unregister)
        self._started = False

    def _dialplan_engine(self) -> DialplanEngine:
        """The hunt engine; with ``config.xml_curl`` every hunt asks that server first."""
        cfg = self.config
        client = None
        if cfg.xml_curl:
            client = XmlCurlClient(cfg.xml_curl, cfg.xml_curl_secret, cfg.xml_curl_user, cfg.xml_curl_timeout)
        engine = DialplanEngine(self.commands, client)
        self.commands.dialplan = engine  # type: ignore[attr-defined]
        if client is not None:
            self.commands.originator.cc = DialplanEntry(self.callcenter, engine)  # type: ignore[assignment]
            plain = self.commands.handlers["originate"]

            def originate(args: str) -> str:
                # Calls into other contexts are parked by the originate path; they hunt too.
                reply = plain(args)
                a_leg = self.switch.get(reply[4:].strip()) if reply.startswith("+OK ") else None
                b_leg = a_leg.partner if a_leg is not None else None
                if (b_leg is not None and b_leg.application == "park" and b_leg.uuid not in engine.runs
                        and b_leg.profile.context != "default"):
                    engine.hunt(b_leg)
                return reply

            self.commands.handlers["originate"] = originate
        return engine

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> Simulator:
        if not self._started:
            self.server.start()
            self.callcenter.start()
            self._started = True
        return self

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def host(self) -> str:
        return self.server.stream.server_host

    def stop(self) -> None:
        """Stop listening and drop every connection (no notice: the process just goes)."""
        if not self._started:
            return
        self._started = False
        self.callcenter.stop()
        self.server.kill_all()
        self.server.stop()

    def shutdown(self) -> None:
        """``fsctl shutdown``: calls are hung up, every client gets the shutdown notice."""
        def _go() -> None:
            self.switch.shutdown_all()
            self.callcenter.stop()
            self.server.notify_all(SHUTDOWN_NOTICE)
            self.server.stop()

        gevent.spawn(_go)

    def kill_connections(self) -> None:
        """Cut every client connection at TCP level, as a network failure would."""
        self.server.kill_all()

    def serve_forever(self) -> None:
        self.start()
        self.server.stream.serve_forever()

    # -- commands -------------------------------------------------------------
    def api(self, command: str) -> str:
        return self.commands.execute(command)

    def _bgapi(self, job_uuid: str, command: str) -> None:
        output = self.api(command)
        cmd, _, args = command.strip().partition(" ")
        headers = self.bus.core_headers("BACKGROUND_JOB", SRC_JOB)
        headers += [("Job-UUID", job_uuid), ("Job-Command", cmd)]
        if args.strip():
            headers.append(("Job-Command-Arg", args.strip()))
        self.bus.fire(headers, output)

    def _register(self, conn: Connection) -> None:
        self.bus.listeners.append(conn)

    def _unregister(self, conn: Connection) -> None:
        if conn in self.bus.listeners:
            self.bus.listeners.remove(conn)

    # -- state for assertions -------------------------------------------------
    @property
    def agents(self) -> dict[str, Agent]:
        return self.callcenter.agents

    @property
    def members(self) -> list[Member]:
        return self.callcenter.members

    @property
    def channels(self) -> list[Channel]:
        return self.switch.ordered()

    def agent_status(self, name: str) -> tuple[str, str]:
        """(status, state) of an agent."""
        agent = self.callcenter.agents[name]
        return agent.status, agent.state

    def observe(self, callback: Callable[[Headers, str | None], None]) -> None:
        """Call ``callback(headers, body)`` for every event fired (in-process hook)."""
        self.bus.observers.append(callback)
