"""Sends queued webhook deliveries, retrying on a fixed back-off schedule.

The schedule and the outcome of one HTTP exchange are pure functions; the
:class:`WebhookDispatcher` only glues them to the queue table and a
greenlet. Receivers get a short timeout, so a slow or dead receiver delays
only its own deliveries, never event processing (which just inserts rows).
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import gevent
from gevent.event import Event

from ..store.db import connection, utcnow
from ..store.errors import DB_ERRORS
from ..store.webhooks import (
    WebhookDelivery,
    WebhookSubscription,
    claim_due,
    mark_delivered,
    mark_failed_attempt,
)
from .signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

# Delay before retry n (n = failed attempts so far); after the last one, give up.
RETRY_DELAYS = (10, 30, 120, 600, 3600)
TIMEOUT = 5.0
USER_AGENT = "cti-middleware-webhooks/1"


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts, or None to give up."""
    if attempts < 1 or attempts > len(RETRY_DELAYS):
        return None
    return now + timedelta(seconds=RETRY_DELAYS[attempts - 1])


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT) -> int:
    """POST ``body`` to ``url``; the response status (redirects not followed)."""
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname, parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        conn.close()


Sender = Callable[[str, bytes, dict[str, str]], int]


class WebhookDispatcher:
    """Polls the queue and sends due deliveries; :meth:`run_once` is one pass."""

    def __init__(
        self, *, poll_interval: float = 1.0, batch: int = 20,
        timeout: float = TIMEOUT, sender: Sender | None = None,
    ) -> None:
        self.poll_interval = poll_interval
        self.batch = batch
        self.timeout = timeout
        self._send = sender or (lambda url, body, headers: post(url, body, headers, self.timeout))
        self._wake = Event()
        self._greenlet: gevent.Greenlet | None = None
        self.sent = 0
        self.failed = 0

    def start(self) -> None:
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._loop)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def wake(self) -> None:
        """Check the queue now instead of at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        while True:
            try:
                while self.run_once():
                    pass
            except DB_ERRORS as exc:  # database away: keep polling, rows are safe
                log.warning("webhook queue unavailable: %s", exc)
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def run_once(self, now: datetime | None = None) -> int:
        """Send every delivery due at ``now``; returns how many were tried."""
        now = now or utcnow()
        with connection():  # one pooled connection for the pass, returned after
            rows = claim_due(now, self.batch)
            for row in rows:
                self._deliver(row, now)
        return len(rows)

    def _deliver(self, row: WebhookDelivery, now: datetime) -> None:
        sub = WebhookSubscription.get_or_none(WebhookSubscription.id == row.subscription_id)
        if sub is None or not sub.active:
            mark_failed_attempt(row.id, "subscription inactive", None)
            return
        body = row.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: sign(sub.secret, row.event_id, body),
            EVENT_ID_HEADER: row.event_id,
            EVENT_TYPE_HEADER: row.event_type,
        }
        try:
            status = self._send(sub.url, body, headers)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            mark_delivered(row.id, utcnow())
            self.sent += 1
            return
        attempts = row.attempts + 1
        mark_failed_attempt(row.id, error, next_attempt(attempts, now))
        self.failed += 1
