import pytest

from cti_middleware.store.calls import get_call, recent_calls, record_call
from cti_middleware.store.customers import add_customer, find_by_number
from cti_middleware.store.db import to_epoch
from cti_middleware.store.models import NAME_MAX, CallRecord
from cti_middleware.store.validate import StoreError
from tests.store_fixtures import db, db_url  # noqa: F401

JOINED = 1_795_457_100.5


def test_upsert_merges_successive_writes(db):  # noqa: F811
    customer = add_customer("张三", "13800138000")
    record_call("u1", caller_number="+86 138 0013 8000", caller_name="张三",
                queue="support@default", joined_at=JOINED)
    record_call("u1", agent="1000@default", answered_at=JOINED + 7)
    final = record_call("u1", ended_at=JOINED + 60, hangup_cause="NORMAL_CLEARING",
                        cc_cause="answered", answered_at=None, recording_path="/r/u1.wav")
    assert CallRecord.select().count() == 1
    assert final.caller_number == "13800138000"
    assert final.customer_id == customer.id
    assert final.queue == "support@default" and final.agent == "1000@default"
    assert to_epoch(final.joined_at) == JOINED
    assert to_epoch(final.answered_at) == JOINED + 7  # None did not wipe it
    assert to_epoch(final.ended_at) == JOINED + 60
    assert final.hangup_cause == "NORMAL_CLEARING" and final.cc_cause == "answered"
    assert final.recording_path == "/r/u1.wav"
    assert final.abandoned is False
    assert find_by_number("13800138000").last_agent == "1000@default"


def test_later_write_overrides_a_value(db):  # noqa: F811
    record_call("u2", agent="1000@default", abandoned=False)
    updated = record_call("u2", agent="1001@default", abandoned=True, satisfaction=4)
    assert (updated.agent, updated.abandoned, updated.satisfaction) == ("1001@default", True, 4)


def test_bare_uuid_is_recorded_once(db):  # noqa: F811
    record_call("u3")
    record_call("u3")
    assert get_call("u3") is not None and CallRecord.select().count() == 1


def test_unknown_caller_is_not_linked(db):  # noqa: F811
    add_customer("张三", "13800138000")
    assert record_call("u4", caller_number="13900139000").customer_id is None


def test_odd_switch_values_are_kept_not_fatal(db):  # noqa: F811
    record = record_call("u5", caller_number="anonymous", caller_name="x" * 500,
                         hangup_cause="Y" * 100)
    assert record.caller_number == "anonymous"
    assert record.caller_name == "x" * NAME_MAX
    assert record.customer_id is None


def test_bad_call_input(db):  # noqa: F811
    with pytest.raises(StoreError):
        record_call("")
    with pytest.raises(StoreError):
        record_call("u" * 65)
    with pytest.raises(TypeError, match="colour"):
        record_call("u6", colour="red")
    assert CallRecord.select().count() == 0


def test_recent_calls_filters_and_order(db):  # noqa: F811
    zhang = add_customer("张三", "13800138000")
    for i, agent in enumerate(["1000@default", "1001@default", "1000@default"]):
        record_call(f"r{i}", caller_number="13800138000", agent=agent, joined_at=JOINED + i)
    record_call("r-none", caller_number="13900139000")  # no join time: listed last
    assert [c["call_uuid"] for c in recent_calls()] == ["r2", "r1", "r0", "r-none"]
    assert [c["call_uuid"] for c in recent_calls(agent="1000@default")] == ["r2", "r0"]
    assert [c["call_uuid"] for c in recent_calls(number="+8613900139000")] == ["r-none"]
    assert [c["call_uuid"] for c in recent_calls(customer=zhang)] == ["r2", "r1", "r0"]
    assert [c["call_uuid"] for c in recent_calls(since=JOINED + 1)] == ["r2", "r1"]
    assert [c["call_uuid"] for c in recent_calls(limit=1)] == ["r2"]
    row = recent_calls(limit=1)[0]
    assert row["joined_at"] == JOINED + 2 and row["customer_id"] == zhang.id


def test_concurrent_writes_of_one_call_merge(db):  # noqa: F811
    """Writers racing on the same call neither fail nor create duplicates."""
    import threading

    names = ["queue", "agent", "hangup_cause", "cc_cause", "caller_name", "recording_path"]
    barrier = threading.Barrier(len(names))
    errors = []

    def write(name):
        try:
            barrier.wait(timeout=10)
            record_call("race", **{name: f"{name}-value"})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    record = get_call("race")
    assert CallRecord.select().count() == 1
    assert all(getattr(record, name) == f"{name}-value" for name in names)
