"""Scheduling for work that must never delay a screen pop.

The event path and the socket sends share one gevent hub with the sinks'
database writers. A writer that wakes the moment a change is queued competes
with the next pop for the CPU; one that first waits for the hub to go idle
runs in the gaps between frames instead. Under sustained load the hub may never
go idle, so the wait is capped: the writer is delayed, never starved.
"""

from __future__ import annotations

import gevent


def wait_for_idle(max_wait: float = 0.25) -> None:
    """Return once the hub has nothing more urgent to run, or after ``max_wait`` s."""
    with gevent.Timeout(max_wait, False):
        gevent.idle()
