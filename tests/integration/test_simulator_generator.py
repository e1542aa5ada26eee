"""The demo call generator drives the simulator through the event socket only."""

from __future__ import annotations

import random
import re

import gevent
import gevent.event

from cti_middleware.simulator import SimConfig, Simulator
from cti_middleware.simulator.generator import (
    CallGenerator,
    originate_command,
    random_caller,
)
from cti_middleware.simulator.originate import parse_originate


def test_random_callers_are_chinese_numbers() -> None:
    rng = random.Random(7)
    callers = [random_caller(rng, known_ratio=0.0) for _ in range(200)]
    for number, name in callers:
        assert re.fullmatch(r"1\d{10}|0\d{2,3}[2-9]\d{6,7}", number), number
        assert 2 <= len(name) <= 3 and all("\u4e00" <= ch <= "\u9fff" for ch in name)
    known = [random_caller(rng, known_ratio=1.0) for _ in range(10)]
    assert all(c in [("13800138000", "张三"), ("13900139000", "李四"), ("01062345678", "王五"),
                     ("+8613700137000", "赵六")] for c in known)


def test_originate_command_round_trips() -> None:
    command = originate_command("13800138000", "张,三", "vip")
    assert command.startswith("originate ")
    req = parse_originate(command[len("originate "):])
    assert req is not None
    assert req.variables["origination_caller_id_name"] == "张 三"
    assert req.target == "vip/default"


def test_generated_call_reaches_an_agent_and_is_hung_up() -> None:
    sim = Simulator(SimConfig.default(time_scale=0.02)).start()
    actions: list[str] = []
    ended = gevent.event.Event()

    def watch(headers, _body) -> None:
        action = dict(headers).get("CC-Action", "")
        actions.append(action)
        if action == "member-queue-end":
            ended.set()

    sim.observe(watch)
    sim.api("callcenter_config agent set status 1000@default Available")
    gen = CallGenerator("127.0.0.1", sim.port, calls_per_minute=1, time_scale=0.02, seed=1,
                        destinations={"support": 1.0}, min_duration=5, max_duration=6)
    try:
        gen.connect()
        gen._running = True
        caller = gen.place_call()
        assert caller is not None
        with gevent.Timeout(10):
            ended.wait()
        assert "bridge-agent-start" in actions
        assert actions.index("member-queue-start") < actions.index("bridge-agent-start")
        assert all(c.uuid != caller for c in sim.channels)
    finally:
        gen.stop()
        sim.stop()
