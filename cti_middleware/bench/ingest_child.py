"""The measured side of the ingest flood, in a process of its own (one core, gevent).

``core``: the product's path, SwitchLink -> EslConnection (bounded queue) ->
Pipeline -> State, with a sink that only counts changes.  ``greenswitch``: stock
greenswitch's InboundESL with a handler that counts, the baseline.  Prints one JSON
line with the figures.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse
import json
import logging
import time

import gevent

from .report import rss_kb


class _Count:
    def __init__(self) -> None:
        self.changes = 0

    def handle(self, change: object) -> None:
        self.changes += 1


def run_core(port: int, fmt: str, expect: int, timeout: float, queue_size: int) -> dict:
    from ..esl.link import SwitchLink
    from ..model.state import State
    from ..notify import Notifier
    from ..pipeline import Pipeline

    sink = _Count()
    pipeline = Pipeline(State(), Notifier([sink]))
    marks = {"first": 0.0, "last": 0.0, "n": 0, "overflows": -1, "rss0": 0}

    def on_frame(frame: object) -> None:
        if not marks["n"]:
            marks["first"] = time.perf_counter()
        marks["n"] += 1
        pipeline.handle_frame(frame)
        marks["last"] = time.perf_counter()

    def on_connected(conn: object) -> None:
        # The product resyncs here; the flood has no api to answer, so count instead.
        marks["overflows"] += 1
        if not marks["rss0"]:
            marks["rss0"] = rss_kb()

    link = SwitchLink("127.0.0.1", port, "ClueCon", on_frame=on_frame, on_connected=on_connected,
                      event_format=fmt, queue_size=queue_size)
    rss_before = rss_kb()
    link.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        gevent.sleep(0.1)
        conn = link.conn
        if conn is not None and conn.closed.is_set():
            link._running = False  # the flood is over: drain the queue, never reconnect
            if not link.connected.is_set():
                break
    dropped = link.conn.dropped if link.conn is not None else 0
    link._running = False  # no reconnect once the flood is over
    link.stop()
    elapsed = marks["last"] - marks["first"]
    return {
        "timed_out": time.monotonic() >= deadline,
        "received": marks["n"] + dropped, "applied": pipeline.events, "skipped": pipeline.skipped,
        "dropped": dropped, "overflow_resyncs": max(0, marks["overflows"]),
        "changes": sink.changes, "seconds": elapsed,
        "rate": marks["n"] / elapsed if elapsed else 0.0,
        "received_rate": (marks["n"] + dropped) / elapsed if elapsed else 0.0,
        "rss_before_kb": rss_before, "peak_rss_kb": rss_kb(key="VmHWM"),
        "agents": len(pipeline.state.agents), "expect": expect,
    }


def run_greenswitch(port: int, expect: int, timeout: float) -> dict:
    from greenswitch.esl import InboundESL

    marks = {"first": 0.0, "last": 0.0, "n": 0}

    def count(event: object) -> None:
        if not marks["n"]:
            marks["first"] = time.perf_counter()
        marks["n"] += 1
        marks["last"] = time.perf_counter()

    class Counting(InboundESL):
        # Counted where greenswitch parses, since its handlers may not run at all.
        def handle_event(self, event: object) -> None:
            super().handle_event(event)
            marks["parsed"] += 1

    marks["parsed"] = 0
    esl = Counting("127.0.0.1", port, "ClueCon")
    esl.register_handle("*", count)
    esl.connect()
    rss0 = rss_kb()
    started = time.perf_counter()
    esl.send("event plain CHANNEL_CREATE CUSTOM")
    deadline = time.monotonic() + timeout
    last_n, still = -1, 0
    while time.monotonic() < deadline and marks["n"] < expect:
        if not esl.connected and marks["parsed"] >= expect:
            break
        gevent.sleep(0.2)
        if not esl.connected and esl._esl_event_queue.qsize() == 0:
            still = still + 1 if marks["n"] == last_n else 0
            if still > 5:
                break
        last_n = marks["n"]
    esl._run = False
    # From the subscription, not the first handled event: greenswitch's reader does not
    # yield while bytes are waiting, so its handlers first run long after the flood began.
    elapsed = (marks["last"] if marks["n"] >= expect else time.perf_counter()) - started
    return {"received": marks["n"], "seconds": elapsed, "parsed": marks["parsed"],
            "parse_rate": marks["parsed"] / elapsed if elapsed else 0.0,
            "rate": marks["n"] / elapsed if elapsed else 0.0,
            "rss_before_kb": rss0, "peak_rss_kb": rss_kb(key="VmHWM"), "expect": expect,
            "timed_out": marks["n"] < expect}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--format", default="json")
    parser.add_argument("--mode", choices=["core", "greenswitch"], default="core")
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--queue-size", type=int, default=20000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    if args.mode == "core":
        out = run_core(args.port, args.format, args.expect, args.timeout, args.queue_size)
    else:
        out = run_greenswitch(args.port, args.expect, args.timeout)
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
