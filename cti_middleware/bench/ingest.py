"""Benchmark 1: one million realistic events through the ingest path, plain and json.

The flood is a block of interleaved calls (see :mod:`.corpus`) sent again and again
as fast as the socket takes it; the same plain bytes go through stock greenswitch as
the baseline.  A second, socket-free pass splits the per-event cost into framing,
body parsing, typed-event parsing and the state update, to show where the time goes
(for json, body and typed event are one step: ``events_json`` decodes straight to it).
"""

from __future__ import annotations

import time

from .corpus import encode_block, flood_block
from .fakeswitch import FakeSwitch, flood
from .procs import run_child
from .report import BenchResult, Figure

TOTAL_EVENTS = 1_000_000
BASELINE_EVENTS = 100_000   # greenswitch is slow enough that a full million would eat the budget
TARGET_RATE = 100_000
TARGET_RSS_MB = 50


def run(result: BenchResult, total: int = TOTAL_EVENTS) -> None:
    block = flood_block()
    buffers = {fmt: encode_block(block, fmt)[0] for fmt in ("plain", "json")}
    per_block = len(block)
    repeat = max(1, total // per_block)
    sent = repeat * per_block
    result.notes.append(f"{sent} events: a block of {per_block} events (250 interleaved calls "
                        f"from scenarios 03/06/13, 1000 agents, 100 queues) sent {repeat} times; "
                        f"{len(buffers['plain']) // per_block} B/event plain, "
                        f"{len(buffers['json']) // per_block} B/event json")
    for fmt in ("json", "plain"):
        with FakeSwitch(script=flood(buffers, repeat)) as switch:
            out = run_child("cti_middleware.bench.ingest_child",
                            ["--port", str(switch.port), "--format", fmt, "--expect", str(sent)],
                            timeout=240)
        _core_figures(result, fmt, out)
    base_repeat = max(1, min(repeat, BASELINE_EVENTS // per_block))
    with FakeSwitch(script=flood(buffers, base_repeat)) as switch:
        out = run_child("cti_middleware.bench.ingest_child",
                        ["--port", str(switch.port), "--mode", "greenswitch",
                         "--expect", str(base_repeat * per_block), "--timeout", "30"], timeout=90)
    growth = (out["peak_rss_kb"] - out["rss_before_kb"]) / 1024
    result.figures.append(Figure("ingest", "greenswitch stock, event plain", out["parse_rate"],
                                 "events/s", note=f"{out['parsed']} parsed by its reader, "
                                 f"{out['received']} of {out['expect']} reached a handler "
                                 f"handled{' before the 30 s cap' if out['timed_out'] else ''}, "
                                 f"RSS growth {growth:.0f} MB (its queue is unbounded)"))
    _stage_figures(result, block)


def _core_figures(result: BenchResult, fmt: str, out: dict) -> None:
    growth = (out["peak_rss_kb"] - out["rss_before_kb"]) / 1024
    lost = out["dropped"]
    note = (f"{out['applied']} applied, {lost} dropped by the bounded queue, read at "
            f"{out['received_rate']:,.0f}/s, "
            f"{out['overflow_resyncs']} overflow resyncs requested")
    result.figures.append(Figure("ingest", f"core event {fmt}: events/s applied", out["rate"],
                                 "events/s", TARGET_RATE if fmt == "json" else None, note=note))
    result.figures.append(Figure("ingest", f"core event {fmt}: RSS growth", growth, "MB",
                                 TARGET_RSS_MB, better="lower",
                                 note=f"peak RSS {out['peak_rss_kb'] / 1024:.0f} MB"))


def _stage_figures(result: BenchResult, block: list) -> None:
    """Per-event cost of each stage, socket-free, on the same block."""
    from greenswitch.esl import ESLEvent

    from ..esl.wire import FieldReader, FrameParser, parse_event_body
    from ..events import DISPATCH, fields_for, parse_event
    from ..events_json import json_event
    from ..model.state import State

    for fmt in ("json", "plain"):
        data, n = encode_block(block, fmt)
        t0 = time.perf_counter()
        frames = FrameParser().feed(data)
        t1 = time.perf_counter()
        reader = FieldReader(DISPATCH, fields_for)
        # Bodies are timed without keeping them (the pipeline drops each at once), best
        # of three, the product's reader and the full dict alike.
        full = _best(parse_event_body, frames)
        if fmt == "json":
            # The product's json path goes from body to typed event in one step.
            event = _best(lambda f: json_event(f.body), frames)
            t2 = time.perf_counter()
            events = [json_event(f.body) or parse_event(reader.read(f)) for f in frames]
            t3 = time.perf_counter()
            parts = {"framing": t1 - t0, "body+typed": min(event, t3 - t2)}
        else:
            body = _best(reader.read, frames)
            bodies = [reader.read(f) for f in frames]
            t2 = time.perf_counter()
            events = [parse_event(h) for h in bodies]
            t3 = time.perf_counter()
            parts = {"framing": t1 - t0, "body": body, "typed": t3 - t2}
        state = State()
        t3 = time.perf_counter()
        for e in events:
            state.apply(e)
        parts["state"] = time.perf_counter() - t3
        total = sum(parts.values())
        split = ", ".join(f"{k} {v / n * 1e6:.1f}" for k, v in parts.items())
        split += f" (body as a full dict: {full / n * 1e6:.1f})"
        result.figures.append(Figure("ingest", f"pipeline cost without socket, {fmt}", n / total,
                                     "events/s", note=f"us/event: {split}"))
        if fmt == "plain":
            texts = [f.body.decode("utf-8") for f in frames]
            t0 = time.perf_counter()
            for text in texts:
                ESLEvent(text)
            spent = time.perf_counter() - t0
            result.figures.append(Figure("ingest", "greenswitch ESLEvent parse only, plain",
                                         n / spent, "events/s",
                                         note=f"{spent / n * 1e6:.1f} us/event, body only"))


def _best(fn, frames: list) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for f in frames:
            fn(f)
        best = min(best, time.perf_counter() - t0)
    return best
