"""``cti-middleware queue|agent-config|tier|calendar|entry``: edits, errors, exit codes."""

from __future__ import annotations

import json

import pytest

from cti_middleware import cli
from cti_middleware.store import db as store_db
from cti_middleware.store import recent_audit
from cti_middleware.store.routing import AgentConfig, EntryPoint, Queue, Tier
from tests.store_fixtures import db_url  # noqa: F401


@pytest.fixture
def run(db_url, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("CTI_DATABASE_URL", db_url)

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    store_db.close_database()
    store_db.database.initialize(None)


def test_queue_add_set_list_del(run):
    assert run("queue", "add", "support@default", "--strategy", "ring-all",
               "--max-wait-time", "120", "--tier-rules-apply", "true")[0] == 0
    queue = Queue.get(Queue.name == "support@default")
    assert queue.strategy == "ring-all" and queue.max_wait_time == 120 and queue.tier_rules_apply
    assert run("queue", "set", "support@default", "--timeout-action", "hangup")[0] == 0
    code, out, _ = run("queue", "list", "--json")
    assert code == 0 and json.loads(out)[0]["timeout_action"] == "hangup"
    assert run("queue", "del", "support@default")[0] == 0
    assert not Queue.select().exists()
    assert recent_audit(limit=1)[0]["action"] == "queue.delete"
    assert recent_audit(limit=1)[0]["actor"].startswith("cli")


def test_errors_have_messages_and_exit_codes(run):
    assert run("queue", "add", "support@default")[0] == 0
    code, _, err = run("queue", "add", "support@default")
    assert code == 4 and "already exists" in err
    code, _, err = run("queue", "add", "support@default x")
    assert code == 2 and "invalid queue name" in err
    code, _, err = run("queue", "set", "nope@default", "--max-wait-time", "5")
    assert code == 3 and "nope@default" in err
    code, _, err = run("queue", "set", "support@default", "--strategy", "loudest")
    assert code == 2 and "strategy" in err
    assert Queue.get().strategy == "longest-idle-agent"
    with pytest.raises(SystemExit) as exc:
        run("queue", "set", "support@default", "--max-wait-time", "soon")
    assert exc.value.code == 2


def test_agent_config_and_tiers(run):
    code, _, err = run("agent-config", "set", "1000@default", "--wrap-up-time", "5")
    assert code == 2 and "contact" in err
    assert run("agent-config", "set", "1000@default", "--contact", "user/1000@default")[0] == 0
    assert run("agent-config", "set", "1000@default", "--wrap-up-time", "5")[0] == 0
    agent = AgentConfig.get()
    assert agent.wrap_up_time == 5 and agent.contact == "user/1000@default"
    run("queue", "add", "support@default")
    assert run("tier", "add", "support@default", "1000@default", "--level", "2")[0] == 0
    assert run("tier", "add", "support@default", "1000@default")[0] == 4
    assert run("tier", "add", "support@default", "ghost@default")[0] == 3
    assert run("tier", "set", "support@default", "1000@default", "--position", "3")[0] == 0
    code, out, _ = run("tier", "list")
    assert out.split() == ["support@default", "1000@default", "2", "3"]
    assert run("tier", "del", "support@default", "1000@default")[0] == 0
    assert run("tier", "del", "support@default", "1000@default")[0] == 3
    assert not Tier.select().exists()
    assert run("agent-config", "del", "1000@default")[0] == 0


def test_calendar_and_entry(run):
    run("queue", "add", "support@default")
    assert run("calendar", "hours", "main", "mon", "09:00", "18:00")[0] == 0
    assert run("calendar", "hours", "main", "sun", "18:00", "09:00")[0] == 2
    assert run("calendar", "holiday", "main", "2026-10-01", "--name", "National")[0] == 0
    assert run("calendar", "holiday", "main", "2026-10-01")[0] == 4
    code, out, _ = run("calendar", "list", "main")
    assert "main\tmon\t09:00-18:00" in out and "2026-10-01\tclosed" in out
    assert run("calendar", "del-hours", "main", "mon")[0] == 0
    assert run("calendar", "del-holiday", "main", "2026-10-01")[0] == 0
    assert run("calendar", "del-holiday", "main", "2026-10-01")[0] == 3
    assert run("entry", "add", "4001", "support@default", "--calendar", "main",
               "--language", "en")[0] == 0
    assert EntryPoint.get().language == "en"
    assert run("entry", "add", "4001", "support@default")[0] == 4
    assert run("entry", "add", "4002", "nope@default")[0] == 3
    code, out, _ = run("queue", "del", "support@default")
    assert code == 4
    code, out, _ = run("entry", "list")
    assert out.startswith("4001\tsupport@default")
    assert run("entry", "del", "4001")[0] == 0
    assert run("entry", "del", "4001")[0] == 3
