"""The PostgreSQL pool hands a just-returned connection out without a ping, pings one
that sat idle, and gets over a connection the server dropped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cti_middleware.store import db as store_db
from cti_middleware.store.errors import DB_ERRORS
from tests.store_fixtures import _admin, create_pg_database, drop_pg_database


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[store_db._PostgresPool, list[int]]]:
    """A fresh PostgreSQL store, and a list that grows by one per ping of a connection."""
    url = create_pg_database()
    database = store_db.open_database(url)
    pings: list[int] = []
    ping = store_db.PooledPostgresqlDatabase._is_closed

    def counted(self, conn):
        pings.append(1)
        return ping(self, conn)

    monkeypatch.setattr(store_db.PooledPostgresqlDatabase, "_is_closed", counted)
    try:
        yield database, pings
    finally:
        store_db.close_database()
        store_db.database.initialize(None)
        drop_pg_database(url)


def _backend_pid() -> int:
    with store_db.connection():
        return store_db.database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def test_a_connection_given_back_just_now_is_reused_without_a_ping(pool):
    _database, pings = pool
    first = _backend_pid()
    assert _backend_pid() == first and _backend_pid() == first
    assert pings == []


def test_an_idle_connection_is_pinged(pool, monkeypatch):
    database, pings = pool
    monkeypatch.setattr(database, "PING_AFTER", 0.0)
    first = _backend_pid()
    assert _backend_pid() == first
    assert pings == [1]


def _terminate(pid: int) -> None:
    admin = _admin()
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        admin.close()


def test_a_dropped_idle_connection_is_replaced_before_use(pool, monkeypatch):
    monkeypatch.setattr(pool[0], "PING_AFTER", 0.0)
    first = _backend_pid()
    _terminate(first)
    assert _backend_pid() != first


def test_a_connection_dropped_just_after_use_fails_once_then_is_replaced(pool):
    first = _backend_pid()
    _terminate(first)
    with pytest.raises(DB_ERRORS):
        _backend_pid()
    assert _backend_pid() != first
