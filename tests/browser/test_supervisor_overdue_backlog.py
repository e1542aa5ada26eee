"""The supervisor page shows work orders that went overdue before it was open.

The SLA checker pushes each overdue order once. An order announced before Sue opens her
page must still be listed once she signs in (resolved and not-yet-due orders not). When
the checker announces that same order again after the page fetched it, alongside a new
one, the new order joins the list and the old one stays a single row. A dismissed order
stays dismissed when the page reconnects after the middleware restarts; the fresh fetch
then brings the order that went overdue meanwhile and drops the one resolved meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cti_middleware.store import db as store_db
from cti_middleware.store import dispatch
from cti_middleware.store.agents import add_agent
from cti_middleware.store.db import utcnow
from cti_middleware.store.workflow import transition
from cti_middleware.store.workorders import add_work_order
from tests.browser.runner import run_scenario
from tests.harness import Desktop, Proc, start_middleware, start_simulator

ALICE, SUE, PASSWORD = "1000@default", "9000@default", "desk-pass"
OVERDUE = "#sup-overdue li[data-testid=sup-overdue-item]"
SETTINGS = {"CTI_SLA_CHECK_INTERVAL": "0.5"}


@dataclass
class Stack:
    """The running middleware (replaced on restart) and what the test needs to reach it."""

    base: str
    db_url: str
    logs: Path
    esl_port: int
    middleware: Proc
    early: int  # overdue and announced before the page opens

    def start_again(self) -> None:
        """Start the stopped middleware on its old port, so open pages reconnect to it."""
        port = str(urlsplit(self.base).port)
        self.middleware, base = start_middleware(self.esl_port, self.db_url,
                                                 log_path=self.logs / "mw-again.log",
                                                 extra_env={**SETTINGS, "CTI_HTTP_PORT": port})
        assert base == self.base, base
        self.middleware.wait_for("resynced from FreeSWITCH")


def _order(summary: str, late: timedelta | None, *, announced: bool = False,
           resolved: bool = False) -> int:
    """A dispatched complaint due ``late`` ago (None: due tomorrow); ``announced`` marks it
    as already pushed by the SLA checker, which then leaves it alone."""
    order = add_work_order("complaint", summary)
    dispatch.dispatch_order(order.id)
    due = utcnow() - late if late is not None else utcnow() + timedelta(days=1)
    dispatch.WorkOrderDispatch.update(
        due_at=due, overdue_notified_at=utcnow() if announced else None,
    ).where(dispatch.WorkOrderDispatch.work_order == order.id).execute()
    if resolved:
        for status in ("in_progress", "resolved"):
            transition(order.id, status, ALICE)
    return order.id


def _in_store(db_url: str, change):
    store_db.open_database(db_url)
    try:
        with store_db.database.atomic():
            return change()
    finally:
        store_db.close_database()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    url = f"sqlite:///{tmp_path / 'cti.sqlite'}"
    store_db.open_database(url)
    store_db.create_schema()
    add_agent(ALICE, PASSWORD, name="Alice")
    add_agent(SUE, PASSWORD, role="supervisor", name="Sue")
    team = dispatch.add_department("北京投诉组", members=[ALICE])
    dispatch.add_rule(team.id, type="complaint")
    dispatch.set_sla("complaint", 1, 1)
    early = _order("昨天的投诉", timedelta(hours=1), announced=True)
    _order("已解决的投诉", timedelta(hours=2), announced=True, resolved=True)
    _order("明天到期的投诉", None)
    store_db.close_database()
    sim, port = start_simulator(extra=["--time-scale", "0.25"], log_path=tmp_path / "sim.log")
    mw, base = start_middleware(port, url, log_path=tmp_path / "mw.log", extra_env=SETTINGS)
    running = Stack(base, url, tmp_path, port, mw, early)
    try:
        mw.wait_for("resynced from FreeSWITCH")
        yield running
    finally:
        running.middleware.stop()
        sim.stop()


def _rows_are(*summaries: str) -> dict:
    """A step waiting for the overdue list to show exactly these orders, top to bottom."""
    shown = (f"JSON.stringify([...document.querySelectorAll('{OVERDUE}')]"
             ".map((row) => row.querySelector('[data-testid=sup-overdue-summary]').textContent))")
    expected = json.dumps(list(summaries), ensure_ascii=False, separators=(",", ":"))
    return {"assert": f"{shown} === {json.dumps(expected)}"}


def test_overdue_orders_from_before_the_page_opened_are_listed_once(stack: Stack) -> None:
    made: dict[str, int] = {}

    def on_sync(name: str) -> None:
        if name == "announce":
            # The checker announces the early order after the page fetched it (its mark
            # cleared here), together with an order that has just gone overdue.
            watcher = Desktop(stack.base, SUE, PASSWORD, namespace="/supervisor")
            try:
                def announce() -> int:
                    dispatch.WorkOrderDispatch.update(overdue_notified_at=None).where(
                        dispatch.WorkOrderDispatch.work_order == stack.early).execute()
                    return _order("刚超时的投诉", timedelta(minutes=1))
                made["fresh"] = _in_store(stack.db_url, announce)
                for order in (stack.early, made["fresh"]):
                    watcher.wait("workorder.overdue", lambda d, order=order: d["id"] == order)
            finally:
                watcher.close()
        elif name == "restart":
            def meanwhile() -> int:
                transition(made["fresh"], "in_progress", ALICE)
                transition(made["fresh"], "resolved", ALICE)
                return _order("断线期间超时的投诉", timedelta(minutes=30), announced=True)
            stack.middleware.stop()
            made["missed"] = _in_store(stack.db_url, meanwhile)
            stack.start_again()

    early_row = f"#sup-overdue li[data-id='{stack.early}']"
    steps = [
        {"login": {"agent": SUE, "password": PASSWORD}},
        {"visible": "#supervisor-panel"},
        _rows_are("昨天的投诉"),
        {"count": {"selector": early_row, "equals": 1}},
        {"text": {"selector": f"{early_row} [data-testid=sup-overdue-department]", "equals": "北京投诉组"}},
        {"text": {"selector": f"{early_row} [data-testid=sup-overdue-due]",
                  "regex": r"^due \d{4}-\d\d-\d\d \d\d:\d\d$"}},
        {"hidden": "#sup-overdue-empty"},
        {"sync": "announce"},
        _rows_are("刚超时的投诉", "昨天的投诉"),
        {"count": {"selector": early_row, "equals": 1}},
        {"screenshot": "supervisor-overdue-backlog"},
        {"click": f"{early_row} button[data-action=dismiss]"},
        _rows_are("刚超时的投诉"),
        {"sync": "restart"},
        _rows_are("断线期间超时的投诉") | {"timeout": 30000},
        {"count": {"selector": early_row, "equals": 0}},
    ]
    run_scenario(stack.base + "/", {"name": "supervisor-overdue-backlog", "lang": "en", "timeout": 20000,
                                    "steps": steps}, on_sync=on_sync, timeout=150)
    assert made["fresh"] and made["missed"]
