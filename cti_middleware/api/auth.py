"""Bearer-token authentication and scope checks for the REST API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g, request

from ..store.tokens import ApiToken, verify_token
from .errors import ApiError


def current_token() -> ApiToken:
    """The token that authenticated this request."""
    return g.api_token


def actor() -> str:
    """Author recorded for writes made with the current token."""
    return f"token:{current_token().name}"


def _authenticate() -> ApiToken:
    header = request.headers.get("Authorization", "")
    scheme, _, plain = header.partition(" ")
    if scheme.lower() != "bearer" or not plain.strip():
        raise ApiError(401, "missing bearer token")
    token = verify_token(plain.strip())
    if token is None:
        raise ApiError(401, "invalid or revoked token")
    return token


def require(*scopes: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the request needs a valid token holding every scope listed."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _authenticate()
            missing = [s for s in scopes if s not in token.scope_list]
            if missing:
                raise ApiError(403, f"token lacks scope {', '.join(missing)}")
            g.api_token = token
            return view(*args, **kwargs)

        wrapper.required_scopes = scopes  # type: ignore[attr-defined]
        return wrapper

    return decorate
