"""Signatures on outgoing webhooks, and their verification by receivers.

The signed string is ``f"{t}.{event_id}.{body}"``: the timestamp bounds
replays to the tolerance window, and the event id ties the signature to
one event even if two bodies happened to be equal.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-CTI-Signature"
EVENT_ID_HEADER = "X-CTI-Event-Id"
EVENT_TYPE_HEADER = "X-CTI-Event-Type"


def _mac(secret: str, timestamp: int, event_id: str, body: str | bytes) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    message = f"{timestamp}.{event_id}.{body}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, event_id: str, body: str | bytes, timestamp: int | None = None) -> str:
    """The ``X-CTI-Signature`` header value for one delivery."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={_mac(secret, t, event_id, body)}"


def verify_signature(
    secret: str,
    header: str | None,
    event_id: str,
    body: str | bytes,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """True if ``header`` signs ``event_id`` + ``body`` with ``secret`` recently.

    Any ``v1`` value may match (several are sent while a secret is rotated);
    the comparison is constant-time, and a timestamp further than
    ``tolerance`` seconds from now is rejected.
    """
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    try:
        expected = _mac(secret, timestamp, event_id, body)
    except UnicodeDecodeError:
        return False
    return any(hmac.compare_digest(expected, c) for c in candidates)
