"""Fan-out of the model's domain changes to whoever listens (sockets, webhooks, the store).

The state model returns past-tense changes; this module is the one place that says
which sink hears which change.  A sink that raises is logged and the others still
run: one broken webhook must not cost an agent its screen pop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from .model.changes import Change

log = logging.getLogger(__name__)


class Sink(Protocol):
    """Anything with a ``handle(change)``; it must not block the event path."""

    def handle(self, change: Change) -> None: ...


class Notifier:
    """Hands every change to every sink, in order, isolating their failures."""

    def __init__(self, sinks: Iterable[Sink] = ()) -> None:
        self.sinks: list[Sink] = list(sinks)
        self.failures = 0

    def add(self, sink: Sink) -> None:
        self.sinks.append(sink)

    def publish(self, changes: Iterable[Change]) -> None:
        for change in changes:
            for sink in self.sinks:
                try:
                    sink.handle(change)
                except Exception:
                    self.failures += 1
                    log.exception("sink %s failed on %s", type(sink).__name__, type(change).__name__)
