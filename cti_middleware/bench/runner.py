"""Runs the benchmarks in order, prints each figure beside its target, saves the JSON.

Every benchmark is bounded in time and cleans up the processes it starts; one that
fails is reported as such and the others still run.  The exit status is always 0:
figures that miss a target are news, not a build failure.
"""

from __future__ import annotations

import argparse
import importlib
import time
import traceback

from .report import BenchResult, machine, print_figure, write_json

BENCHES = {
    "ingest": "ESL ingest: 1,000,000 events, plain and json, vs greenswitch",
    "screenpop": "screen-pop latency: 1,000 agents, 100 calls/s, PostgreSQL lookup",
    "connections": "5,000 idle agent connections: RSS per connection, push to all",
    "resync": "resync: 1,000 agents, 100 queues, 1,000 channels",
    "scaleout": "scale-out: ingest + N web workers on a Redis message queue",
    "lookup": "customer lookup at 1,000,000 customers, SQLite and PostgreSQL",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cti_middleware.bench")
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHES)} (default: all)")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    started = time.time()
    info = machine()
    print(f"machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gb']} GB RAM, "
          f"Python {info['python']}", flush=True)
    results = []
    for name in names:
        print(f"\n== {name}: {BENCHES[name]}", flush=True)
        result = BenchResult(name)
        t0 = time.time()
        try:
            importlib.import_module(f".{name}", __package__).run(result)
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the rest
            result.error = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        result.seconds = time.time() - t0
        for fig in result.figures:
            print_figure(fig)
        for note in result.notes:
            print(f"  note: {note}")
        if result.error:
            print(f"  ERROR: {result.error}")
        print(f"  ({result.seconds:.0f}s)", flush=True)
        results.append(result)
    path = write_json(results, started)
    missed = [f for r in results for f in r.figures if f.verdict == "MISSED"]
    print(f"\n{sum(len(r.figures) for r in results)} figures, {len(missed)} below target, "
          f"{time.time() - started:.0f}s; saved {path}", flush=True)
    return 0
