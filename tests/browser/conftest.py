"""Fixtures of the browser tests; the scenario runner itself is in runner.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.stub_server import StubServer


@pytest.fixture
def stub_server() -> Iterator[StubServer]:
    """A fresh stand-in middleware per test, on an ephemeral port."""
    server = StubServer().start()
    try:
        yield server
    finally:
        server.stop()
