"""Benchmark 5: one ingest process plus N web-only workers on a Redis message queue.

The ingest process (``cti-middleware run``) holds the FreeSWITCH link and the state
and emits through Redis; each worker (``cti-middleware run --web-only``) serves its
share of the desktops and relays what the queue carries to the rooms it holds.  The
load is targeted pushes: bursts of one ``agent-status-change`` per agent, each
becoming an ``agent.state`` for that agent's room.  Emits/s is pushes delivered over
the time from the first burst's write to the last desktop's receipt; the figure is
the ratio for N=2 over N=1.  Both runs use the same desktops and bursts.

On two shared cores the ingest process, Redis, PostgreSQL and the desktops compete
with the workers, so the wall-clock ratio cannot show on its own whether workers
scale.  Each worker's CPU seconds up to the last receipt, over the pushes it
delivered, can: ``capacity`` sums each worker's emits per CPU-second, what the
workers would deliver with a core each, and its N=2 / N=1 ratio is 2 when a worker's
cost per push does not depend on how many workers there are.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from .desks import (
    ScriptedSwitch,
    collect,
    spawn,
    start_middleware,
    status_burst,
    stop,
    wait_line,
)
from .pgdata import AGENT_PASSWORD, prepare_agents
from .report import BenchResult, Figure

AGENTS = 1000
BURSTS = 20
DESKTOP_PROCS = 4
TARGET_SPEEDUP = 1.6
REDIS_URL = "redis://127.0.0.1:6379/0"


def _desktops(urls: list[str], seconds: float) -> tuple[list, int]:
    """DESKTOP_PROCS processes, the agents split evenly over the workers' URLs
    (process ``p`` on worker ``p % len(urls)``)."""
    procs = []
    per = AGENTS // DESKTOP_PROCS
    for p in range(DESKTOP_PROCS):
        url = urls[p % len(urls)]
        procs.append(spawn("cti_middleware.bench.sio_child",
                           ["--url", url, "--first", str(p * per), "--count", str(per),
                            "--password", AGENT_PASSWORD, "--seconds", str(seconds)]))
    connected = 0
    for proc in procs:
        connected += int(wait_line(proc, "READY ", 240).split()[0])
    return procs, connected


class CpuSampler:
    """CPU seconds of some processes, sampled every few ms, to read them at any past moment."""

    def __init__(self, pids: list[int], every: float = 0.02) -> None:
        self.pids, self.every = pids, every
        self.samples: list[tuple[float, list[float]]] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._sample()
        self._thread.start()

    def _sample(self) -> None:
        self.samples.append((time.time(), [_cpu_seconds(pid) for pid in self.pids]))

    def _run(self) -> None:
        while not self._done.wait(self.every):
            try:
                self._sample()
            except OSError:  # a process has exited: the window is over anyway
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def used_until(self, moment: float) -> list[float]:
        """CPU used from the first sample to the first sample at or after ``moment``."""
        base = self.samples[0][1]
        after = next((cpu for t, cpu in self.samples if t >= moment), self.samples[-1][1])
        return [b - a for a, b in zip(base, after)]


def measure(workers: int) -> dict:
    """Targeted emits/s delivered with ``workers`` web-only workers, and their CPU."""
    channel = f"cti-bench-{os.getpid()}-{workers}"
    env = {"CTI_MESSAGE_QUEUE": REDIS_URL, "CTI_MESSAGE_QUEUE_CHANNEL": channel}
    marks = Path(tempfile.mkdtemp()) / "bursts.jsonl"
    statuses = ("On Break", "Available")
    steps = [(k * 0.001, status_burst(AGENTS, statuses[k % 2]), f"burst{k}")
             for k in range(BURSTS)]
    switch = ScriptedSwitch(AGENTS, [steps], marks)
    switch.switch.start()
    ingest = None
    procs: list = []
    desktops: list = []
    try:
        ingest, _ = start_middleware(switch.switch.port, env)
        urls = []
        for _ in range(workers):
            proc = spawn("cti_middleware.cli", ["run", "--web-only"],
                         env={**_worker_env(), **env})
            procs.append(proc)
            urls.append(wait_line(proc, "CTI middleware listening on ", 60).rstrip("/"))
        desktops, connected = _desktops(urls, 25)
        time.sleep(1)  # the last logins' own pushes settle before the clock starts
        sampler = CpuSampler([p.pid for p in (ingest, *procs)])
        sampler.start()
        started = time.time()
        switch.go(0)
        logs = collect(desktops, 90)
        desktops = []
        sampler.stop()
    finally:
        for proc in desktops:
            stop(proc)
        for proc in procs:
            stop(proc)
        stop(ingest)
        switch.switch.stop()
    received = [[t for _status, t in log["states"] if t >= started] for log in logs]
    times = sorted(t for got in received for t in got)
    per_worker = [sum(len(got) for p, got in enumerate(received) if p % workers == w)
                  for w in range(workers)]
    written = switch.marks_written()
    first = min(written.values()) if written else started
    span = (times[-1] - first) if times else 0.0
    return {"workers": workers, "connected": connected, "delivered": len(times),
            "expected": AGENTS * BURSTS, "seconds": span,
            "rate": len(times) / span if span > 0 else 0.0,
            "cpu": sampler.used_until(times[-1] if times else time.time()),
            "per_worker": per_worker}


def capacity(out: dict) -> float:
    """Emits per CPU-second, summed over the workers: what they deliver with a core each."""
    return sum(n / cpu for n, cpu in zip(out["per_worker"], out["cpu"][1:]) if cpu > 0)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_env() -> dict[str, str]:
    from .pgdata import PG_URL

    return {"CTI_DATABASE_URL": PG_URL, "CTI_HTTP_HOST": "127.0.0.1", "CTI_HTTP_PORT": "0"}


def _per_emit(out: dict) -> str:
    """Each worker's CPU microseconds per push it delivered."""
    return ", ".join(f"{cpu / n * 1e6:.0f}" if n else "-"
                     for n, cpu in zip(out["per_worker"], out["cpu"][1:]))


def run(result: BenchResult) -> None:
    prepare_agents(count=AGENTS)
    runs = {n: measure(n) for n in (1, 2)}
    for n, out in runs.items():
        result.figures.append(Figure(
            "scaleout", f"N={n} web workers: targeted emits/s", out["rate"], "emits/s",
            note=f"{out['delivered']} of {out['expected']} agent.state pushes to "
                 f"{out['connected']} desktops in {out['seconds']:.2f}s; CPU s until the last "
                 f"receipt: ingest {out['cpu'][0]:.1f}, workers "
                 f"{' + '.join(f'{c:.2f}' for c in out['cpu'][1:])}"))
    base = runs[1]["rate"]
    result.figures.append(Figure("scaleout", "N=2 / N=1 targeted emits/s",
                                 runs[2]["rate"] / base if base else None, "x", TARGET_SPEEDUP,
                                 note=f"load average {os.getloadavg()[0]:.1f} on "
                                      f"{os.cpu_count()} cores"))
    for n, out in runs.items():
        result.figures.append(Figure(
            "scaleout", f"N={n} web workers: capacity, emits per worker CPU-second",
            capacity(out), "emits/s",
            note=f"worker CPU us per delivered push: {_per_emit(out)} "
                 f"(pushes per worker: {' + '.join(str(n) for n in out['per_worker'])})"))
    base_capacity = capacity(runs[1])
    result.figures.append(Figure(
        "scaleout", "N=2 / N=1 capacity (worker CPU)",
        capacity(runs[2]) / base_capacity if base_capacity else None, "x",
        note="2.0 when a worker's CPU per push does not grow with the number of workers; "
             "the target is on the wall-clock ratio above"))
