"""The supervised link to one FreeSWITCH: connect, subscribe, reconnect with backoff.

The owner sees a stream of event frames and a ``on_connected`` call after every
(re)connect, which is where it resyncs; it never sees the socket come and go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import gevent
import gevent.event
import gevent.queue

from .client import (
    AuthenticationError,
    CommandTimeout,
    EslConnection,
    NotConnectedError,
)

log = logging.getLogger(__name__)

# What a call centre needs to follow agents, queues and calls.
EVENT_NAMES = [
    "CHANNEL_CREATE",
    "CHANNEL_PROGRESS",
    "CHANNEL_ANSWER",
    "CHANNEL_BRIDGE",
    "CHANNEL_UNBRIDGE",
    "CHANNEL_HOLD",
    "CHANNEL_UNHOLD",
    "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_DESTROY",
    "BACKGROUND_JOB",
    "CUSTOM",
    "callcenter::info",
    "conference::maintenance",
    "sofia::register",
    "sofia::unregister",
]


class Backoff:
    """Capped exponential backoff; reset once a connection has proved itself."""

    def __init__(self, first: float = 0.2, cap: float = 30.0) -> None:
        self.first = first
        self.cap = cap
        self.current = first

    def next(self) -> float:
        delay = self.current
        self.current = min(self.cap, self.current * 2)
        return delay

    def reset(self) -> None:
        self.current = self.first


class SwitchLink:
    """Keeps one connection to FreeSWITCH alive and hands its events to ``on_frame``."""

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        on_frame: Callable[[object], None],
        on_connected: Callable[[EslConnection], None] | None = None,
        on_disconnected: Callable[[str], None] | None = None,
        event_format: str = "json",
        command_timeout: float = 10.0,
        queue_size: int = 20000,
        backoff: Backoff | None = None,
    ) -> None:
        self.host, self.port, self.password = host, port, password
        self.on_frame = on_frame
        self.on_connected = on_connected
        self.on_disconnected = on_disconnected
        self.event_format = event_format
        self.command_timeout = command_timeout
        self.queue_size = queue_size
        self.backoff = backoff or Backoff()
        self.conn: EslConnection | None = None
        self.connected = gevent.event.Event()
        self.last_error: str | None = None
        self.connects = 0
        self._running = False
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self._running = True
        self._greenlet = gevent.spawn(self._supervise)

    def stop(self) -> None:
        self._running = False
        if self.conn is not None:
            self.conn.stop()
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=2)

    # --- commands for the rest of the product ----------------------------------------
    def _current(self) -> EslConnection:
        conn = self.conn
        if conn is None or not conn.connected:
            raise NotConnectedError(f"FreeSWITCH is not connected ({self.last_error or 'connecting'})")
        return conn

    def api(self, command: str, timeout: float | None = None) -> str:
        return self._current().api(command, timeout)

    def bgapi(self, command: str, timeout: float | None = None) -> str:
        return self._current().bgapi(command, timeout)

    # --- the supervision loop ----------------------------------------------------------
    def _supervise(self) -> None:
        while self._running:
            conn = EslConnection(
                self.host,
                self.port,
                self.password,
                command_timeout=self.command_timeout,
                queue_size=self.queue_size,
            )
            try:
                conn.connect()
                conn.subscribe(self.event_format, EVENT_NAMES)
            except AuthenticationError as exc:
                # Not a crash loop that hides the cause: say exactly what is wrong, then
                # keep trying slowly, since ops may fix the password without restarting us.
                self._failed(conn, str(exc), level=logging.ERROR, cap=True)
                continue
            except (OSError, NotConnectedError, CommandTimeout, Exception) as exc:  # noqa: BLE001
                self._failed(conn, f"cannot connect to FreeSWITCH at {self.host}:{self.port}: {exc}")
                continue
            self._serve(conn)

    def _failed(self, conn: EslConnection, message: str, level: int = logging.WARNING,
                cap: bool = False) -> None:
        conn.close(message)
        if message != self.last_error or level >= logging.ERROR:
            log.log(level, "%s", message)
        self.last_error = message
        delay = self.backoff.cap if cap else self.backoff.next()
        gevent.sleep(delay)

    def _serve(self, conn: EslConnection) -> None:
        self.conn = conn
        self.connects += 1
        self.last_error = None
        log.info("connected to FreeSWITCH at %s:%s (%s events)", self.host, self.port, self.event_format)
        started = gevent.get_hub().loop.now()
        self.connected.set()
        if self.on_connected is not None:
            # The owner resyncs through the event queue so the snapshot lands in order
            # with the events around it.
            self.on_connected(conn)
        seen_dropped = 0
        try:
            while self._running:
                try:
                    frame = conn.events.get(timeout=0.5)
                except gevent.queue.Empty:
                    if conn.closed.is_set():
                        break
                    continue
                self.on_frame(frame)
                if conn.dropped != seen_dropped and conn.events.qsize() < conn.events.maxsize // 2:
                    # We fell behind and lost events: the model can no longer be trusted,
                    # so rebuild it from FreeSWITCH rather than guess.
                    log.error("event consumer fell behind: %d events dropped; resyncing",
                              conn.dropped - seen_dropped)
                    seen_dropped = conn.dropped
                    if self.on_connected is not None:
                        self.on_connected(conn)
        finally:
            self.connected.clear()
            reason = conn.disconnect_reason or "connection lost"
            conn.close(reason)
            if self._running:
                log.warning("lost FreeSWITCH at %s:%s: %s; reconnecting", self.host, self.port, reason)
                if self.on_disconnected is not None:
                    self.on_disconnected(reason)
            if gevent.get_hub().loop.now() - started > 10:
                self.backoff.reset()
            if self._running:
                gevent.sleep(self.backoff.next())
