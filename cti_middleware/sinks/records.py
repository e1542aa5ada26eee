"""Call records: every queue call, answered or abandoned, written to the database.

Writes happen in a worker greenlet fed by a bounded queue, so a slow database never
holds up the event path; a failed write is retried with backoff rather than dropped,
and only a queue that stays full (a database gone for a long time) loses records,
loudly. The worker runs below the screen pops: it waits for the hub to go idle
(at most ``max_delay`` seconds) and then writes what has gathered, one record at a
time in queue order, yielding between writes, so a call's writes stay in order and
a pop arriving meanwhile goes first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import gevent
import gevent.queue

from ..model.changes import CallBridged, CallEnded, Change
from ..store.errors import DB_ERRORS
from .background import drain_when_idle

log = logging.getLogger(__name__)

Writer = Callable[..., Any]


def _dt(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


class CallRecordSink:
    """Queues call-record upserts and writes them in the background."""

    def __init__(self, write: Writer, on_bridged: Callable[[str, str], None] | None = None,
                 max_pending: int = 100000, retry_cap: float = 30.0,
                 on_ended: Callable[[str], None] | None = None, max_batch: int = 200,
                 max_delay: float = 0.25) -> None:
        self.write = write
        self.on_ended = on_ended  # told after a finished call's record is written; must not block
        self.on_bridged = on_bridged
        self.pending: gevent.queue.JoinableQueue = gevent.queue.JoinableQueue(maxsize=max_pending)
        self.retry_cap = retry_cap
        self.max_batch = max_batch
        self.max_delay = max_delay
        self.written = 0
        self.lost = 0
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
        drain_when_idle(self.pending, lambda item: self._write_one(*item),
                        self.max_batch, self.max_delay)

    def _write_one(self, call_uuid: str, fields: dict[str, Any]) -> None:
        delay = 0.5
        while True:
            try:
                self.write(call_uuid, **fields)
                self.written += 1
                if self.on_ended is not None and fields.get("ended_at") is not None:
                    self.on_ended(call_uuid)
                return
            except DB_ERRORS as exc:
                log.error("writing call record %s failed (%s); retrying in %.1fs",
                          call_uuid, exc, delay)
                gevent.sleep(delay)
                delay = min(self.retry_cap, delay * 2)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued record is written (for shutdown and tests)."""
        return self.pending.join(timeout=timeout)
