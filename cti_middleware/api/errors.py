"""JSON errors for the REST API.

Every failure leaves the API as ``{"error": <code>, "message": <text>}``
with a stable machine-readable code, so clients branch on the code and
show the message.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

CODES = {
    400: "invalid_argument",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "validation",
    500: "internal",
}


class ApiError(Exception):
    """Raised by views; rendered as a JSON error with ``status``."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or CODES.get(status, "error")


def error_response(status: int, code: str, message: str) -> tuple[Any, int]:
    """The JSON body and status of an error."""
    return jsonify({"error": code, "message": message}), status


# Row ids are 64-bit in every back-end; a larger id in a path names nothing, and
# passing it on would overflow the database driver instead.
ID_MAX = 2**63 - 1


def _reject_unstorable_input(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Refuse, before any view runs, what no database could compare against:
    ids beyond 64 bits and NUL characters (PostgreSQL text cannot hold them)."""
    for name, value in (values or {}).items():
        if isinstance(value, int) and abs(value) > ID_MAX:
            raise ApiError(404, f"no such {name.removesuffix('_id') or name} {value}")
        if isinstance(value, str) and "\x00" in value:
            raise ApiError(404, f"{name} contains a NUL character")
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise ApiError(400, f"query parameter {name!r} contains a NUL character")


def register_error_handlers(bp: Blueprint) -> None:
    """Render :class:`ApiError` and HTTP exceptions raised in ``bp`` as JSON,
    and check path and query values every view would otherwise pass on."""

    bp.url_value_preprocessor(_reject_unstorable_input)

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Any, int]:
        return error_response(exc.status, exc.code, exc.message)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Any, int]:
        status = exc.code or 500
        return error_response(status, CODES.get(status, "error"), exc.description or "")
