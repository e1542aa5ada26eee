"""Database binding for the persistence layer.

Models are declared against a :class:`peewee.DatabaseProxy` so the concrete
database (SQLite for a single box, PostgreSQL for a shared deployment) is
chosen at start-up from one URL, and tests can bind a throw-away database
without touching the model classes.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar
from urllib.parse import urlparse

from peewee import Database, DatabaseProxy, DateTimeField, Model
from playhouse import db_url
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

database = DatabaseProxy()

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_SQLITE_PATH = "./cti.sqlite"
ENV_URL = "CTI_DATABASE_URL"

# WAL lets the web workers read while the event pipeline writes; the busy
# timeout absorbs the short write lock instead of failing with "locked".
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "busy_timeout": 5000,
}

# A pool bounds the server-side connections however many greenlets serve
# requests; stale connections are recycled so a restarted server or a
# firewall idle-timeout does not leave dead sockets in the pool.
PG_POOL_DEFAULTS = {"max_connections": 20, "stale_timeout": 300, "timeout": 10}


class UTCDateTimeField(DateTimeField):
    """Timestamp stored as naive UTC, returned as an aware UTC datetime.

    The column is ``timestamp`` (no zone) on both back-ends so the same data
    round-trips identically; normalising to UTC on the way in means a value
    never depends on the server's local zone. Epoch seconds (how the event
    model carries times) are accepted as well.
    """

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, (int, float)):
            value = datetime.fromtimestamp(value, UTC)
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    """Current time as an aware UTC datetime (the only clock the store uses)."""
    return datetime.now(UTC)


def to_epoch(value: datetime | None) -> float | None:
    """Aware/naive-UTC datetime -> epoch seconds, as the wire payloads use."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class BaseModel(Model):
    """Base for every persisted model; binds to the shared proxy."""

    class Meta:
        database = database


def _sqlite(path: str) -> PooledSqliteDatabase:
    # Pooled too: reopening a file and replaying the pragmas costs more
    # than the screen-pop queries themselves. A pooled connection may be
    # handed to another thread later, hence check_same_thread=False (a
    # connection is still used by one thread at a time).
    return PooledSqliteDatabase(
        path,
        pragmas=SQLITE_PRAGMAS,
        max_connections=PG_POOL_DEFAULTS["max_connections"],
        check_same_thread=False,
    )


class _PostgresPool(PooledPostgresqlDatabase):
    """A pool that pings only connections that have sat idle.

    peewee checks every connection it hands out with a ``SELECT 1`` round trip. A
    screen-pop lookup is a few indexed probes, so that ping was a large share of
    its time. A connection given back moments ago, idle and not closed, is handed
    out as it is; one idle for ``PING_AFTER`` seconds is still pinged, so a
    database restart costs at most the few connections used since, whose callers
    already treat a failed query as a database that went away.
    """

    PING_AFTER = 5.0

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._returned: dict[int, float] = {}

    def _can_reuse(self, conn: object) -> bool:
        reusable = super()._can_reuse(conn)
        if reusable:
            self._returned[self.conn_key(conn)] = time.monotonic()
        return reusable

    def _is_closed(self, conn: object) -> bool:
        returned = self._returned.pop(self.conn_key(conn), None)
        if (returned is not None and time.monotonic() - returned < self.PING_AFTER
                and not conn.closed and conn.get_transaction_status() == TRANSACTION_STATUS_IDLE):
            return False
        return super()._is_closed(conn)


def _postgres(url: str) -> PooledPostgresqlDatabase:
    params = db_url.parse(url)
    name = params.pop("database")
    for key, value in PG_POOL_DEFAULTS.items():
        params.setdefault(key, value)
    return _PostgresPool(name, **params)


def make_database(url: str | None) -> Database:
    """Build (without binding) the database described by ``url``.

    ``None`` means ``$CTI_DATABASE_URL`` or a SQLite file in the working
    directory. ``sqlite:///relative.db`` / ``sqlite:////abs/path.db`` and
    ``postgresql://user[:pw]@host[:port]/db[?max_connections=N]`` are accepted.
    """
    url = url or os.environ.get(ENV_URL) or ""
    if not url:
        return _sqlite(DEFAULT_SQLITE_PATH)
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = db_url.parse(url)["database"]
        return _sqlite(path)
    if scheme in ("postgres", "postgresql", "postgresql+pool", "postgres+pool"):
        return _postgres(url)
    raise ValueError(f"unsupported database URL scheme: {scheme!r}")


def open_database(url: str | None = None) -> Database:
    """Create the database for ``url`` and bind the shared proxy to it."""
    db = make_database(url)
    database.initialize(db)
    return db


def all_models() -> list[type[BaseModel]]:
    """Every concrete model declared on :class:`BaseModel` so far.

    Other packages may declare their own tables on the same base; whatever
    has been imported is created by :func:`create_schema`.
    """
    from . import models  # noqa: F401  (registers the core tables)

    found: list[type[BaseModel]] = []
    pending = list(BaseModel.__subclasses__())
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def create_schema(models: list[type[BaseModel]] | None = None) -> None:
    """Create missing tables and indexes; safe to run on every start."""
    with connection():
        database.create_tables(models or all_models(), safe=True)


def close_database() -> None:
    """Release connections (the whole pool for PostgreSQL)."""
    db = database.obj
    if db is None:
        return
    if hasattr(db, "close_all"):
        db.close_all()
    elif not db.is_closed():
        db.close()


@contextmanager
def connection() -> Iterator[None]:
    """Hold a connection for the block, closing only one opened here.

    Each greenlet/thread has its own connection state; closing what we
    opened hands a pooled PostgreSQL connection back to the pool instead of
    pinning it to a greenlet that may never run again.
    """
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield
    finally:
        if opened and not database.is_closed():
            database.close()


def connected(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` inside :func:`connection` (for the store's public calls)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with connection():
            return fn(*args, **kwargs)

    return wrapper
