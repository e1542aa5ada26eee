"""Call records and the recordings index yield to the event path, lose nothing, keep order."""

from __future__ import annotations

import gevent
import gevent.event

from cti_middleware.sinks.background import wait_for_idle
from cti_middleware.sinks.recording_index import RecordingIndexer
from cti_middleware.sinks.records import CallRecordSink


def _busy(log: list[str], turns: int) -> gevent.Greenlet:
    """Stands in for pops: a greenlet that keeps the hub from going idle."""

    def run() -> None:
        for _ in range(turns):
            log.append("pop")
            gevent.sleep(0)

    return gevent.spawn(run)


class _Written:
    def __init__(self, call_uuid: str) -> None:
        self.call_uuid = call_uuid


def _writer(log: list[str], show=lambda uuid, f: uuid):
    """A record writer that logs each record of a batch in the order given."""

    def write(items):
        log.extend(show(uuid, f) for uuid, f in items)
        return [_Written(uuid) for uuid, _f in items]

    return write


def test_writes_wait_for_the_pops_then_keep_queue_order():
    log: list[str] = []
    sink = CallRecordSink(_writer(log, lambda uuid, f: f"{uuid}:{f['n']}"), max_delay=5)
    busy = _busy(log, 30)
    for n in range(3):
        sink._put("a", {"n": n})
        sink._put("b", {"n": n})
    assert sink.flush()
    busy.join()
    writes = [e for e in log if e != "pop"]
    assert writes == ["a:0", "b:0", "a:1", "b:1", "a:2", "b:2"]
    assert log.index("a:0") > log.index("pop") and log[:30] == ["pop"] * 30
    assert sink.written == 6 and sink.lost == 0


def test_a_hub_that_never_idles_delays_writes_but_never_starves_them():
    log: list[str] = []
    sink = CallRecordSink(_writer(log), max_delay=0.05)
    stop = gevent.event.Event()

    def endless() -> None:
        while not stop.is_set():
            gevent.sleep(0)

    busy = gevent.spawn(endless)
    try:
        sink._put("c1", {})
        assert sink.flush(timeout=2) and log == ["c1"]
    finally:
        stop.set()
        busy.join()


def test_ended_calls_reach_the_indexer_in_order_after_their_record():
    indexed: list[str] = []
    order: list[str] = []
    indexer = RecordingIndexer("/nonexistent",
                               index=lambda call, root: indexed.append(call.call_uuid) or 1,
                               max_delay=5)
    sink = CallRecordSink(_writer(order), on_ended=indexer.submit, max_delay=5)
    busy = _busy(order, 20)
    for uuid in ("u1", "u2", "u3"):
        sink._put(uuid, {"ended_at": 1.0})
    assert sink.flush() and indexer.flush()
    busy.join()
    assert indexed == ["u1", "u2", "u3"] and indexer.indexed == 3
    assert order[:20] == ["pop"] * 20


def test_wait_for_idle_returns_at_once_on_a_quiet_hub():
    with gevent.Timeout(1):
        wait_for_idle(30)


def test_an_unexpected_error_costs_one_record_and_the_writer_goes_on():
    log: list[str] = []

    def write(items):
        if any(uuid == "odd" for uuid, _f in items):
            raise RuntimeError("a record nobody foresaw")
        return _writer(log)(items)

    sink = CallRecordSink(write, max_delay=0)
    for uuid in ("a", "odd", "b"):
        sink._put(uuid, {})
    assert sink.flush()
    sink._put("c", {})
    assert sink.flush()
    assert log == ["a", "b", "c"] and sink.rejected == 1 and sink.written == 3
