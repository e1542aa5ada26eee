"""REST API under ``/api``: customers, work orders, dispatch, callbacks, blacklist, call
records, recordings, agents, routing configuration and webhooks, authenticated with bearer
tokens.

Register :data:`api_bp` on the Flask app. Importing this package also
imports the store modules whose tables it needs, so a later
``create_schema()`` creates them.
"""

from __future__ import annotations

from ..store import routing, tokens, webhooks, workflow  # noqa: F401  (tables join the schema)
from . import (  # noqa: F401  (each module registers its routes and OpenAPI entries)
    callbacks,
    customers,
    dispatch_api,
    hooks,
    openapi,
    recordings,
    records,
    routing_api,
    workorders,
)
from .blueprint import api_bp
from .crm_socket import CrmNamespace, CrmSocketSink
from .tokens_cli import add_token_commands

__all__ = ["CrmNamespace", "CrmSocketSink", "add_token_commands", "api_bp"]
