"""Shared machinery of the Socket.IO benchmarks: the middleware, scripted calls, desktops.

The middleware runs exactly as deployed (``cti-middleware run``) against a
:class:`.fakeswitch.FakeSwitch` that answers the resync for the benchmark's agents
and, when told, writes pre-encoded events and notes when it wrote each one.
"""

from __future__ import annotations

import heapq
import json
import multiprocessing as mp
import time
from collections.abc import Iterable
from pathlib import Path

from ..esl.wire import encode_event_json
from .corpus import CallMaker
from .fakeswitch import FakeSwitch, SwitchConn
from .pgdata import AGENT_PASSWORD, PG_URL
from .procs import run_child, spawn, stop, wait_line  # noqa: F401 - re-exported for benches
from .snapshot_text import SnapshotReplies

POP_ACTIONS = ("member-queue-start", "agent-offering", "bridge-agent-start", "bridge-agent-end",
               "member-queue-end")

# mod_callcenter offers a caller to an agent from its dispatch loop, never in the same
# instant the caller joins: the recordings show 20 ms (03, 06), 80 ms (05) and 100 ms (13)
# between member-queue-start and agent-offering.  The calls use the shortest.
OFFER_AFTER = 0.020

# (offset seconds, frame bytes, label or "") per scripted item
Step = tuple[float, bytes, str]


def _cc_only(maker: CallMaker, actions: Iterable[str]) -> None:
    wanted = set(actions)
    for name, events in maker.templates.items():
        maker.templates[name] = [
            (pairs, body) for pairs, body in events if dict(pairs).get("CC-Action") in wanted]


def call_steps(calls: int, rate: float, agents: int) -> list[Step]:
    """``calls`` queue calls at ``rate``/s, one agent each: offer, bridge after 0.5 s, end at 2 s."""
    maker = CallMaker(agents=agents, queues=100)
    _cc_only(maker, POP_ACTIONS)
    steps: list[Step] = []
    for i in range(calls):
        at = i / rate
        events = maker.call(i, scenario="03-answered-call", first_agent=(i - 1) % agents)
        for pairs, body in events:
            h = dict(pairs)
            action = h["CC-Action"]
            offset = {"agent-offering": OFFER_AFTER, "bridge-agent-start": 0.5,
                      "bridge-agent-end": 2.0, "member-queue-end": 2.0}.get(action, 0.0)
            label = h["CC-Member-Session-UUID"] if action == "agent-offering" else ""
            steps.append((at + offset, encode_event_json(pairs, body), label))
    steps.sort(key=lambda s: s[0])
    return steps


def status_burst(agents: int, status: str) -> bytes:
    """One ``agent-status-change`` per agent, written in a single burst."""
    maker = CallMaker(agents=agents)
    _cc_only(maker, ("agent-status-change",))
    out = []
    for i in range(agents):
        pairs, body = maker.call(i, scenario="03-answered-call", first_agent=i)[0]
        pairs = [(k, status if k == "CC-Agent-Status" else v) for k, v in pairs]
        out.append(encode_event_json(pairs, body))
    return b"".join(out)


class ScriptedSwitch:
    """A fake switch whose script plays ``bursts``; each waits for :meth:`go`."""

    def __init__(self, agents: int, bursts: list[list[Step]], marks: Path) -> None:
        ctx = mp.get_context("fork")
        self.gates = [ctx.Event() for _ in bursts]
        self.bursts, self.marks = bursts, marks
        self.switch = FakeSwitch(api=SnapshotReplies(agents=agents, queues=100, channels=0),
                                 script=self._script)

    def _script(self, conn: SwitchConn, fmt: str) -> None:
        with open(self.marks, "a", encoding="utf-8") as out:
            for gate, steps in zip(self.gates, self.bursts):
                gate.wait()
                start = time.time()
                heap = list(steps)
                heapq.heapify(heap)
                while heap:
                    at, data, label = heapq.heappop(heap)
                    delay = start + at - time.time()
                    if delay > 0:
                        time.sleep(delay)
                    written = time.time()
                    if not conn.send(data):
                        return
                    if label:
                        out.write(json.dumps([label, written]) + "\n")
                out.flush()

    def go(self, index: int) -> None:
        self.gates[index].set()

    def marks_written(self) -> dict[str, float]:
        if not self.marks.exists():
            return {}
        return {k: v for k, v in (json.loads(line) for line in self.marks.read_text().splitlines())}


def start_middleware(esl_port: int, extra_env: dict[str, str] | None = None):
    env = {"CTI_ESL_HOST": "127.0.0.1", "CTI_ESL_PORT": str(esl_port), "CTI_ESL_PASSWORD": "ClueCon",
           "CTI_DATABASE_URL": PG_URL, "CTI_HTTP_HOST": "127.0.0.1", "CTI_HTTP_PORT": "0"}
    env.update(extra_env or {})
    proc = spawn("cti_middleware.cli", ["run"], env=env)
    url = wait_line(proc, "CTI middleware listening on ", 60).rstrip("/")
    return proc, url


def start_desktops(url: str, agents: int, processes: int, seconds: float,
                   ready_timeout: float = 240) -> list:
    procs = []
    per = agents // processes
    for p in range(processes):
        procs.append(spawn("cti_middleware.bench.sio_child",
                           ["--url", url, "--first", str(p * per), "--count", str(per),
                            "--password", AGENT_PASSWORD, "--seconds", str(seconds)]))
    connected = 0
    for proc in procs:
        line = wait_line(proc, "READY ", ready_timeout)
        connected += int(line.split()[0])
        if line.split(" ", 1)[1:] != ["[]"]:
            print(f"    desktop errors: {line[:300]}", flush=True)
    return procs, connected


def collect(procs: list, timeout: float) -> list[dict]:
    out = []
    for proc in procs:
        line = wait_line(proc, "RESULT ", timeout)
        out.append(json.loads(line))
        stop(proc)
    return out
