"""The consumer's partial decode gives the model exactly what the full decode gives."""

from __future__ import annotations

import pytest

from cti_middleware.esl.wire import FieldReader, Frame, ProtocolError, parse_event_body
from cti_middleware.events import DISPATCH, event_key, fields_for, parse_event

from .captures import EVENT_TYPES, frames, scenario_dir, scenarios_with_events

READER = FieldReader(DISPATCH, fields_for)


class _Recording(dict):
    """A header dict that remembers every name a parser asked for."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.asked: set[str] = set()

    def get(self, key, default=None):  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):  # type: ignore[override]
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):  # type: ignore[override]
        self.asked.add(key)
        return super().__contains__(key)


def _wanted(full: dict[str, str]) -> dict[str, str]:
    names = set(DISPATCH) | set(fields_for(full))
    return {k: v for k, v in full.items() if k in names}


def _read(frame: Frame) -> dict[str, str]:
    """What the reader gives for the wanted names (it may hold more, untouched)."""
    got = READER.read(frame)
    names = set(DISPATCH) | set(fields_for(got))
    return {k: v for k, v in got.items() if k in names}


@pytest.mark.parametrize("fmt", ["plain", "json"])
@pytest.mark.parametrize("scenario", scenarios_with_events())
def test_partial_decode_gives_the_same_events(scenario: str, fmt: str) -> None:
    events = [f for f in frames(scenario_dir(scenario) / f"events.{fmt}")
              if f.content_type in EVENT_TYPES]
    assert events
    for frame in events:
        full = parse_event_body(frame)
        partial = _read(frame)
        assert partial == _wanted(full)
        assert parse_event(partial) == parse_event(full)


@pytest.mark.parametrize("scenario", scenarios_with_events())
def test_parsers_read_only_listed_fields(scenario: str) -> None:
    for frame in frames(scenario_dir(scenario) / "events.json"):
        if frame.content_type in EVENT_TYPES:
            full = parse_event_body(frame)
            headers = _Recording(full)
            parse_event(headers)
            listed = set(DISPATCH) | set(fields_for(full))
            assert headers.asked <= listed, (event_key(full), headers.asked - listed)


def _json(body: bytes) -> Frame:
    return Frame({"Content-Type": "text/event-json"}, body)


def _plain(body: bytes) -> Frame:
    return Frame({"Content-Type": "text/event-plain"}, body)


def test_a_key_inside_a_value_is_not_a_header() -> None:
    body = (b'{"Event-Name":"CUSTOM","Event-Subclass":"callcenter::info",'
            b'"CC-Action":"agent-status-change","CC-Agent-Status":"x\\",\\"CC-Agent\\":\\"evil",'
            b'"Caller-Caller-ID-Name":"a,\\"CC-Queue\\":\\"q","CC-Agent":"1000@default"}')
    got = _read(_json(body))
    assert got["CC-Agent"] == "1000@default"
    assert got["CC-Agent-Status"] == 'x","CC-Agent":"evil'
    assert got == _wanted(parse_event_body(_json(body)))


def test_escapes_repeats_and_arrays_match_the_full_decode() -> None:
    body = (b'{"Event-Name":"CHANNEL_HANGUP","Unique-ID":"u1","Caller-Caller-ID-Name":'
            b'"\\u5f20\\u4e09 \\"q\\"\\n","Hangup-Cause":"A","Hangup-Cause":"B"}')
    got = _read(_json(body))
    assert got == _wanted(parse_event_body(_json(body)))
    assert got["Hangup-Cause"] == "B" and got["Caller-Caller-ID-Name"] == '张三 "q"\n'
    arrays = b'{"Event-Name":"CHANNEL_HANGUP","Unique-ID":["a","b"]}'
    assert READER.read(_json(arrays))["Unique-ID"] == "ARRAY::a|:b"


def test_plain_values_are_decoded_one_by_one() -> None:
    body = (b"Event-Name: CHANNEL_HANGUP\nUnique-ID: u1\n"
            b"Caller-Caller-ID-Name: x%0AUnique-ID%3A%20evil\n\n")
    got = _read(_plain(body))
    assert got["Unique-ID"] == "u1"
    assert got == _wanted(parse_event_body(_plain(body)))


def test_background_job_body_in_both_formats() -> None:
    plain = b"Event-Name: BACKGROUND_JOB\nJob-UUID: j1\nContent-Length: 4\n\n+OK\nextra"
    as_json = b'{"Event-Name":"BACKGROUND_JOB","Job-UUID":"j1","Content-Length":"4","_body":"+OK\\n"}'
    assert READER.read(_plain(plain))["_body"] == "+OK\n"
    assert READER.read(_json(as_json))["_body"] == "+OK\n"


@pytest.mark.parametrize("body", [b"{not json", b"[1,2]", b"", b'{"Event-Name":"HEART}'])
def test_a_body_that_is_not_an_object_is_refused(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        READER.read(_json(body))
