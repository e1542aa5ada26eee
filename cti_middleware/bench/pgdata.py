"""The big data sets: 1,000,000 customers and 5,000,000 call records, built once and reused.

Rows are generated inside the database (``generate_series`` on PostgreSQL, a recursive
CTE on SQLite): shipping them from Python would cost minutes of the run's budget.
Customer ``n`` owns number ``139`` + ``n-1`` on eight digits, the number
:func:`.corpus.caller_number` gives callers, so offered calls find their customer.
Agent accounts get a cheap password hash: logging 5,000 desktops in must not spend
the run hashing scrypt.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psycopg2
from werkzeug.security import generate_password_hash

from .corpus import agent_name
from .report import ROOT

PG_ADMIN = "host=127.0.0.1 user=postgres dbname=postgres"
PG_DB = "cti_bench"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"
CUSTOMERS = 1_000_000
CALLS = 5_000_000
AGENTS = 5000
AGENT_PASSWORD = "bench"
SQLITE_PATH = ROOT / "bench" / "cache" / "customers.sqlite"


def _ensure_pg_database() -> None:
    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (PG_DB,))
        if cur.fetchone() is None:
            cur.execute(f"create database {PG_DB}")
    conn.close()


def _schema(url: str) -> None:
    from ..store import db

    db.open_database(url)
    db.create_schema()
    db.close_database()


def prepare_postgres(calls: int = CALLS, log=print) -> dict[str, int]:
    """Create/fill ``cti_bench``; rows already there are kept.

    The first run on a machine loads for about 3.5 minutes (2 cores); later runs find
    the rows and take a second.  ``dropdb cti_bench`` starts over.
    """
    _ensure_pg_database()
    _schema(PG_URL)
    conn = psycopg2.connect(f"host=127.0.0.1 user=postgres dbname={PG_DB}")
    conn.autocommit = True
    loaded = False
    with conn.cursor() as cur:
        cur.execute("select count(*) from customer")
        if cur.fetchone()[0] < CUSTOMERS:
            loaded = True
            t0 = time.time()
            cur.execute("truncate customer, customer_phone, call_record, work_order "
                        "restart identity cascade")
            cur.execute(
                "insert into customer (name, address, region, vip, vip_level, notes, created_at, "
                "updated_at) select '客户' || g, '北京市朝阳区某路 ' || g || ' 号', '北京市', "
                "mod(g, 20) = 0, (mod(g, 20) = 0)::int, 'note ' || g, now(), now() "
                "from generate_series(1, %s) g", (CUSTOMERS,))
            cur.execute("insert into customer_phone (customer_id, number) "
                        "select g, '139' || lpad((g - 1)::text, 8, '0') "
                        "from generate_series(1, %s) g", (CUSTOMERS,))
            log(f"    loaded {CUSTOMERS} customers in {time.time() - t0:.0f}s")
        cur.execute("select coalesce(max(id), 0) from call_record")
        have = cur.fetchone()[0]
        if have < calls:
            loaded = True
            t0 = time.time()
            cur.execute(
                "insert into call_record (call_uuid, caller_number, caller_name, customer_id, "
                "queue, agent, joined_at, answered_at, ended_at, hangup_cause, cc_cause, "
                "abandoned) select md5(g::text), '139' || lpad(mod(g, %s)::text, 8, '0'), "
                "'客户', mod(g, %s) + 1, 'q' || mod(g, 100) || '@default', "
                "(10000 + mod(g, 1000)) || '@default', now() - g * interval '7 second', "
                "now() - g * interval '7 second' + interval '9 second', "
                "now() - g * interval '7 second' + interval '90 second', 'NORMAL_CLEARING', "
                "'Terminated', mod(g, 10) = 0 from generate_series(%s, %s) g",
                (CUSTOMERS, CUSTOMERS, have + 1, calls))
            log(f"    loaded {calls - have} call records in {time.time() - t0:.0f}s")
        if loaded:
            cur.execute("analyze")  # fresh statistics once; a kept data set has them already
        cur.execute("select count(*) from customer")
        customers = cur.fetchone()[0]
        cur.execute("select coalesce(max(id), 0) from call_record")
        records = cur.fetchone()[0]
    conn.close()
    return {"customers": customers, "call_records": records}


def prepare_agents(url: str = PG_URL, count: int = AGENTS) -> None:
    """Agent accounts ``10000@default``..., all with the same quickly checked password."""
    from ..store import db
    from ..store.models import AgentAccount

    db.open_database(url)
    try:
        with db.connection():
            have = AgentAccount.select().where(AgentAccount.agent_id.startswith("1")).count()
            if have >= count:
                return
            hashed = generate_password_hash(AGENT_PASSWORD, method="pbkdf2:sha256:1")
            AgentAccount.delete().where(AgentAccount.agent_id.endswith("@default")).execute()
            rows = [{"agent_id": agent_name(i), "display_name": f"坐席{i}",
                     "password_hash": hashed, "role": "agent"} for i in range(count)]
            for start in range(0, len(rows), 1000):
                AgentAccount.insert_many(rows[start:start + 1000]).execute()
    finally:
        db.close_database()


def prepare_sqlite(path: Path = SQLITE_PATH, log=print) -> str:
    """The same customers in a SQLite file (without the 5M call records)."""
    url = f"sqlite:///{path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    _schema(url)
    conn = sqlite3.connect(path)
    if conn.execute("select count(*) from customer").fetchone()[0] < CUSTOMERS:
        t0 = time.time()
        conn.executescript(f"""
            delete from customer_phone; delete from customer;
            with recursive g(n) as (select 1 union all select n + 1 from g where n < {CUSTOMERS})
            insert into customer (id, name, address, region, vip, vip_level, notes, created_at,
                                  updated_at)
            select n, '客户' || n, '北京市朝阳区某路 ' || n || ' 号', '北京市', n % 20 = 0,
                   n % 20 = 0, 'note ' || n, datetime('now'), datetime('now') from g;
            insert into customer_phone (customer_id, number)
            select id, '139' || substr('00000000' || (id - 1), -8, 8) from customer;
        """)
        conn.commit()
        log(f"    loaded {CUSTOMERS} customers into SQLite in {time.time() - t0:.0f}s")
    conn.close()
    return url
