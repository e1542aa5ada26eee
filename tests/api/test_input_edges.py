"""Inputs the conformance run found to crash the API: each must be refused
with the JSON error body (on SQLite and PostgreSQL), never reach the driver."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from cti_middleware.config import Settings
from cti_middleware.store import add_customer
from cti_middleware.store.tokens import SCOPES, create_token
from cti_middleware.web.app import create_app
from tests.store_fixtures import db, db_url  # noqa: F401

APP, _SOCKETIO, _RUNTIME = create_app(Settings(), start=False)


@pytest.fixture
def client(db) -> FlaskClient:  # noqa: F811
    _, token = create_token("edges", list(SCOPES))
    client = APP.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"] == code
    return response.get_json()["message"]


@pytest.mark.parametrize("path", [
    "/api/customers/9223372036854775808",
    "/api/customers/1/merge/99999999999999999999",
    "/api/webhooks/9223372036854775808/deliveries",
    "/api/calls/abc%00def",
])
def test_ids_no_row_can_have_are_404(client, path):
    _error(client.get(path) if "merge" not in path else client.post(path), 404, "not_found")


@pytest.mark.parametrize("query, fragment", [
    ("since=9.3e18", "since is out of range"),
    ("until=253402300800", "until is out of range"),
    ("since=nan", "since is out of range"),
    ("since=x", "since must be a number"),
    ("agent=a%00b", "NUL"),
    ("page=99999999999", "page is out of range"),
])
def test_bad_query_values_are_400(client, query, fragment):
    assert fragment in _error(client.get(f"/api/calls?{query}"), 400, "invalid_argument")


def test_nul_in_a_customer_search_is_400(client):
    _error(client.get("/api/customers?q=%00"), 400, "invalid_argument")


@pytest.mark.parametrize("payload, fragment", [
    ({"vip_level": None}, "vip_level must not be null"),
    ({"vip_level": 2**40}, "vip_level is out of range"),
    ({"notes": "a\x00b"}, "NUL"),
])
def test_bad_customer_edits_are_422_and_change_nothing(client, payload, fragment):
    customer = add_customer("Ada", ["13800138000"], vip=True)
    r = client.patch(f"/api/customers/{customer.id}", json=payload)
    assert fragment in _error(r, 422, "validation")
    after = client.get(f"/api/customers/{customer.id}").get_json()
    assert (after["vip_level"], after["notes"]) == (1, None)


def test_nul_in_a_list_item_is_422(client):
    r = client.post("/api/customers", json={"name": "Ada", "phones": ["1380013\x008000"]})
    assert "NUL" in _error(r, 422, "validation")


def test_non_finite_number_in_a_body_is_422(client):
    r = client.post("/api/blacklist", data='{"number": "13800138000", "expires_at": NaN}',
                    content_type="application/json")
    assert "finite" in _error(r, 422, "validation")


def test_delete_answers_204_without_a_content_type(client):
    r = client.post("/api/blacklist", json={"number": "13800138000"})
    r = client.delete(f"/api/blacklist/{r.get_json()['id']}")
    assert r.status_code == 204 and "Content-Type" not in r.headers and r.data == b""
