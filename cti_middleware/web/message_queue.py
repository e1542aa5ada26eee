"""The Redis message queue, with emits published and received in batches.

Flask-SocketIO's Redis manager publishes every emit with its own round trip to Redis,
in the caller's greenlet: the event pipeline then waits on Redis once per emit and an
ingest process tops out at a few hundred emits a second whatever the number of web
workers.  Here an emit only appends to a buffer; one flusher greenlet publishes what
has gathered since the last hub turn as one Redis message, in emit order.

On the receiving side every worker gets every message, so what a worker spends per
message is paid once per worker: with one Redis message per emit, adding a worker
adds work instead of sharing it.  A batch costs one Redis message, and each emit in
it for a room with nobody on this worker is dropped after a dict look-up, before it
is even decoded; only the emits for rooms held here go on to the stock handling.
Decoding only those also keeps short-lived objects few, and with them the garbage
collector's full passes, which cost a worker with a thousand desktops a quarter of a
second each.

Wire format of a batch: a header line ``{"method":"batch","host_id":...,
"namespaces":[...],"rooms":[...]}`` then one line per item, in emit order.  Each item
is exactly the JSON message the stock manager would have published on its own
(emit, disconnect, enter/leave/close room, callback); ``namespaces[i]`` and
``rooms[i]`` name the room of item ``i`` when it is an emit to one named room, and
are null when every receiver must decode it.  Single messages in the stock format
are still accepted, so a stock write-only emitter can publish on the channel; a
stock receiver, though, cannot read batches, so every process that receives on the
channel must use this manager.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import islice
from typing import Any

import gevent
import orjson
from socketio import RedisManager

log = logging.getLogger(__name__)

BATCH_MARK = b'{"method":"batch"'


Item = tuple[str | None, str | None, bytes]  # namespace, room (see route()), the JSON


def encode_batch(host_id: str, items: list[Item]) -> bytes:
    """One batch message: a header line with each item's route, then the items, one a line.

    orjson never writes a raw newline, so newlines split the items without decoding
    them, and a receiver decodes only the items whose room it holds.
    """
    head = orjson.dumps({"method": "batch", "host_id": host_id,
                         "namespaces": [item[0] for item in items],
                         "rooms": [item[1] for item in items]})
    return b"\n".join([head, *(item[2] for item in items)])


def decode_message(raw: bytes | str) -> list[dict[str, Any]]:
    """Every message one Redis message on the channel carries, in order: a batch's
    items, or the single stock message (for tools and tests that watch the channel)."""
    data = raw.encode() if isinstance(raw, str) else raw
    if data.startswith(BATCH_MARK):
        return [orjson.loads(line) for line in data.split(b"\n")[1:]]
    return [orjson.loads(data)]


def route(message: dict[str, Any]) -> tuple[str | None, str | None]:
    """(namespace, room) of an emit to one named room; (None, None) for anything a
    receiver must always decode (other methods, broadcasts, several rooms)."""
    room = message.get("room")
    if message.get("method") == "emit" and isinstance(room, str):
        return message.get("namespace") or "/", room
    return None, None


def _holds(rooms: dict | None, room: Any) -> bool:
    """Whether a namespace's rooms here include ``room`` (a header from elsewhere may be odd)."""
    try:
        return rooms is not None and room in rooms
    except TypeError:  # an unhashable room: let the stock emit decide
        return True


def _as_is(message: Any) -> Any:
    """A pushed pubsub message, handed on untouched."""
    return message


class BatchingRedisManager(RedisManager):
    """RedisManager that publishes a batch per gevent tick and skips rooms held elsewhere."""

    def __init__(self, url: str, channel: str = "flask-socketio", write_only: bool = False,
                 max_batch: int = 1000) -> None:
        super().__init__(url, channel=channel, write_only=write_only)
        self._pending: list[Item] = []
        self._flusher: gevent.Greenlet | None = None
        self.max_batch = max_batch
        self.dropped = 0  # emits received for rooms not held here

    # --- publishing --------------------------------------------------------------------
    def _publish(self, data: Any) -> None:
        # orjson: the stock json.dumps was the ingest process's largest single cost;
        # the bytes are plain JSON, which any receiver's json.loads reads as before.
        namespace, room = route(data)
        self._pending.append((namespace, room, orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)))
        if self._flusher is None:
            self._flusher = gevent.spawn(self._flush)

    def _flush(self) -> None:
        try:
            while self._pending:
                pending, self._pending = self._pending, []
                self._send([encode_batch(self.host_id, pending[i:i + self.max_batch])
                            for i in range(0, len(pending), self.max_batch)], len(pending))
        finally:
            self._flusher = None

    def _send(self, messages: list[bytes], emits: int) -> None:
        for attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                if len(messages) == 1:
                    self.redis.publish(self.channel, messages[0])
                else:
                    pipe = self.redis.pipeline(transaction=False)
                    for message in messages:
                        pipe.publish(self.channel, message)
                    pipe.execute()
                return
            except Exception as exc:  # noqa: BLE001 - whatever redis-py raises, retry once
                self.connected = False
                if attempt == 2:
                    # Lost, as the stock manager loses them: desktops resync on reconnect.
                    log.error("cannot publish %d emits to redis: %s", emits, exc)

    # --- receiving ---------------------------------------------------------------------
    def _redis_connect(self) -> None:
        super()._redis_connect()
        # redis-py's default handler for a pushed message (what hiredis reports each
        # message as) builds str() of the whole message for a debug line even when debug
        # is off: over a millisecond per batch, more than everything else it costs.
        try:
            self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True,
                                            push_handler_func=_as_is)
        except TypeError:  # a redis-py without push handlers has no such cost either
            pass

    def _listen(self) -> Iterator[Any]:
        """Batches come out as the items this worker needs, decoded; anything else as stock."""
        for message in super()._listen():
            if isinstance(message, bytes) and message.startswith(BATCH_MARK):
                yield from self._unpack(message)
            else:
                yield message

    def _unpack(self, message: bytes) -> Iterator[dict]:
        """The items of a batch that can matter here, in order, each decoded only then."""
        lines = message.split(b"\n")
        try:
            head = orjson.loads(lines[0])
            namespaces, rooms = head["namespaces"], head["rooms"]
            mine = head.get("host_id") == self.host_id
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            log.error("dropping an unreadable batch from redis: %s", exc)
            return
        if not len(namespaces) == len(rooms) == len(lines) - 1:
            log.error("dropping a batch whose header does not match its %d items", len(lines) - 1)
            return
        held = self.rooms
        # Checked item by item as the stock loop handles them, so a room that an earlier
        # item of the same batch made a desktop here join already counts.
        for namespace, room, line in zip(namespaces, rooms, islice(lines, 1, None)):
            # An emit from this host was delivered here when it was emitted.
            if namespace is not None and (mine or not _holds(held.get(namespace), room)):
                self.dropped += 1
                continue
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                log.error("dropping an unreadable item of a batch from redis: %s", exc)
