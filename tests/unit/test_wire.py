"""The wire layer against FreeSWITCH's own bytes, and against bytes meant to break it."""

from __future__ import annotations

import glob
import os

import pytest

from cti_middleware.esl.wire import (
    Frame,
    FrameParser,
    ProtocolError,
    encode_event_json,
    encode_event_plain,
    encode_frame,
    fs_urlencode,
    parse_event_body,
    parse_event_pairs,
    split_array,
)

CAPTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "captures")
STREAMS = sorted(
    glob.glob(os.path.join(CAPTURES, "*", "events.*")) + glob.glob(os.path.join(CAPTURES, "*", "*.esl"))
)


def _reencode(frame: Frame) -> bytes:
    if frame.content_type == "text/event-plain":
        return encode_event_plain(*parse_event_pairs(frame))
    if frame.content_type == "text/event-json":
        return encode_event_json(*parse_event_pairs(frame))
    return encode_frame(list(frame.headers.items()), frame.body)


def test_captures_are_present() -> None:
    assert len(STREAMS) >= 50, CAPTURES


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: "/".join(p.split(os.sep)[-2:]))
def test_every_capture_parses_and_reencodes_byte_exact(path: str) -> None:
    with open(path, "rb") as f:
        data = f.read()
    parser = FrameParser()
    frames = parser.feed(data)
    assert frames and parser.buffered() == 0
    assert frames[0].content_type == "auth/request"
    assert b"".join(_reencode(f) for f in frames) == data


@pytest.mark.parametrize("path", STREAMS[:6], ids=lambda p: "/".join(p.split(os.sep)[-2:]))
def test_byte_by_byte_feeding_gives_the_same_frames(path: str) -> None:
    with open(path, "rb") as f:
        data = f.read()[:20000]
    whole = FrameParser().feed(data)
    parser = FrameParser()
    pieces: list[Frame] = []
    for i in range(0, len(data), 7):
        pieces += parser.feed(data[i : i + 7])
    assert [(f.headers, f.body) for f in pieces] == [(f.headers, f.body) for f in whole]


def _events(path: str) -> list[dict[str, str]]:
    with open(path, "rb") as f:
        frames = FrameParser().feed(f.read())
    return [parse_event_body(f) for f in frames if f.content_type.startswith("text/event-")]


def test_plain_and_json_give_the_same_headers() -> None:
    for scenario in ("03-answered-call", "09-hostile-caller-values", "13-sip-call-agent-holds"):
        plain = _events(os.path.join(CAPTURES, scenario, "events.plain"))
        as_json = _events(os.path.join(CAPTURES, scenario, "events.json"))
        assert len(plain) == len(as_json)
        for p, j in zip(plain, as_json):
            assert p == j


def test_hostile_caller_name_cannot_forge_headers() -> None:
    for kind in ("plain", "json"):
        events = _events(os.path.join(CAPTURES, "09-hostile-caller-values", f"events.{kind}"))
        offering = [e for e in events if e.get("CC-Action") == "agent-offering"]
        assert offering
        for event in offering:
            assert event["CC-Agent"] != "9999@default"
            assert event["CC-Member-CID-Name"].startswith("Mallory\nCC-Agent: 9999@default")
        assert all(e["Event-Name"] != "HEARTBEAT" for e in events)
        notes = [e["variable_crm_note"] for e in events if "variable_crm_note" in e]
        assert notes and all(n == "line1\nEvent-Name: HEARTBEAT" for n in notes)


def test_json_arrays_take_the_plain_form() -> None:
    events = _events(os.path.join(CAPTURES, "03-answered-call", "events.json"))
    matches = [e["variable_DP_MATCH"] for e in events if "variable_DP_MATCH" in e]
    assert matches and split_array(matches[0]) == ["support", "support"]


def test_background_job_body() -> None:
    events = _events(os.path.join(CAPTURES, "11-bgapi-originate", "events.plain"))
    job = next(e for e in events if e["Event-Name"] == "BACKGROUND_JOB")
    assert job["_body"].startswith("+OK ")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"Content-Length: abc\n\n", "invalid Content-Length"),
        (b"Content-Length: -5\n\n", "invalid Content-Length"),
        (b"Content-Length: 99999999999\n\n", "exceeds"),
        (b"Content-Type: api/response\ngarbage line\n\n", "without ': '"),
    ],
)
def test_malformed_frames_raise_protocol_error(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        FrameParser().feed(data)


def test_header_flood_without_terminator_is_bounded() -> None:
    parser = FrameParser(max_header_bytes=1024)
    with pytest.raises(ProtocolError):
        for _ in range(100):
            parser.feed(b"X-Header: " + b"a" * 100 + b"\n")


def test_oversized_body_is_refused_before_it_is_buffered() -> None:
    parser = FrameParser(max_body=1000)
    with pytest.raises(ProtocolError, match="exceeds"):
        parser.feed(b"Content-Type: api/response\nContent-Length: 1001\n\n")


def test_bad_event_bodies() -> None:
    with pytest.raises(ProtocolError):
        parse_event_body(Frame({"Content-Type": "text/event-json"}, b"{not json"))
    with pytest.raises(ProtocolError):
        parse_event_body(Frame({"Content-Type": "text/event-json"}, b"[1,2]"))
    with pytest.raises(ProtocolError):
        parse_event_body(Frame({"Content-Type": "text/event-plain"}, b"Event-Name CUSTOM\n\n"))
    with pytest.raises(ProtocolError):
        parse_event_body(Frame({"Content-Type": "api/response"}, b"+OK"))


def test_fs_urlencode_matches_freeswitch() -> None:
    assert fs_urlencode("2026-11-23 18:05:10") == "2026-11-23%2018%3A05%3A10"
    assert fs_urlencode("Mon, 23 Nov") == "Mon,%2023%20Nov"
    assert fs_urlencode("张三") == "%E5%BC%A0%E4%B8%89"
    assert fs_urlencode("a\nb") == "a%0Ab"
    assert fs_urlencode("100%") == "100%25"
    assert fs_urlencode("%41") == "%41"  # already encoded sequences are left alone
    assert fs_urlencode("{x=1,y=2}|&") == "%7Bx%3D1,y%3D2%7D%7C%26"
