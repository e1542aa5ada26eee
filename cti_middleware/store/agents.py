"""Agent accounts: who may log in to the agent desktop, and as what.

Passwords are stored only as salted scrypt hashes; verification compares in
constant time, and an unknown agent id costs the same hash computation as a
known one so response time does not reveal which ids exist.
"""

from __future__ import annotations

import re
from functools import lru_cache

from peewee import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .db import connected
from .models import AGENT_ROLES, NAME_MAX, AgentAccount
from .validate import DuplicateError, StoreError, choice, text

AGENT_ID_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}@[A-Za-z0-9_.-]{1,64}")
PASSWORD_MAX = 256  # bounds the hashing work one login attempt can cause
HASH_METHOD = "scrypt"


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the agent id is unknown, to equalise timing."""
    return generate_password_hash("not-a-password", method=HASH_METHOD)


def valid_agent_id(agent_id: object) -> bool:
    """True for ids like ``1000@default`` (mod_callcenter agent names)."""
    return isinstance(agent_id, str) and AGENT_ID_RE.fullmatch(agent_id) is not None


def _check_agent_id(agent_id: str) -> str:
    if not valid_agent_id(agent_id):
        raise StoreError("agent id must look like 1000@default")
    return agent_id


def _hash(password: str) -> str:
    if not isinstance(password, str) or not password:
        raise StoreError("password is required")
    if len(password) > PASSWORD_MAX:
        raise StoreError(f"password is longer than {PASSWORD_MAX} characters")
    return generate_password_hash(password, method=HASH_METHOD)


@connected
def add_agent(
    agent_id: str, password: str, role: str = "agent", name: str | None = None
) -> AgentAccount:
    """Create an account; an existing ``agent_id`` raises ``DuplicateError``."""
    fields = {
        "agent_id": _check_agent_id(agent_id),
        "role": choice(role, "role", AGENT_ROLES),
        "display_name": text(name, "name", NAME_MAX),
        "password_hash": _hash(password),
    }
    try:
        return AgentAccount.create(**fields)
    except IntegrityError:
        raise DuplicateError(f"agent {agent_id} already exists") from None


@connected
def get_agent(agent_id: str) -> AgentAccount | None:
    """The account for ``agent_id`` or None (also for malformed ids)."""
    if not valid_agent_id(agent_id):
        return None
    return AgentAccount.get_or_none(AgentAccount.agent_id == agent_id)


@connected
def list_agents() -> list[AgentAccount]:
    """All accounts, ordered by id."""
    return list(AgentAccount.select().order_by(AgentAccount.agent_id))


@connected
def authenticate(agent_id: str, password: str) -> AgentAccount | None:
    """The active account if ``password`` matches, else None."""
    account = get_agent(agent_id)
    usable = isinstance(password, str) and 0 < len(password) <= PASSWORD_MAX
    stored = account.password_hash if account is not None else _dummy_hash()
    matches = check_password_hash(stored, password if usable else "")
    if account is None or not usable or not matches or not account.active:
        return None
    return account


@connected
def set_password(agent_id: str, password: str) -> None:
    """Replace the password; an unknown agent raises ``StoreError``."""
    updated = (
        AgentAccount.update(password_hash=_hash(password))
        .where(AgentAccount.agent_id == agent_id)
        .execute()
    )
    if not updated:
        raise StoreError(f"no agent {agent_id}")


@connected
def set_active(agent_id: str, active: bool) -> None:
    """Enable or disable logins for an account."""
    updated = (
        AgentAccount.update(active=bool(active))
        .where(AgentAccount.agent_id == agent_id)
        .execute()
    )
    if not updated:
        raise StoreError(f"no agent {agent_id}")
