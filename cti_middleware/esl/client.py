"""The event-socket connection to FreeSWITCH, on greenswitch and gevent.

greenswitch gives the inbound connection its shape (a reader greenlet that only reads,
handlers registered by event name, ``connect``/``stop``).  Four of its habits do not
survive a busy call centre, so this module replaces them:

* its reader URL-decodes the whole frame before splitting it into headers, which lets
  a caller's name forge headers: frames are cut by :mod:`cti_middleware.esl.wire`;
* ``send`` waits forever for a reply matched by arrival order: every command here has a
  timeout, and a late reply is still consumed so later replies stay matched;
* the event queue is unbounded: here it is bounded, and an overflow is counted and
  reported so the owner can resync instead of growing without limit;
* ``bgapi`` results are correlated by Job-UUID, never by order.
"""

from __future__ import annotations

import logging
import socket
import uuid as uuid_mod
from collections import deque
from collections.abc import Callable

import gevent
import gevent.event
import gevent.queue
import gevent.socket
from greenswitch.esl import InboundESL, NotConnectedError

from .wire import Frame, FrameParser, ProtocolError, parse_event_body

log = logging.getLogger(__name__)

__all__ = [
    "AuthenticationError",
    "CommandError",
    "CommandTimeout",
    "EslConnection",
    "NotConnectedError",
]


class CommandError(RuntimeError):
    """FreeSWITCH answered ``-ERR ...``."""


class CommandTimeout(TimeoutError):
    """FreeSWITCH did not answer in time."""


class AuthenticationError(ConnectionError):
    """The event socket refused the password: retrying will not help until it is fixed."""


class _Pending:
    """A command waiting for its reply; abandoned ones still consume theirs."""

    __slots__ = ("abandoned", "job_uuid", "result")

    def __init__(self, job_uuid: str | None = None) -> None:
        self.result: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self.abandoned = False
        self.job_uuid = job_uuid


class EslConnection(InboundESL):
    """One authenticated inbound connection: commands with timeouts, events into a bounded queue."""

    def __init__(
        self,
        host: str,
        port: int,
        password: str,
        timeout: float = 5.0,
        command_timeout: float = 10.0,
        queue_size: int = 20000,
        max_body: int = 8 * 1024 * 1024,
    ) -> None:
        super().__init__(host, port, password, timeout=timeout)
        self.command_timeout = command_timeout
        self.events: gevent.queue.Queue = gevent.queue.Queue(maxsize=queue_size)
        self.dropped = 0
        self.disconnect_reason: str | None = None
        self.closed = gevent.event.Event()
        self._parser = FrameParser(max_body=max_body)
        self._replies: deque[_Pending] = deque()
        self._jobs: dict[str, gevent.event.AsyncResult] = {}
        self._auth_frame: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self.on_overflow: Callable[[int], None] | None = None

    # --- connection -----------------------------------------------------------------
    def connect(self) -> None:
        """Connect, wait for auth/request and authenticate; every step has a deadline."""
        sock = gevent.socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.settimeout(None)
        # Commands are small and each waits for its reply: send them at once.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.sock_file = sock.makefile("rb")  # greenswitch's stop() closes it
        self.connected = True
        self._receive_events_greenlet = gevent.spawn(self.receive_events)
        try:
            self._auth_frame.get(timeout=self.timeout)
        except gevent.Timeout:
            self.close("no auth/request from the server")
            raise CommandTimeout(
                f"{self.host}:{self.port} sent no auth/request within {self.timeout}s"
            ) from None
        reply = self.send(f"auth {self.password}", timeout=self.timeout)
        if reply.headers.get("Reply-Text", "").startswith("+OK"):
            return
        self.close("authentication refused")
        raise AuthenticationError(
            f"FreeSWITCH at {self.host}:{self.port} refused the event-socket password "
            f"({reply.headers.get('Reply-Text', '').strip()}); check CTI_ESL_PASSWORD"
        )

    def close(self, reason: str = "closed") -> None:
        """Drop the socket and fail every waiter; safe to call more than once."""
        if self.disconnect_reason is None:
            self.disconnect_reason = reason
        self.connected = False
        self._run = False
        sock = getattr(self, "sock", None)
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
        error = NotConnectedError(f"ESL connection closed: {self.disconnect_reason}")
        while self._replies:
            pending = self._replies.popleft()
            if not pending.result.ready():
                pending.result.set_exception(error)
        for job in list(self._jobs.values()):
            if not job.ready():
                job.set_exception(error)
        self._jobs.clear()
        if not self._auth_frame.ready():
            self._auth_frame.set_exception(error)
        self.closed.set()

    def stop(self) -> None:
        if self.connected:
            try:
                self.send("exit", timeout=1.0)
            except (NotConnectedError, CommandTimeout, CommandError, OSError):
                pass
        self.close("stopped")

    # --- reading ----------------------------------------------------------------------
    def receive_events(self) -> None:
        """The reader greenlet: only reads and routes frames, never runs handlers."""
        reason = "connection closed by FreeSWITCH"
        try:
            while self._run:
                data = self.sock.recv(65536)
                if not data:
                    break
                for frame in self._parser.feed(data):
                    self.handle_frame(frame)
                if self.events.qsize():
                    # gevent's recv returns at once while bytes are waiting, so in a flood
                    # this loop would never yield: let the consumer run, and let TCP slow
                    # FreeSWITCH down rather than fill the queue and drop events.
                    gevent.sleep(0)
        except ProtocolError as exc:
            reason = f"malformed ESL frame: {exc}"
            log.error("ESL %s:%s sent a %s; dropping the connection", self.host, self.port, reason)
        except OSError as exc:
            reason = f"socket error: {exc}"
        finally:
            self.close(self.disconnect_reason or reason)

    def handle_frame(self, frame: Frame) -> None:
        ctype = frame.content_type
        if ctype in ("command/reply", "api/response"):
            self._deliver_reply(frame)
        elif ctype.startswith("text/event-"):
            self._deliver_event(frame)
        elif ctype == "auth/request":
            self._auth_frame.set(frame)
        elif ctype in ("text/disconnect-notice", "text/rude-rejection"):
            text = frame.body_text().strip().splitlines()
            self.disconnect_reason = text[0] if text else ctype
            if frame.headers.get("Content-Disposition") != "linger":
                self._run = False
        else:
            log.warning("ignoring ESL frame of unknown type %r", ctype)

    def _deliver_reply(self, frame: Frame) -> None:
        if not self._replies:
            log.warning("ESL reply with no command waiting: %r", frame.headers)
            return
        pending = self._replies.popleft()
        if pending.job_uuid is not None:
            # A server that ignores our Job-UUID header names its own: re-key the waiter
            # here, in the reader, before the BACKGROUND_JOB can be read.
            theirs = frame.headers.get("Job-UUID")
            if theirs and theirs != pending.job_uuid and pending.job_uuid in self._jobs:
                self._jobs[theirs] = self._jobs.pop(pending.job_uuid)
        if pending.abandoned:
            log.warning("late ESL reply discarded: %s", frame.headers.get("Reply-Text", "api/response"))
            return
        pending.result.set(frame)

    def _deliver_event(self, frame: Frame) -> None:
        # BACKGROUND_JOB results are replies in disguise: resolve them here, by Job-UUID,
        # so a slow event consumer never delays a command's outcome.
        if self._jobs and b"BACKGROUND_JOB" in frame.body[:200]:
            try:
                event = parse_event_body(frame)
            except ProtocolError as exc:
                log.error("unparseable BACKGROUND_JOB: %s", exc)
                return
            job = self._jobs.pop(event.get("Job-UUID", ""), None)
            if job is not None:
                job.set(event.get("_body", ""))
        try:
            self.events.put_nowait(frame)
        except gevent.queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 10000 == 0:
                log.error("event queue full (%d): %d events dropped", self.events.maxsize, self.dropped)
            if self.on_overflow is not None:
                self.on_overflow(self.dropped)

    # --- commands ---------------------------------------------------------------------
    def send(
        self, data: str, timeout: float | None = None, job_uuid: str | None = None
    ) -> Frame:
        """Send one command and wait for its reply, at most ``timeout`` seconds.

        A newline would end the command early and start another: refused here as the
        last line of defence (arguments are validated long before they get this far).
        """
        if "\n" in data or "\r" in data:
            raise ValueError("an ESL command cannot contain a line break")
        if not self.connected:
            raise NotConnectedError(f"not connected: {self.disconnect_reason or 'never connected'}")
        pending = _Pending(job_uuid)
        wire = data + (f"\nJob-UUID: {job_uuid}" if job_uuid else "")
        self._replies.append(pending)
        try:
            self.sock.sendall(wire.encode("utf-8") + b"\n\n")
        except OSError as exc:
            self.close(f"send failed: {exc}")
            raise NotConnectedError(str(exc)) from exc
        try:
            return pending.result.get(timeout=timeout or self.command_timeout)
        except gevent.Timeout:
            pending.abandoned = True
            raise CommandTimeout(f"no reply to {data.split(' ', 1)[0]!r} within "
                                 f"{timeout or self.command_timeout}s") from None

    def api(self, command: str, timeout: float | None = None) -> str:
        """Run an api command; ``-ERR`` becomes :class:`CommandError`."""
        reply = self.send(f"api {command}", timeout)
        body = reply.body_text()
        if body.startswith(("-ERR", "-USAGE")):
            raise CommandError(body.strip())
        return body

    def bgapi(self, command: str, timeout: float | None = None) -> str:
        """Run a command in the background and wait for its BACKGROUND_JOB, matched by Job-UUID.

        The Job-UUID is chosen here and sent with the command so the result cannot
        arrive before we know which one to wait for.
        """
        job_uuid = str(uuid_mod.uuid4())
        waiter: gevent.event.AsyncResult = gevent.event.AsyncResult()
        self._jobs[job_uuid] = waiter
        try:
            self.send(f"bgapi {command}", timeout, job_uuid=job_uuid)
        except Exception:
            self._jobs.pop(job_uuid, None)
            raise
        try:
            body = waiter.get(timeout=timeout or self.command_timeout)
        except gevent.Timeout:
            self._jobs.pop(job_uuid, None)
            raise CommandTimeout(f"background job {command.split(' ', 1)[0]!r} did not finish "
                                 f"within {timeout or self.command_timeout}s") from None
        if body.startswith(("-ERR", "-USAGE")):
            raise CommandError(body.strip())
        return body

    def subscribe(self, event_format: str, names: list[str]) -> None:
        reply = self.send(f"event {event_format} {' '.join(names)}")
        text = reply.headers.get("Reply-Text", "")
        if not text.startswith("+OK"):
            raise CommandError(f"event subscription refused: {text}")
