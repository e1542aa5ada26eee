"""``cti-middleware token create|list|revoke``: managing REST API tokens.

:func:`add_token_commands` adds the sub-commands to the main parser; each
command expects the database to be opened (``open_db``) before it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..store.tokens import SCOPES, create_token, list_tokens, revoke_token
from ..store.validate import StoreError

OpenDb = Callable[[], None]


def cmd_create(args: argparse.Namespace, open_db: OpenDb) -> int:
    open_db()
    try:
        row, plain = create_token(args.name, args.scope, queues=args.queue or None,
                                  created_by=args.created_by)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"token {row.id} ({row.name}) scopes: {' '.join(row.scope_list)}")
    print("store it now, it is not shown again:")
    print(plain)
    return 0


def cmd_list(args: argparse.Namespace, open_db: OpenDb) -> int:
    open_db()
    for row in list_tokens():
        state = "revoked" if row.revoked_at else "active"
        queues = ",".join(row.queue_list) if row.queue_list else "*"
        print(f"{row.id}\t{row.name}\t{state}\t{' '.join(row.scope_list)}\tqueues={queues}")
    return 0


def cmd_revoke(args: argparse.Namespace, open_db: OpenDb) -> int:
    open_db()
    if not revoke_token(args.id):
        print(f"error: no active token {args.id}", file=sys.stderr)
        return 2
    print(f"token {args.id} revoked")
    return 0


def add_token_commands(sub: argparse._SubParsersAction, open_db: OpenDb) -> None:
    """Register ``token create|list|revoke`` on the top-level sub-parsers."""
    token = sub.add_parser("token", help="REST API tokens").add_subparsers(
        dest="token_cmd", required=True
    )
    p = token.add_parser("create", help="create a token (printed once)")
    p.add_argument("name")
    p.add_argument("--scope", action="append", choices=SCOPES, required=True,
                   help="repeat for several scopes")
    p.add_argument("--queue", action="append", help="restrict call records to these queues")
    p.add_argument("--created-by", default=None)
    p.set_defaults(func=lambda args: cmd_create(args, open_db))
    p = token.add_parser("list", help="list tokens")
    p.set_defaults(func=lambda args: cmd_list(args, open_db))
    p = token.add_parser("revoke", help="revoke a token")
    p.add_argument("id", type=int)
    p.set_defaults(func=lambda args: cmd_revoke(args, open_db))
