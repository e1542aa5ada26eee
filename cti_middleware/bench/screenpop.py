"""Benchmark 2: screen-pop latency, 1,000 desktops, 100 calls/s, lookup on PostgreSQL.

Latency is from the moment the switch writes ``agent-offering`` on its socket to the
moment the agent's desktop (another process, same clock) receives ``screen.pop``.
mod_callcenter offers a caller to an agent some time after the caller joins the queue
(20 to 100 ms in the recordings); the calls here use the shortest gap.
The middleware's own CPU seconds over the calls are reported too: on a shared
machine they vary far less from run to run than the latencies do, so they show
what a change to the event path costs or saves.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .desks import (
    OFFER_AFTER,
    ScriptedSwitch,
    call_steps,
    collect,
    start_desktops,
    start_middleware,
    stop,
)
from .pgdata import prepare_agents, prepare_postgres
from .report import BenchResult, Figure, percentile
from .scaleout import _cpu_seconds

AGENTS = 1000
RATE = 100.0
SECONDS = 15
TARGETS_MS = {"p50": 2.0, "p99": 10.0}


def run(result: BenchResult) -> None:
    prepare_postgres(log=lambda m: print(m, flush=True))
    prepare_agents()
    calls = int(RATE * SECONDS)
    marks = Path(tempfile.mkdtemp()) / "offers.jsonl"
    switch = ScriptedSwitch(AGENTS, [call_steps(calls, RATE, AGENTS)], marks)
    switch.switch.start()
    server = desktops = None
    try:
        server, url = start_middleware(switch.switch.port)
        desktops, connected = start_desktops(url, AGENTS, 4, SECONDS + 8)
        cpu0 = _cpu_seconds(server.pid)
        switch.go(0)
        logs = collect(desktops, SECONDS + 60)
        cpu = _cpu_seconds(server.pid) - cpu0
        load = os.getloadavg()[0]
    finally:
        for proc in desktops or []:
            stop(proc)
        stop(server)
        switch.switch.stop()
    written = switch.marks_written()
    lat = []
    with_customer = 0
    for log in logs:
        for call_uuid, received, has_customer in log["pops"]:
            if call_uuid in written:
                lat.append((received - written[call_uuid]) * 1000)
                with_customer += has_customer
    note = (f"{connected} desktops in 4 processes, {len(written)} offers written, {len(lat)} pops "
            f"received ({with_customer} with a customer card); each offer "
            f"{OFFER_AFTER * 1000:.0f} ms after its caller joined, the shortest gap recorded")
    for name, p in (("p50", 50), ("p99", 99)):
        result.figures.append(Figure("screenpop", f"offer -> screen.pop {name}", percentile(lat, p),
                                     "ms", TARGETS_MS[name], better="lower",
                                     note=note if name == "p50" else ""))
    result.figures.append(Figure("screenpop", "offer -> screen.pop max", max(lat) if lat else None,
                                 "ms", note=f"load average {load:.1f} on {os.cpu_count()} cores"))
    result.figures.append(Figure("screenpop", "middleware CPU over the calls", cpu, "s",
                                 note=f"{len(written)} calls in {SECONDS}s"))
