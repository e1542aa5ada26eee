"""mod_callcenter behaviour of the simulator beyond the recorded scenarios.

These run in-process (``Simulator.api`` and an event observer) and await events; the
wire-level equivalence with FreeSWITCH is covered by test_simulator_scenarios.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import gevent
import gevent.event
import pytest

from cti_middleware.simulator import AgentConfig, SimConfig, Simulator

SCALE = 0.02
ORIGINATE = "originate {{origination_caller_id_number={num},origination_caller_id_name=Caller}}" \
            "loopback/{dest}/default &park()"


class Recorder:
    """Every event the simulator fires, with the moment it fired, and a way to await one."""

    def __init__(self, sim: Simulator) -> None:
        self.events: list[tuple[float, dict[str, str]]] = []
        self.changed = gevent.event.Event()
        sim.observe(self._on_event)

    def _on_event(self, headers: list[tuple[str, str]], _body: str | None) -> None:
        self.events.append((time.monotonic(), dict(headers)))
        self.changed.set()

    def wait(self, predicate: Callable[[dict[str, str]], bool], count: int = 1,
             timeout: float = 5.0) -> list[tuple[float, dict[str, str]]]:
        with gevent.Timeout(timeout, AssertionError("event not seen")):
            while True:
                found = [(t, e) for t, e in self.events if predicate(e)]
                if len(found) >= count:
                    return found
                self.changed.clear()
                self.changed.wait()


def action(name: str, agent: str | None = None) -> Callable[[dict[str, str]], bool]:
    return lambda e: e.get("CC-Action") == name and (agent is None or e.get("CC-Agent") == agent)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(SimConfig.default(time_scale=SCALE)).start()
    try:
        yield simulator
    finally:
        simulator.stop()


def test_wrap_up_delays_the_next_offer(sim: Simulator) -> None:
    rec = Recorder(sim)
    sim.api("callcenter_config agent set status 1000@default Available")
    first = sim.api(ORIGINATE.format(num="13800138000", dest="support")).split()[1]
    rec.wait(action("bridge-agent-start"))
    sim.api(ORIGINATE.format(num="13900139000", dest="support"))
    sim.api(f"uuid_kill {first}")
    (ended, _), = rec.wait(action("bridge-agent-end"))
    offers = rec.wait(action("agent-offering"), count=2)
    # no announcement of wrap-up: the agent is Waiting at once, just not offered anything
    assert sim.agent_status("1000@default")[1] in ("Receiving", "In a queue call")
    assert offers[1][0] - ended >= 3 * SCALE * 0.9


def test_hupall_while_ringing_fails_the_offer_with_its_cause(sim: Simulator) -> None:
    rec = Recorder(sim)
    sim.api("callcenter_config agent set status 1002@default Available")
    sim.api(ORIGINATE.format(num="13800138000", dest="support"))
    rec.wait(lambda e: e.get("Event-Name") == "CHANNEL_CREATE" and e.get("Channel-Name") == "null/agent1002")
    assert sim.api("hupall NORMAL_CLEARING") == "+OK hangup all channels with cause NORMAL_CLEARING\n"
    (_, fail), = rec.wait(action("bridge-agent-fail"))
    assert fail["CC-Hangup-Cause"] == "NORMAL_CLEARING"
    (_, end), = rec.wait(action("member-queue-end"))
    assert (end["CC-Cause"], end["CC-Cancel-Reason"]) == ("Cancel", "BREAK_OUT")
    assert sim.channels == []


def test_busy_agent_is_offered_again_after_busy_delay() -> None:
    config = SimConfig.default(time_scale=SCALE)
    config.agents.append(AgentConfig("1003@default", "[leg_timeout=10]sofia/internal/sip:agent1003@127.0.0.1:5090",
                                     busy=True))
    config.tiers.append(type(config.tiers[0])("support@default", "1003@default", 1, 3))
    sim = Simulator(config).start()
    try:
        rec = Recorder(sim)
        sim.api("callcenter_config agent set status 1003@default Available")
        sim.api(ORIGINATE.format(num="13800138000", dest="support"))
        fails = rec.wait(action("bridge-agent-fail"), count=2)
        assert all(e["CC-Hangup-Cause"] == "USER_BUSY" for _, e in fails)
        assert fails[1][0] - fails[0][0] >= 5 * SCALE * 0.9
        creates = [e for _, e in rec.events if e.get("Event-Name") == "CHANNEL_CREATE"]
        assert creates[-1]["Channel-Name"] == "sofia/internal/agent1003@127.0.0.1:5090"
        assert sim.agent_status("1003@default") == ("Available", "Waiting")
    finally:
        sim.stop()


def test_on_demand_agent_goes_idle_after_a_call(sim: Simulator) -> None:
    rec = Recorder(sim)
    sim.api("callcenter_config agent set status 1000@default 'Available (On Demand)'")
    caller = sim.api(ORIGINATE.format(num="13800138000", dest="support")).split()[1]
    rec.wait(action("bridge-agent-start"))
    sim.api(f"uuid_kill {caller}")
    rec.wait(lambda e: e.get("CC-Action") == "agent-state-change" and e.get("CC-Agent-State") == "Idle")
    assert sim.agent_status("1000@default") == ("Available (On Demand)", "Idle")


def test_break_while_ringing_cancels_the_offer(sim: Simulator) -> None:
    rec = Recorder(sim)
    sim.api("callcenter_config agent set status 1002@default Available")
    sim.api(ORIGINATE.format(num="13800138000", dest="support"))
    rec.wait(action("agent-offering"))
    sim.api("callcenter_config agent set status 1002@default 'On Break'")
    (_, fail), = rec.wait(action("bridge-agent-fail"))
    assert fail["CC-Hangup-Cause"] == "ORIGINATOR_CANCEL"
    assert sim.agent_status("1002@default") == ("On Break", "Waiting")
    assert [m.state for m in sim.members] == ["Waiting"]


def test_ring_all_loser_stays_up_and_returns_to_waiting(sim: Simulator) -> None:
    rec = Recorder(sim)
    sim.api("callcenter_config agent set status 1000@default Available")
    sim.api("callcenter_config agent set status 1001@default Available")
    sim.api(ORIGINATE.format(num="13800138000", dest="vip"))
    rec.wait(action("agent-offering"), count=2)
    (_, start), = rec.wait(action("bridge-agent-start"))
    winner = start["CC-Agent"]
    loser = "1001@default" if winner == "1000@default" else "1000@default"
    rec.wait(lambda e: e.get("CC-Action") == "agent-state-change" and e.get("CC-Agent") == loser
             and e.get("CC-Agent-State") == "Waiting")
    assert not [e for _, e in rec.events if e.get("CC-Action") == "bridge-agent-fail"]
    names = sorted(c.name for c in sim.channels)
    assert names == ["loopback/vip-a", "loopback/vip-b", "null/agent1000", "null/agent1001"]


def test_blind_transfer_of_both_legs_ends_the_queue_call_only_when_a_leg_hangs_up(sim: Simulator) -> None:
    rec = Recorder(sim)
    sim.api("callcenter_config agent set status 1000@default Available")
    caller = sim.api(ORIGINATE.format(num="13800138000", dest="support")).split()[1]
    (_, start), = rec.wait(action("bridge-agent-start"))
    rec.wait(lambda e: e.get("CC-Agent-State") == "In a queue call")
    assert sim.api(f"uuid_transfer {start['CC-Agent-UUID']} -both 3000 XML agents") == "+OK\n"
    rec.wait(lambda e: e.get("Event-Name") == "CHANNEL_UNBRIDGE")
    assert not [e for _, e in rec.events if e.get("CC-Action") == "bridge-agent-end"]
    assert len(sim.channels) == 3
    sim.api(f"uuid_kill {caller}")
    (_, end), = rec.wait(action("member-queue-end"))
    assert end["CC-Cause"] == "Terminated"
    assert sim.agent_status("1000@default") == ("Available", "Waiting")
