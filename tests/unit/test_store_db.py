import pytest
from peewee import SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase

from cti_middleware.store import db as store_db
from cti_middleware.store.models import CORE_MODELS, Customer
from tests.store_fixtures import db, db_url  # noqa: F401


def test_sqlite_url_gets_wal_and_foreign_keys(tmp_path):
    database = store_db.make_database(f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert isinstance(database, SqliteDatabase)
    database.connect()
    try:
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        database.close()


def test_default_comes_from_environment(monkeypatch, tmp_path):
    path = tmp_path / "env.sqlite"
    monkeypatch.setenv(store_db.ENV_URL, f"sqlite:///{path}")
    assert store_db.make_database(None).database == str(path)
    monkeypatch.delenv(store_db.ENV_URL)
    assert store_db.make_database(None).database == store_db.DEFAULT_SQLITE_PATH


def test_postgresql_url_builds_a_pool():
    database = store_db.make_database(
        "postgresql://alice:secret@db.example:6543/cti?max_connections=5"
    )
    assert isinstance(database, PooledPostgresqlDatabase)
    assert database.database == "cti"
    assert database._max_connections == 5
    assert database._stale_timeout == store_db.PG_POOL_DEFAULTS["stale_timeout"]
    assert database.connect_params["host"] == "db.example"
    assert database.connect_params["port"] == 6543
    assert database.connect_params["user"] == "alice"


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        store_db.make_database("mysql://root@localhost/cti")


def test_schema_is_idempotent_and_usable(db):  # noqa: F811
    store_db.create_schema()
    for model in CORE_MODELS:
        assert db.table_exists(model._meta.table_name)
    with store_db.connection():
        Customer.create(name="x")
        assert Customer.select().count() == 1


def test_timestamps_round_trip_as_utc(db):  # noqa: F811
    with store_db.connection():
        created = Customer.create(name="t", created_at=1_795_457_110.25)
        again = Customer.get_by_id(created.id)
    assert again.created_at.utcoffset().total_seconds() == 0
    assert store_db.to_epoch(again.created_at) == 1_795_457_110.25


def test_connection_closes_only_what_it_opened(db):  # noqa: F811
    assert db.is_closed()
    with store_db.connection():
        assert not db.is_closed()
        with store_db.connection():
            pass
        assert not db.is_closed()
    assert db.is_closed()
