"""The ``/api`` blueprint object, shared by the view modules."""

from __future__ import annotations

from flask import Blueprint

from .errors import register_error_handlers

api_bp = Blueprint("api", __name__, url_prefix="/api")
register_error_handlers(api_bp)
