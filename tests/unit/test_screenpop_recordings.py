"""The pop's call history says which past calls were recorded (for desktop playback)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import gevent.event
from peewee import OperationalError

from cti_middleware.sinks.screenpop import ScreenPopSink
from cti_middleware.store.recordings import Recording, recording_ids
from tests.store_fixtures import db, db_url  # noqa: F401


def _recording(call_uuid: str) -> Recording:
    return Recording.create(call_uuid=call_uuid, agent="1000@default", caller_number="13800138000",
                            started_at=datetime(2026, 11, 18, tzinfo=UTC), duration=2.0,
                            path=f"2026/11/18/{call_uuid}.wav", size=32044)


def _customer(*uuids: str) -> dict[str, Any]:
    return {"id": 1, "name": "张三", "calls": [{"call_uuid": u, "queue": "support@default"} for u in uuids]}


def _looked_up(sink: ScreenPopSink, number: str = "13800138000") -> tuple[Any, Any]:
    result: gevent.event.AsyncResult = gevent.event.AsyncResult()
    sink._lookup(number, result)
    return result.get(timeout=1)


def test_recording_ids_maps_only_recorded_calls(db) -> None:  # noqa: F811
    first, second = _recording("call-a"), _recording("call-b")
    assert recording_ids(["call-a", "call-b", "call-c", "call-a", ""]) == {"call-a": first.id, "call-b": second.id}
    assert recording_ids([]) == {}


def test_history_items_carry_their_recording_id(db) -> None:  # noqa: F811
    rec = _recording("call-a")
    sink = ScreenPopSink(lambda *_a, **_k: None, lambda _n: (_customer("call-a", "call-b"), "北京市"))
    customer, region = _looked_up(sink)
    assert region == "北京市"
    assert [(c["call_uuid"], c["recording_id"]) for c in customer["calls"]] == [("call-a", rec.id), ("call-b", None)]


def test_unknown_callers_and_empty_histories_are_left_alone() -> None:
    asked: list[list[str]] = []
    sink = ScreenPopSink(lambda *_a, **_k: None, lambda _n: (None, "上海市"),
                         recordings=lambda uuids: asked.append(uuids) or {})
    assert _looked_up(sink) == (None, "上海市")
    sink.lookup = lambda _n: (_customer(), None)
    assert _looked_up(sink)[0]["calls"] == []
    assert asked == []


def test_a_broken_recordings_index_costs_only_the_play_buttons() -> None:
    def broken(_uuids: list[str]) -> dict[str, int]:
        raise OperationalError("no such table: recording")

    sink = ScreenPopSink(lambda *_a, **_k: None, lambda _n: (_customer("call-a"), None), recordings=broken)
    customer, _ = _looked_up(sink)
    assert customer["name"] == "张三" and customer["calls"] == [
        {"call_uuid": "call-a", "queue": "support@default", "recording_id": None}]
