import pytest

from cti_middleware.store import agents
from cti_middleware.store.agents import (
    add_agent,
    authenticate,
    get_agent,
    list_agents,
    set_active,
    set_password,
)
from cti_middleware.store.validate import DuplicateError, StoreError
from tests.store_fixtures import db, db_url  # noqa: F401


@pytest.fixture
def alice(db):  # noqa: F811
    return add_agent("1000@default", "s3cret", name="Alice")


def test_password_is_hashed(alice):
    assert alice.password_hash != "s3cret"
    assert "s3cret" not in alice.password_hash
    assert alice.password_hash.startswith("scrypt:")
    assert alice.role == "agent" and alice.active and alice.display_name == "Alice"


def test_same_password_gets_different_salts(alice):
    other = add_agent("1001@default", "s3cret")
    assert other.password_hash != alice.password_hash


def test_authenticate(alice):
    account = authenticate("1000@default", "s3cret")
    assert account is not None and account.agent_id == "1000@default"
    assert authenticate("1000@default", "wrong") is None
    assert authenticate("1000@default", "") is None
    assert authenticate("1000@default", None) is None  # type: ignore[arg-type]
    assert authenticate("1999@default", "s3cret") is None
    assert authenticate("not an id", "s3cret") is None


def test_unknown_agent_still_verifies_a_hash(db, monkeypatch):  # noqa: F811
    checked = []
    real = agents.check_password_hash
    monkeypatch.setattr(agents, "check_password_hash",
                        lambda h, p: checked.append(h) or real(h, p))
    assert authenticate("1999@default", "x") is None
    assert checked and checked[0].startswith("scrypt:")


def test_inactive_agent_refused(alice):
    set_active("1000@default", False)
    assert authenticate("1000@default", "s3cret") is None
    set_active("1000@default", True)
    assert authenticate("1000@default", "s3cret") is not None


def test_set_password(alice):
    set_password("1000@default", "n3w")
    assert authenticate("1000@default", "s3cret") is None
    assert authenticate("1000@default", "n3w") is not None
    with pytest.raises(StoreError, match="no agent"):
        set_password("1999@default", "x")


def test_duplicate_agent(alice):
    with pytest.raises(DuplicateError, match="already exists"):
        add_agent("1000@default", "other")


@pytest.mark.parametrize(
    ("agent_id", "password", "role", "message"),
    [
        ("1000", "p", "agent", "agent id"),
        ("1000@default@x", "p", "agent", "agent id"),
        ("10 00@default", "p", "agent", "agent id"),
        ("a" * 65 + "@default", "p", "agent", "agent id"),
        ("1000@default", "p", "root", "role"),
        ("1000@default", "", "agent", "password"),
        ("1000@default", "p" * 257, "agent", "password"),
    ],
)
def test_bad_agent_input(db, agent_id, password, role, message):  # noqa: F811
    with pytest.raises(StoreError, match=message):
        add_agent(agent_id, password, role=role)
    assert list_agents() == []


def test_get_and_list(alice):
    add_agent("9000@default", "x", role="supervisor")
    assert get_agent("9000@default").role == "supervisor"
    assert get_agent("nobody@default") is None
    assert get_agent("bad id") is None
    assert [a.agent_id for a in list_agents()] == ["1000@default", "9000@default"]
