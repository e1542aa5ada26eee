"""What one ``/crm`` connection may see and has asked to see.

Kept apart from the Socket.IO namespace so the rules (a queue-limited token never
widens its view, "all" covers every queue so no event arrives twice) are plain
code with plain tests.  A subscription is a queue name, or :data:`ALL` for the
feed of every queue plus agent states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import commands
from ..commands import InvalidArgument

ALL = "*"
EVENTS_READ = "events:read"
CALLS_CONTROL = "calls:control"


class SubscriptionError(Exception):
    """A refused subscription request, with the code the client sees."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class CrmSession:
    """One connection's token limits and subscriptions.

    ``queues`` is the token's queue limit (None: every queue).  While subscribed to
    :data:`ALL`, queue subscriptions are remembered but not joined: the all-room
    already carries their events, and joining both would deliver each one twice.
    """

    token_id: int
    scopes: frozenset[str]
    queues: frozenset[str] | None
    all: bool = False
    wanted: set[str] = field(default_factory=set)

    @classmethod
    def for_token(cls, token: Any) -> CrmSession:
        """A new session with today's default: every queue, or the token's queues."""
        limit = token.queue_list
        session = cls(token.id, frozenset(token.scope_list), None if limit is None else frozenset(limit))
        if EVENTS_READ in session.scopes:
            if limit is None:
                session.all = True
            else:
                session.wanted = set(limit)
        return session

    def rooms(self) -> set[str]:
        """Subscriptions in effect: ``{ALL}`` or the wanted queues."""
        return {ALL} if self.all else set(self.wanted)

    def subscribe(self, request: Any) -> None:
        target = self._target(request)
        if target == ALL:
            if self.queues is not None:
                raise SubscriptionError("forbidden", "this token is limited to its queues")
            self.all = True
            return
        if self.queues is not None and target not in self.queues:
            raise SubscriptionError("forbidden", "the token is not allowed that queue")
        self.wanted.add(target)

    def unsubscribe(self, request: Any) -> None:
        target = self._target(request)
        if target == ALL:
            self.all = False
        else:
            self.wanted.discard(target)

    def _target(self, request: Any) -> str:
        """``{"queue": name}`` or ``{"all": true}``, checked; needs events:read."""
        if EVENTS_READ not in self.scopes:
            raise SubscriptionError("forbidden", "the token lacks the events:read scope")
        if not isinstance(request, dict):
            raise SubscriptionError("invalid_argument", 'expected {"queue": "name@domain"} or {"all": true}')
        has_queue, has_all = "queue" in request, "all" in request
        if has_queue == has_all:
            raise SubscriptionError("invalid_argument", 'give exactly one of "queue" or "all"')
        if has_all:
            if request["all"] is not True:
                raise SubscriptionError("invalid_argument", '"all" must be true')
            return ALL
        try:
            return commands.check("queue", request["queue"])
        except InvalidArgument:
            raise SubscriptionError("invalid_argument", "queue must look like name@domain") from None
