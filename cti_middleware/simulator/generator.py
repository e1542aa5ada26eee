"""A call generator for demos: random callers ring the queues and hang up after a while.

It drives the switch only through the event socket, with the same commands a test
operator would type (``bgapi originate {...}loopback/support/default &park()`` and
``api uuid_kill``), so it works against the simulator and against a real FreeSWITCH
configured like the reference one.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field

import gevent
import gevent.event
import gevent.lock
import gevent.queue
from gevent import socket

from cti_middleware.esl.wire import Frame, FrameParser, parse_event_body

log = logging.getLogger(__name__)

# numbers the demo data knows (customers) and a pool of names for everyone else
KNOWN_CALLERS = [
    ("13800138000", "张三"),
    ("13900139000", "李四"),
    ("01062345678", "王五"),
    ("+8613700137000", "赵六"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "155", "158", "159", "166", "177", "180", "181", "186", "187", "188", "189", "199"]
LANDLINE_PREFIXES = ["010", "021", "020", "0755", "028", "027", "025", "0571"]


def random_caller(rng: random.Random, known_ratio: float = 0.4,
                  known: list[tuple[str, str]] | None = None) -> tuple[str, str]:
    """A (number, name) pair: sometimes a known customer, otherwise a random Chinese number."""
    pool = known if known is not None else KNOWN_CALLERS
    if pool and rng.random() < known_ratio:
        return rng.choice(pool)
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    if rng.random() < 0.8:
        number = rng.choice(MOBILE_PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(8))
    else:
        prefix = rng.choice(LANDLINE_PREFIXES)
        digits = 8 if len(prefix) == 3 else 7
        number = prefix + str(rng.randrange(2, 10)) + "".join(str(rng.randrange(10)) for _ in range(digits - 1))
    return number, name


def originate_command(number: str, name: str, destination: str) -> str:
    """The originate line for one caller (commas in names would split the variable list)."""
    safe = name.replace(",", " ").replace("}", " ")
    return (f"originate {{origination_caller_id_number={number},origination_caller_id_name={safe}}}"
            f"loopback/{destination}/default &park()")


@dataclass
class CallGenerator:
    """Places calls at ``calls_per_minute`` (Poisson-ish) and hangs each up after a random time."""

    host: str
    port: int
    password: str = "ClueCon"
    calls_per_minute: float = 6.0
    time_scale: float = 1.0
    destinations: dict[str, float] = field(default_factory=lambda: {"support": 0.8, "vip": 0.2})
    min_duration: float = 20.0
    max_duration: float = 90.0
    known_ratio: float = 0.4
    known: list[tuple[str, str]] | None = None
    seed: int | None = None
    placed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._sock: socket.socket | None = None
        self._replies: gevent.queue.Queue = gevent.queue.Queue()
        self._jobs: dict[str, gevent.event.AsyncResult] = {}
        self._lock = gevent.lock.Semaphore()
        self._greenlets: list[gevent.Greenlet] = []
        self._running = False

    # -- connection -----------------------------------------------------------
    def connect(self) -> None:
        self._sock = socket.create_connection((self.host, self.port), timeout=10)
        self._sock.settimeout(None)
        self._greenlets.append(gevent.spawn(self._read))
        self._replies.get(timeout=10)  # auth/request
        self._send(f"auth {self.password}")
        if not self._replies.get(timeout=10).headers.get("Reply-Text", "").startswith("+OK"):
            raise ConnectionError("event socket refused the password")
        self._send("event plain BACKGROUND_JOB")
        self._replies.get(timeout=10)

    def _send(self, line: str) -> None:
        assert self._sock is not None
        self._sock.sendall(line.encode("utf-8") + b"\n\n")

    def _read(self) -> None:
        parser = FrameParser()
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._replies.put(Frame({"Content-Type": "text/disconnect-notice"}))
                return
            for frame in parser.feed(data):
                self._dispatch(frame)

    def _dispatch(self, frame: Frame) -> None:
        if frame.content_type.startswith("text/event-"):
            event = parse_event_body(frame)
            # the job may finish before its reply was even read: park the result until asked
            job = self._jobs.setdefault(event.get("Job-UUID", ""), gevent.event.AsyncResult())
            job.set(event.get("_body", ""))
        else:
            self._replies.put(frame)

    def command(self, line: str) -> Frame:
        """Send one command and return its reply (api/response or command/reply)."""
        with self._lock:
            self._send(line)
            return self._replies.get(timeout=30)

    def api(self, line: str) -> str:
        return self.command(f"api {line}").body_text()

    # -- calls ----------------------------------------------------------------
    def place_call(self) -> str | None:
        """Originate one random caller; returns the caller leg's uuid once the switch answers."""
        number, name = random_caller(self._rng, self.known_ratio, self.known)
        destination = self._pick_destination()
        reply = self.command(f"bgapi {originate_command(number, name, destination)}")
        job_uuid = reply.headers.get("Job-UUID", "")
        result = self._jobs.setdefault(job_uuid, gevent.event.AsyncResult())
        try:
            body = result.get(timeout=30)
        except gevent.Timeout:
            return None
        finally:
            self._jobs.pop(job_uuid, None)
        if not body.startswith("+OK "):
            log.warning("originate failed: %s", body.strip())
            return None
        caller_uuid = body[4:].strip()
        self.placed.append(caller_uuid)
        log.info("call from %s (%s) to %s: %s", number, name, destination, caller_uuid)
        duration = self._rng.uniform(self.min_duration, self.max_duration) * self.time_scale
        self._greenlets.append(gevent.spawn_later(duration, self._hang_up, caller_uuid))
        return caller_uuid

    def _hang_up(self, caller_uuid: str) -> None:
        if self._running:
            self.api(f"uuid_kill {caller_uuid}")

    def _pick_destination(self) -> str:
        names = list(self.destinations)
        return self._rng.choices(names, weights=[self.destinations[n] for n in names])[0]

    def _loop(self) -> None:
        mean_gap = 60.0 / self.calls_per_minute * self.time_scale
        while self._running:
            gevent.sleep(self._rng.expovariate(1.0 / mean_gap) if mean_gap > 0 else 1.0)
            if not self._running:
                break
            try:
                self.place_call()
            except (OSError, gevent.queue.Empty) as exc:
                log.warning("call generator lost the switch: %s", exc)
                return

    def start(self) -> CallGenerator:
        if self._sock is None:
            self.connect()
        self._running = True
        self._greenlets.append(gevent.spawn(self._loop))
        return self

    def stop(self) -> None:
        self._running = False
        for greenlet in self._greenlets:
            greenlet.kill(block=False)
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
