"""Call records: every queue call, answered or abandoned, written to the database.

Writes happen in a worker greenlet fed by a bounded queue, so a slow database never
holds up the event path; a failed write is retried with backoff rather than dropped,
and only a queue that stays full (a database gone for a long time) loses records,
loudly. The worker runs below the screen pops: it waits for the hub to go idle
(at most ``max_delay`` seconds) and then writes what has gathered in one
transaction (:mod:`cti_middleware.store.call_batch`), in queue order. A batch the
database refuses is written again record by record, so one record it will never
take (a value the driver cannot send) is dropped loudly and the others are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import gevent
import gevent.queue

from ..model.changes import CallBridged, CallEnded, Change
from ..store.errors import UNAVAILABLE
from .background import drain_batches_when_idle

log = logging.getLogger(__name__)

# Writes a batch of (call_uuid, fields); returns the records written (with .call_uuid).
Writer = Callable[[list[tuple[str, dict[str, Any]]]], Iterable[Any]]


def _dt(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


class CallRecordSink:
    """Queues call-record upserts and writes them in the background."""

    def __init__(self, write: Writer, on_bridged: Callable[[str, str], None] | None = None,
                 max_pending: int = 100000, retry_cap: float = 30.0,
                 on_ended: Callable[[Any], None] | None = None, max_batch: int = 200,
                 max_delay: float = 0.25) -> None:
        self.write = write
        # Given each finished call's record once written (see store.call_batch); must not block.
        self.on_ended = on_ended
        self.on_bridged = on_bridged
        self.pending: gevent.queue.JoinableQueue = gevent.queue.JoinableQueue(maxsize=max_pending)
        self.retry_cap = retry_cap
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.written = 0
        self.lost = 0
        self.rejected = 0
        self._worker = gevent.spawn(self._run)

    def handle(self, change: Change) -> None:
        if isinstance(change, CallBridged):
            self._put(change.member_uuid, {
                "caller_number": change.caller_number, "caller_name": change.caller_name,
                "queue": change.queue, "agent": change.agent,
                "answered_at": _dt(change.answered_at), "abandoned": False,
            })
        elif isinstance(change, CallEnded):
            self._put(change.member_uuid, {
                "caller_number": change.caller_number, "caller_name": change.caller_name,
                "queue": change.queue, "agent": change.agent,
                "joined_at": _dt(change.joined_at), "answered_at": _dt(change.answered_at),
                "ended_at": _dt(change.ended_at), "hangup_cause": change.hangup_cause,
                "cc_cause": change.cause, "abandoned": change.abandoned,
            })

    def _put(self, call_uuid: str, fields: dict[str, Any]) -> None:
        try:
            self.pending.put_nowait((call_uuid, fields))
        except gevent.queue.Full:
            self.lost += 1
            log.error("call record for %s lost: %d writes already waiting for the database",
                      call_uuid, self.pending.qsize())

    def _run(self) -> None:
        drain_batches_when_idle(self.pending, self._write_batch, self.max_batch, self.max_delay)

    def _write_batch(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        try:
            written = self._retrying(items)
        except Exception as exc:  # noqa: BLE001 - whatever a record causes, the writer lives on
            # Something in the batch is refused for good: write each record alone so
            # only the refused one is lost, not the calls beside it.
            log.warning("a batch of %d call records was refused (%s); writing them one by one",
                        len(items), exc)
            written = []
            for item in items:
                try:
                    written += self._retrying([item])
                except Exception as one:  # noqa: BLE001 - as above
                    self.rejected += 1
                    log.error("call record for %s refused by the database and dropped: %s "
                              "(fields %r)", item[0], one, item[1])
        self.written += len(written)
        if self.on_ended is not None:
            ended = {uuid for uuid, fields in items if fields.get("ended_at") is not None}
            for call in written:
                if call.call_uuid in ended:
                    self.on_ended(call)

    def _retrying(self, items: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Write, waiting out a database that is away (backoff, never giving up)."""
        delay = 0.5
        while True:
            try:
                return list(self.write(items))
            except UNAVAILABLE as exc:
                log.error("writing %d call records failed (%s); retrying in %.1fs",
                          len(items), exc, delay)
                gevent.sleep(delay)
                delay = min(self.retry_cap, delay * 2)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued record is written (for shutdown and tests)."""
        return self.pending.join(timeout=timeout)
