"""Database fixtures: every test using ``db`` runs on SQLite and PostgreSQL.

The PostgreSQL variant creates a uniquely named database for the test and
drops it afterwards, so tests never share state and can run in parallel.
Import the fixtures into a test module (``from tests.store_fixtures import
db  # noqa: F401``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg2
import pytest
from peewee import Database

from cti_middleware.store import db as store_db

PG_HOST = os.environ.get("CTI_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CTI_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("CTI_TEST_PG_USER", "postgres")


def _admin() -> psycopg2.extensions.connection:
    conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres")
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    return conn


def create_pg_database() -> str:
    """Create an empty ``cti_test_<random>`` database and return its URL."""
    name = f"cti_test_{uuid.uuid4().hex[:12]}"
    conn = _admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def drop_pg_database(url: str) -> None:
    """Drop the database behind ``url`` (closing leftover sessions)."""
    name = url.rsplit("/", 1)[1]
    conn = _admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """URL of an empty database on each back-end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cti.sqlite'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """The store bound to a fresh database with the schema created."""
    database = store_db.open_database(db_url)
    store_db.create_schema()
    try:
        yield database
    finally:
        store_db.close_database()
        store_db.database.initialize(None)


@pytest.fixture
def seeded_db(db: Database) -> Database:
    """``db`` with the demo data loaded."""
    from cti_middleware.store.demo import seed_demo

    seed_demo()
    return db
