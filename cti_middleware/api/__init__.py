"""REST API under ``/api``: customers, work orders, blacklist, call records,
agents and webhooks, authenticated with bearer tokens.

Register :data:`api_bp` on the Flask app. Importing this package also
imports the store modules whose tables it needs, so a later
``create_schema()`` creates them.
"""

from __future__ import annotations

from ..store import routing, tokens, webhooks, workflow  # noqa: F401  (tables join the schema)
from . import customers, hooks, openapi, records, workorders  # noqa: F401  (registers routes)
from .blueprint import api_bp
from .crm_socket import CrmNamespace, CrmSocketSink
from .tokens_cli import add_token_commands

__all__ = ["CrmNamespace", "CrmSocketSink", "add_token_commands", "api_bp"]
