"""The supervisor apps of the simulator (eavesdrop, three_way, intercept) against FreeSWITCH.

The recording 16-whisper-and-barge is replayed over the event socket and compared
event by event (names, header names, variables) as the other scenarios are; the parts
no recording shows (key menu, target hanging up, intercept) are checked in-process
against what switch_ivr_eavesdrop_session / switch_ivr_intercept_session do.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import gevent
import gevent.event
import pytest

from cti_middleware import commands
from cti_middleware.simulator import SimConfig, Simulator
from cti_middleware.simulator.eavesdrop import BARGE, LISTEN, WHISPER, WHISPER_PARTNER
from tests.unit.captures import header_dicts

CAPTURES = Path(os.environ.get("CTI_CAPTURES", "/work/shared/captures"))
needs_captures = pytest.mark.skipif(not CAPTURES.is_dir(), reason="reference recordings not available")
SCENARIO = "16-whisper-and-barge"
CALLER = ("originate {origination_caller_id_number=13800138000,origination_caller_id_name=ZhangSan}"
          "loopback/support/default &park()")
Event = dict[str, str]


# --- the recording, replayed ------------------------------------------------------------
@pytest.fixture(scope="module")
def replayed():
    from tests.integration import test_simulator_scenarios as scenarios

    return scenarios, scenarios.replay(SCENARIO)


@needs_captures
def test_whisper_and_barge_replay_as_recorded(replayed) -> None:
    scenarios, result = replayed
    for fmt, simulated in (("plain", result.plain), ("json", result.json)):
        recorded = scenarios.capture_events(SCENARIO, fmt)
        assert scenarios.signature(simulated) == scenarios.signature(recorded)
        for index, rec, sim in scenarios.aligned(recorded, simulated):
            where = f"{fmt} event #{index} {rec['Event-Name']} {rec.get('Channel-Name', '')}"
            assert sim is not None, where
            assert sorted(scenarios.header_names(sim)) == sorted(scenarios.header_names(rec)), where
            assert not scenarios.variable_names(rec) - scenarios.variable_names(sim), where


@needs_captures
def test_supervisor_legs_name_their_app_target_and_the_callers_display(replayed) -> None:
    _scenarios, result = replayed
    recorded = [e for e in header_dicts(SCENARIO, "plain")
                if e["Event-Name"] == "CHANNEL_HANGUP" and e["Channel-Name"] == "loopback/9000-a"]
    simulated = [e for e in result.plain
                 if e["Event-Name"] == "CHANNEL_HANGUP" and e["Channel-Name"] == "loopback/9000-a"]
    agent_legs = {e["Unique-ID"] for e in result.plain if e.get("Channel-Name") == "null/agent1000"}
    assert [e["variable_current_application"] for e in simulated] == \
        [e["variable_current_application"] for e in recorded] == ["eavesdrop", "three_way"]
    for rec, sim in zip(recorded, simulated):
        assert sim["variable_current_application_data"] in agent_legs
        for name in ("last_sent_callee_id_name", "last_sent_callee_id_number", "eavesdrop_whisper_aleg"):
            assert sim.get(f"variable_{name}") == rec.get(f"variable_{name}"), name
    # the tapped call stays bridged: its legs go down only when the caller hangs up, later
    bridge_ends = [i for i, e in enumerate(result.plain) if e["Event-Name"] == "CHANNEL_UNBRIDGE"]
    last_supervisor = max(i for i, e in enumerate(result.plain) if e.get("Channel-Name", "").startswith(
        "loopback/9000"))
    assert bridge_ends and min(bridge_ends) > last_supervisor


@needs_captures
def test_eavesdrop_leg_of_recording_10_carries_the_same_variables(replayed) -> None:
    _scenarios, result = replayed
    recorded = next(e for e in header_dicts("10-eavesdrop-and-three-way", "plain")
                    if e["Event-Name"] == "CHANNEL_HANGUP" and e["Channel-Name"] == "loopback/9000-a")
    simulated = next(e for e in result.plain
                     if e["Event-Name"] == "CHANNEL_HANGUP" and e["Channel-Name"] == "loopback/9000-a")
    missing = {k for k in recorded if k.startswith("variable_")} - set(simulated)
    assert not missing
    assert recorded["variable_current_application"] == simulated["variable_current_application"] == "eavesdrop"


# --- in-process behaviour ------------------------------------------------------------------
class Switchboard:
    """A started simulator, every event it fires, and a wait on them that never polls."""

    def __init__(self) -> None:
        self.sim = Simulator(SimConfig.default(time_scale=0.05)).start()
        self.events: list[Event] = []
        self.changed = gevent.event.Event()
        self.sim.observe(self._seen)

    def _seen(self, headers, _body) -> None:
        self.events.append(dict(headers))
        self.changed.set()

    def wait(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        with gevent.Timeout(timeout, AssertionError("condition not met in time")):
            while not predicate():
                self.changed.clear()
                self.changed.wait()

    def events_of(self, uuid: str, name: str | None = None) -> list[Event]:
        return [e for e in self.events if e.get("Unique-ID") == uuid and name in (None, e["Event-Name"])]

    def bridged_call(self) -> tuple[str, str]:
        """(customer member leg, agent leg) of a call agent 1000 has answered."""
        api = self.sim.api
        for other in ("1001@default", "1002@default"):
            api(f"callcenter_config agent set status {other} 'Logged Out'")
        api("callcenter_config agent set status 1000@default Available")
        assert api(CALLER).startswith("+OK")
        self.wait(lambda: any(e["Event-Name"] == "CHANNEL_BRIDGE" for e in self.events))
        bridge = next(e for e in self.events if e["Event-Name"] == "CHANNEL_BRIDGE")
        return bridge["Bridge-A-Unique-ID"], bridge["Bridge-B-Unique-ID"]

    def supervise(self, app: str, target: str, variables: str = "eavesdrop_enable_dtmf=true") -> str:
        reply = self.sim.api(f"originate {{origination_caller_id_number=9000,{variables}}}"
                             f"user/9000@default &{app}({target})")
        assert reply.startswith("+OK "), reply
        return reply.split()[1]

    def tap(self, leg: str):
        return self.sim.commands.originator.supervision.tap_of(leg)

    def alive(self, uuid: str) -> bool:
        return self.sim.switch.get(uuid) is not None


@pytest.fixture
def board() -> Iterator[Switchboard]:
    board = Switchboard()
    try:
        yield board
    finally:
        board.sim.stop()


def test_eavesdrop_runs_the_app_and_switches_mode_with_the_menu_keys(board: Switchboard) -> None:
    member, agent = board.bridged_call()
    leg = board.supervise("eavesdrop", agent)
    execute = board.events_of(leg, "CHANNEL_EXECUTE")
    assert [(e["Application"], e["Application-Data"]) for e in execute] == [("eavesdrop", agent)]
    assert list(execute[0])[-3:] == ["Application", "Application-Data", "Application-UUID"]
    assert board.tap(leg).mode == LISTEN
    assert board.sim.switch.get(leg).variables["last_sent_callee_id_number"] == "13800138000"

    modes = []
    for key in ("2", "3", "1", "0"):
        assert board.sim.api(f"uuid_recv_dtmf {leg} {key}") == ""
        modes.append(board.tap(leg).mode)
    assert modes == [WHISPER, BARGE, WHISPER_PARTNER, LISTEN]
    dtmf = board.events_of(leg, "DTMF")
    assert [e["DTMF-Digit"] for e in dtmf] == ["2", "3", "1", "0"]
    assert all(list(e)[-2:] == ["DTMF-Digit", "DTMF-Duration"] for e in dtmf)  # after the channel data
    # the tapped call never left its bridge
    assert board.sim.switch.get(member).bridged is board.sim.switch.get(agent)
    assert not board.events_of(member, "CHANNEL_UNBRIDGE")


def test_whisper_variables_and_three_way_choose_the_first_mode(board: Switchboard) -> None:
    _member, agent = board.bridged_call()
    # whisper_aleg mixes into what the target reads: its partner hears, as key 1 does
    whisper = board.supervise("eavesdrop", agent, "eavesdrop_whisper_aleg=true")
    assert board.tap(whisper).mode == WHISPER_PARTNER
    assert board.tap(board.supervise("eavesdrop", agent, "eavesdrop_whisper_bleg=true")).mode == WHISPER
    both = board.supervise("eavesdrop", agent, "eavesdrop_whisper_aleg=true,eavesdrop_whisper_bleg=true")
    assert board.tap(both).mode == BARGE
    board.sim.api(f"uuid_recv_dtmf {whisper} 0")  # the menu is on unless turned off
    assert board.tap(whisper).mode == LISTEN
    deaf = board.supervise("eavesdrop", agent, "eavesdrop_enable_dtmf=false")
    board.sim.api(f"uuid_recv_dtmf {deaf} 3")
    assert board.tap(deaf).mode == LISTEN
    assert not board.events_of(deaf, "DTMF")
    barge = board.supervise("three_way", agent)
    assert board.tap(barge).app == "three_way" and board.tap(barge).mode == BARGE
    board.sim.api(f"uuid_recv_dtmf {barge} 0")
    assert board.tap(barge).mode == BARGE  # three_way has no key menu


def test_star_ends_the_tap_and_the_leg(board: Switchboard) -> None:
    member, agent = board.bridged_call()
    leg = board.supervise("eavesdrop", agent)
    assert board.sim.api(f"uuid_recv_dtmf {leg} 9*2") == ""
    assert [e["DTMF-Digit"] for e in board.events_of(leg, "DTMF")] == ["9", "*"]
    assert board.tap(leg) is None
    board.wait(lambda: not board.alive(leg))
    assert board.alive(member) and board.alive(agent)


def test_killing_the_supervisor_leg_ends_the_tap_and_leaves_the_call(board: Switchboard) -> None:
    member, agent = board.bridged_call()
    leg = board.supervise("eavesdrop", agent)
    assert board.sim.api(f"uuid_kill {leg}") == "+OK\n"
    assert board.tap(leg) is None
    assert [e["Event-Name"] for e in board.events_of(leg)][-3:] == [
        "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    assert board.alive(member) and board.alive(agent)
    assert board.sim.agent_status("1000@default")[1] == "In a queue call"


def test_the_supervisor_leg_hangs_up_when_the_target_does(board: Switchboard) -> None:
    _member, agent = board.bridged_call()
    leg = board.supervise("eavesdrop", agent)
    board.sim.api(f"uuid_kill {agent}")
    board.wait(lambda: not board.alive(leg))
    hangup = board.events_of(leg, "CHANNEL_HANGUP")[0]
    assert hangup["Hangup-Cause"] == "NORMAL_CLEARING"
    agent_gone = board.events.index(board.events_of(agent, "CHANNEL_DESTROY")[0])
    assert board.events.index(hangup) > agent_gone  # the app returns after the target is gone


def test_eavesdrop_on_a_missing_channel_hangs_up_at_once(board: Switchboard) -> None:
    leg = board.supervise("eavesdrop", "00000000-0000-0000-0000-000000000000")
    board.wait(lambda: not board.alive(leg))
    assert board.tap(leg) is None


def test_intercept_hands_the_customer_to_the_supervisor(board: Switchboard) -> None:
    member, agent = board.bridged_call()
    leg = board.supervise("intercept", member, "origination_caller_id_name=Sue")
    assert not board.alive(agent)
    assert board.events_of(agent, "CHANNEL_HANGUP")[0]["Hangup-Cause"] == "PICKED_OFF"
    actions = [e.get("CC-Action") for e in board.events if e["Event-Name"] == "CUSTOM"]
    assert actions[-3:] == ["bridge-agent-end", "member-queue-end", "agent-state-change"]
    ended = next(e for e in board.events if e.get("CC-Action") == "member-queue-end")
    assert ended["CC-Cause"] == "Terminated"
    bridge = board.events_of(leg, "CHANNEL_BRIDGE")[0]
    assert (bridge["Bridge-A-Unique-ID"], bridge["Bridge-B-Unique-ID"]) == (leg, member)
    assert board.sim.switch.get(member).bridged is board.sim.switch.get(leg)
    order = [(e["Event-Name"], e.get("Unique-ID")) for e in board.events]
    assert order.index(("CHANNEL_UNBRIDGE", member)) < order.index(("CHANNEL_BRIDGE", leg))
    assert board.sim.agent_status("1000@default")[1] == "Waiting"
    # the caller now talks to the supervisor; hanging up ends both
    board.sim.api(f"uuid_kill {leg}")
    assert not board.alive(member)


def test_the_middlewares_whisper_command_is_heard_by_the_agent_only(board: Switchboard) -> None:
    _member, agent = board.bridged_call()
    reply = board.sim.api(commands.eavesdrop("user/9000@default", agent, "whisper", "9000@default"))
    leg = reply.split()[1]
    assert board.tap(leg).mode == WHISPER
