"""Turns the model's domain changes into webhook events, off the event path.

:meth:`WebhookSink.handle` only maps the change and puts it on a bounded
in-memory queue; a worker greenlet writes the queue rows. So neither a slow
database nor a slow receiver ever delays the event pipeline, and if the
database stays away long enough for the buffer to fill, events are dropped
and counted rather than blocking calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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

log = logging.getLogger(__name__)

Event = tuple[str, dict[str, Any]]


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


class WebhookSink:
    """A notifier sink that queues webhook events without blocking."""

    def __init__(self, enqueue: Callable[[str, dict[str, Any]], int] | None = None,
                 max_pending: int = 10000) -> None:
        if enqueue is None:
            from . import enqueue
        self.enqueue = enqueue
        self.pending: gevent.queue.Queue = gevent.queue.Queue(maxsize=max_pending)
        self.dropped = 0
        self._worker: gevent.Greenlet | None = None

    def handle(self, change: Change) -> None:
        event = event_for(change)
        if event is None:
            return
        try:
            self.pending.put_nowait(event)
        except gevent.queue.Full:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.error("webhook buffer full; %d events dropped", self.dropped)

    def start(self) -> None:
        if self._worker is None or self._worker.dead:
            self._worker = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None

    def drain(self) -> int:
        """Write everything buffered now (the worker's step; handy in tests)."""
        count = 0
        while not self.pending.empty():
            self.enqueue(*self.pending.get_nowait())
            count += 1
        return count

    def _run(self) -> None:
        while True:
            event_type, payload = self.pending.get()
            self.enqueue(event_type, payload)
