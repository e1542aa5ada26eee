"""The ``bridge`` application: ring another endpoint and connect the caller to it.

An agent's phone (``user/1001``, or a dial string equal to an agent's contact,
such as ``null/agent1000``) rings and answers the way that agent's simulated
phone answers mod_callcenter's offers (answer delay, never, busy); anything else
is a far end that answers after a second.  ``error/<cause>`` fails at once.
Targets separated by ``|`` are tried one after the other; of a ``,`` group (ring
together) the first is rung.  The wait is bounded by ``leg_timeout`` of the
target, else the caller's ``call_timeout``.  A failed bridge leaves
``originate_disposition``/``DIALSTATUS`` and, unless ``continue_on_fail`` allows
it, hangs the caller up with the cause.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import gevent

from cti_middleware.simulator.apps import POLL, Stop, live
from cti_middleware.simulator.channels import Channel
from cti_middleware.simulator.config import parse_contact, split_vars
from cti_middleware.simulator.offer import _leg_name

if TYPE_CHECKING:
    from cti_middleware.simulator.callcenter import Agent
    from cti_middleware.simulator.hunt import DialplanEngine

FAR_END_ANSWER = 1.0
DEFAULT_TIMEOUT = 60.0
DIALSTATUS = {"NO_ANSWER": "NOANSWER", "USER_BUSY": "BUSY", "ORIGINATOR_CANCEL": "CANCEL"}


@dataclass
class Target:
    dial: str
    variables: dict[str, str]
    agent: Agent | None
    answer_delay: float | None
    busy: bool = False
    error: str | None = None


def _resolve(engine: DialplanEngine, text: str) -> Target:
    cc = engine.api.cc
    variables, dial = parse_contact(text)
    endpoint, _, rest = dial.partition("/")
    if endpoint == "error":
        return Target(dial, variables, None, None, error=(rest or "NORMAL_TEMPORARY_FAILURE").upper())
    agent = None
    if endpoint == "user":
        user, _, domain = rest.partition("@")
        agent = cc.agents.get(f"{user}@{domain or 'default'}")
        if agent is None:
            return Target(dial, variables, None, None, error="USER_NOT_REGISTERED")
        contact_vars, dial = parse_contact(agent.contact or f"null/agent{user}")
        variables = {**contact_vars, **variables}
    else:
        key = dial.lower()
        agent = next((a for a in cc.agents.values()
                      if a.contact and parse_contact(a.contact)[1].lower() == key), None)
    if agent is None:
        return Target(dial, variables, None, FAR_END_ANSWER)
    return Target(dial, variables, agent, agent.answer_delay, busy=agent.busy)


def _targets(data: str) -> tuple[dict[str, str], list[str]]:
    """Global ``{...}`` variables and the sequential targets of a bridge string."""
    global_vars: dict[str, str] = {}
    data = data.strip()
    if data.startswith("{"):
        end = data.find("}")
        if end > 0:
            for item in split_vars(data[1:end]):
                key, _, value = item.partition("=")
                global_vars[key.strip()] = value
            data = data[end + 1 :]
    sequential = []
    for group in _split_outside(data, "|"):
        first = _split_outside(group, ",")[0].strip()
        if first:
            sequential.append(first)
    return global_vars, sequential


def _split_outside(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not inside a ``[...]`` or ``{...}`` variable block."""
    parts, current, depth = [], [], 0
    for ch in text:
        if ch in "[{<":
            depth += 1
        elif ch in "]}>" and depth:
            depth -= 1
        if ch == sep and not depth:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def bridge(engine: DialplanEngine, chan: Channel, data: str) -> None:
    global_vars, targets = _targets(data)
    cause = "NO_ROUTE_DESTINATION"
    for text in targets:
        target = _resolve(engine, text)
        target.variables = {**global_vars, **target.variables}
        leg, cause = _ring(engine, chan, target)
        if leg is not None:
            _connected(engine, chan, leg, target)
            return
    chan.set_var("originate_disposition", cause)
    chan.set_var("DIALSTATUS", DIALSTATUS.get(cause, cause))
    chan.set_var("originate_failed_cause", cause)
    allowed = chan.variables.get("continue_on_fail", "")
    if allowed == "true" or cause in allowed.split(","):
        return
    engine.api.switch.hangup(chan, cause)
    raise Stop


def _timeout(chan: Channel, target: Target) -> float:
    for value in (target.variables.get("leg_timeout"), chan.variables.get("call_timeout")):
        if value and value.isdigit() and int(value) > 0:
            return float(value)
    if target.agent is not None:
        return target.agent.leg_timeout
    return DEFAULT_TIMEOUT


def _ring(engine: DialplanEngine, chan: Channel, target: Target) -> tuple[Channel | None, str]:
    """Originate the target's leg and wait: (answered leg, "") or (None, cause)."""
    if target.error:
        return None, target.error
    sw, config = engine.api.switch, engine.api.cc.config
    name, dest, source = _leg_name(target.dial)
    leg = sw.make_channel(name, "outbound", chan.profile.caller_id_name, chan.profile.caller_id_number, dest,
                          "Outbound Call", dest, None, source, kind="agent")
    for key, value in {**target.variables, **engine.exports.get(chan.uuid, {})}.items():
        leg.set_var(key, value)
    if target.agent is not None:
        leg.set_var("presence_id", target.agent.name)
        leg.set_var("dialed_user", target.agent.name.split("@")[0])
    leg.set_var("originate_endpoint", target.dial.split("/")[0])
    leg.set_var("originator", chan.uuid)
    leg.application = "park"
    killed: list[str] = []
    leg.on_hangup = killed.append
    sw.fire_create(leg)
    limit = config.scaled(_timeout(chan, target))
    answer_at = None if target.answer_delay is None else config.scaled(target.answer_delay)
    try:
        cause = _wait_for_answer(chan, leg, target, killed, limit, answer_at)
    except gevent.GreenletExit:  # the caller was transferred elsewhere while this rang
        leg.on_hangup = None
        if live(leg):
            sw.hangup(leg, "ORIGINATOR_CANCEL")
        raise
    leg.on_hangup = None
    if cause:
        if live(leg):
            leg.set_state("CS_CONSUME_MEDIA", leg.call_state, leg.state_number)
            sw.hangup(leg, cause)
        if cause == "ORIGINATOR_CANCEL":
            raise Stop
        return None, cause
    sw.answer(leg, "CS_CONSUME_MEDIA", "DOWN", 7)
    leg.call_state = "ACTIVE"
    leg.set_var("endpoint_disposition", "ANSWER")
    return leg, ""


def _wait_for_answer(chan: Channel, leg: Channel, target: Target, killed: list[str], limit: float,
                     answer_at: float | None) -> str:
    """'' when the far end answers, else the cause the attempt ended with."""
    started = time.monotonic()
    while True:
        gevent.sleep(POLL)
        elapsed = time.monotonic() - started
        if killed:
            return killed[0]
        if not live(chan):
            return "ORIGINATOR_CANCEL"
        if target.busy:
            return "USER_BUSY"
        if answer_at is not None and elapsed >= answer_at and answer_at < limit:
            return ""
        if elapsed >= limit:
            return "NO_ANSWER"


def _connected(engine: DialplanEngine, chan: Channel, leg: Channel, target: Target) -> None:
    """Run the answer hooks, bridge, and wait for the bridge to end."""
    from cti_middleware.simulator import apps

    on_answer = leg.variables.get("execute_on_answer", "")
    app, _, app_data = on_answer.partition(" ")
    if app == "callcenter_track":
        apps.app_callcenter_track(engine, leg, app_data)
    pre_app = chan.variables.get("bridge_pre_execute_app")
    if pre_app in apps.APPLICATIONS and pre_app != "bridge":
        apps.APPLICATIONS[pre_app](engine, chan, apps.expand_data(chan, chan.variables.get(
            "bridge_pre_execute_data", "")))
    if not live(chan):
        if live(leg):
            engine.api.switch.hangup(leg, "NORMAL_CLEARING")
        raise Stop
    if not live(leg):
        chan.set_var("originate_disposition", leg.hangup_cause or "NORMAL_CLEARING")
        return
    chan.set_var("originate_disposition", "SUCCESS")
    chan.set_var("DIALSTATUS", "SUCCESS")
    apps.mark_running(chan, "bridge", target.dial)
    engine.api.switch.bridge(chan, leg)
    try:
        while live(chan) and chan.bridged is leg and live(leg):
            gevent.sleep(POLL * 5)
    finally:
        if target.agent is not None and app == "callcenter_track":
            target.agent.external_calls_count = max(0, target.agent.external_calls_count - 1)
    if not live(chan):
        raise Stop
    if chan.variables.get("hangup_after_bridge") == "true":
        engine.api.switch.hangup(chan, "NORMAL_CLEARING")
        raise Stop
