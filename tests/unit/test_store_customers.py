from datetime import timedelta

import pytest

from cti_middleware.store import customers
from cti_middleware.store.calls import record_call
from cti_middleware.store.customers import (
    add_customer,
    add_phone,
    customer_profile,
    find_by_number,
    screen_pop_customer,
)
from cti_middleware.store.db import database, to_epoch, utcnow
from cti_middleware.store.models import NAME_MAX, WorkOrder
from cti_middleware.store.validate import DuplicateError, StoreError
from cti_middleware.store.workorders import add_work_order, set_work_order_status
from tests.store_fixtures import db, db_url  # noqa: F401


@pytest.fixture
def zhang(db):  # noqa: F811
    return add_customer(
        "张三",
        ["+86 138-0013-8000", "010-65001234"],
        address="北京市朝阳区建国路88号",
        vip=True,
        notes="金卡客户",
    )


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "+8613800138000", "8613800138000", "008613800138000",
     "138-0013-8000", "01065001234", "+86 10 6500 1234"],
)
def test_find_by_any_format(zhang, raw):
    found = find_by_number(raw)
    assert found is not None and found.id == zhang.id


def test_find_unknown_number(zhang):
    assert find_by_number("13900139000") is None


def test_find_garbage_raises(zhang):
    with pytest.raises(ValueError):
        find_by_number("anonymous")


def test_defaults_from_number(zhang):
    assert zhang.region == "北京市"
    assert zhang.vip and zhang.vip_level == 1
    assert zhang.created_at.tzinfo is not None


def test_duplicate_number_is_a_clear_error(zhang):
    with pytest.raises(DuplicateError, match=rf"13800138000 already belongs to customer {zhang.id}"):
        add_customer("李四", ["+86 13800138000"])
    with pytest.raises(DuplicateError):
        add_phone(zhang, "13800138000")


def test_duplicate_number_in_one_request(db):  # noqa: F811
    with pytest.raises(DuplicateError, match="listed twice"):
        add_customer("李四", ["13900139000", "+8613900139000"])


def test_failed_add_leaves_nothing_behind(zhang):
    with pytest.raises(DuplicateError):
        add_customer("李四", ["13900139000", "13800138000"])
    assert find_by_number("13900139000") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "x" * (NAME_MAX + 1), "phones": ["13900139000"]}, "name is longer"),
        ({"name": "  ", "phones": ["13900139000"]}, "name is required"),
        ({"name": "李四", "phones": []}, "at least one"),
        ({"name": "李四", "phones": ["call me"]}, "not a phone number"),
        ({"name": "李四", "phones": ["1" * 21]}, "not a phone number"),
        ({"name": "李四", "phones": ["13900139000"], "address": "a" * 256}, "address"),
    ],
)
def test_bad_input_is_rejected(db, kwargs, message):  # noqa: F811
    with pytest.raises(StoreError, match=message):
        add_customer(**kwargs)


def test_name_at_limit_is_accepted(db):  # noqa: F811
    assert add_customer("x" * NAME_MAX, "13900139000").name == "x" * NAME_MAX


def test_add_phone_links_number(zhang):
    assert add_phone(zhang, "+86 159 1234 5678") == "15912345678"
    assert find_by_number("15912345678").id == zhang.id


def test_profile_contents_order_and_limits(zhang):
    other = add_customer("李四", "13900139000")
    base = utcnow() - timedelta(days=10)
    for i in range(7):
        order = add_work_order("inquiry", f"order {i}", zhang, agent="1000@default")
        order.created_at = base + timedelta(hours=i)
        order.save()
    add_work_order("complaint", "not zhang's", other)
    # insertion order differs from time order: newest-first must follow time
    for i in [3, 0, 6, 1, 5, 2, 4]:
        record_call(f"call-{i}", caller_number="13800138000", queue="support@default",
                    agent="1000@default", joined_at=base + timedelta(hours=i),
                    answered_at=base + timedelta(hours=i, seconds=5),
                    ended_at=base + timedelta(hours=i, minutes=3))
    record_call("call-other", caller_number="13900139000", joined_at=base)

    profile = customer_profile(zhang)
    assert {k: profile[k] for k in ("id", "name", "address", "phones", "vip", "notes")} == {
        "id": zhang.id, "name": "张三", "address": "北京市朝阳区建国路88号",
        "phones": ["13800138000", "1065001234"], "vip": True, "notes": "金卡客户",
    }
    assert [o["summary"] for o in profile["work_orders"]] == [f"order {i}" for i in (6, 5, 4, 3, 2)]
    first = profile["work_orders"][0]
    assert set(first) == {"id", "type", "status", "summary", "created_at"}
    assert first["type"] == "inquiry" and first["status"] == "new"
    assert first["created_at"] == pytest.approx(to_epoch(base + timedelta(hours=6)))
    assert [c["call_uuid"] for c in profile["calls"]] == [f"call-{i}" for i in (6, 5, 4, 3, 2)]
    call = profile["calls"][0]
    assert set(call) == {"call_uuid", "queue", "agent", "joined_at", "answered_at",
                         "ended_at", "abandoned"}
    assert isinstance(call["joined_at"], float)
    assert call["answered_at"] - call["joined_at"] == pytest.approx(5)
    assert call["abandoned"] is False


def test_profile_of_new_customer_is_empty_lists(zhang):
    profile = customer_profile(zhang)
    assert profile["work_orders"] == [] and profile["calls"] == []


def test_screen_pop_known_customer(zhang):
    profile, region = screen_pop_customer("+8613800138000")
    assert profile == customer_profile(zhang)
    assert region == "北京市"


def test_screen_pop_unknown_caller_still_has_region(zhang):
    assert screen_pop_customer("13900139000") == (None, "上海市")


@pytest.mark.parametrize("raw", [None, "", "anonymous", "sip:x@y", "1" * 40])
def test_screen_pop_odd_caller_ids(zhang, raw):
    assert screen_pop_customer(raw) == (None, None)


def test_screen_pop_query_count(zhang, monkeypatch):
    """One lookup plus three profile reads, no matter how much history."""
    for i in range(8):
        add_work_order("inquiry", f"o{i}", zhang)
        record_call(f"c{i}", caller_number="13800138000", joined_at=1_700_000_000 + i)
    statements = []
    real = database.obj.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        statements.append(sql)
        return real(sql, params, *args, **kwargs)

    monkeypatch.setattr(database.obj, "execute_sql", counting)
    profile, _ = screen_pop_customer("13800138000")
    assert len(profile["calls"]) == 5 and len(profile["work_orders"]) == 5
    assert len(statements) == 4


def test_lookup_uses_the_number_index(zhang):
    """The number column is unique-indexed (the lookup never scans)."""
    indexes = database.get_indexes("customer_phone")
    assert any(ix.columns == ["number"] and ix.unique for ix in indexes)


def test_work_order_validation_and_status(zhang):
    with pytest.raises(StoreError, match="type"):
        add_work_order("refund", "x", zhang)
    order = add_work_order("callback", "回电", zhang)
    assert set_work_order_status(order.id, "resolved").status == "resolved"
    with pytest.raises(StoreError, match="status"):
        set_work_order_status(order.id, "done")
    with pytest.raises(StoreError, match="no work order"):
        set_work_order_status(order.id + 100, "closed")
    assert WorkOrder.get_by_id(order.id).status == "resolved"


def test_touch_last_agent(zhang):
    customers.touch_last_agent(zhang.id, "1001@default")
    assert find_by_number("13800138000").last_agent == "1001@default"
