"""Batched call-record writes give exactly what one-by-one writes give, and a refused
record costs only itself (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from cti_middleware.sinks.records import CallRecordSink
from cti_middleware.store.call_batch import merge, record_calls
from cti_middleware.store.calls import get_call, record_call
from cti_middleware.store.customers import add_customer, find_by_number
from cti_middleware.store.db import to_epoch
from cti_middleware.store.models import NAME_MAX, CallRecord
from cti_middleware.store.validate import StoreError
from tests.store_fixtures import db, db_url  # noqa: F401

T = 1_795_457_100.5
# A call's life as the record writer sees it, plus odd values from the switch.
WRITES = [
    ("c1", {"caller_number": "+86 138 0013 8000", "caller_name": "张三",
            "queue": "support@default", "joined_at": T}),
    ("c2", {"caller_number": "anonymous", "caller_name": "x" * 500, "joined_at": T + 1}),
    ("c1", {"agent": "1000@default", "answered_at": T + 7, "abandoned": False}),
    ("c2", {"ended_at": T + 9, "abandoned": True, "cc_cause": "Cancel",
            "hangup_cause": "Y" * 100}),
    ("c1", {"ended_at": T + 60, "hangup_cause": "NORMAL_CLEARING", "answered_at": None,
            "recording_path": "/r/c1.wav"}),
    ("c3", {}),
    ("c3", {"satisfaction": 4, "agent": "1001@default"}),
]


def _columns(uuid: str) -> dict:
    row = CallRecord.get(CallRecord.call_uuid == uuid)
    out = {f: getattr(row, f) for f in CallRecord._meta.sorted_field_names if f != "id"}
    out["customer"] = row.customer_id
    for f in ("joined_at", "answered_at", "ended_at"):
        out[f] = to_epoch(out[f])
    return out


@pytest.mark.parametrize("batch", [1, 2, len(WRITES)])
def test_batched_writes_equal_single_writes(db, batch):  # noqa: F811
    customer = add_customer("张三", "13800138000")
    for uuid, fields in WRITES:
        record_call("one-" + uuid, **fields)
    written = []
    for start in range(0, len(WRITES), batch):
        chunk = WRITES[start:start + batch]
        written += record_calls([("many-" + uuid, dict(f)) for uuid, f in chunk])
    for uuid in ("c1", "c2", "c3"):
        one, many = _columns("one-" + uuid), _columns("many-" + uuid)
        one.pop("call_uuid"), many.pop("call_uuid")
        assert many == one
    c1 = _columns("many-c1")
    assert c1["customer"] == customer.id and c1["caller_number"] == "13800138000"
    assert c1["answered_at"] == T + 7 and c1["abandoned"] is False
    assert _columns("many-c2")["caller_name"] == "x" * NAME_MAX
    assert find_by_number("13800138000").last_agent == "1000@default"
    last = {w.call_uuid: w for w in written}["many-c1"]
    assert (last.agent, last.customer_id, to_epoch(last.answered_at)) == (
        "1000@default", customer.id, T + 7)


def test_merge_keeps_first_order_and_later_values():
    merged = merge([("a", {"x": 1, "y": None}), ("b", {"x": 2}), ("a", {"x": 3, "z": 4})])
    assert merged == [("a", {"x": 3, "z": 4}), ("b", {"x": 2})]


def test_a_bad_record_fails_the_whole_batch_and_writes_nothing(db):  # noqa: F811
    with pytest.raises(StoreError):
        record_calls([("ok", {"agent": "1000@default"}), ("", {"agent": "x"})])
    assert get_call("ok") is None


def test_the_sink_loses_only_the_refused_record(db):  # noqa: F811
    ended: list[str] = []
    sink = CallRecordSink(record_calls, on_ended=lambda call: ended.append(call.call_uuid),
                          max_delay=0)
    sink._put("good-1", {"agent": "1000@default", "ended_at": T})
    sink._put("bad", {"satisfaction": "five stars"})  # can never be written
    sink._put("good-2", {"agent": "1001@default", "ended_at": T})
    assert sink.flush()
    assert get_call("good-1").agent == "1000@default"
    assert get_call("good-2").agent == "1001@default"
    assert get_call("bad") is None
    assert (sink.written, sink.rejected, ended) == (2, 1, ["good-1", "good-2"])


def test_a_value_the_postgresql_driver_cannot_send_is_refused_alone(db, db_url):  # noqa: F811
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite stores NUL characters")
    sink = CallRecordSink(record_calls, max_delay=0)
    sink._put("nul", {"caller_name": "a\x00b"})
    sink._put("fine", {"caller_name": "ab"})
    assert sink.flush()
    assert get_call("fine").caller_name == "ab" and get_call("nul") is None
    assert sink.rejected == 1


def test_a_batch_larger_than_one_statement(db):  # noqa: F811
    customer = add_customer("李四", "13900139000")
    items = [(f"big-{i}", {"caller_number": "13900139000", "agent": f"{1000 + i}@default",
                           "joined_at": T + i}) for i in range(150)]
    written = record_calls(items)
    assert [w.call_uuid for w in written] == [uuid for uuid, _f in items]
    assert CallRecord.select().where(CallRecord.customer == customer.id).count() == 150
    # The batch's last call named the agent who served this customer last.
    assert find_by_number("13900139000").last_agent == "1149@default"
