"""Benchmark 5: the ingest process plus N web workers on a Redis message queue.

Not measured yet: it needs a web-only worker mode (a worker that serves Socket.IO and
subscribes to the message queue but opens no ESL link), which the middleware does not
offer; ``cti-middleware run`` always connects to FreeSWITCH.  Recorded as such so the
results say so instead of leaving a gap.
"""

from __future__ import annotations

from .report import BenchResult, Figure

TARGET_SPEEDUP = 1.6


def run(result: BenchResult) -> None:
    why = ("needs a web-only worker (no ESL link) for N>1; measured figures would be the "
           "ingest process emitting through Redis to N such workers")
    result.figures.append(Figure("scaleout", "N=2 / N=1 targeted emits/s", None, "x",
                                 TARGET_SPEEDUP, note=why))
    result.notes.append(why)
