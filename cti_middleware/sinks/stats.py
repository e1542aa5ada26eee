"""Personal live statistics for the desktop: calls handled today, talk time, average handle time.

Kept in memory from the changes as they happen (no query on the event path); a desktop
that connects later gets the day's figures seeded once from the call records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..model.changes import CallEnded, Change
from .sockets import AGENT_NS, agent_room


@dataclass
class DayStats:
    day: str
    calls: int = 0
    talk_time: float = 0.0

    def payload(self) -> dict[str, Any]:
        return {
            "calls_today": self.calls,
            "talk_time": round(self.talk_time),
            "avg_handle_time": round(self.talk_time / self.calls) if self.calls else 0,
        }


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d")


class StatsSink:
    """Counts answered calls per agent per local day and pushes ``agent.stats``."""

    def __init__(self, emit: Callable[..., Any]) -> None:
        self.emit = emit
        self.by_agent: dict[str, DayStats] = {}

    def seed(self, agent: str, day_epoch: float, calls: int, talk_time: float) -> None:
        """Figures loaded from the store for a desktop that connects mid-day."""
        day = _day(day_epoch)
        current = self.by_agent.get(agent)
        if current is None or current.day != day:
            self.by_agent[agent] = DayStats(day, calls, talk_time)

    def stats(self, agent: str, now: float) -> DayStats:
        entry = self.by_agent.get(agent)
        if entry is None or entry.day != _day(now):
            entry = self.by_agent[agent] = DayStats(_day(now))
        return entry

    def handle(self, change: Change) -> None:
        if not isinstance(change, CallEnded) or not change.agent or change.answered_at is None:
            return
        entry = self.stats(change.agent, change.ended_at)
        entry.calls += 1
        entry.talk_time += max(0.0, change.ended_at - change.answered_at)
        self.emit("agent.stats", entry.payload(), to=agent_room(change.agent), namespace=AGENT_NS)
