"""Fixtures that start the simulator and the middleware as real processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cti_middleware.store import db as store_db
from cti_middleware.store.agents import add_agent
from cti_middleware.store.customers import add_customer
from tests import store_fixtures
from tests.harness import EslTestClient, Proc, start_middleware, start_simulator
from tests.integration.xml_curl_stack import xml_curl_switch  # noqa: F401  (fixture)

# Every test that asks for a database runs on SQLite and on PostgreSQL.
db_url = store_fixtures.db_url

SIM_ARGS = ["--time-scale", "0.25"]
AGENT_PASSWORD = "s3cret-1000"


@pytest.fixture
def seeded_db(db_url: str) -> Iterator[str]:
    """Agents 1000/1001 and a known VIP customer, written before the middleware starts."""
    store_db.open_database(db_url)
    store_db.create_schema()
    add_agent("1000@default", AGENT_PASSWORD, role="agent", name="Alice")
    add_agent("1001@default", AGENT_PASSWORD, role="agent", name="Bob")
    add_agent("9000@default", AGENT_PASSWORD, role="supervisor", name="Sue")
    add_customer("张三", ["+8613800138000"], address="北京市朝阳区建国路88号", vip=True,
                 notes="prefers mornings")
    store_db.close_database()
    yield db_url


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[tuple[Proc, int]]:
    proc, port = start_simulator(extra=SIM_ARGS, log_path=tmp_path / "simulator.log")
    try:
        yield proc, port
    finally:
        proc.stop()


@pytest.fixture
def middleware(simulator: tuple[Proc, int], seeded_db: str, tmp_path: Path) -> Iterator[tuple[Proc, str]]:
    _sim, port = simulator
    proc, url = start_middleware(port, seeded_db, log_path=tmp_path / "middleware.log")
    try:
        proc.wait_for(r"resynced from FreeSWITCH")
        yield proc, url
    finally:
        proc.stop()


@pytest.fixture
def esl(simulator: tuple[Proc, int]) -> Iterator[EslTestClient]:
    client = EslTestClient(simulator[1])
    try:
        yield client
    finally:
        client.close()
