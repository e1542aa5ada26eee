"""Turns the model's domain changes into webhook events, off the event path.

:meth:`WebhookSink.handle` costs a set lookup for a change nobody subscribes
to: the sink keeps the event types of the active subscriptions in memory,
reloaded when this process changes a subscription and otherwise every
``refresh`` seconds (for subscriptions made through another process). A
matching event is put on a bounded in-memory queue; one worker greenlet writes
what has gathered as one bulk insert per batch, so the deliveries survive a
restart and the event pipeline never waits on the database. A failed write is
retried; only a buffer that stays full (the database gone for long) drops
events, counted and logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import gevent
import gevent.queue

from ..model.changes import (
    AgentStateChanged,
    CallBridged,
    CallEnded,
    CallOffered,
    Change,
)
from ..sinks.background import wait_for_idle
from ..store.errors import DB_ERRORS

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]
BatchWriter = Callable[[Sequence[Event]], Any]
TypesLoader = Callable[[], frozenset[str]]
Version = Callable[[], int]

# Which change classes become which event type, so a change can be skipped
# before its payload is built.
EVENT_TYPE_OF: dict[type, str] = {
    CallOffered: "call.offered",
    CallBridged: "call.answered",
    CallEnded: "call.ended",
    AgentStateChanged: "agent.state",
}


def _caller(change: Any) -> dict[str, str]:
    return {"number": change.caller_number, "name": change.caller_name}


def event_for(change: Change) -> Event | None:
    """(event type, payload) for a change webhooks report, else None."""
    if isinstance(change, CallOffered):
        return "call.offered", {
            "call_uuid": change.member_uuid, "queue": change.queue, "agent": change.agent,
            "caller": _caller(change), "joined_at": change.joined_at,
            "offered_at": change.offered_at,
        }
    if isinstance(change, CallBridged):
        return "call.answered", {
            "call_uuid": change.member_uuid, "queue": change.queue, "agent": change.agent,
            "agent_uuid": change.agent_uuid, "caller": _caller(change),
            "answered_at": change.answered_at,
        }
    if isinstance(change, CallEnded):
        return "call.ended", {
            "call_uuid": change.member_uuid, "queue": change.queue, "agent": change.agent,
            "caller": _caller(change), "joined_at": change.joined_at,
            "answered_at": change.answered_at, "ended_at": change.ended_at,
            "cause": change.cause, "abandoned": change.abandoned,
            "hangup_cause": change.hangup_cause,
        }
    if isinstance(change, AgentStateChanged):
        return "agent.state", {
            "agent": change.agent, "status": change.status, "state": change.state,
            "since": change.since, "call_uuid": change.call_uuid,
        }
    return None


def _store_defaults() -> tuple[BatchWriter, TypesLoader, Version]:
    from ..store.webhooks import subscriptions_version
    from . import active_event_types, enqueue_batch

    return enqueue_batch, active_event_types, subscriptions_version


class WebhookSink:
    """A notifier sink that queues only subscribed events, written in batches."""

    def __init__(self, write: BatchWriter | None = None, load_types: TypesLoader | None = None,
                 version: Version | None = None, max_pending: int = 10000,
                 max_batch: int = 500, refresh: float = 2.0, retry_cap: float = 30.0) -> None:
        defaults = _store_defaults() if None in (write, load_types, version) else None
        self.write: BatchWriter = write or defaults[0]
        self.load_types: TypesLoader = load_types or defaults[1]
        self.version: Version = version or defaults[2]
        self.pending: gevent.queue.Queue = gevent.queue.Queue(maxsize=max_pending)
        self.max_batch = max_batch
        self.refresh = refresh
        self.retry_cap = retry_cap
        # None until the first load: every reportable change is queued meanwhile.
        self.types: frozenset[str] | None = None
        self._loaded_version = -1
        self._fresh_until = 0.0
        self.dropped = 0
        self.skipped = 0
        self.written = 0
        self._worker: gevent.Greenlet | None = None
        self._writing = False

    def handle(self, change: Change) -> None:
        event_type = EVENT_TYPE_OF.get(type(change))
        if event_type is None:
            return
        types = self.types
        if types is not None and event_type not in types and self.version() == self._loaded_version:
            self.skipped += 1
            return
        event = event_for(change)
        if event is None:
            return
        try:
            self.pending.put_nowait(event)
        except gevent.queue.Full:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.error("webhook buffer full; %d events dropped", self.dropped)

    def reload_types(self) -> None:
        """Read the subscribed event types now (the worker does this on its own)."""
        version = self.version()
        try:
            self.types = self.load_types()
        except Exception as exc:  # noqa: BLE001 - keep queueing everything until it works
            log.warning("cannot read webhook subscriptions: %s", exc)
            self.types = None
            self._fresh_until = time.monotonic() + min(self.refresh, 1.0)
            return
        self._loaded_version = version
        self._fresh_until = time.monotonic() + self.refresh

    def _stale(self) -> bool:
        return self.version() != self._loaded_version or time.monotonic() >= self._fresh_until

    def start(self) -> None:
        """Read the subscriptions once now, then leave the rest to the worker."""
        if self._worker is None or self._worker.dead:
            self.reload_types()
            self._worker = gevent.spawn(self._run)

    def stop(self) -> None:
        """Stop the worker and write what is still buffered, so a clean shutdown loses nothing."""
        if self._worker is not None:
            with gevent.Timeout(5, False):  # let a batch being written finish, not half-die
                while self._writing:
                    gevent.sleep(0.01)
            self._worker.kill()
            self._worker = None
        try:
            self.drain()
        except DB_ERRORS as exc:
            log.error("%d webhook events not written at shutdown: %s", self.pending.qsize(), exc)

    def take_batch(self) -> list[Event]:
        batch: list[Event] = []
        while len(batch) < self.max_batch and not self.pending.empty():
            batch.append(self.pending.get_nowait())
        return batch

    def drain(self) -> int:
        """Write everything buffered now, in batches (the worker's step; handy in tests)."""
        count = 0
        while batch := self.take_batch():
            self.write(batch)
            count += len(batch)
        self.written += count
        return count

    def _run(self) -> None:
        while True:
            if self._stale():
                self.reload_types()
            try:
                first = self.pending.get(timeout=max(0.05, self._fresh_until - time.monotonic()))
            except gevent.queue.Empty:
                continue
            self._writing = True  # from here on, stop() waits for this batch
            try:
                # Let the changes of this hub turn gather, and the pops go first.
                wait_for_idle()
                self._write([first, *self.take_batch()])
            finally:
                self._writing = False

    def _write(self, batch: list[Event]) -> None:
        delay = 0.5
        while True:
            try:
                self.write(batch)
                self.written += len(batch)
                return
            except DB_ERRORS as exc:
                log.error("writing %d webhook events failed (%s); retrying in %.1fs",
                          len(batch), exc, delay)
                gevent.sleep(delay)
                delay = min(self.retry_cap, delay * 2)
            except Exception:  # a bad event must not stop the worker
                self.dropped += len(batch)
                log.exception("dropping %d webhook events that cannot be written", len(batch))
                return
