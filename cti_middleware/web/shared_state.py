"""What a desktop sees first when it connects, from wherever the live state is.

The ingest process holds the state model; a web-only worker does not. So the
ingest process keeps a compact JSON view of it in Redis (every agent's
``agent.state`` payload plus the queues it serves, every queue's waiting count
and longest wait), written by a background greenlet at most once per interval
when something changed and in full after every resync, never on the event
path. The socket namespaces ask a *state source* for the first picture: the
local runtime in the ingest process, that Redis view in a web-only worker.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import gevent
import redis

from .. import payloads

log = logging.getLogger(__name__)


def state_key(channel: str) -> str:
    """The Redis key of the shared view; deployments sharing a Redis differ by channel."""
    return f"{channel}:cti-state"


class LocalSource:
    """The live state of this process (the ingest process, or a single process)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    def queues_of(self, agent: str) -> list[str]:
        return self.runtime.pipeline.queues_of(agent)

    def agent_state(self, agent: str) -> dict[str, Any] | None:
        record = self.runtime.state.agents.get(agent)
        if record is None:
            return None
        return payloads.agent_state(record, self.runtime.display_name(agent),
                                    self.runtime.break_reasons.current(agent, record.status))

    def agents(self) -> list[dict[str, Any]]:
        return [payloads.agent_state(a, self.runtime.display_name(a.name),
                                     self.runtime.break_reasons.current(a.name, a.status))
                for a in self.runtime.state.agents.values()]

    def queue_waiting(self, queue: str) -> dict[str, Any]:
        record = self.runtime.state.queues.get(queue)
        waiting = record.waiting if record is not None else 0
        return payloads.queue_waiting(queue, waiting, self.runtime.pipeline.longest_wait_since(queue))

    def repop(self, agent: str) -> None:
        """Send the screen pop of the call the agent is on again (a reconnecting desktop)."""
        state = self.runtime.state
        record = state.agents.get(agent)
        if record is None or not record.call_uuid:
            return
        member = state.members.get(record.call_uuid)
        if member is not None:
            self.runtime.screen_pops.repop(agent, member)
            return
        leg = state.direct_calls.get(record.call_uuid)
        direct = state.direct.get(leg) if leg else None
        if direct is not None and direct.agent == agent:
            self.runtime.screen_pops.repop_direct(agent, direct)


def build_view(runtime: Any) -> dict[str, Any]:
    """The compact view of ``runtime``'s state that web-only workers read."""
    local = LocalSource(runtime)
    agents = {}
    for entry in local.agents():
        entry["queues"] = local.queues_of(entry["agent"])
        agents[entry["agent"]] = entry
    queues = {}
    for name in sorted(set(runtime.state.queues) | {t.queue for t in runtime.pipeline.tiers}):
        view = local.queue_waiting(name)
        queues[name] = {"waiting": view["waiting"], "longest_wait_since": view["longest_wait_since"]}
    return {"written_at": time.time(), "agents": agents, "queues": queues}


class SnapshotWriter:
    """A sink in the ingest process that keeps the shared view current, off the event path."""

    def __init__(self, runtime: Any, redis_url: str, channel: str, interval: float = 0.1) -> None:
        self.runtime = runtime
        self.key = state_key(channel)
        self.interval = interval
        self.redis = redis.Redis.from_url(redis_url)
        self.dirty = True
        self.writes = 0
        self._greenlet: gevent.Greenlet | None = None

    def handle(self, change: Any) -> None:
        self.dirty = True

    def mark(self, *_args: Any) -> None:
        """Something outside the change stream moved (a break reason, a resync)."""
        self.dirty = True

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None

    def write(self) -> None:
        """Write the whole view now (after a resync, and whenever the view is dirty)."""
        self.dirty = False
        try:
            self.redis.set(self.key, json.dumps(build_view(self.runtime), separators=(",", ":")))
            self.writes += 1
        except (redis.RedisError, OSError) as exc:
            self.dirty = True
            log.warning("cannot write the shared state view: %s", exc)

    def _run(self) -> None:
        while True:
            if self.dirty:
                self.write()
            gevent.sleep(self.interval)


class SharedSource:
    """The ingest process's view, read from Redis by a web-only worker at each connect."""

    def __init__(self, redis_url: str, channel: str) -> None:
        self.key = state_key(channel)
        self.redis = redis.Redis.from_url(redis_url)

    def _view(self) -> dict[str, Any]:
        try:
            raw = self.redis.get(self.key)
        except (redis.RedisError, OSError) as exc:
            log.warning("cannot read the shared state view: %s", exc)
            return {}
        if not raw:
            return {}
        try:
            view = json.loads(raw)
        except ValueError:
            log.warning("the shared state view is not JSON; ignored")
            return {}
        return view if isinstance(view, dict) else {}

    def queues_of(self, agent: str) -> list[str]:
        entry = self._view().get("agents", {}).get(agent) or {}
        return list(entry.get("queues") or [])

    def agent_state(self, agent: str) -> dict[str, Any] | None:
        entry = self._view().get("agents", {}).get(agent)
        if not entry:
            return None
        return {k: v for k, v in entry.items() if k != "queues"}

    def agents(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in entry.items() if k != "queues"}
                for entry in self._view().get("agents", {}).values()]

    def queue_waiting(self, queue: str) -> dict[str, Any]:
        entry = self._view().get("queues", {}).get(queue) or {}
        return payloads.queue_waiting(queue, int(entry.get("waiting") or 0),
                                      entry.get("longest_wait_since"))

    def repop(self, agent: str) -> None:
        """Screen pops live in the ingest process; a worker forwards the request there instead."""
