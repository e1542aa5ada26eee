"""The token sub-commands create, list and revoke tokens."""

from __future__ import annotations

import argparse

from cti_middleware.api.tokens_cli import add_token_commands
from cti_middleware.store.tokens import verify_token
from tests.store_fixtures import db, db_url  # noqa: F401


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_token_commands(parser.add_subparsers(dest="command", required=True), lambda: None)
    args = parser.parse_args(argv)
    return args.func(args)


def test_create_list_revoke(db, capsys):  # noqa: F811
    assert _run(["token", "create", "crm", "--scope", "data:read", "--queue", "q@d"]) == 0
    plain = capsys.readouterr().out.strip().splitlines()[-1]
    token = verify_token(plain)
    assert token.scope_list == ["data:read"] and token.queue_list == ["q@d"]
    assert _run(["token", "create", "crm", "--scope", "data:read"]) == 2
    _run(["token", "list"])
    assert "crm\tactive\tdata:read" in capsys.readouterr().out
    assert _run(["token", "revoke", str(token.id)]) == 0
    assert verify_token(plain) is None
    assert _run(["token", "revoke", str(token.id)]) == 2
