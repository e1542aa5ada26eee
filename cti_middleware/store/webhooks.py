"""Webhook subscriptions and the outgoing delivery queue.

The queue is a table, so deliveries survive a restart and several
middleware processes can share it: a worker *claims* a due row with a
conditional update (it only wins if ``next_attempt_at`` is still what it
read), which pushes the row's next attempt past a lease so nobody else
sends it meanwhile. Enqueueing is one read of the active subscriptions and
one multi-row insert, and never touches the network.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .db import BaseModel, UTCDateTimeField, connected, database, to_epoch, utcnow
from .models import AGENT_MAX
from .validate import StoreError

__all__ = [
    "EVENT_TYPES",
    "WebhookDelivery",
    "WebhookSubscription",
    "active_event_types",
    "add_subscription",
    "claim_due",
    "delivery_to_dict",
    "enqueue_event",
    "enqueue_events",
    "mark_delivered",
    "mark_failed_attempt",
    "redeliver",
    "subscription_to_dict",
    "subscriptions_changed",
    "subscriptions_version",
]

EVENT_TYPES = (
    "call.offered",
    "call.answered",
    "call.ended",
    "agent.state",
    "workorder.created",
    "workorder.updated",
)
STATUSES = ("pending", "delivered", "failed")
URL_MAX = 2048
ERROR_MAX = 500
LEASE = timedelta(seconds=60)

# Bumped by whatever changes subscriptions in this process, so a cache of the
# active event types (the webhook sink's) knows to reload at once; other
# processes' changes reach such a cache through its refresh interval.
_version = 0


def subscriptions_changed() -> None:
    """Tell this process's subscription caches to reload."""
    global _version
    _version += 1


def subscriptions_version() -> int:
    return _version


class WebhookSubscription(BaseModel):
    id = AutoField()
    url = CharField(max_length=URL_MAX)
    event_types = TextField(default="[]")  # JSON list of EVENT_TYPES
    secret = CharField(max_length=128)
    active = BooleanField(default=True)
    created_by = CharField(max_length=AGENT_MAX, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "webhook_subscription"

    @property
    def event_list(self) -> list[str]:
        return json.loads(self.event_types or "[]")


class WebhookDelivery(BaseModel):
    id = AutoField()
    event_id = CharField(max_length=36, index=True)
    event_type = CharField(max_length=32)
    body = TextField()
    subscription = ForeignKeyField(
        WebhookSubscription, backref="deliveries", on_delete="CASCADE"
    )
    status = CharField(max_length=16, default="pending")
    attempts = IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(default=utcnow)
    last_error = CharField(max_length=ERROR_MAX, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    delivered_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "webhook_delivery"
        # The dispatcher's poll: pending rows ordered by due time.
        indexes = ((("status", "next_attempt_at"), False),)


def check_url(url: object) -> str:
    """An absolute http(s) URL of sane length."""
    if not isinstance(url, str) or len(url) > URL_MAX:
        raise StoreError(f"url must be text of at most {URL_MAX} characters")
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError("url must be an absolute http:// or https:// URL")
    return url


def check_event_types(types: object) -> list[str]:
    if not isinstance(types, list) or not types:
        raise StoreError(f"events must be a non-empty list of {', '.join(EVENT_TYPES)}")
    for name in types:
        if name not in EVENT_TYPES:
            raise StoreError(f"unknown event type {name!r}")
    return sorted(set(types))


@connected
def add_subscription(
    url: str, event_types: list[str], *, secret: str | None = None,
    created_by: str | None = None,
) -> WebhookSubscription:
    """Subscribe ``url``; a signing secret is generated unless given."""
    if secret is not None and (not isinstance(secret, str) or not 16 <= len(secret) <= 128):
        raise StoreError("secret must be 16..128 characters")
    sub = WebhookSubscription.create(
        url=check_url(url),
        event_types=json.dumps(check_event_types(event_types)),
        secret=secret or "whsec_" + secrets.token_urlsafe(32),
        created_by=created_by,
    )
    subscriptions_changed()
    return sub


def event_body(event_id: str, event_type: str, payload: dict[str, Any], at: datetime) -> str:
    """The exact bytes (as text) that are signed and POSTed."""
    envelope = {"id": event_id, "type": event_type, "created_at": to_epoch(at), "data": payload}
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str)


def _active_subscriptions() -> list[tuple[int, list[str]]]:
    query = WebhookSubscription.select(
        WebhookSubscription.id, WebhookSubscription.event_types
    ).where(WebhookSubscription.active == True)
    return [(sub.id, sub.event_list) for sub in query]


@connected
def active_event_types() -> frozenset[str]:
    """The event types at least one active subscription wants (one small read)."""
    return frozenset(t for _id, types in _active_subscriptions() for t in types)


@connected
def enqueue_event(event_type: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue one delivery per active subscription to ``event_type``.

    All deliveries of one event share its id (receivers de-duplicate on it).
    Returns the queued rows (empty when nobody subscribes).
    """
    return enqueue_events([(event_type, payload)])


@connected
def enqueue_events(events: Sequence[tuple[str, dict[str, Any]]]) -> list[WebhookDelivery]:
    """:func:`enqueue_event` for many events: one read and one bulk insert in all.

    Rows are inserted in the order of ``events``, so deliveries keep the order
    the changes happened in. An unknown event type rejects the whole batch
    before anything is written.
    """
    for event_type, _payload in events:
        if event_type not in EVENT_TYPES:
            raise StoreError(f"unknown event type {event_type!r}")
    subs = _active_subscriptions()
    if not subs:
        return []
    now = utcnow()
    rows = []
    for event_type, payload in events:
        targets = [sub_id for sub_id, types in subs if event_type in types]
        if not targets:
            continue
        event_id = str(uuid.uuid4())
        body = event_body(event_id, event_type, payload, now)
        rows += [
            WebhookDelivery(event_id=event_id, event_type=event_type, body=body,
                            subscription=sub_id, next_attempt_at=now, created_at=now)
            for sub_id in targets
        ]
    if rows:
        with database.atomic():
            WebhookDelivery.bulk_create(rows, batch_size=200)
    return rows


@connected
def claim_due(now: datetime, limit: int = 20) -> list[WebhookDelivery]:
    """Pending deliveries due at ``now`` that this worker now owns.

    Each row's ``next_attempt_at`` is pushed ``LEASE`` ahead; the update is
    conditional on the value read, so of two workers only one wins a row.
    """
    due = list(
        WebhookDelivery.select()
        .where((WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    claimed = []
    for row in due:
        won = (
            WebhookDelivery.update(next_attempt_at=now + LEASE)
            .where((WebhookDelivery.id == row.id)
                   & (WebhookDelivery.next_attempt_at == row.next_attempt_at)
                   & (WebhookDelivery.status == "pending"))
            .execute()
        )
        if won:
            claimed.append(row)
    return claimed


@connected
def mark_delivered(delivery_id: int, now: datetime) -> None:
    WebhookDelivery.update(
        status="delivered", attempts=WebhookDelivery.attempts + 1, delivered_at=now,
        last_error=None,
    ).where(WebhookDelivery.id == delivery_id).execute()


@connected
def mark_failed_attempt(delivery_id: int, error: str, retry_at: datetime | None) -> None:
    """Record a failed attempt; ``retry_at`` None gives up (status failed)."""
    fields: dict[str, Any] = {
        "attempts": WebhookDelivery.attempts + 1,
        "last_error": error[:ERROR_MAX],
    }
    if retry_at is None:
        fields["status"] = "failed"
    else:
        fields["next_attempt_at"] = retry_at
    WebhookDelivery.update(**fields).where(WebhookDelivery.id == delivery_id).execute()


@connected
def redeliver(delivery_id: int) -> WebhookDelivery | None:
    """Queue a fresh copy of a delivery (same event id and body), due now."""
    old = WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_id)
    if old is None:
        return None
    return WebhookDelivery.create(
        event_id=old.event_id, event_type=old.event_type, body=old.body,
        subscription=old.subscription_id, next_attempt_at=utcnow(),
    )


def subscription_to_dict(sub: WebhookSubscription, *, secret: bool = False) -> dict[str, Any]:
    """JSON view; the secret is included only when ``secret`` (on creation)."""
    body = {
        "id": sub.id,
        "url": sub.url,
        "events": sub.event_list,
        "active": bool(sub.active),
        "created_by": sub.created_by,
        "created_at": to_epoch(sub.created_at),
    }
    if secret:
        body["secret"] = sub.secret
    return body


def delivery_to_dict(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "subscription_id": row.subscription_id,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": to_epoch(row.next_attempt_at) if row.status == "pending" else None,
        "last_error": row.last_error,
        "created_at": to_epoch(row.created_at),
        "delivered_at": to_epoch(row.delivered_at),
        "body": json.loads(row.body),
    }
