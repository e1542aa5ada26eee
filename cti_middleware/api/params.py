"""Request parsing shared by the views: pagination, query values, bodies.

Bodies are checked against a small field table (type, length, required)
before anything reaches the store, and unknown fields are rejected so a
misspelt field name is an error instead of being silently ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Response, request
from peewee import ModelSelect

from .errors import ApiError

PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
# Integers must fit the narrowest column they may land in (PostgreSQL INTEGER).
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True)
class Field:
    types: tuple[type, ...]
    required: bool = False
    max_len: int | None = None
    nullable: bool = True
    max_items: int | None = None


def string(max_len: int, required: bool = False) -> Field:
    return Field((str,), required, max_len)


def number(required: bool = False) -> Field:
    return Field((int, float), required)


def integer(required: bool = False, nullable: bool = True) -> Field:
    return Field((int,), required, nullable=nullable)


def boolean() -> Field:
    return Field((bool,), nullable=False)


def string_list(max_items: int, max_len: int, required: bool = False) -> Field:
    return Field((list,), required, max_len=max_len, max_items=max_items)


def _type_name(types: tuple[type, ...]) -> str:
    return {str: "string", int: "integer", float: "number", bool: "boolean",
            list: "array", dict: "object"}.get(types[0], types[0].__name__)


def _check(name: str, value: Any, spec: Field) -> None:
    if value is None:
        if spec.required or not spec.nullable:
            raise ApiError(422, f"{name} must not be null")
        return
    bad_bool = isinstance(value, bool) and bool not in spec.types
    if bad_bool or not isinstance(value, spec.types):
        raise ApiError(422, f"{name} must be {_type_name(spec.types)}")
    if isinstance(value, int) and not isinstance(value, bool) and not INT_MIN <= value <= INT_MAX:
        raise ApiError(422, f"{name} is out of range")
    if isinstance(value, float) and not math.isfinite(value):
        raise ApiError(422, f"{name} must be a finite number")
    if isinstance(value, str) and "\x00" in value:
        raise ApiError(422, f"{name} contains a NUL character")
    if isinstance(value, str) and spec.max_len is not None and len(value) > spec.max_len:
        raise ApiError(422, f"{name} is longer than {spec.max_len} characters")
    if isinstance(value, list):
        max_items, max_len = spec.max_items or 0, spec.max_len or 0
        if len(value) > max_items:
            raise ApiError(422, f"{name} has more than {max_items} items")
        for item in value:
            if not isinstance(item, str) or len(item) > max_len or "\x00" in item:
                raise ApiError(422, f"{name} items must be strings of at most {max_len} "
                                    "characters, without NUL")


def body(fields: Mapping[str, Field]) -> dict[str, Any]:
    """The JSON object body, checked against ``fields``."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "body must be a JSON object")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ApiError(422, f"unknown field(s): {', '.join(unknown)}")
    for name, spec in fields.items():
        if name not in data:
            if spec.required:
                raise ApiError(422, f"{name} is required")
            continue
        _check(name, data[name], spec)
    return data


def query_float(name: str) -> float | None:
    """An optional numeric query parameter (epoch seconds)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a number") from None
    try:
        datetime.fromtimestamp(value, UTC)  # the range the store can compare against
    except (ValueError, OverflowError, OSError):
        raise ApiError(400, f"{name} is out of range") from None
    return value


def query_int(name: str) -> int | None:
    """An optional integer query parameter, within the range of a database column."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer") from None
    if not INT_MIN <= value <= INT_MAX:
        raise ApiError(400, f"{name} is out of range")
    return value


def page_args() -> tuple[int, int]:
    """(page, per_page) from the query string, validated."""
    page = query_int("page")
    per_page = query_int("per_page")
    page = 1 if page is None else page
    per_page = PER_PAGE_DEFAULT if per_page is None else per_page
    if page < 1:
        raise ApiError(400, "page must be >= 1")
    if not 1 <= per_page <= PER_PAGE_MAX:
        raise ApiError(400, f"per_page must be 1..{PER_PAGE_MAX}")
    return page, per_page


def paginate(query: ModelSelect, render: Any) -> dict[str, Any]:
    """One page of an ordered query as the standard envelope."""
    page, per_page = page_args()
    total = query.count()
    rows = query.paginate(page, per_page)
    return {"items": [render(row) for row in rows], "page": page,
            "per_page": per_page, "total": total}


def no_content() -> Response:
    """A 204 with no Content-Type: there is no body for a type to describe."""
    response = Response(status=204)
    response.headers.remove("Content-Type")
    return response
