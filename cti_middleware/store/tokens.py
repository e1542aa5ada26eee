"""API tokens for the REST interface.

Only a SHA-256 digest of each token is stored, so a copy of the database
does not hand out working credentials. Tokens are 32 random bytes, so a
plain digest (no salt, no slow hash) is enough: there is nothing to guess.
Lookup is an equality match on the unique digest column; the comparison
that decides is :func:`hmac.compare_digest`, so timing reveals nothing
about how much of a forged token was right.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from typing import Any

from peewee import AutoField, CharField, TextField

from .db import BaseModel, UTCDateTimeField, connected, to_epoch, utcnow
from .models import AGENT_MAX, NAME_MAX
from .validate import StoreError, text

__all__ = [
    "SCOPES",
    "TOKEN_PREFIX",
    "ApiToken",
    "create_token",
    "list_tokens",
    "revoke_token",
    "token_to_dict",
    "verify_token",
]

SCOPES = ("events:read", "calls:control", "data:read", "data:write")
TOKEN_PREFIX = "cti_"
PLAIN_MAX = 128  # anything longer is not one of ours; skip hashing it
USED_RESOLUTION = timedelta(seconds=60)


class ApiToken(BaseModel):
    id = AutoField()
    name = CharField(max_length=NAME_MAX, unique=True)
    token_hash = CharField(max_length=64, unique=True)
    scopes = TextField(default="[]")  # JSON list, subset of SCOPES
    queues = TextField(null=True)  # JSON list; None = every queue
    created_by = CharField(max_length=AGENT_MAX, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    revoked_at = UTCDateTimeField(null=True)
    last_used_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "api_token"

    @property
    def scope_list(self) -> list[str]:
        return json.loads(self.scopes or "[]")

    @property
    def queue_list(self) -> list[str] | None:
        return json.loads(self.queues) if self.queues else None


def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def _check_scopes(scopes: list[str]) -> list[str]:
    if not isinstance(scopes, (list, tuple)) or not scopes:
        raise StoreError(f"scopes must be a non-empty list of {', '.join(SCOPES)}")
    for scope in scopes:
        if scope not in SCOPES:
            raise StoreError(f"unknown scope {scope!r}; allowed: {', '.join(SCOPES)}")
    return sorted(set(scopes))


def _check_queues(queues: list[str] | None) -> list[str] | None:
    if queues is None:
        return None
    if not isinstance(queues, (list, tuple)) or not all(isinstance(q, str) for q in queues):
        raise StoreError("queues must be a list of queue names")
    return sorted(set(queues))


@connected
def create_token(
    name: str,
    scopes: list[str],
    *,
    queues: list[str] | None = None,
    created_by: str | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns (row, plain token). The plain token is not stored."""
    name = text(name, "name", NAME_MAX, required=True)
    if ApiToken.select().where(ApiToken.name == name).exists():
        raise StoreError(f"a token named {name!r} already exists")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    queue_list = _check_queues(queues)
    row = ApiToken.create(
        name=name,
        token_hash=_digest(plain),
        scopes=json.dumps(_check_scopes(scopes)),
        queues=json.dumps(queue_list) if queue_list is not None else None,
        created_by=text(created_by, "created_by", AGENT_MAX),
    )
    return row, plain


@connected
def verify_token(plain: object) -> ApiToken | None:
    """The live (not revoked) token for ``plain``, else None; marks it used."""
    if not isinstance(plain, str) or not plain.startswith(TOKEN_PREFIX):
        return None
    if len(plain) > PLAIN_MAX:
        return None
    digest = _digest(plain)
    row = ApiToken.get_or_none(ApiToken.token_hash == digest)
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.revoked_at is not None:
        return None
    now = utcnow()
    # At most one write a minute per token, so reads stay reads.
    if row.last_used_at is None or now - row.last_used_at > USED_RESOLUTION:
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
        row.last_used_at = now
    return row


@connected
def revoke_token(token_id: int) -> bool:
    """Revoke a token; False if it does not exist or was already revoked."""
    updated = (
        ApiToken.update(revoked_at=utcnow())
        .where((ApiToken.id == token_id) & ApiToken.revoked_at.is_null())
        .execute()
    )
    return bool(updated)


@connected
def list_tokens() -> list[ApiToken]:
    """Every token, oldest first (digests included; never show them)."""
    return list(ApiToken.select().order_by(ApiToken.id))


def token_to_dict(row: ApiToken) -> dict[str, Any]:
    """JSON-ready view without the digest."""
    return {
        "id": row.id,
        "name": row.name,
        "scopes": row.scope_list,
        "queues": row.queue_list,
        "created_by": row.created_by,
        "created_at": to_epoch(row.created_at),
        "revoked_at": to_epoch(row.revoked_at),
        "last_used_at": to_epoch(row.last_used_at),
    }
