"""Benchmark 3: 5,000 idle desktops on one middleware process.

RSS per connection is the server's resident memory with the desktops connected minus
before, divided by their number.  The push is one ``agent-status-change`` per agent
written in one burst: from the burst's write to the last desktop's ``agent.state``.
The first push also fills the display-name cache (one database read per agent);
the second shows the steady state.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from .desks import (
    ScriptedSwitch,
    collect,
    start_desktops,
    start_middleware,
    status_burst,
    stop,
)
from .pgdata import prepare_agents
from .report import BenchResult, Figure, rss_kb

AGENTS = 5000
TARGET_KB = 100.0


def run(result: BenchResult) -> None:
    prepare_agents(count=AGENTS)
    marks = Path(tempfile.mkdtemp()) / "pushes.jsonl"
    bursts = [[(0.0, status_burst(AGENTS, status), f"push{i}")]
              for i, status in enumerate(("On Break", "Available"))]
    switch = ScriptedSwitch(AGENTS, bursts, marks)
    switch.switch.start()
    server = desktops = None
    try:
        server, url = start_middleware(switch.switch.port)
        time.sleep(2)  # let the start-up resync settle before the baseline
        before = rss_kb(server.pid)
        desktops, connected = start_desktops(url, AGENTS, 2, 40, ready_timeout=400)
        time.sleep(2)
        after = rss_kb(server.pid)
        for i in range(len(bursts)):
            switch.go(i)
            time.sleep(12)
        logs = collect(desktops, 90)
    finally:
        for proc in desktops or []:
            stop(proc)
        stop(server)
        switch.switch.stop()
    per_conn = (after - before) / connected if connected else None
    result.figures.append(Figure("connections", "server RSS per idle connection", per_conn, "KB",
                                 TARGET_KB, better="lower",
                                 note=f"{connected} desktops, server RSS {before / 1024:.0f} -> "
                                      f"{after / 1024:.0f} MB"))
    written = switch.marks_written()
    for i, status in enumerate(("On Break", "Available")):
        sent = written.get(f"push{i}")
        times = [t for log in logs for s, t in log["states"] if s == status and sent and t >= sent]
        got = len(times)
        value = max(times) - sent if times else None
        result.figures.append(Figure(
            "connections", f"push agent.state to all, {'first' if i == 0 else 'second'}", value,
            "s", note=f"{got} of {connected} desktops received it"))
