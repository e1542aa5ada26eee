"""Call-control actions from a web-only worker, run by the ingest process.

Only the ingest process holds the switch link, so a worker publishes each
control action on a Redis channel: a unique id, the actor taken from the
worker's authenticated socket session (never from the client), the action and
its arguments, and the channel to answer on. The ingest process runs it
through the same :class:`~cti_middleware.control.CallControl` a local socket
uses, so validation, authorization and audit are the same, and publishes the
acknowledgement back. Each request is signed with the shared secret key, so
only a process configured like the middleware can act as an agent.

No subscriber on the command channel means no ingest process:
``switch_unavailable``; no answer within the timeout: ``switch_timeout``.

Besides the client's control actions the channel carries internal requests a
worker makes on its own account, such as :data:`REPOP` when a desktop connects:
they never reach call control, act only on their actor (so they take no
arguments that could name anyone else), and no client event maps to them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import gevent
import redis
from gevent.event import AsyncResult

from ..control import INVALID_ARGUMENT, SWITCH_TIMEOUT, SWITCH_UNAVAILABLE, Actor

log = logging.getLogger(__name__)

# Actions that wait for an originate on the switch, not just one api reply.
SLOW_ACTIONS = frozenset({"call.dial", "supervisor.listen", "supervisor.whisper",
                          "supervisor.barge", "supervisor.takeover"})
MAX_REQUEST = 64 * 1024
# Internal: pop the actor's current call(s) again, for a desktop that connected to a worker.
REPOP = "internal.repop"
INTERNAL_ACTIONS = frozenset({REPOP})

Runner = Callable[[Actor, str, Any], dict[str, Any]]
Repopper = Callable[[str], None]


def command_channel(channel: str) -> str:
    return f"{channel}:cti-commands"


def _sign(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


class CommandServer:
    """In the ingest process: runs forwarded actions and answers each on its reply channel."""

    def __init__(self, redis_url: str, channel: str, secret: str, run: Runner,
                 repop: Repopper | None = None) -> None:
        self.redis = redis.Redis.from_url(redis_url)
        self.channel = command_channel(channel)
        self.secret = secret
        self.run = run
        self.repop = repop
        self.handled = 0
        self._greenlet: gevent.Greenlet | None = None
        self._pubsub: Any = None

    def start(self) -> None:
        """Subscribe before returning, so a worker never sees "no ingest" once this ran."""
        if self._greenlet is not None:
            return
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(self.channel)
        self._greenlet = gevent.spawn(self._listen)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None

    def _listen(self) -> None:
        while True:
            try:
                for message in self._pubsub.listen():
                    if message.get("type") == "message":
                        gevent.spawn(self.serve, message["data"])
            except (redis.RedisError, OSError) as exc:
                log.warning("command channel lost (%s); resubscribing", exc)
                gevent.sleep(1.0)
                try:
                    self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                    self._pubsub.subscribe(self.channel)
                except (redis.RedisError, OSError):
                    continue

    def serve(self, raw: bytes | str) -> None:
        """Check one request, run it, publish the acknowledgement; a bad request is dropped."""
        try:
            envelope = json.loads(raw)
            body, signature = envelope["body"], envelope["sig"]
            if not isinstance(body, str) or not hmac.compare_digest(
                    str(signature), _sign(self.secret, body)):
                log.warning("forwarded command with a bad signature dropped")
                return
            request = json.loads(body)
            actor = Actor(str(request["actor"]["agent"]), str(request["actor"]["role"]))
            action, reply_to, request_id = (str(request["action"]), str(request["reply_to"]),
                                            str(request["id"]))
            arguments = request.get("arguments")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("malformed forwarded command dropped: %s", exc)
            return
        try:
            if action in INTERNAL_ACTIONS:
                ack = self.internal(actor, action, arguments)
            else:
                ack = self.run(actor, action, arguments)
        except Exception:  # the local socket path would log and fail the same way
            log.exception("forwarded %s failed", action[:40])
            ack = {"ok": False, "error": "internal_error", "message": "the action failed"}
        self.handled += 1
        try:
            self.redis.publish(reply_to, json.dumps({"id": request_id, "ack": ack}))
        except (redis.RedisError, OSError) as exc:
            log.warning("cannot answer forwarded %s: %s", action[:40], exc)

    def internal(self, actor: Actor, action: str, arguments: Any) -> dict[str, Any]:
        """Run a worker's own request for ``actor``; it is never given to call control.

        Arguments are refused rather than ignored: the only agent such a request may
        touch is the one whose session the worker signed, so naming any is a fault.
        """
        if arguments is not None:
            log.warning("internal %s from a worker carried arguments; refused", action)
            return {"ok": False, "error": INVALID_ARGUMENT,
                    "message": "an internal request acts only on its actor"}
        if self.repop is None:
            return {"ok": False, "error": SWITCH_UNAVAILABLE, "message": "screen pops not served here"}
        self.repop(actor.agent)
        return {"ok": True}


class CommandForwarder:
    """In a web-only worker: sends actions to the ingest process and waits for its answer."""

    def __init__(self, redis_url: str, channel: str, secret: str, timeout: float = 12.0,
                 slow_timeout: float = 65.0) -> None:
        self.redis = redis.Redis.from_url(redis_url)
        self.channel = command_channel(channel)
        self.reply_channel = f"{channel}:cti-replies:{uuid.uuid4().hex}"
        self.secret = secret
        self.timeout = timeout
        self.slow_timeout = slow_timeout
        self.pending: dict[str, AsyncResult] = {}
        self._greenlet: gevent.Greenlet | None = None
        self._pubsub: Any = None

    def _ensure_listening(self) -> None:
        if self._greenlet is None:
            self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            self._pubsub.subscribe(self.reply_channel)
            self._greenlet = gevent.spawn(self._listen, self._pubsub)

    def _listen(self, pubsub: Any) -> None:
        try:
            for message in pubsub.listen():
                if message.get("type") == "message":
                    self.deliver(message["data"])
        except (redis.RedisError, OSError) as exc:
            log.warning("reply channel lost: %s", exc)
            self._greenlet = None

    def deliver(self, raw: bytes | str) -> None:
        """Hand one reply to the request waiting for it; strays and garbage are ignored."""
        try:
            reply = json.loads(raw)
            waiter = self.pending.pop(str(reply["id"]), None)
        except (ValueError, KeyError, TypeError):
            return
        if waiter is not None:
            waiter.set(reply.get("ack"))

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
            self._greenlet = None
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None

    def envelope(self, request_id: str, actor: Actor, action: str, arguments: Any) -> str:
        """The signed request; raises TypeError/ValueError for arguments that are not JSON."""
        body = json.dumps({"id": request_id, "actor": {"agent": actor.agent, "role": actor.role},
                           "action": action, "arguments": arguments,
                           "reply_to": self.reply_channel})
        return json.dumps({"body": body, "sig": _sign(self.secret, body)})

    def forward(self, actor: Actor, action: str, arguments: Any) -> dict[str, Any]:
        """The ingest process's acknowledgement of ``action`` done as ``actor``."""
        request_id = uuid.uuid4().hex
        try:
            envelope = self.envelope(request_id, actor, action, arguments)
        except (TypeError, ValueError):
            return {"ok": False, "error": INVALID_ARGUMENT, "message": "arguments must be JSON"}
        if len(envelope) > MAX_REQUEST:
            return {"ok": False, "error": INVALID_ARGUMENT, "message": "arguments too large"}
        waiter: AsyncResult = AsyncResult()
        try:
            self._ensure_listening()
            self.pending[request_id] = waiter
            receivers = self.redis.publish(self.channel, envelope)
        except (redis.RedisError, OSError) as exc:
            self.pending.pop(request_id, None)
            log.warning("cannot forward %s: %s", action[:40], exc)
            return {"ok": False, "error": SWITCH_UNAVAILABLE, "message": "message queue unreachable"}
        if not receivers:
            self.pending.pop(request_id, None)
            return {"ok": False, "error": SWITCH_UNAVAILABLE, "message": "no ingest process running"}
        timeout = self.slow_timeout if action in SLOW_ACTIONS else self.timeout
        try:
            ack = waiter.get(timeout=timeout)
        except gevent.Timeout:
            self.pending.pop(request_id, None)
            return {"ok": False, "error": SWITCH_TIMEOUT, "message": "no answer from the ingest process"}
        if not isinstance(ack, dict):
            return {"ok": False, "error": SWITCH_UNAVAILABLE, "message": "bad answer from the ingest process"}
        return ack
