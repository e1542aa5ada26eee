from cti_middleware.store.agents import authenticate, list_agents
from cti_middleware.store.audit import audit, recent_audit
from cti_middleware.store.calls import recent_calls
from cti_middleware.store.customers import screen_pop_customer
from cti_middleware.store.demo import DEMO_PASSWORD, seed_demo
from cti_middleware.store.models import (
    AuditLog,
    CallRecord,
    Customer,
    CustomerPhone,
    WorkOrder,
)
from tests.store_fixtures import db, db_url, seeded_db  # noqa: F401


def test_audit_round_trip(db):  # noqa: F811
    entry = audit("9000@default", "transfer", "uuid-1",
                  {"to": "1001@default", "note": "客户要求"}, "ok")
    assert entry.id is not None
    audit("1000@default", "hold", "uuid-2", {}, "error: not found")
    rows = recent_audit()
    assert [r["action"] for r in rows] == ["hold", "transfer"]
    assert rows[1]["arguments"] == {"to": "1001@default", "note": "客户要求"}
    assert rows[1]["actor"] == "9000@default" and rows[1]["result"] == "ok"
    assert isinstance(rows[1]["created_at"], float)
    assert [r["target"] for r in recent_audit(actor="1000@default")] == ["uuid-2"]


def test_audit_never_fails_on_odd_values(db):  # noqa: F811
    entry = audit("x" * 500, "a" * 100, None, {"obj": object(), "big": "z" * 20000}, "r" * 400)
    stored = AuditLog.get_by_id(entry.id)
    assert len(stored.actor) <= 129 and len(stored.result) == 255
    assert recent_audit()[0]["arguments"]["truncated"].startswith("{")


def _counts():
    return [m.select().count() for m in (Customer, CustomerPhone, WorkOrder, CallRecord, AuditLog)]


def test_seed_is_idempotent(seeded_db):  # noqa: F811
    before = _counts()
    hashes = [a.password_hash for a in list_agents()]
    seed_demo()
    assert _counts() == before
    assert [a.password_hash for a in list_agents()] == hashes


def test_seeded_accounts(seeded_db):  # noqa: F811
    roles = {a.agent_id: a.role for a in list_agents()}
    assert roles == {"1000@default": "agent", "1001@default": "agent",
                     "1002@default": "agent", "9000@default": "supervisor"}
    assert authenticate("1000@default", DEMO_PASSWORD) is not None
    assert authenticate("9000@default", DEMO_PASSWORD).role == "supervisor"


def test_seeded_vip_screen_pop(seeded_db):  # noqa: F811
    profile, region = screen_pop_customer("+86 138 0013 8000")
    assert region == "北京市"
    assert profile["name"] == "张三" and profile["vip"] is True
    assert profile["address"].startswith("北京市朝阳区")
    assert len(profile["work_orders"]) == 5 and len(profile["calls"]) == 5
    joined = [c["joined_at"] for c in profile["calls"]]
    assert joined == sorted(joined, reverse=True)
    assert any(c["abandoned"] for c in recent_calls(500))


def test_seeded_second_customer(seeded_db):  # noqa: F811
    profile, region = screen_pop_customer("13900139000")
    assert profile["name"] == "李四" and profile["vip"] is False
    assert region == "上海市"
