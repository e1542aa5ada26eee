"""Benchmark 4: rebuild the state after a reconnect, 1,000 agents, 100 queues, 1,000 channels.

Timed from the first ``api`` command to the state rebuilt, over a real ESL socket:
the five kinds of list commands (one ``queue list members`` per queue), their parsing
and :meth:`State.resync`.
"""

from __future__ import annotations

from .fakeswitch import FakeSwitch
from .procs import run_child
from .report import BenchResult, Figure
from .snapshot_text import SnapshotReplies

TARGET_S = 1.0


def run(result: BenchResult) -> None:
    replies = SnapshotReplies(agents=1000, queues=100, channels=1000)
    with FakeSwitch(api=replies) as switch:
        out = run_child("cti_middleware.bench.resync_child", ["--port", str(switch.port)],
                        timeout=120)
    cold, *again = out["seconds"]
    note = (f"state: {out['agents']} agents, {out['queues']} queues, {out['channels']} channels, "
            f"{out['members']} members; 104 api commands")
    result.figures.append(Figure("resync", "resync after reconnect (worst of 2)", max(again), "s",
                                 TARGET_S, better="lower", note=note))
    result.figures.append(Figure("resync", "first resync, empty state", cold, "s", TARGET_S,
                                 better="lower"))
