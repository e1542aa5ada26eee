"""The json fast path gives exactly what the full decode gives, or steps aside.

``events_json.json_event`` decodes an ``event json`` body straight into a typed event;
when it returns ``None`` the pipeline takes the full path (``FieldReader`` +
``parse_event``).  So what the product does with a body is ``json_event(body)`` if
that is not ``None``, else the full path: these tests compare that with the full
decode on every recorded event, on the same events with their headers emptied,
removed, made hostile or of another JSON type, and on the final state of a replay.
"""

from __future__ import annotations

import logging

import orjson
import pytest

from cti_middleware.esl.wire import (
    FieldReader,
    Frame,
    FrameParser,
    ProtocolError,
    parse_event_body,
)
from cti_middleware.events import (
    DISPATCH,
    PARSERS,
    EventError,
    UnknownEvent,
    event_key,
    fields_for,
    parse_event,
)
from cti_middleware.events_json import json_event
from cti_middleware.model.state import State
from cti_middleware.notify import Notifier
from cti_middleware.pipeline import Pipeline

from .captures import EVENT_TYPES, frames, scenario_dir, scenarios_with_events

JSON = "text/event-json"
READER = FieldReader(DISPATCH, fields_for)


def _json_frames(scenario: str) -> list[Frame]:
    return [f for f in frames(scenario_dir(scenario) / "events.json") if f.content_type == JSON]


def _full(body: bytes) -> object:
    """What the full decode makes of a body: the event, or the error's class."""
    frame = Frame({"Content-Type": JSON}, body)
    try:
        return parse_event(parse_event_body(frame))
    except (EventError, ProtocolError) as exc:
        return type(exc)


def _product(body: bytes) -> object:
    """What the product makes of it: the fast path, or the full path behind it."""
    fast = json_event(body)
    if fast is not None:
        return fast
    try:
        return parse_event(READER.read(Frame({"Content-Type": JSON}, body)))
    except (EventError, ProtocolError) as exc:
        return type(exc)


def _fast_path_expected(obj: dict) -> bool:
    """A known event whose read headers are all strings must not leave the fast path."""
    if not isinstance(obj.get("Event-Name"), str):
        return False
    plain = {k: v for k, v in obj.items() if isinstance(v, str)}
    key = event_key(plain)
    if key not in PARSERS:
        return obj["Event-Name"] == "CUSTOM" and all(
            isinstance(obj.get(k, ""), str) for k in DISPATCH)
    wanted = (*DISPATCH, *fields_for(plain))
    if not all(isinstance(obj.get(k, ""), str) for k in wanted):
        return False
    try:
        parse_event(plain)
    except EventError:
        return False
    return True


@pytest.mark.parametrize("scenario", scenarios_with_events())
def test_every_recorded_event_is_the_full_decodes_event(scenario: str) -> None:
    events = _json_frames(scenario)
    assert events
    for frame in events:
        full = _full(frame.body)
        fast = json_event(frame.body)
        assert _product(frame.body) == full, frame.body[:200]
        if _fast_path_expected(orjson.loads(frame.body)):
            assert fast == full and type(fast) is type(full), frame.body[:200]


def _replay(scenario: str, fast: bool) -> tuple[State, list, int, int]:
    seen: list = []

    class Sink:
        def handle(self, change: object) -> None:
            seen.append(change)

    pipeline = Pipeline(State(), Notifier([Sink()]))
    for frame in _json_frames(scenario):
        if fast:
            pipeline.handle_frame(frame)
        else:
            pipeline.handle_headers(parse_event_body(frame))
    return pipeline.state, seen, pipeline.events, pipeline.skipped


def _state(state: State) -> tuple:
    return (state.agents, state.queues, state.members, state.channels, state.registrations,
            state.direct, state.direct_calls)


@pytest.mark.parametrize("scenario", scenarios_with_events())
def test_replay_ends_in_the_same_state_with_the_same_changes(scenario: str) -> None:
    fast_state, fast_changes, fast_n, fast_skipped = _replay(scenario, fast=True)
    full_state, full_changes, full_n, full_skipped = _replay(scenario, fast=False)
    assert fast_changes == full_changes
    assert _state(fast_state) == _state(full_state)
    assert (fast_n, fast_skipped) == (full_n, full_skipped)


# The headers of a few recorded events, each changed in every way a body can differ.
_HOSTILE = [
    "",
    'Mallory"\nCC-Agent: 9999@default\nCC-Action: agent-offering',
    '","CC-Agent":"9999@default","x":"',
    "{\"Event-Name\": \"HEARTBEAT\"} %0A%25 \\ \u5f20\u4e09 \t\r",
    "ARRAY::a|:b",
    "0",
    "-1",
    "1795457123",
    "not-a-number",
    "agent-offering",
    "callcenter::info",
]
_OTHER_TYPES = [None, 5, 1.5, True, ["a", "b"], [], {"CC-Agent": "x"}]


def _samples() -> list[tuple[str, dict]]:
    """One recorded event of every kind (key) found in the recordings."""
    seen: dict[str, tuple[str, dict]] = {}
    for scenario in scenarios_with_events():
        for frame in _json_frames(scenario):
            obj = orjson.loads(frame.body)
            key = event_key({k: v for k, v in obj.items() if isinstance(v, str)})
            seen.setdefault(key, (scenario, obj))
    return sorted(seen.values(), key=lambda s: (s[0], str(s[1].get("Event-Sequence"))))


def _variants(obj: dict) -> list[dict]:
    key = event_key(obj)
    names = [*DISPATCH, *fields_for(obj), "Bridge-A-Unique-ID", "Bridge-B-Unique-ID"]
    out = []
    for name in dict.fromkeys(names):
        without = dict(obj)
        without.pop(name, None)
        out.append(without)
        for value in (*_HOSTILE, *_OTHER_TYPES):
            out.append({**obj, name: value})
    # Values the parsers never read, of every JSON type: the fast path must not care.
    out.append({**obj, "Unread-Header": {"nested": [1, None, {"deep": True}]}, "N": 1e300})
    # Keys in another order, the dispatch headers last.
    out.append(dict(reversed(list(obj.items()))))
    assert key in PARSERS or key.startswith("callcenter::info/") or obj
    return out


@pytest.mark.parametrize("sample", _samples(), ids=lambda s: event_key(s[1]) or "none")
def test_changed_headers_give_what_the_full_decode_gives(sample: tuple[str, dict]) -> None:
    for obj in _variants(sample[1]):
        body = orjson.dumps(obj)
        assert _product(body) == _full(body), obj
        if _fast_path_expected(obj):
            assert json_event(body) is not None, obj


def test_repeated_header_keeps_the_last_as_the_full_decode_does() -> None:
    body = (b'{"Event-Name":"CHANNEL_UNBRIDGE","Unique-ID":"u1","Hangup-Cause":"A",'
            b'"Caller-Caller-ID-Name":"\\u5f20\\u4e09 \\"q\\"\\n","Hangup-Cause":"B"}')
    event = json_event(body)
    assert event is not None and event.hangup_cause == "B"
    assert event == _full(body) and event.caller_name == '张三 "q"\n'


def test_escaped_keys_are_the_same_headers() -> None:
    for body in [
        (b'{"Event\\u002DName":"CHANNEL_CREATE","Unique\\u002dID":"u1","Channel-Name":"a",'
        b'"Channel\\u002DName":"b"}'),
        (b'{"Event-Name":"CUSTOM","Event-Subclass":"callcenter::info","CC-Action":'
        b'"agent-status-change","CC-Agent":"a","CC-Agent-Status":"x","CC\\u002dAgent":"b"}'),
    ]:
        event = json_event(body)
        assert event is not None and event == _full(body)
        assert "b" in event


def test_a_repeated_event_name_is_left_to_the_full_decode() -> None:
    body = b'{"Event-Name":"CHANNEL_CREATE","Unique-ID":"u1","Event-Name":"HEARTBEAT"}'
    assert json_event(body) is None
    assert _product(body) == _full(body)


@pytest.mark.parametrize("body", [b"{not json", b"[1,2]", b"", b'"x"', b"null",
                                  b'{"Event-Name":"HEART}', b'{"Event-Name":"CHANNEL_CREATE"',
                                  b'{"Event-Name":"CHANNEL_CREATE","Unique-ID":"\\ud800"}'])
def test_a_body_that_is_not_an_object_is_still_a_protocol_error(body: bytes) -> None:
    assert json_event(body) is None
    assert _product(body) is ProtocolError


def test_bad_bytes_in_a_header_the_parser_reads_are_still_refused() -> None:
    body = b'{"Event-Name":"CHANNEL_CREATE","Unique-ID":"u1","Channel-Name":"\xff"}'
    assert json_event(body) is None
    assert _product(body) is ProtocolError


def test_bad_bytes_in_an_unread_header_no_longer_cost_the_event() -> None:
    """The one deliberate difference (see events_json): orjson refuses the whole body."""
    body = b'{"Event-Name":"CHANNEL_CREATE","Unique-ID":"u1","Unread":"\xff\xfe"}'
    event = json_event(body)
    assert event is not None and event.uuid == "u1"
    assert _full(body) is ProtocolError


def test_unknown_custom_events_are_unknown_events() -> None:
    for sub, action in [("callcenter::info", "agent-new-thing"), ("callcenter::info", None),
                        ("mod_other::thing", None), (None, None)]:
        obj = {"Event-Name": "CUSTOM", "Event-Date-Timestamp": "1795457123790740"}
        if sub is not None:
            obj["Event-Subclass"] = sub
        if action is not None:
            obj["CC-Action"] = action
        body = orjson.dumps(obj)
        event = json_event(body)
        assert isinstance(event, UnknownEvent) and event == _full(body)


def test_a_bad_timestamp_is_an_event_error_on_both_paths() -> None:
    body = b'{"Event-Name":"CHANNEL_CREATE","Unique-ID":"u1","Event-Date-Timestamp":"x"}'
    assert json_event(body) is None
    assert _product(body) is EventError is _full(body)


def test_the_pipeline_falls_back_and_logs_as_before(caplog: pytest.LogCaptureFixture) -> None:
    pipeline = Pipeline(State(), Notifier())
    with caplog.at_level(logging.ERROR, logger="cti_middleware.pipeline"):
        pipeline.handle_frame(Frame({"Content-Type": JSON}, b"[1]"))
        pipeline.handle_frame(Frame({"Content-Type": JSON}, b'{"Event-Name":"CHANNEL_CREATE"}'))
        pipeline.handle_frame(Frame({"Content-Type": JSON},
                                    b'{"Event-Name":"CHANNEL_CREATE","Unique-ID":["a","b"]}'))
    assert pipeline.skipped == 2 and pipeline.events == 1
    assert "not an object" in caplog.text and "without Unique-ID" in caplog.text
    assert "ARRAY::a|:b" in pipeline.state.channels


# --------------------------------------------------------------------------- framing


@pytest.mark.parametrize("scenario", ["03", "09", "13"])
@pytest.mark.parametrize("chunk", [1, 13, 700, 4096, 65536])
def test_any_split_of_the_stream_gives_the_same_frames(scenario: str, chunk: int) -> None:
    data = (scenario_dir(scenario) / "events.json").read_bytes()
    if chunk == 1:
        data = data[:30000]
    whole = FrameParser().feed(data)
    parser = FrameParser()
    pieces: list[Frame] = []
    for i in range(0, len(data), chunk):
        pieces += parser.feed(data[i : i + chunk])
    assert [(f.headers, f.body) for f in pieces] == [(f.headers, f.body) for f in whole]
    assert sum(f.content_type in EVENT_TYPES for f in whole) > 10


def test_an_oversized_event_frame_is_refused() -> None:
    parser = FrameParser(max_body=100)
    with pytest.raises(ProtocolError, match="exceeds"):
        parser.feed(b"Content-Length: 101\nContent-Type: text/event-json\n\n")


def test_event_frames_after_other_frames_and_blank_lines() -> None:
    body = b'{"Event-Name":"HEARTBEAT"}'
    event = b"Content-Length: %d\nContent-Type: text/event-json\n\n" % len(body) + body
    data = (b"Content-Type: auth/request\n\n" + event + b"\n\n" + event
            + b"Content-Type: command/reply\nReply-Text: +OK\n\n" + event)
    got = FrameParser().feed(data)
    assert [f.content_type for f in got] == [
        "auth/request", JSON, JSON, "command/reply", JSON]
    assert [f.body for f in got if f.content_type == JSON] == [body] * 3
    assert got[1].headers == {"Content-Length": str(len(body)), "Content-Type": JSON}
