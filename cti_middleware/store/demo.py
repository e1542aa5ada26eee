"""Demo data so a fresh install shows something on the first call.

The accounts all use the password "1234": they exist for demonstrations
and tests only and must never be seeded into a real deployment.
Re-running :func:`seed_demo` adds only what is missing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .agents import add_agent, get_agent
from .calls import record_call
from .customers import add_customer, find_by_number
from .db import connected, database, utcnow
from .workorders import add_work_order

DEMO_PASSWORD = "1234"

DEMO_AGENTS = [
    ("1000@default", "agent", "Alice"),
    ("1001@default", "agent", "Bob"),
    ("1002@default", "agent", "Carol"),
    ("9000@default", "supervisor", "Supervisor"),
]

DEMO_CUSTOMERS: list[dict[str, Any]] = [
    {
        "name": "张三",
        "phones": ["13800138000", "010-65001234"],
        "address": "北京市朝阳区建国路88号SOHO现代城A座1201",
        "vip": True,
        "vip_level": 3,
        "notes": "金卡客户，偏好下午回电。",
        "preferred_language": "zh",
        "orders": [
            ("complaint", "resolved", "宽带夜间频繁掉线"),
            ("service_request", "closed", "办理套餐升级"),
            ("inquiry", "closed", "咨询国际漫游资费"),
            ("appointment", "in_progress", "预约上门检修光猫"),
            ("callback", "new", "回电确认检修时间"),
            ("inquiry", "new", "咨询积分兑换"),
        ],
        "calls": 6,
    },
    {
        "name": "李四",
        "phones": ["13900139000"],
        "address": "上海市浦东新区世纪大道100号",
        "notes": "新开户客户。",
        "preferred_language": "zh",
        "orders": [("inquiry", "closed", "咨询账单明细")],
        "calls": 2,
    },
    {
        "name": "王五",
        "phones": ["020-87654321", "15912345678"],
        "address": "广东省广州市天河区天河路385号",
        "orders": [("service_request", "assigned", "申请发票邮寄")],
        "calls": 1,
    },
    {
        "name": "赵六",
        "phones": ["+86 186 0000 1111"],
        "address": "四川省成都市武侯区人民南路四段1号",
        "preferred_language": "zh",
        "orders": [],
        "calls": 0,
    },
]


def _seed_agents() -> None:
    for agent_id, role, name in DEMO_AGENTS:
        if get_agent(agent_id) is None:
            add_agent(agent_id, DEMO_PASSWORD, role=role, name=name)


def _seed_history(customer_id: int, spec: dict[str, Any]) -> None:
    now = utcnow()
    number = spec["phones"][0]
    for index, (kind, status, summary) in enumerate(spec["orders"]):
        order = add_work_order(kind, summary, customer_id, status=status, agent="1000@default")
        order.created_at = order.updated_at = now - timedelta(days=30 - index * 5)
        order.save()
    for index in range(spec["calls"]):
        joined = now - timedelta(days=20 - index * 3, hours=index)
        abandoned = index == 1
        record_call(
            f"demo-{customer_id}-{index}",
            caller_number=number,
            caller_name=spec["name"],
            queue="support@default",
            agent=None if abandoned else DEMO_AGENTS[index % 3][0],
            joined_at=joined,
            answered_at=None if abandoned else joined + timedelta(seconds=12),
            ended_at=joined + timedelta(seconds=40 if abandoned else 185),
            hangup_cause="NORMAL_CLEARING",
            cc_cause="cancel" if abandoned else "answered",
            abandoned=abandoned,
            satisfaction=None if abandoned else 5 - index % 2,
        )


def _seed_customers() -> None:
    for spec in DEMO_CUSTOMERS:
        if find_by_number(spec["phones"][0]) is not None:
            continue
        customer = add_customer(
            spec["name"],
            spec["phones"],
            address=spec.get("address"),
            vip=spec.get("vip", False),
            notes=spec.get("notes"),
            vip_level=spec.get("vip_level"),
            preferred_language=spec.get("preferred_language"),
        )
        _seed_history(customer.id, spec)


@connected
def seed_demo() -> None:
    """Create the demo agents, customers, orders and calls that are missing."""
    with database.atomic():
        _seed_agents()
        _seed_customers()
