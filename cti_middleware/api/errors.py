"""JSON errors for the REST API.

Every failure leaves the API as ``{"error": <code>, "message": <text>}``
with a stable machine-readable code, so clients branch on the code and
show the message.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
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
    422: "validation",
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


def register_error_handlers(bp: Blueprint) -> None:
    """Render :class:`ApiError` and HTTP exceptions raised in ``bp`` as JSON."""

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Any, int]:
        return error_response(exc.status, exc.code, exc.message)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Any, int]:
        status = exc.code or 500
        return error_response(status, CODES.get(status, "error"), exc.description or "")
