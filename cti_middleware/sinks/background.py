"""Scheduling for work that must never delay a screen pop.

The event path and the socket sends share one gevent hub with the sinks'
database writers. A writer that wakes the moment a change is queued competes
with the next pop for the CPU; one that first waits for the hub to go idle
runs in the gaps between frames instead. Under sustained load the hub may never
go idle, so the wait is capped: the writer is delayed, never starved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import gevent
import gevent.queue


def wait_for_idle(max_wait: float = 0.25) -> None:
    """Return once the hub has nothing more urgent to run, or after ``max_wait`` s."""
    with gevent.Timeout(max_wait, False):
        gevent.idle()


def _ready(pending: gevent.queue.JoinableQueue, max_batch: int, max_delay: float) -> int:
    """Wait for work, let the hub go idle (capped): how many items to take now."""
    pending.peek()
    wait_for_idle(max_delay)
    return min(max_batch, pending.qsize())


def drain_when_idle(pending: gevent.queue.JoinableQueue, handle: Callable[[Any], None],
                    max_batch: int, max_delay: float) -> NoReturn:
    """A background writer's loop: wait for work, let the hub go idle (capped), then
    handle up to ``max_batch`` items in queue order, yielding after each so a pop that
    arrives meanwhile goes first. Each item counts as done for ``pending.join()`` once
    ``handle`` returns or raises."""
    while True:
        for _ in range(_ready(pending, max_batch, max_delay)):
            item = pending.get_nowait()
            try:
                handle(item)
            finally:
                pending.task_done()
            gevent.sleep(0)


def drain_batches_when_idle(pending: gevent.queue.JoinableQueue,
                            handle_batch: Callable[[list[Any]], None],
                            max_batch: int, max_delay: float) -> NoReturn:
    """As :func:`drain_when_idle`, but ``handle_batch`` gets up to ``max_batch`` items
    at once (one database transaction instead of one per item); every item of the
    batch counts as done once it returns or raises."""
    while True:
        batch = [pending.get_nowait() for _ in range(_ready(pending, max_batch, max_delay))]
        try:
            handle_batch(batch)
        finally:
            for _ in batch:
                pending.task_done()
        gevent.sleep(0)
