"""Keeping mod_callcenter equal to the store.

:func:`reconcile` is pure: from the desired queues/agents/tiers and the
text of ``callcenter_config queue list`` / ``agent list`` / ``tier list``
it returns the ``callcenter_config`` commands that make FreeSWITCH match,
in an order mod_callcenter accepts (queues before the tiers that use them,
tiers removed before their agent). :func:`apply` runs them through any
``api(cmd) -> reply`` callable with retries, and reports every failure;
:func:`sync` does both against the store.

Every argument is checked against the store's patterns before it becomes
part of a command: mod_callcenter splits its arguments on blanks and its
list output on "|", so a value with either would be misread.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ..store import routing

log = logging.getLogger(__name__)

API = "callcenter_config"
LIST_COMMANDS = (
    f"{API} queue list",
    f"{API} agent list",
    f"{API} tier list",
)
# Queue parameters compared with ``queue list`` (column -> model field).
QUEUE_COLUMNS = {
    "strategy": "strategy",
    "moh_sound": "moh_sound",
    "time_base_score": "time_base_score",
    "tier_rules_apply": "tier_rules_apply",
    "tier_rule_wait_second": "tier_rule_wait_second",
    "tier_rule_wait_multiply_level": "tier_rule_wait_multiply_level",
    "tier_rule_no_agent_no_wait": "tier_rule_no_agent_no_wait",
    "discard_abandoned_after": "discard_abandoned_after",
    "abandoned_resume_allowed": "abandoned_resume_allowed",
    "max_wait_time": "max_wait_time",
    "max_wait_time_with_no_agent": "max_wait_time_with_no_agent",
    "max_wait_time_with_no_agent_time_reached": "max_wait_time_with_no_agent_time_reached",
}
# Agent settings set one by one with ``agent set <key>``.
AGENT_SETTINGS = (
    "contact",
    "max_no_answer",
    "wrap_up_time",
    "reject_delay_time",
    "busy_delay_time",
    "no_answer_delay_time",
)


_TYPES = re.compile("|".join(re.escape(t) for t in routing.AGENT_TYPES))


class ProvisionError(ValueError):
    """A value that cannot be turned into a safe command, or bad list output."""


@dataclass(frozen=True)
class DesiredQueue:
    name: str
    params: dict[str, str]


@dataclass(frozen=True)
class DesiredAgent:
    name: str
    type: str
    settings: dict[str, str]


@dataclass(frozen=True)
class DesiredTier:
    queue: str
    agent: str
    level: int
    position: int


@dataclass
class Desired:
    queues: list[DesiredQueue] = field(default_factory=list)
    agents: list[DesiredAgent] = field(default_factory=list)
    tiers: list[DesiredTier] = field(default_factory=list)


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def desired_from_models(queues, agents, tiers) -> Desired:
    """Desired state from store rows (see :func:`routing.provisioning_snapshot`)."""
    return Desired(
        queues=[
            DesiredQueue(q.name, {col: _fmt(getattr(q, f)) for col, f in QUEUE_COLUMNS.items()})
            for q in queues
        ],
        agents=[
            DesiredAgent(a.agent_id, a.type, {k: _fmt(getattr(a, k)) for k in AGENT_SETTINGS})
            for a in agents
        ],
        tiers=[DesiredTier(t.queue.name, t.agent.agent_id, t.level, t.position) for t in tiers],
    )


def parse_table(text: str, fixed_after: str | None = None) -> list[dict[str, str]]:
    """Rows of a ``callcenter_config ... list`` reply.

    The reply is a "|"-separated header, rows, and "+OK". When a row has
    more cells than the header (a contact holding "|"), the extra cells
    are given back to ``fixed_after``'s column, the only free-text one.
    """
    lines = [line for line in text.replace("\r", "").split("\n") if line]
    if not lines or lines[-1] != "+OK":
        raise ProvisionError(f"not a list reply: {text[:80]!r}")
    lines = lines[:-1]
    if not lines:
        return []
    header = lines[0].split("|")
    rows = []
    for line in lines[1:]:
        cells = line.split("|")
        extra = len(cells) - len(header)
        if extra > 0 and fixed_after in header:
            i = header.index(fixed_after)
            cells = cells[:i] + ["|".join(cells[i : i + extra + 1])] + cells[i + extra + 1 :]
        if len(cells) != len(header):
            raise ProvisionError(f"row does not match header: {line!r}")
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def _check(value: str, pattern, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ProvisionError(f"invalid {what}: {value!r}")
    return value


def _number(value: object, what: str) -> str:
    text = _fmt(value)
    if not text.isdigit() or len(text) > 6:
        raise ProvisionError(f"invalid {what}: {value!r}")
    return text


def _agent_value(key: str, value: str) -> str:
    if key == "contact":
        return _check(value, routing.CONTACT, "contact")
    return _number(value, key)


def reconcile(
    desired: Desired,
    queue_list: str,
    agent_list: str,
    tier_list: str,
    *,
    remove_extra: bool = True,
) -> list[str]:
    """Commands that turn the listed FreeSWITCH state into ``desired``."""
    actual_queues = {row["name"]: row for row in parse_table(queue_list)}
    actual_agents = {row["name"]: row for row in parse_table(agent_list, "contact")}
    actual_tiers = {(row["queue"], row["agent"]): row for row in parse_table(tier_list)}
    wanted_queues = {q.name for q in desired.queues}
    wanted_agents = {a.name for a in desired.agents}
    wanted_tiers = {(t.queue, t.agent) for t in desired.tiers}

    cmds: list[str] = []
    for q in desired.queues:
        name = _check(q.name, routing.QUEUE_NAME, "queue name")
        row = actual_queues.get(name)
        if row is None:
            cmds.append(f"{API} queue load {name}")
        elif any(row.get(col) != val for col, val in q.params.items()):
            cmds.append(f"{API} queue reload {name}")

    for a in desired.agents:
        name = _check(a.name, routing.AGENT_NAME, "agent name")
        agent_type = _check(a.type, _TYPES, "agent type")
        row = actual_agents.get(name)
        if row is None:
            cmds.append(f"{API} agent add {name} {agent_type}")
        elif row.get("type") != agent_type:
            cmds.append(f"{API} agent set type {name} {agent_type}")
        for key in AGENT_SETTINGS:
            value = _agent_value(key, a.settings[key])
            if row is None or row.get(key) != value:
                cmds.append(f"{API} agent set {key} {name} {value}")

    if remove_extra:
        for queue, agent in sorted(set(actual_tiers) - wanted_tiers):
            if routing.QUEUE_NAME.fullmatch(queue) and routing.AGENT_NAME.fullmatch(agent):
                cmds.append(f"{API} tier del {queue} {agent}")
    for t in desired.tiers:
        queue = _check(t.queue, routing.QUEUE_NAME, "queue name")
        agent = _check(t.agent, routing.AGENT_NAME, "agent name")
        level, position = _number(t.level, "level"), _number(t.position, "position")
        row = actual_tiers.get((queue, agent))
        if row is None:
            cmds.append(f"{API} tier add {queue} {agent} {level} {position}")
            continue
        if row.get("level") != level:
            cmds.append(f"{API} tier set level {queue} {agent} {level}")
        if row.get("position") != position:
            cmds.append(f"{API} tier set position {queue} {agent} {position}")

    if remove_extra:
        for name in sorted(set(actual_agents) - wanted_agents):
            if routing.AGENT_NAME.fullmatch(name):
                cmds.append(f"{API} agent del {name}")
        for name in sorted(set(actual_queues) - wanted_queues):
            if routing.QUEUE_NAME.fullmatch(name):
                cmds.append(f"{API} queue unload {name}")
    return cmds


@dataclass
class Outcome:
    command: str
    ok: bool
    reply: str
    attempts: int


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        return not self.failures


def _succeeded(reply: str) -> bool:
    return reply.lstrip().startswith("+OK")


def apply(
    commands: Iterable[str],
    api: Callable[[str], str],
    *,
    retries: int = 3,
    delay: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Run ``commands`` in order; each is tried up to ``retries`` times.

    A reply not starting with "+OK" or an exception from ``api`` counts as
    a failure; a command that still fails is logged at ERROR and listed in
    the report, and the remaining commands still run.
    """
    report = Report()
    for cmd in commands:
        reply = ""
        for attempt in range(1, retries + 1):
            try:
                reply = api(cmd)
            except Exception as exc:  # noqa: BLE001 - a dead link must not stop the run
                reply = str(exc) if str(exc).startswith("-") else f"-ERR {exc}"
            if _succeeded(reply):
                report.outcomes.append(Outcome(cmd, True, reply, attempt))
                break
            if attempt < retries:
                sleep(delay * attempt)
        else:
            log.error("FreeSWITCH refused %r after %d tries: %s", cmd, retries, reply.strip())
            report.outcomes.append(Outcome(cmd, False, reply, retries))
    return report


def read_actual(api: Callable[[str], str]) -> tuple[str, str, str]:
    """The three list replies reconcile needs."""
    return tuple(api(cmd) for cmd in LIST_COMMANDS)  # type: ignore[return-value]


def sync(
    api: Callable[[str], str],
    *,
    remove_extra: bool = True,
    drift: bool = True,
    **apply_args,
) -> Report:
    """Make mod_callcenter match the store now (on connect and after edits).

    With ``drift`` (a connect or periodic check) every difference is logged
    as drift before it is corrected; after an edit through the API the
    commands are the edit itself and are logged as applied changes.
    """
    queues, agents, tiers = routing.provisioning_snapshot()
    desired = desired_from_models(queues, agents, tiers)
    commands = reconcile(desired, *read_actual(api), remove_extra=remove_extra)
    for cmd in commands:
        if drift:
            log.warning("mod_callcenter drift, correcting: %s", cmd)
        else:
            log.info("mod_callcenter change: %s", cmd)
    report = apply(commands, api, **apply_args)
    if commands:
        log.info(
            "mod_callcenter reconciled: %d commands, %d failed",
            len(commands),
            len(report.failures),
        )
    return report


def provisioning_commands(desired: Desired) -> Sequence[str]:
    """Commands for an empty mod_callcenter (e.g. a freshly started box)."""
    return reconcile(desired, "+OK\n", "+OK\n", "+OK\n")
