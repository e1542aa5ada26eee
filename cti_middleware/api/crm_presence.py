"""Whether anyone listens on ``/crm``, cheap enough to ask on every change.

Without a message queue the answer is this process's own connection count.
With a Redis message queue the clients may sit on any worker, so each process
holding /crm clients keeps an entry in a shared sorted set (member: the
process, score: when the entry expires), refreshed while it has clients and
removed when the last one leaves; a crashed worker's entry simply expires.
Every process polls that set once a second, and a worker whose first client
connects also publishes the moment on a Redis channel so the others see it at
once. Events that arrived while nobody listened are kept for a few seconds and
replayed from that moment on, so the propagation delay loses no event for a
client that is connected. With another kind of message queue the answer is
always yes.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import gevent

log = logging.getLogger(__name__)

Listener = Callable[[float | None], None]


class CrmPresence:
    """Counts this process's /crm clients and, with Redis, everyone else's."""

    def __init__(self, redis_url: str | None = None, channel: str = "flask-socketio",
                 *, always: bool = False, ttl: float = 30.0, poll: float = 1.0) -> None:
        self.local = 0
        self.remote = False
        self.always = always
        self.redis_url = redis_url
        self.key = f"{channel}:crm-clients"
        self.wake_channel = f"{channel}:crm-connect"
        self.member = uuid.uuid4().hex
        self.ttl = ttl
        self.poll = poll
        self._listeners: list[Listener] = []
        self._redis: Any = None
        self._greenlets: list[gevent.Greenlet] = []

    @classmethod
    def for_queue(cls, message_queue: str | None, channel: str = "flask-socketio") -> CrmPresence:
        """The presence fitting a Socket.IO message-queue URL (None: one process)."""
        if not message_queue:
            return cls()
        if message_queue.startswith(("redis://", "rediss://")):
            return cls(message_queue, channel)
        return cls(always=True)

    @property
    def shared(self) -> bool:
        return self.redis_url is not None

    @property
    def listening(self) -> bool:
        return self.always or self.local > 0 or self.remote

    def on_appeared(self, listener: Listener) -> None:
        """Call ``listener(since)`` when clients elsewhere appear (``since``: their
        first connect's time, None when only the poll noticed)."""
        self._listeners.append(listener)

    # --- this process's clients ------------------------------------------------------
    def connected(self) -> None:
        self.local += 1
        if self.local == 1 and self.shared:
            try:
                self._announce(time.time())
            except Exception as exc:  # noqa: BLE001 - the poll catches up; the client stays
                log.warning("cannot announce a /crm client through redis: %s", exc)

    def disconnected(self) -> None:
        self.local = max(0, self.local - 1)
        if self.local == 0 and self.shared:
            try:
                self._client().zrem(self.key, self.member)
            except Exception as exc:  # noqa: BLE001 - the entry expires by itself
                log.warning("cannot withdraw the /crm presence entry: %s", exc)

    def _announce(self, at: float) -> None:
        client = self._client()
        client.zremrangebyscore(self.key, "-inf", at)  # entries of crashed workers
        client.zadd(self.key, {self.member: at + self.ttl})
        client.publish(self.wake_channel, repr(at))
        self._spawn(self._heartbeat)

    def _heartbeat(self) -> None:
        while self.local > 0:
            gevent.sleep(self.ttl / 3)
            if self.local > 0:
                try:
                    self._client().zadd(self.key, {self.member: time.time() + self.ttl})
                except Exception as exc:  # noqa: BLE001 - try again next beat
                    log.warning("cannot refresh the /crm presence entry: %s", exc)

    # --- everyone else's -------------------------------------------------------------
    def start(self) -> None:
        """Watch the other processes' clients (no-op without Redis)."""
        if self.shared and not self._greenlets:
            self._spawn(self._poll_loop)
            self._spawn(self._wake_loop)

    def stop(self) -> None:
        for greenlet in self._greenlets:
            greenlet.kill()
        self._greenlets = []

    def check(self, since: float | None = None) -> bool:
        """Read the shared set now; tell the listeners if clients just appeared."""
        count = self._client().zcount(self.key, time.time(), "+inf")
        was, self.remote = self.remote, count > 0
        if self.remote and (not was or since is not None):
            for listener in self._listeners:
                listener(since)
        return self.remote

    def _poll_loop(self) -> None:
        while True:
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - assume listeners while redis is away
                self.remote = True
                log.warning("cannot read /crm presence: %s", exc)
            gevent.sleep(self.poll)

    def _wake_loop(self) -> None:
        while True:
            try:
                pubsub = self._client().pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.wake_channel)
                for message in pubsub.listen():
                    self.check(float(message["data"]))
            except Exception as exc:  # noqa: BLE001 - resubscribe after a pause
                log.warning("/crm presence channel lost: %s", exc)
                gevent.sleep(self.poll)

    def _client(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.redis_url)
        return self._redis

    def _spawn(self, fn: Callable[[], None]) -> None:
        self._greenlets = [g for g in self._greenlets if not g.dead]
        self._greenlets.append(gevent.spawn(fn))
