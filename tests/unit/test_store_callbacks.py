"""Callback tasks in the store: creation, lists, dial/result life cycle, retries,
and the tasks other parts of the product create (voicemail, callback offer,
satisfaction visit after a resolved work order)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cti_middleware.dialplan.route import route
from cti_middleware.store import callbacks as cb
from cti_middleware.store.customers import add_customer
from cti_middleware.store.models import CallRecord
from cti_middleware.store.validate import StoreError
from cti_middleware.store.workflow import create_work_order, transition
from tests.store_fixtures import db, db_url  # noqa: F401
from tests.unit.test_dialplan_golden import SETTINGS, UUID
from tests.unit.test_dialplan_support import KNOWN, routing_db, sip_dialplan_request  # noqa: F401

POLICY = cb.RetryPolicy(delays=(60, 600), max_attempts=3)
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.seen: list[dict] = []

    def task_assigned(self, task: dict) -> None:
        self.seen.append(task)


def test_create_normalises_finds_the_customer_and_announces(db):  # noqa: F811
    customer = add_customer("张三", ["+86 138-0013-8000"])
    recorder = Recorder()
    cb.add_listener(recorder)
    task = cb.create_task("token:crm", "+8613800138000", queue="support@default",
                          reason="asked for a call", policy=POLICY)
    assert task.number == "13800138000" and task.customer_id == customer.id
    assert task.status == "pending" and task.max_attempts == 3 and task.attempts == 0
    body = cb.task_to_dict(cb.get_task(task.id), detail=True)
    assert body["customer_name"] == "张三" and body["history"] == f"/api/customers/{customer.id}/history"
    assert body["due"] is True and body["source"] == "manual"
    assert body["events"][0]["action"] == "created" and body["events"][0]["actor"] == "token:crm"
    assert [t["id"] for t in recorder.seen] == [task.id]
    # nowhere to land: nobody is told
    cb.create_task("token:crm", "13900001111")
    assert len(recorder.seen) == 1


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"number": "call me"}, "not a phone number"),
    ({"number": "13800138000", "source": "fax"}, "source must be one of"),
    ({"number": "13800138000", "customer": 999}, "no customer 999"),
    ({"number": "13800138000", "due_at": "tomorrow"}, "due_at must be epoch seconds"),
    ({"number": "13800138000", "reason": "x" * 300}, "reason is longer"),
])
def test_bad_input_is_refused_and_stores_nothing(db, kwargs, fragment):  # noqa: F811
    kwargs = dict(kwargs)
    number = kwargs.pop("number")
    with pytest.raises(StoreError, match=fragment):
        cb.create_task("token:crm", number, **kwargs)
    assert cb.CallbackTask.select().count() == 0


def test_agent_list_is_mine_plus_unassigned_of_my_queues_due_first(db):  # noqa: F811
    later = cb.create_task("t", "13900000001", queue="support@default", due_at=T0 + timedelta(hours=2))
    mine = cb.create_task("t", "13900000002", agent="1000@default", due_at=T0 + timedelta(hours=1))
    first = cb.create_task("t", "13900000003", queue="support@default", due_at=T0)
    cb.create_task("t", "13900000004", queue="support@default", agent="1001@default")
    cb.create_task("t", "13900000005", queue="sales@default")
    done = cb.create_task("t", "13900000006", agent="1000@default")
    cb.cancel_task(done.id, "t")
    listed = cb.list_for_agent("1000@default", ["support@default"])
    assert [t.id for t in listed] == [first.id, mine.id, later.id]
    assert [t.id for t in cb.list_for_agent("1000@default", [])] == [mine.id]
    closed = cb.list_for_agent("1000@default", [], include_closed=True)
    assert {t.id for t in closed} == {mine.id, done.id}


def test_may_work_own_and_own_queue_only(db):  # noqa: F811
    queued = cb.create_task("t", "13900000001", queue="support@default")
    bobs = cb.create_task("t", "13900000002", queue="support@default", agent="1001@default")
    assert cb.may_work(queued, "1000@default", ["support@default"])
    assert not cb.may_work(queued, "1000@default", ["sales@default"])
    assert not cb.may_work(bobs, "1000@default", ["support@default"])
    assert cb.may_work(bobs, "9000@default", ["support@default"], "supervisor")
    assert cb.may_work(bobs, "9999@default", [], "admin")


def test_no_answer_retries_then_reached_with_score(db):  # noqa: F811
    task = cb.create_task("t", "13900000001", queue="support@default", policy=POLICY)
    started = cb.start_dial(task.id, "1000@default")
    assert started.status == "in_progress" and started.attempts == 1
    assert started.agent == "1000@default"  # claimed by whoever dials
    with pytest.raises(cb.IllegalState):
        cb.start_dial(task.id, "1001@default")
    retry = cb.record_result(task.id, "1000@default", "no_answer", policy=POLICY, now=T0)
    assert retry.status == "pending" and retry.result == "no_answer"
    assert retry.next_attempt_at == T0 + timedelta(seconds=60)
    cb.start_dial(task.id, "1000@default")
    retry = cb.record_result(task.id, "1000@default", "no_answer", policy=POLICY, now=T0)
    assert retry.next_attempt_at == T0 + timedelta(seconds=600)
    cb.start_dial(task.id, "1000@default")
    reached = cb.record_result(task.id, "1000@default", "reached", score=4, notes="happy",
                               policy=POLICY)
    assert (reached.status, reached.score, reached.notes, reached.attempts) == ("done", 4, "happy", 3)
    actions = [(e["action"], e["actor"]) for e in cb.task_events(task.id)]
    assert actions.count(("dial", "1000@default")) == 3 and actions[-1] == ("result", "1000@default")


def test_last_no_answer_fails_and_wrong_number_fails(db):  # noqa: F811
    once = cb.RetryPolicy(delays=(60,), max_attempts=1)
    task = cb.create_task("t", "13900000001", policy=once)
    cb.start_dial(task.id, "1000@default")
    assert cb.record_result(task.id, "1000@default", "no_answer", policy=once).status == "failed"
    other = cb.create_task("t", "13900000002")
    cb.start_dial(other.id, "1000@default")
    assert cb.record_result(other.id, "1000@default", "wrong_number").status == "failed"
    refused = cb.create_task("t", "13900000003")
    cb.start_dial(refused.id, "1000@default")
    assert cb.record_result(refused.id, "1000@default", "refused").status == "done"


@pytest.mark.parametrize(("result", "score", "fragment"), [
    ("busy", None, "result must be one of"),
    ("reached", 7, "score must be a whole number from 1 to 5"),
    ("reached", 0, "score must be"),
    ("reached", True, "score must be"),
    ("reached", "4", "score must be"),
    ("no_answer", 3, "a score goes only with result reached"),
])
def test_bad_results_change_nothing(db, result, score, fragment):  # noqa: F811
    task = cb.create_task("t", "13900000001")
    cb.start_dial(task.id, "1000@default")
    with pytest.raises(StoreError, match=fragment):
        cb.record_result(task.id, "1000@default", result, score=score)
    assert cb.get_task(task.id).status == "in_progress"


def test_result_needs_a_dial_and_failed_dial_gives_the_attempt_back(db):  # noqa: F811
    task = cb.create_task("t", "13900000001")
    with pytest.raises(cb.IllegalState, match="not in progress"):
        cb.record_result(task.id, "1000@default", "reached")
    cb.start_dial(task.id, "1000@default")
    back = cb.finish_dial(task.id, "1000@default", None, error="switch_unavailable")
    assert back.status == "pending" and back.attempts == 0
    with pytest.raises(LookupError):
        cb.start_dial(999, "1000@default")


def test_update_and_cancel(db):  # noqa: F811
    task = cb.create_task("t", "13900000001", queue="support@default")
    moved = cb.update_task(task.id, "token:crm", {"agent": "1001@default", "due_at": T0.timestamp()})
    assert moved.agent == "1001@default" and moved.next_attempt_at == T0 and moved.updated_by == "token:crm"
    with pytest.raises(StoreError, match="cannot change status"):
        cb.update_task(task.id, "t", {"status": "done"})
    cb.cancel_task(task.id, "token:crm", "customer wrote instead")
    with pytest.raises(cb.IllegalState):
        cb.cancel_task(task.id, "token:crm")


def test_retry_policy_from_env(monkeypatch):
    monkeypatch.setenv(cb.ENV_DELAYS, "30, 300")
    monkeypatch.setenv(cb.ENV_MAX_ATTEMPTS, "5")
    policy = cb.RetryPolicy.from_env()
    assert policy.delays == (30, 300) and policy.max_attempts == 5
    assert [policy.delay_after(n) for n in (1, 2, 3, 4)] == [30, 300, 300, 300]
    monkeypatch.setenv(cb.ENV_DELAYS, "soon")
    assert cb.RetryPolicy.from_env() == cb.RetryPolicy()


def test_resolving_a_complaint_creates_one_satisfaction_visit(db, monkeypatch):  # noqa: F811
    monkeypatch.delenv(cb.ENV_SATISFACTION_TYPES, raising=False)
    monkeypatch.delenv(cb.ENV_SATISFACTION_QUEUE, raising=False)
    customer = add_customer("李四", ["13700137000"])
    CallRecord.create(call_uuid=UUID, caller_number="13700137000", queue="support@default")
    order = create_work_order("1000@default", "complaint", "noisy line", customer=customer.id,
                              agent="1000@default", call_uuid=UUID, fields={"severity": "low"})
    inquiry = create_work_order("1000@default", "inquiry", "opening hours", customer=customer.id)
    for step in ("assigned", "in_progress", "resolved"):
        transition(order.id, step, "1000@default")
        transition(inquiry.id, step, "1000@default")
    tasks = list(cb.CallbackTask.select())
    assert len(tasks) == 1
    visit = tasks[0]
    assert (visit.source, visit.work_order_id, visit.number, visit.queue) == (
        "satisfaction", order.id, "13700137000", "support@default")
    assert visit.created_by == "1000@default"
    # reopened and resolved again while the visit is still open: no second one
    transition(order.id, "reopen", "1000@default")
    transition(order.id, "resolved", "1000@default")
    assert cb.CallbackTask.select().count() == 1


def test_satisfaction_types_are_configurable(db, monkeypatch):  # noqa: F811
    monkeypatch.setenv(cb.ENV_SATISFACTION_TYPES, "inquiry")
    customer = add_customer("王五", ["13600136000"])
    complaint = create_work_order("a@default", "complaint", "x", customer=customer.id,
                                  fields={"severity": "low"})
    inquiry = create_work_order("a@default", "inquiry", "y", customer=customer.id, agent="1000@default")
    for step in ("assigned", "in_progress", "resolved"):
        transition(complaint.id, step, "a@default")
        transition(inquiry.id, step, "a@default")
    (visit,) = cb.CallbackTask.select()
    assert visit.work_order_id == inquiry.id and visit.agent == "1000@default" and visit.queue is None


@pytest.mark.usefixtures("routing_db")
def test_voicemail_step_creates_one_task_with_the_recording_path():
    form = sip_dialplan_request(number=KNOWN, dest="menu-2", context="cti", cti_dnis="support")
    step = route(form, settings=SETTINGS)
    path = f"/rec/voicemail/{UUID}.wav"
    assert step.values["voicemail_recording"] == path
    route(form, settings=SETTINGS)  # FreeSWITCH asking twice for the same call
    (task,) = cb.CallbackTask.select()
    assert (task.source, task.recording_path, task.origin_call_uuid, task.queue) == (
        "voicemail", path, UUID, "support@default")
    assert task.customer.name == "张三" and task.created_by == "ivr"


@pytest.mark.usefixtures("routing_db")
def test_accepted_callback_offer_creates_a_task_beside_the_work_order():
    form = sip_dialplan_request(number=KNOWN, dest="callback-1", context="cti", cti_dnis="support",
                                cc_queue="support@default")
    route(form, settings=SETTINGS)
    (task,) = cb.CallbackTask.select()
    assert task.source == "caller_request" and task.work_order.type == "callback"
    assert task.queue == "support@default" and task.origin_call_uuid == UUID


class _Pipeline:
    def queues_of(self, agent: str) -> list[str]:
        return ["support@default"] if agent == "1000@default" else []


class _Runtime:
    pipeline = _Pipeline()


class _Control:
    def __init__(self, ack: dict) -> None:
        self.ack = ack
        self.calls: list[tuple] = []

    def run(self, actor, action, arguments):
        self.calls.append((actor.agent, action, arguments))
        return self.ack


def test_socket_dial_refused_by_the_switch_gives_the_attempt_back(db, monkeypatch):  # noqa: F811
    from cti_middleware.control import Actor
    from cti_middleware.store.audit import recent_audit
    from cti_middleware.web import callback_handlers

    control = _Control({"ok": False, "error": "switch_unavailable", "message": "not connected"})
    monkeypatch.setattr(callback_handlers, "control_for", lambda runtime: control)
    task = cb.create_task("t", "13900000001", queue="support@default")
    alice = Actor("1000@default", "agent")
    ack = callback_handlers.run(_Runtime(), alice, "callback.dial", {"id": task.id})
    assert ack == {"ok": False, "error": "switch_unavailable", "message": "not connected"}
    assert control.calls == [("1000@default", "call.dial", {"number": "13900000001"})]
    back = cb.get_task(task.id)
    assert (back.status, back.attempts) == ("pending", 0)
    assert recent_audit(1)[0]["result"] == "switch_unavailable: not connected"

    control.ack = {"ok": True, "uuid": "0b0b0b0b-0000-4000-8000-000000000001"}
    ack = callback_handlers.run(_Runtime(), alice, "callback.dial", {"id": task.id})
    assert ack["ok"] is True and ack["task"]["last_call_uuid"] == control.ack["uuid"]
    stranger = Actor("2000@default", "agent")
    refused = callback_handlers.run(_Runtime(), stranger, "callback.result",
                                    {"id": task.id, "result": "reached"})
    assert refused["error"] == "forbidden"
    listed = callback_handlers.run(_Runtime(), alice, "callback.list", None)
    assert [t["id"] for t in listed["tasks"]] == [task.id]


def test_retries_falling_due_are_announced_once(db):  # noqa: F811
    task = cb.create_task("t", "13900000001", queue="support@default", policy=POLICY)
    untouched = cb.create_task("t", "13900000002", queue="support@default", due_at=T0)
    cb.start_dial(task.id, "1000@default")
    cb.record_result(task.id, "1000@default", "no_answer", policy=POLICY, now=T0)
    recorder = Recorder()
    cb.add_listener(recorder)
    assert cb.announce_due(T0, T0 + timedelta(seconds=59)) == 0
    assert cb.announce_due(T0 + timedelta(seconds=59), T0 + timedelta(seconds=60)) == 1
    assert cb.announce_due(T0 + timedelta(seconds=60), T0 + timedelta(seconds=120)) == 0
    assert [t["id"] for t in recorder.seen] == [task.id] and untouched.id != task.id
    assert recorder.seen[0]["agent"] == "1000@default"
