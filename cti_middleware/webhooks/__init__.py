"""Outgoing webhooks: a persistent, signed, retried event feed.

Call :func:`enqueue` from the notification path; a
:class:`WebhookDispatcher` started with the runtime sends the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from ..store.errors import DB_ERRORS
from ..store.validate import StoreError
from ..store.webhooks import (
    EVENT_TYPES,
    active_event_types,
    enqueue_event,
    enqueue_events,
)
from .dispatcher import RETRY_DELAYS, WebhookDispatcher, next_attempt
from .signing import sign, verify_signature
from .sink import WebhookSink, event_for

__all__ = [
    "EVENT_TYPES",
    "RETRY_DELAYS",
    "WebhookDispatcher",
    "WebhookSink",
    "active_event_types",
    "enqueue",
    "enqueue_batch",
    "event_for",
    "next_attempt",
    "sign",
    "verify_signature",
]

log = logging.getLogger(__name__)


def enqueue(event_type: str, payload: dict[str, Any]) -> int:
    """Queue ``payload`` for every subscriber of ``event_type``.

    One read and one insert, no network; a database failure is logged and
    swallowed so webhooks can never break call handling. Returns the number
    of deliveries queued.
    """
    try:
        return len(enqueue_event(event_type, payload))
    except (StoreError, *DB_ERRORS) as exc:
        log.warning("webhook %s not queued: %s", event_type, exc)
        return 0


def enqueue_batch(events: Sequence[tuple[str, dict[str, Any]]]) -> int:
    """Queue many events in one read and one insert (the webhook sink's writer).

    Unlike :func:`enqueue`, a database failure is raised so the caller can
    retry the batch rather than lose it; a bad event type is logged and the
    batch dropped, as retrying could never help it.
    """
    try:
        return len(enqueue_events(events))
    except StoreError as exc:
        log.error("%d webhook events not queued: %s", len(events), exc)
        return 0
