"""Customer contact history: calls, work orders, callback tasks and voicemails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from cti_middleware.api import api_bp
from cti_middleware.api.openapi import DOCUMENT
from cti_middleware.store import add_customer, record_call
from cti_middleware.store.callbacks import CallbackTask, create_task
from cti_middleware.store.models import WorkOrder
from cti_middleware.store.recordings import Recording
from cti_middleware.store.tokens import create_token
from tests.store_fixtures import db, db_url  # noqa: F401

NUMBER = "13800138000"
BASE = 1_700_000_000.0


@pytest.fixture
def client(db):  # noqa: F811
    app = Flask(__name__)
    app.config.update(TESTING=True)
    app.register_blueprint(api_bp)
    return app.test_client()


@pytest.fixture
def auth(db):  # noqa: F811
    _, plain = create_token("crm", ["data:read", "data:write"])
    return {"Authorization": f"Bearer {plain}"}


def _at(offset: float) -> datetime:
    return datetime.fromtimestamp(BASE + offset, UTC)


def _task(offset: float, **fields) -> CallbackTask:
    task = create_task("tester", NUMBER, **fields)
    CallbackTask.update(created_at=_at(offset)).where(CallbackTask.id == task.id).execute()
    return CallbackTask.get_by_id(task.id)


def _timeline(customer_id: int) -> tuple[int, list[dict]]:
    """A customer's history, with a non-zero customer's data around it."""
    record_call("call-rec", caller_number=NUMBER, queue="support@default", agent="1000@default",
                joined_at=BASE + 10, answered_at=BASE + 15, ended_at=BASE + 60)
    record_call("call-plain", caller_number=NUMBER, joined_at=BASE + 20, ended_at=BASE + 25,
                abandoned=True)
    record_call("vm-call", caller_number=NUMBER, queue="support@default", joined_at=BASE + 30,
                ended_at=BASE + 35, abandoned=True)
    Recording.create(call_uuid="call-rec", path="2023/11/14/call-rec.wav", agent="1000@default")
    Recording.create(call_uuid="vm-call", path="2023/11/14/vm-call.wav")
    order = WorkOrder.create(customer=customer_id, type="inquiry", summary="price list",
                             status="open", created_at=_at(40), updated_at=_at(40))
    callback = _task(50, source="caller_request", queue="support@default", reason="asked for a quote")
    CallbackTask.update(status="done", result="reached", score=4, attempts=1,
                        agent="1000@default").where(CallbackTask.id == callback.id).execute()
    voicemail = _task(70, source="voicemail", queue="support@default", origin_call_uuid="vm-call",
                      recording_path="/var/lib/freeswitch/recordings/2023/11/14/vm-call.wav")
    return order.id, [callback.id, voicemail.id]


def test_timeline_merges_every_kind_newest_first(client, auth):
    customer = add_customer("张三", NUMBER)
    order_id, (callback_id, voicemail_id) = _timeline(customer.id)
    stranger = add_customer("Other", "13900139000")
    create_task("tester", "13900139000", source="manual")
    create_task("tester", "13700137000", source="manual")  # no customer at all

    body = client.get(f"/api/customers/{customer.id}/history", headers=auth).get_json()

    assert body["total"] == 6
    items = body["items"]
    assert [i["kind"] for i in items] == ["voicemail", "callback", "work_order", "call", "call", "call"]
    assert [i["at"] for i in items] == [BASE + 70, BASE + 50, BASE + 40, BASE + 30, BASE + 20, BASE + 10]
    voicemail, callback, order, vm_call, plain, recorded = items

    assert voicemail["id"] == voicemail_id and voicemail["status"] == "pending"
    assert voicemail["recording_path"] == "/var/lib/freeswitch/recordings/2023/11/14/vm-call.wav"
    assert voicemail["call_uuid"] == "vm-call"
    vm_recording = Recording.get(Recording.call_uuid == "vm-call").id
    assert voicemail["recording_id"] == vm_recording
    assert voicemail["audio"] == f"/api/recordings/{vm_recording}/audio"

    assert callback["id"] == callback_id
    assert (callback["status"], callback["result"], callback["score"]) == ("done", "reached", 4)
    assert (callback["source"], callback["reason"], callback["agent"]) == \
        ("caller_request", "asked for a quote", "1000@default")
    assert "recording_path" not in callback

    assert order["id"] == order_id and order["summary"] == "price list"

    rec_id = Recording.get(Recording.call_uuid == "call-rec").id
    assert recorded["call_uuid"] == "call-rec"
    assert (recorded["recording_id"], recorded["audio"]) == (rec_id, f"/api/recordings/{rec_id}/audio")
    assert plain["call_uuid"] == "call-plain"
    assert (plain["recording_id"], plain["audio"]) == (None, None)
    assert vm_call["recording_id"] == vm_recording

    other = client.get(f"/api/customers/{stranger.id}/history", headers=auth).get_json()
    assert [i["kind"] for i in other["items"]] == ["callback"] and other["total"] == 1


def test_pages_cover_the_merged_timeline_once(client, auth):
    customer = add_customer("张三", NUMBER)
    _timeline(customer.id)
    whole = client.get(f"/api/customers/{customer.id}/history", headers=auth).get_json()["items"]
    paged = []
    for page in (1, 2, 3, 4):
        body = client.get(f"/api/customers/{customer.id}/history?per_page=2&page={page}",
                          headers=auth).get_json()
        assert body["total"] == 6 and body["page"] == page
        paged += body["items"]
    assert paged == whole


def test_items_match_the_documented_schema(client, auth):
    customer = add_customer("张三", NUMBER)
    _timeline(customer.id)
    schema = DOCUMENT["components"]["schemas"]["HistoryItem"]
    described, kinds = set(schema["properties"]), set(schema["properties"]["kind"]["enum"])
    items = client.get(f"/api/customers/{customer.id}/history", headers=auth).get_json()["items"]
    assert {i["kind"] for i in items} == kinds
    for item in items:
        assert set(item) <= described, (item["kind"], set(item) - described)


def test_history_needs_data_read_and_a_known_customer(client, auth):
    customer = add_customer("张三", NUMBER)
    _, events_only = create_token("feed", ["events:read"])
    refused = client.get(f"/api/customers/{customer.id}/history",
                         headers={"Authorization": f"Bearer {events_only}"})
    assert refused.status_code == 403
    assert client.get("/api/customers/999999/history", headers=auth).status_code == 404
