"""The simulator's api outputs against the recorded replies (01-config-lists and others).

Outputs must be the same text as FreeSWITCH's, modulo uuids and the counters and
timestamps a fresh switch cannot share with the recorded one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import orjson
import pytest

from cti_middleware.esl.wire import FrameParser
from cti_middleware.simulator import SimConfig, Simulator
from cti_middleware.simulator.cc_api import split_args
from cti_middleware.simulator.originate import parse_originate

CAPTURES = Path(os.environ.get("CTI_CAPTURES", "/work/shared/captures"))
needs_captures = pytest.mark.skipif(not CAPTURES.is_dir(), reason="reference recordings not available")

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# columns that carry history (times, counters) a fresh switch cannot reproduce
VOLATILE = {
    "last_bridge_start", "last_bridge_end", "last_offered_call", "last_status_change", "calls_answered",
    "talk_time", "no_answer_count", "calls_abandoned", "system_epoch", "joined_epoch", "bridge_epoch",
    "score", "ready_time",
}


def recorded_pairs(scenario: str) -> list[tuple[str, str]]:
    """(command, reply body) for every api command of the scenario's command connection."""
    cmds = []
    auths = 0
    for line in (CAPTURES / scenario / "commands.txt").read_text().splitlines():
        cmd = line.split(" ", 1)[1]
        if cmd.startswith("auth "):
            auths += 1
        elif cmd.startswith("api ") and auths >= 3:
            cmds.append(cmd[4:])
    frames = FrameParser().feed((CAPTURES / scenario / "replies.esl").read_bytes())
    bodies = [f.body_text() for f in frames if f.content_type == "api/response"]
    return list(zip(cmds, bodies))


def normalise(text: str) -> str:
    """uuids and volatile table columns replaced, so only the shape and stable values remain."""
    text = UUID_RE.sub("<uuid>", text)
    lines = text.split("\n")
    header: list[str] | None = None
    out = []
    for line in lines:
        cells = line.split("|")
        if len(cells) > 3 and "name" in cells or (len(cells) > 3 and cells[0] == "queue"):
            header = cells
            out.append(line)
            continue
        if header and len(cells) == len(header):
            cells = ["*" if col in VOLATILE else cell for col, cell in zip(header, cells)]
            out.append("|".join(cells))
            continue
        out.append(line)
    return "\n".join(out)


@pytest.fixture
def sim() -> Simulator:
    return Simulator(SimConfig.default(time_scale=0.05))


@needs_captures
def test_config_lists_match_recording(sim: Simulator) -> None:
    pairs = recorded_pairs("01-config-lists")
    checked = 0
    for cmd, expected in pairs:
        if cmd.startswith("originate"):
            break  # what follows needs the call the recording had in progress
        got = sim.api(cmd)
        assert normalise(got) == normalise(expected), cmd
        checked += 1
    assert checked >= 20


@needs_captures
def test_agent_status_scenario_replies_match(sim: Simulator) -> None:
    for cmd, expected in recorded_pairs("02-agent-status"):
        assert sim.api(cmd) == expected, cmd


def test_agent_get_has_no_trailing_newline(sim: Simulator) -> None:
    assert sim.api("callcenter_config agent get status 1000@default") == "Logged Out"
    assert sim.api("callcenter_config agent get state 1000@default") == "Waiting"


def test_errors_are_module_texts(sim: Simulator) -> None:
    assert sim.api("callcenter_config agent set status 9999@default Available") == "-ERR Agent not found!\n"
    assert sim.api("callcenter_config agent set status 1000@default Sleeping") == "-ERR Invalid Agent Status!\n"
    assert sim.api("callcenter_config agent set state 1000@default Dozing") == "-ERR Invalid Agent State!\n"
    assert sim.api("callcenter_config agent add 1000@default callback") == "-ERR Agent already exist!\n"
    assert sim.api("callcenter_config tier add nowhere@default 1000@default 1 1") == "-ERR Queue not found!\n"
    assert sim.api("callcenter_config agent") == "-ERR Invalid!\n"
    assert sim.api("no_such_command") == "-ERR no_such_command Command not found!\n"
    assert sim.api("uuid_kill 00000000-0000-0000-0000-000000000000") == "-ERR No such channel!\n"


def test_empty_shows(sim: Simulator) -> None:
    assert sim.api("show channels as json") == '{"row_count": 0}\n'
    assert sim.api("show calls as json") == '{"row_count": 0}\n'
    assert sim.api("callcenter_config queue list members support@default") == "+OK\n"
    assert sim.api("callcenter_config queue count members support@default") == "0\n"


def test_status_and_version_shape(sim: Simulator) -> None:
    status = sim.api("status").split("\n")
    assert re.match(r"UP \d+ years, \d+ days, \d+ hours, \d+ minutes, \d+ seconds, \d+ milliseconds, "
                     r"\d+ microseconds$", status[0])
    assert status[1] == "FreeSWITCH (Version 1.10.12-release git a88d069 2024-08-02 21:02:27Z 64bit) is ready"
    assert status[-2] == "Current Stack Size/Max 240K/8192K" and status[-1] == ""
    assert sim.api("version").startswith("FreeSWITCH Version 1.10.12-release")


def test_agent_add_and_contact_events(sim: Simulator) -> None:
    seen: list[tuple[str, str]] = []
    sim.observe(lambda headers, body: seen.append((dict(headers).get("CC-Action", ""),
                                                   dict(headers).get("CC-Agent", ""))))
    assert sim.api("callcenter_config agent add 1003@default callback") == "+OK\n"
    assert sim.api("callcenter_config agent set contact 1003@default null/agent1003") == "+OK\n"
    assert sim.api("callcenter_config agent del 1003@default") == "+OK\n"
    assert seen == [("agent-add", "1003@default"), ("agent-contact-change", "1003@default")]


def test_split_args_groups_quotes() -> None:
    assert split_args("agent set status 1000@default 'Logged Out'") == [
        "agent", "set", "status", "1000@default", "Logged Out"]
    assert split_args("agent set status 1000@default 'Available (On Demand)'")[-1] == "Available (On Demand)"


def test_parse_originate() -> None:
    req = parse_originate("{origination_caller_id_number=13800138000,origination_caller_id_name=张三}"
                          "loopback/support/default &park()")
    assert req is not None
    assert req.variables == {"origination_caller_id_number": "13800138000", "origination_caller_id_name": "张三"}
    assert (req.endpoint, req.target, req.app, req.app_args) == ("loopback", "support/default", "park", "")
    req = parse_originate("{a=1}loopback/9000/agents &eavesdrop(1234)")
    assert req is not None and (req.app, req.app_args) == ("eavesdrop", "1234")
    assert parse_originate("") is None


@needs_captures
def test_show_channels_json_keys_match_recording() -> None:
    frames = FrameParser().feed((CAPTURES / "01-config-lists" / "replies.esl").read_bytes())
    bodies = [f.body for f in frames if f.content_type == "api/response" and f.body.startswith(b'{"row_count":3')]
    recorded = orjson.loads(bodies[0])
    from cti_middleware.simulator.api import CHANNEL_FIELDS

    assert list(recorded["rows"][0]) == list(CHANNEL_FIELDS)
