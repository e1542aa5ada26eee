"""Dispatch of work orders to departments, and SLA deadlines (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cti_middleware.store import dispatch
from cti_middleware.store.customers import add_customer
from cti_middleware.store.db import to_epoch, utcnow
from cti_middleware.store.models import WorkOrder
from cti_middleware.store.validate import DuplicateError, StoreError
from cti_middleware.store.workflow import order_events, transition
from tests.store_fixtures import db, db_url  # noqa: F401


@pytest.fixture
def depts(db):  # noqa: F811
    default = dispatch.add_department("总台", members=["1002@default"])
    beijing = dispatch.add_department("北京服务站", members=["1000@default"])
    chaoyang = dispatch.add_department("朝阳投诉组", members=["1001@default"])
    dispatch.add_rule(default.id)
    dispatch.add_rule(beijing.id, region="北京市")
    dispatch.add_rule(chaoyang.id, region="北京市", type="complaint")
    return {"default": default, "beijing": beijing, "chaoyang": chaoyang}


def _order(order_type="complaint", customer=None, region=None, **fields):
    if order_type == "complaint":
        fields.setdefault("severity", "high")
    return dispatch.create_and_dispatch(
        "1000@default", order_type, "问题", customer=customer, region=region,
        agent="1000@default", fields=fields)


def test_specific_rule_beats_region_and_default(depts):
    beijing = add_customer("张三", ["13800138000"], region="北京市")
    _, dept = _order("complaint", customer=beijing.id)
    assert dept.id == depts["chaoyang"].id
    _, dept2 = _order("inquiry", customer=beijing.id)
    assert dept2.id == depts["beijing"].id
    _, dept3 = _order("inquiry", region="上海市")
    assert dept3.id == depts["default"].id


def test_dispatch_assigns_and_records_the_dispatch_actor(depts):
    order, dept = _order("inquiry", region="北京市")
    assert order.status == "assigned"
    last = order_events(order.id)[-1]
    assert (last["from"], last["to"], last["actor"]) == ("new", "assigned", "dispatch")
    assert dept.name in last["note"]
    body = dispatch.order_payload(order)
    assert body["department"] == "北京服务站" and body["department_id"] == dept.id


def test_no_rule_leaves_the_order_new_and_unassigned(db):  # noqa: F811
    dispatch.add_department("空部门", members=["1000@default"])  # no coverage, no rule
    order, dept = _order("inquiry", region="北京市")
    assert dept is None and order.status == "new"
    assert [e["action"] for e in order_events(order.id)] == ["created"]
    assert dispatch.order_payload(order)["department"] is None


def test_region_comes_from_the_number_when_the_customer_has_none(depts):
    customer = add_customer("李四", ["01065001234"])
    customer.region = None
    customer.save()
    _, dept = _order("inquiry", customer=customer.id)
    assert dept.id == depts["beijing"].id


def test_longer_region_and_district_in_address_win(db):  # noqa: F811
    guangdong = dispatch.add_department("广东", regions=["广东省"])
    shenzhen = dispatch.add_department("深圳", regions=["广东省深圳市"])
    nanshan = dispatch.add_department("南山", regions=["南山区"])
    assert dispatch.match_department("inquiry", "广东省广州市").id == guangdong.id
    assert dispatch.match_department("inquiry", "广东省深圳市").id == shenzhen.id
    assert dispatch.match_department("inquiry", "广东省深圳市", "深圳市南山区科技园").id == nanshan.id
    assert dispatch.match_department("inquiry", "浙江省杭州市") is None


def test_department_coverage_by_type(db):  # noqa: F811
    appointments = dispatch.add_department("上门", types=["appointment"])
    assert dispatch.match_department("appointment", None).id == appointments.id
    assert dispatch.match_department("complaint", None) is None


def test_bad_departments_and_rules_are_refused(db):  # noqa: F811
    dept = dispatch.add_department("A")
    with pytest.raises(DuplicateError):
        dispatch.add_department("A")
    for bad in ({"members": ["not an agent"]}, {"types": ["party"]},
                {"regions": ["x" * 65]}, {"regions": "北京市"}):
        with pytest.raises(StoreError):
            dispatch.add_department("B", **bad)
    with pytest.raises(StoreError):
        dispatch.add_department("x" * 65)
    dispatch.add_rule(dept.id, region="北京市")
    with pytest.raises(DuplicateError):
        dispatch.add_rule(dept.id, region="北京市")
    with pytest.raises(StoreError):
        dispatch.add_rule(dept.id + 99)
    with pytest.raises(StoreError):
        dispatch.add_rule(dept.id, type="party")


def test_update_and_membership(db):  # noqa: F811
    dept = dispatch.add_department("A", members=["1000@default"])
    assert [d.id for d in dispatch.departments_of("1000@default")] == [dept.id]
    dispatch.update_department(dept.id, members=["1001@default"], name="B")
    assert dispatch.departments_of("1000@default") == []
    assert dispatch.department_to_dict(dispatch.Department.get_by_id(dept.id))["name"] == "B"
    with pytest.raises(LookupError):
        dispatch.update_department(dept.id + 5, name="C")


@pytest.mark.parametrize(("order_type", "hours"), [
    ("complaint", 24), ("service_request", 48), ("inquiry", 72), ("callback", 24)])
def test_default_sla_sets_due_at(db, order_type, hours):  # noqa: F811
    order, _ = _order(order_type)
    body = dispatch.order_payload(order)
    assert body["due_at"] - to_epoch(order.created_at) == pytest.approx(hours * 3600)
    assert body["respond_by"] < body["due_at"]
    assert body["overdue"] is False


def test_appointment_is_due_at_window_end(db):  # noqa: F811
    start = to_epoch(utcnow()) + 3600
    order, _ = _order("appointment", window_start=start, window_end=start + 7200,
                      address="北京市朝阳区建国路88号")
    assert dispatch.order_payload(order)["due_at"] == pytest.approx(start + 7200)


def test_configured_sla_and_bad_values(db):  # noqa: F811
    assert dispatch.set_sla("inquiry", 60, 600)["resolution_seconds"] == 600
    order, _ = _order("inquiry")
    body = dispatch.order_payload(order)
    assert body["due_at"] - to_epoch(order.created_at) == pytest.approx(600)
    for bad in ((0, 10), (10, -1), (10, None), (True, 10), (10, 10**9)):
        with pytest.raises(StoreError):
            dispatch.set_sla("inquiry", *bad)
    with pytest.raises(StoreError):
        dispatch.set_sla("party", 10, 10)
    assert dispatch.set_sla("appointment", 60, None)["resolution_seconds"] is None


def test_overdue_is_claimed_once_and_ends_with_resolution(db):  # noqa: F811
    dispatch.add_rule(dispatch.add_department("A").id)
    order, _ = _order("inquiry")
    later = utcnow() + timedelta(hours=73)
    assert dispatch.claim_overdue(utcnow()) == []
    claimed = dispatch.claim_overdue(later)
    assert [o.id for o in claimed] == [order.id]
    assert dispatch.claim_overdue(later) == []
    row = dispatch.WorkOrderDispatch.get(dispatch.WorkOrderDispatch.work_order == order.id)
    assert dispatch.is_overdue("assigned", row.due_at, later)
    transition(order.id, "in_progress", "1000@default")
    transition(order.id, "resolved", "1000@default")
    assert not dispatch.is_overdue(WorkOrder.get_by_id(order.id).status, row.due_at, later)


def test_may_handle(depts):
    order, _ = _order("complaint", region="北京市")
    assert dispatch.may_handle("1001@default", "agent", order)  # department member
    assert dispatch.may_handle("1000@default", "agent", order)  # raised it
    assert not dispatch.may_handle("1002@default", "agent", order)
    assert dispatch.may_handle("9000@default", "supervisor", order)
