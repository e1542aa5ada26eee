"""Input checks shared by the store's write functions.

Text typed by people (names, addresses, notes) is rejected when too long
rather than cut, so nobody loses data silently; text copied from the
switch (caller names, causes) goes through :func:`clip` instead, because a
strange caller ID must never stop a call from being recorded.
"""

from __future__ import annotations


class StoreError(ValueError):
    """Invalid input to a store function (message is safe to show users)."""


class DuplicateError(StoreError):
    """The value is already taken (a phone number, an agent id)."""


def text(value: object, field: str, max_len: int, *, required: bool = False) -> str | None:
    """Return ``value`` stripped, or None when empty and not required."""
    if value is None:
        if required:
            raise StoreError(f"{field} is required")
        return None
    if not isinstance(value, str):
        raise StoreError(f"{field} must be text")
    value = value.strip()
    if not value:
        if required:
            raise StoreError(f"{field} is required")
        return None
    if len(value) > max_len:
        raise StoreError(f"{field} is longer than {max_len} characters")
    return value


def choice(value: str, field: str, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise StoreError(f"{field} must be one of {', '.join(allowed)}")
    return value


def clip(value: object, max_len: int) -> str | None:
    """Best-effort text for machine-supplied fields: str, cut to fit."""
    if value is None:
        return None
    value = str(value)
    return value[:max_len] if value else None
