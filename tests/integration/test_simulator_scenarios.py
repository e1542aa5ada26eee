"""Replay the recorded scenarios against the simulator over TCP and compare the streams.

For each scenario the commands of ``commands.txt`` are sent on three connections, as
they were recorded (plain events, json events, commands).  Before each command the
replay waits until the simulator has sent as many events as FreeSWITCH had sent at
that moment of the recording, so timing is driven by events, never by sleeps.  Uuids
in commands are translated from the recording's to the simulator's by aligning the two
event streams.  Then the sequence of (Event-Name, CC-Action) and the header names of
every event must equal the recording's.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import gevent.event
import pytest
from gevent import socket

from cti_middleware.esl.wire import Frame, FrameParser, parse_event_body
from cti_middleware.simulator import SimConfig, Simulator

CAPTURES = Path(os.environ.get("CTI_CAPTURES", "/work/shared/captures"))
pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason="reference recordings not available")

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DIGITS = re.compile(r"\d+")
UUID_KEYS = ("Unique-ID", "CC-Member-UUID", "CC-Member-Session-UUID", "CC-Agent-UUID", "Job-UUID",
             "Other-Leg-Unique-ID", "Channel-Call-UUID")
# how long before a recorded command an event must have been recorded to count as "already there"
MARGIN = 0.02
TIME_SCALE = 0.05


def read_frames(path: Path) -> list[Frame]:
    return FrameParser().feed(path.read_bytes())


def capture_events(scenario: str, fmt: str) -> list[dict[str, str]]:
    """The recorded events in the order FreeSWITCH created them (Event-Sequence).

    The socket occasionally delivered two events of racing threads swapped (sequence
    1720 before 1719); the simulator has no such races, so the recording is compared in
    creation order.
    """
    frames = read_frames(CAPTURES / scenario / f"events.{fmt}")
    events = [parse_event_body(f) for f in frames if f.content_type.startswith("text/event-")]
    return sorted(events, key=lambda e: int(e["Event-Sequence"]))


def capture_replies(scenario: str) -> list[Frame]:
    frames = read_frames(CAPTURES / scenario / "replies.esl")
    return [f for f in frames if f.content_type in ("api/response", "command/reply")][1:]


def commands(scenario: str) -> list[tuple[float, str]]:
    out = []
    for line in (CAPTURES / scenario / "commands.txt").read_text().splitlines():
        stamp, _, cmd = line.partition(" ")
        out.append((float(stamp), cmd))
    return out


class Client:
    """A raw ESL client: a socket, the project's frame parser, a reader greenlet."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.parser = FrameParser()
        self.frames: list[Frame] = []
        self.replies: list[Frame] = []
        self.events: list[dict[str, str]] = []
        self.notices: list[Frame] = []
        self.changed = gevent.event.Event()
        self.reader = gevent.spawn(self._read)

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.changed.set()
                return
            for frame in self.parser.feed(data):
                self.frames.append(frame)
                if frame.content_type.startswith("text/event-"):
                    self.events.append(parse_event_body(frame))
                elif frame.content_type == "text/disconnect-notice":
                    self.notices.append(frame)
                else:
                    self.replies.append(frame)
            self.changed.set()

    def wait(self, predicate, timeout: float = 10.0) -> None:
        with gevent.Timeout(timeout, AssertionError("timed out waiting for the simulator")):
            while not predicate():
                self.changed.clear()
                if predicate():
                    return
                self.changed.wait()

    def command(self, line: str, timeout: float = 10.0) -> Frame:
        before = len(self.replies)
        self.sock.sendall(line.encode("utf-8") + b"\n\n")
        self.wait(lambda: len(self.replies) > before, timeout)
        return self.replies[before]

    def close(self) -> None:
        self.sock.close()
        self.reader.kill()


@dataclass
class Replay:
    plain: list[dict[str, str]] = field(default_factory=list)
    json: list[dict[str, str]] = field(default_factory=list)
    replies: list[Frame] = field(default_factory=list)
    notices: list[list[Frame]] = field(default_factory=list)
    simulator: Simulator | None = None


def _learn(mapping: dict[str, str], recorded: list[dict[str, str]], simulated: list[dict[str, str]]) -> None:
    for rec, sim in zip(recorded, simulated):
        for key in UUID_KEYS:
            if key in rec and key in sim:
                mapping.setdefault(rec[key], sim[key])


def replay(scenario: str) -> Replay:
    recorded = capture_events(scenario, "plain")
    recorded_json = capture_events(scenario, "json")
    recorded_replies = capture_replies(scenario)
    cmds = commands(scenario)
    api_cmds = [(t, c) for t, c in cmds if c.startswith(("api ", "bgapi "))]
    start = min(int(e["Event-Date-Timestamp"]) for e in recorded) / 1e6 - api_cmds[0][0]
    sim = Simulator(SimConfig.default(time_scale=TIME_SCALE)).start()
    clients: list[Client] = []
    result = Replay(simulator=sim)
    try:
        auths = 0
        for _, cmd in cmds:
            if cmd.startswith("auth "):
                client = Client(sim.port)
                client.wait(lambda c=client: len(c.replies) >= 1)
                assert client.command(cmd).headers["Reply-Text"] == "+OK accepted"
                clients.append(client)
                auths += 1
            elif cmd.startswith("event "):
                reply = clients[-1].command(cmd)
                assert reply.headers["Reply-Text"].startswith("+OK event listener enabled")
        plain_c, json_c, cmd_c = clients
        mapping: dict[str, str] = {}
        for index, (stamp, cmd) in enumerate(api_cmds):
            due = sum(1 for e in recorded if int(e["Event-Date-Timestamp"]) / 1e6 < start + stamp - MARGIN)
            plain_c.wait(lambda due=due: len(plain_c.events) >= due)
            _learn(mapping, recorded, plain_c.events)
            line = UUID_RE.sub(lambda m: mapping.get(m.group(0), m.group(0)), cmd)
            reply = cmd_c.command(line)
            result.replies.append(reply)
            _map_reply(mapping, recorded_replies[index] if index < len(recorded_replies) else None, reply)
        plain_c.wait(lambda: len(plain_c.events) >= len(recorded))
        json_c.wait(lambda: len(json_c.events) >= len(recorded_json))
        if scenario.startswith("12"):
            for client in clients:
                client.wait(lambda c=client: bool(c.notices))
        result.plain, result.json = list(plain_c.events), list(json_c.events)
        result.notices = [list(c.notices) for c in clients]
    finally:
        for client in clients:
            client.close()
        sim.stop()
    return result


def _map_reply(mapping: dict[str, str], recorded: Frame | None, simulated: Frame) -> None:
    if recorded is None:
        return
    rec_text = recorded.body_text() + recorded.headers.get("Reply-Text", "")
    sim_text = simulated.body_text() + simulated.headers.get("Reply-Text", "")
    for rec_uuid, sim_uuid in zip(UUID_RE.findall(rec_text), UUID_RE.findall(sim_text)):
        mapping.setdefault(rec_uuid, sim_uuid)


def aligned(recorded: list[dict[str, str]], simulated: list[dict[str, str]]):
    """Pairs of (recorded, simulated) events for the same thing happening to the same leg.

    Events FreeSWITCH emits from racing threads (two legs hanging up at once) may come
    in either order; they are paired by name, action, channel and agent, then by rank.
    """
    def key(event: dict[str, str]) -> tuple[str, ...]:
        return (event["Event-Name"], event.get("CC-Action", ""), DIGITS.sub("#", event.get("Channel-Name", "")),
                DIGITS.sub("#", event.get("CC-Agent", "")))

    seen: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for event in simulated:
        seen.setdefault(key(event), []).append(event)
    for index, rec in enumerate(recorded):
        candidates = seen.get(key(rec), [])
        yield index, rec, (candidates.pop(0) if candidates else None)


def signature(events: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(e["Event-Name"], e.get("CC-Action", "")) for e in events]


def header_names(event: dict[str, str]) -> set[str]:
    return {k for k in event if not k.startswith("variable_")}


def variable_names(event: dict[str, str]) -> set[str]:
    return {k for k in event if k.startswith("variable_")}


CALL_SCENARIOS = [
    "03-answered-call",
    "04-abandoned-call",
    "05-agent-no-answer",
    "06-vip-ring-all",
    "07-agent-hangs-up",
    "08-blind-transfer",
    "09-hostile-caller-values",
    "11-bgapi-originate",
    "15-attended-transfer",
]


@pytest.fixture(scope="module")
def replays() -> dict[str, Replay]:
    return {}


def _replayed(replays: dict[str, Replay], scenario: str) -> Replay:
    if scenario not in replays:
        replays[scenario] = replay(scenario)
    return replays[scenario]


@pytest.mark.parametrize("scenario", CALL_SCENARIOS + ["01-config-lists", "02-agent-status", "12-freeswitch-shutdown"])
def test_event_sequence_matches_recording(replays: dict[str, Replay], scenario: str) -> None:
    result = _replayed(replays, scenario)
    assert signature(result.plain) == signature(capture_events(scenario, "plain"))
    assert signature(result.json) == signature(capture_events(scenario, "json"))


@pytest.mark.parametrize("scenario", CALL_SCENARIOS + ["01-config-lists", "02-agent-status", "12-freeswitch-shutdown"])
def test_event_headers_match_recording(replays: dict[str, Replay], scenario: str) -> None:
    result = _replayed(replays, scenario)
    for fmt, simulated in (("plain", result.plain), ("json", result.json)):
        for index, rec, sim in aligned(capture_events(scenario, fmt), simulated):
            where = f"{scenario} {fmt} event #{index} {rec['Event-Name']} {rec.get('CC-Action', '')}"
            assert sim is not None, f"{where}: no such event from the simulator"
            assert sorted(header_names(sim)) == sorted(header_names(rec)), where
            missing = variable_names(rec) - variable_names(sim)
            assert not missing, f"{where}: variables missing {sorted(missing)}"


def test_hostile_values_stay_inside_their_headers(replays: dict[str, Replay]) -> None:
    result = _replayed(replays, "09-hostile-caller-values")
    hostile = "Mallory\nCC-Agent: 9999@default\nCC-Action: agent-offering"
    for events in (result.plain, result.json):
        offers = [e for e in events if e.get("CC-Action") == "agent-offering"]
        assert [e["CC-Member-CID-Name"] for e in offers] == [hostile]
        assert all(e["CC-Agent"] == "1000@default" for e in offers)
        notes = {e.get("variable_crm_note") for e in events if "variable_crm_note" in e}
        assert notes == {"line1\nEvent-Name: HEARTBEAT"}
        assert all(e["Event-Name"] != "HEARTBEAT" for e in events)
