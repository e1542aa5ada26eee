"""The Redis message queue, with emits published in batches rather than one by one.

Flask-SocketIO's Redis manager publishes every emit with its own round trip to Redis,
in the caller's greenlet: the event pipeline then waits on Redis once per emit and an
ingest process tops out at a few hundred emits a second whatever the number of web
workers.  Here an emit only appends to a buffer; one flusher greenlet publishes what
has gathered since the last hub turn in one pipelined round trip, in emit order.
"""

from __future__ import annotations

import logging
from typing import Any

import gevent
import orjson
from socketio import RedisManager

log = logging.getLogger(__name__)


class BatchingRedisManager(RedisManager):
    """RedisManager whose publishes are buffered and flushed once per gevent tick."""

    def __init__(self, url: str, channel: str = "flask-socketio", write_only: bool = False,
                 max_batch: int = 1000) -> None:
        super().__init__(url, channel=channel, write_only=write_only)
        self._pending: list[bytes | str] = []
        self._flusher: gevent.Greenlet | None = None
        self.max_batch = max_batch

    def _publish(self, data: Any) -> None:
        # orjson: the stock json.dumps was the ingest process's largest single cost;
        # the bytes are plain JSON, which every worker's json.loads reads as before.
        self._pending.append(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS))
        if self._flusher is None:
            self._flusher = gevent.spawn(self._flush)

    def _flush(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: len(batch)]
                self._send(batch)
        finally:
            self._flusher = None

    def _send(self, batch: list[bytes | str]) -> None:
        for attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                pipe = self.redis.pipeline(transaction=False)
                for message in batch:
                    pipe.publish(self.channel, message)
                pipe.execute()
                return
            except Exception as exc:  # noqa: BLE001 - whatever redis-py raises, retry once
                self.connected = False
                if attempt == 2:
                    # Lost, as the stock manager loses them: desktops resync on reconnect.
                    log.error("cannot publish %d emits to redis: %s", len(batch), exc)
