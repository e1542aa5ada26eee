"""Real processes, real sockets: helpers the integration and browser tests share.

The simulator and the middleware run as separate processes started with the same
commands a user types, on ephemeral ports; tests wait for what those processes print
or send, never for a fixed time.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import socketio

from cti_middleware.esl.wire import Frame, FrameParser, parse_event_body

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLI = str(BIN / "cti-middleware")
CAPTURES = ROOT.parent / "shared" / "captures"


class Proc:
    """A child process whose output lines can be awaited by pattern."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None,
                 log_path: Path | None = None) -> None:
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        self.args = args
        self.lines: queue.Queue[str] = queue.Queue()
        self.history: list[str] = []
        self.kept: list[str] = []  # lines a start-up wait passed over, looked at first
        self.log_path = log_path
        self.popen = subprocess.Popen(
            args, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, encoding="utf-8", errors="replace", cwd=str(ROOT),
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        log = open(self.log_path, "a", encoding="utf-8") if self.log_path else None  # noqa: SIM115
        try:
            for line in self.popen.stdout:
                self.history.append(line)
                self.lines.put(line)
                if log:
                    log.write(line)
                    log.flush()
        finally:
            if log:
                log.close()
            self.lines.put("")  # EOF marker

    def wait_for(self, pattern: str, timeout: float = 20.0, *, keep_skipped: bool = False) -> re.Match[str]:
        """The first line from now on matching ``pattern``; fails with the output so far.

        ``keep_skipped``: the lines passed over stay for the next wait, for a start-up
        announcement that other start-up output (a first connect, say) may precede.
        """
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        skipped: list[str] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self.kept:
                line = self.kept.pop(0)
            else:
                try:
                    line = self.lines.get(timeout=left)
                except queue.Empty:
                    break
            if line == "" and self.popen.poll() is not None:
                raise AssertionError(f"{self.args[1:3]} exited ({self.popen.returncode}) before "
                                     f"printing {pattern!r}:\n{''.join(self.history[-40:])}")
            match = regex.search(line)
            if match:
                if keep_skipped:
                    self.kept[:0] = skipped
                return match
            skipped.append(line)
        raise AssertionError(f"no line matching {pattern!r} within {timeout}s:\n"
                             f"{''.join(self.history[-40:])}")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(timeout=5)


def start_simulator(port: int = 0, extra: list[str] | None = None,
                    log_path: Path | None = None) -> tuple[Proc, int]:
    proc = Proc([CLI, "simulate", "--port", str(port), *(extra or [])], log_path=log_path)
    match = proc.wait_for(r"listening on [\d.]+:(\d+)")
    return proc, int(match.group(1))


def start_middleware(esl_port: int, db_url: str, password: str = "ClueCon",
                     log_path: Path | None = None, extra_env: dict[str, str] | None = None) -> tuple[Proc, str]:
    env = {
        "CTI_ESL_HOST": "127.0.0.1",
        "CTI_ESL_PORT": str(esl_port),
        "CTI_ESL_PASSWORD": password,
        "CTI_DATABASE_URL": db_url,
        "CTI_HTTP_HOST": "127.0.0.1",
        "CTI_HTTP_PORT": "0",
        "CTI_ESL_COMMAND_TIMEOUT": "5",
    }
    env.update(extra_env or {})
    proc = Proc([CLI, "run"], env=env, log_path=log_path)
    match = proc.wait_for(r"listening on (http://[\d.]+:\d+)/", keep_skipped=True)
    return proc, match.group(1)


class EslTestClient:
    """A deliberately plain, blocking ESL client for driving the switch from tests."""

    def __init__(self, port: int, password: str = "ClueCon", host: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.parser = FrameParser()
        self.frames: list[Frame] = []
        # Events that arrive while a command waits for its reply: kept for wait_event, so a
        # CHANNEL_CREATE fired by an originate is not lost to the uuid_getvar that follows it.
        self.backlog: list[Frame] = []
        first = self._next()
        assert first.content_type == "auth/request", first
        reply = self.command(f"auth {password}")
        if reply.headers.get("Reply-Text") != "+OK accepted":
            raise ConnectionError(reply.headers.get("Reply-Text"))

    def _next(self) -> Frame:
        while not self.frames:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.frames.extend(self.parser.feed(data))
        return self.frames.pop(0)

    def next_frame(self) -> Frame:
        """The next frame not yet looked at, events kept back by a command first."""
        return self.backlog.pop(0) if self.backlog else self._next()

    def command(self, text: str) -> Frame:
        self.sock.sendall(text.encode() + b"\n\n")
        while True:
            frame = self._next()
            if frame.content_type in ("command/reply", "api/response"):
                return frame
            self.backlog.append(frame)

    def api(self, text: str) -> str:
        return self.command(f"api {text}").body_text()

    def wait_event(self, name: str, uuid: str) -> dict[str, str]:
        """The next ``name`` event of channel ``uuid``, as the switch itself reports it.

        Needs a prior ``event plain ...`` subscription; the socket timeout bounds the wait.
        """
        while True:
            frame = self.next_frame()
            if frame.content_type != "text/event-plain":
                continue
            headers = parse_event_body(frame)
            if headers.get("Event-Name") == name and headers.get("Unique-ID") == uuid:
                return headers

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class Desktop:
    """A real Socket.IO client logged in as an agent; received events can be awaited."""

    def __init__(self, base_url: str, agent: str, password: str, namespace: str = "/agent") -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.seen: list[tuple[str, Any]] = []
        self.namespace = namespace
        self.sio = socketio.Client(reconnection=False)
        self.refusal: Any = None
        self.sio.on("*", self._on_any, namespace=namespace)
        self.sio.on("connect_error", self._on_refused, namespace=namespace)
        try:
            self.sio.connect(base_url, namespaces=[namespace], transports=["websocket"],
                             auth={"agent": agent, "password": password}, wait_timeout=10)
        except socketio.exceptions.ConnectionError as exc:
            # The server's reason arrives as connect_error data, not in the exception.
            reason = self.refusal.get("message") if isinstance(self.refusal, dict) else self.refusal
            raise socketio.exceptions.ConnectionError(f"{exc}: {reason}") from exc

    def _on_refused(self, data: Any = None) -> None:
        self.refusal = data

    def _on_any(self, event: str, data: Any = None) -> None:
        self.events.put((event, data))

    def wait(self, name: str, predicate: Callable[[Any], bool] = lambda _d: True,
             timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        for event, data in self.seen:
            if event == name and predicate(data):
                self.seen.remove((event, data))
                return data
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {name!r} matching within {timeout}s; seen "
                                     f"{[e for e, _ in self.seen][-20:]}")
            try:
                event, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event == name and predicate(data):
                return data
            self.seen.append((event, data))

    def call(self, event: str, data: Any = None, timeout: float = 15.0) -> Any:
        return self.sio.call(event, data, namespace=self.namespace, timeout=timeout)

    def close(self) -> None:
        self.sio.disconnect()
