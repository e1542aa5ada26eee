"""Benchmark 6: the screen-pop customer lookup at 1,000,000 customers, SQLite and PostgreSQL.

Three calls of the store are timed on random known numbers: ``customer_id_by_number``
(the screen pop's plain-SQL probe by normalised number), ``find_by_number`` (the same
probe through the ORM, building a model: what the REST API uses) and
``screen_pop_customer`` (the probe plus the profile the pop carries: numbers, newest
work orders, newest calls).
"""

from __future__ import annotations

import random
import time

from .corpus import caller_number
from .pgdata import CUSTOMERS, PG_URL, prepare_postgres, prepare_sqlite
from .report import BenchResult, Figure, percentile

LOOKUPS = 2000
TARGET_P99_MS = 2.0


def _time(fn, numbers: list[str]) -> list[float]:
    for n in numbers[:200]:
        fn(n)  # warm the pool and the caches the way a running server has them
    out = []
    for n in numbers:
        t0 = time.perf_counter()
        fn(n)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def measure(url: str, label: str, result: BenchResult) -> None:
    from ..store import db
    from ..store.customers import (
        customer_id_by_number,
        find_by_number,
        screen_pop_customer,
    )

    rng = random.Random(3)
    numbers = [caller_number(rng.randrange(CUSTOMERS)) for _ in range(LOOKUPS)]
    db.open_database(url)
    try:
        assert find_by_number(numbers[0]) is not None, "bench customers missing"
        for fn, what in ((customer_id_by_number, "by number"), (find_by_number, "by number, ORM"),
                         (screen_pop_customer, "screen-pop profile")):
            ms = _time(fn, numbers)
            goal = TARGET_P99_MS if label == "PostgreSQL" and fn is customer_id_by_number else None
            result.figures.append(Figure("lookup", f"{label} {what} p50", percentile(ms, 50), "ms"))
            result.figures.append(Figure("lookup", f"{label} {what} p99", percentile(ms, 99), "ms",
                                         goal, better="lower"))
    finally:
        db.close_database()


def run(result: BenchResult) -> None:
    sizes = prepare_postgres(log=lambda m: print(m, flush=True))
    result.notes.append(f"PostgreSQL: {sizes['customers']} customers, {sizes['call_records']} "
                        "call records; SQLite: the same customers, no call records")
    measure(prepare_sqlite(log=lambda m: print(m, flush=True)), "SQLite", result)
    measure(PG_URL, "PostgreSQL", result)
