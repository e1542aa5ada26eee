"""``callcenter_config``: the mod_callcenter API, with its exact output texts.

Tables are pipe-separated with a header line and end in ``+OK``; an empty result is
just ``+OK``.  ``agent get`` answers the bare value with no newline.  Error texts are
mod_callcenter's, including its quirks (``member list`` answers ``-ERR no reply``).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable

from cti_middleware.simulator.callcenter import Agent, CallCenter
from cti_middleware.simulator.config import TIER_STATES, TierConfig

AGENT_COLUMNS = (
    "name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|reject_delay_time|"
    "busy_delay_time|no_answer_delay_time|last_bridge_start|last_bridge_end|last_offered_call|"
    "last_status_change|no_answer_count|calls_answered|talk_time|ready_time|external_calls_count"
)
TIER_COLUMNS = "queue|agent|state|level|position"
MEMBER_COLUMNS = (
    "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|rejoined_epoch|"
    "bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|serving_system|state|score"
)
QUEUE_COLUMNS = (
    "name|strategy|moh_sound|time_base_score|tier_rules_apply|tier_rule_wait_second|"
    "tier_rule_wait_multiply_level|tier_rule_no_agent_no_wait|discard_abandoned_after|"
    "abandoned_resume_allowed|max_wait_time|max_wait_time_with_no_agent|"
    "max_wait_time_with_no_agent_time_reached|record_template|calls_answered|calls_abandoned|"
    "ring_progressively_delay|skip_agents_with_external_calls|agent_no_answer_status"
)
INVALID = "-ERR Invalid!\n"
QUEUE_NOT_FOUND = "-ERR Invalid Queue not found!\n"
NOT_FOUND = "-ERR Agent not found!\n"
USAGE = "-USAGE: callcenter_config agent|tier|queue|member ...\n"


def split_args(cmd: str) -> list[str]:
    """Arguments as FreeSWITCH separates them: spaces, with '...' grouping (quotes dropped)."""
    try:
        lexer = shlex.shlex(cmd, posix=True)
        lexer.whitespace_split = True
        lexer.quotes = "'\""
        lexer.escape = ""
        return list(lexer)
    except ValueError:
        return cmd.split()


def table(columns: str, rows: list[list[str]]) -> str:
    if not rows:
        return "+OK\n"
    lines = [columns] + ["|".join(row) for row in rows]
    return "\n".join(lines) + "\n+OK\n"


def _bool(value: bool) -> str:
    return "true" if value else "false"


class CallcenterApi:
    """Parses ``callcenter_config`` arguments and runs them against a CallCenter."""

    def __init__(self, cc: CallCenter) -> None:
        self.cc = cc

    def __call__(self, args: str) -> str:
        argv = split_args(args)
        if not argv:
            return USAGE
        if len(argv) < 2:
            return INVALID
        section, action, rest = argv[0].lower(), argv[1].lower(), argv[2:]
        handler: Callable[[list[str]], str] | None = getattr(self, f"_{section}_{action}", None)
        if handler is None:
            return "-ERR Member list not supported\n" if section == "member" else INVALID if section in (
                "agent", "tier", "queue") else USAGE
        return handler(rest)

    # -- agent ----------------------------------------------------------------
    def _agent(self, name: str) -> Agent | None:
        return self.cc.agents.get(name)

    def _agent_list(self, rest: list[str]) -> str:
        agents = [a for a in self.cc.agents.values() if not rest or a.name == rest[0]]
        return table(AGENT_COLUMNS, [a.row() for a in agents])

    def _agent_add(self, rest: list[str]) -> str:
        if len(rest) < 2:
            return INVALID
        name, agent_type = rest[0], rest[1]
        if agent_type.lower() not in ("callback", "uuid-standby"):
            return "-ERR Agent type invalid!\n"
        if name in self.cc.agents:
            return "-ERR Agent already exist!\n"
        self.cc.add_agent(name, agent_type)
        return "+OK\n"

    def _agent_del(self, rest: list[str]) -> str:
        if not rest:
            return INVALID
        self.cc.agents.pop(rest[0], None)
        self.cc.tiers = [t for t in self.cc.tiers if t.agent != rest[0]]
        return "+OK\n"

    def _agent_get(self, rest: list[str]) -> str:
        if len(rest) < 2:
            return INVALID
        key, agent = rest[0].lower(), self._agent(rest[1])
        if agent is None:
            return NOT_FOUND
        if key not in ("status", "state", "uuid"):
            return "-ERR Invalid Agent Update KEY!\n"
        return self.cc.get_value(agent, key)

    def _agent_set(self, rest: list[str]) -> str:
        if len(rest) < 3:
            return INVALID
        key, agent, value = rest[0].lower(), self._agent(rest[1]), rest[2]
        if agent is None:
            return NOT_FOUND
        if key == "status":
            status = self.cc.valid_status(value)
            if status is None:
                return "-ERR Invalid Agent Status!\n"
            self.cc.set_status(agent, status)
        elif key == "state":
            state = self.cc.valid_state(value)
            if state is None:
                return "-ERR Invalid Agent State!\n"
            self.cc.set_state(agent, state)
        elif key == "contact":
            self.cc.set_contact(agent, value)
        elif key == "type":
            if value.lower() not in ("callback", "uuid-standby"):
                return "-ERR Invalid Agent Type!\n"
            agent.type = value
        elif key == "uuid":
            agent.uuid = value
        elif key == "ready_time":
            agent.ready_time = _int(value)
            agent.ready_at = time.time() + self.cc.config.scaled(max(0, agent.ready_time - time.time()))
        elif key in ("max_no_answer", "wrap_up_time", "reject_delay_time", "busy_delay_time",
                     "no_answer_delay_time"):
            setattr(agent, key, _int(value))
        else:
            return "-ERR Invalid Agent Update KEY!\n"
        return "+OK\n"

    # -- tier -----------------------------------------------------------------
    def _tier_list(self, rest: list[str]) -> str:
        tiers = sorted(self.cc.tiers, key=lambda t: (t.level, t.position))
        return table(TIER_COLUMNS, [[t.queue, t.agent, t.state, str(t.level), str(t.position)] for t in tiers])

    def _tier_add(self, rest: list[str]) -> str:
        if len(rest) < 2:
            return INVALID
        queue, agent = rest[0], rest[1]
        level = _int(rest[2]) if len(rest) > 2 else 1
        position = _int(rest[3]) if len(rest) > 3 else 1
        if self.cc.get_queue(queue) is None:
            return "-ERR Queue not found!\n"
        if agent not in self.cc.agents:
            return NOT_FOUND
        if any(t.queue == queue and t.agent == agent for t in self.cc.tiers):
            return "-ERR Tier already exist!\n"
        self.cc.tiers.append(TierConfig(queue, agent, level, position))
        self.cc.wake.set()
        return "+OK\n"

    def _tier_del(self, rest: list[str]) -> str:
        if len(rest) < 2:
            return INVALID
        self.cc.tiers = [t for t in self.cc.tiers if not (t.queue == rest[0] and t.agent == rest[1])]
        return "+OK\n"

    def _tier_set(self, rest: list[str]) -> str:
        if len(rest) < 4:
            return INVALID
        key, queue, agent, value = rest[0].lower(), rest[1], rest[2], rest[3]
        tier = next((t for t in self.cc.tiers if t.queue == queue and t.agent == agent), None)
        if tier is None:
            return "-ERR Tier not found!\n"
        if agent not in self.cc.agents:
            return NOT_FOUND
        if key == "state":
            state = next((s for s in TIER_STATES if s.lower() == value.lower()), None)
            if state is None:
                return "-ERR Invalid Tier State!\n"
            tier.state = state
        elif key == "level":
            tier.level = _int(value)
        elif key == "position":
            tier.position = _int(value)
        else:
            return "-ERR Invalid Tier Update KEY!\n"
        self.cc.wake.set()
        return "+OK\n"

    # -- queue ----------------------------------------------------------------
    def _queue_list(self, rest: list[str]) -> str:
        if not rest:
            rows = []
            for q in self.cc.queues.values():
                stats = self.cc.stat(q.name)
                rows.append([
                    q.name, q.strategy, q.moh_sound, q.time_base_score, _bool(q.tier_rules_apply),
                    str(q.tier_rule_wait_second), _bool(q.tier_rule_wait_multiply_level),
                    _bool(q.tier_rule_no_agent_no_wait), str(q.discard_abandoned_after),
                    _bool(q.abandoned_resume_allowed), str(q.max_wait_time), str(q.max_wait_time_with_no_agent),
                    str(q.max_wait_time_with_no_agent_time_reached), q.record_template,
                    str(stats["answered"]), str(stats["abandoned"]), str(q.ring_progressively_delay),
                    _bool(q.skip_agents_with_external_calls), q.agent_no_answer_status,
                ])
            return "\n".join([QUEUE_COLUMNS] + ["|".join(r) for r in rows]) + "\n+OK\n"
        sub, queue = rest[0].lower(), rest[1] if len(rest) > 1 else ""
        if sub == "agents":
            return table(AGENT_COLUMNS, [a.row() for a in self._queue_agents(queue, rest[2:])])
        if sub == "members":
            now = int(time.time())
            return table(MEMBER_COLUMNS, [m.row(now) for m in self.cc.members if m.queue == queue])
        if sub == "tiers":
            tiers = self.cc.tiers_of(queue)
            return table(TIER_COLUMNS, [[t.queue, t.agent, t.state, str(t.level), str(t.position)] for t in tiers])
        return INVALID

    def _queue_agents(self, queue: str, status: list[str]) -> list[Agent]:
        names = [t.agent for t in self.cc.tiers_of(queue)]
        agents = [a for a in self.cc.agents.values() if a.name in names]
        if status:
            agents = [a for a in agents if a.status == status[0]]
        return agents

    def _queue_count(self, rest: list[str]) -> str:
        if not rest:
            return f"{len(self.cc.queues)}\n"
        sub, queue = rest[0].lower(), rest[1] if len(rest) > 1 else ""
        if sub == "agents":
            return f"{len(self._queue_agents(queue, rest[2:]))}\n"
        if sub == "members":
            return f"{sum(1 for m in self.cc.members if m.queue == queue)}\n"
        if sub == "tiers":
            return f"{len(self.cc.tiers_of(queue))}\n"
        return INVALID

    # With a configuration server these are mod_callcenter's: ``load`` is get_queue
    # (a queue only the server knows is loaded), ``reload`` destroys the queue and
    # loads it again (its params re-read), ``unload`` destroys it.  Without one the
    # built-in queues are the configuration and stay as they are.
    def _queue_load(self, rest: list[str]) -> str:
        if not rest:
            return INVALID
        return "+OK\n" if self.cc.get_queue(rest[0]) is not None else QUEUE_NOT_FOUND

    def _queue_reload(self, rest: list[str]) -> str:
        if rest and self.cc.conf_source is not None:
            self.cc.destroy_queue(rest[0])
        return self._queue_load(rest)

    def _queue_unload(self, rest: list[str]) -> str:
        if not rest:
            return INVALID
        if self.cc.conf_source is not None:
            self.cc.destroy_queue(rest[0])
        return "+OK\n"

    # -- member ---------------------------------------------------------------
    def _member_list(self, rest: list[str]) -> str:
        # what mod_callcenter 1.10 answered in the recordings, with or without members
        return "-ERR no reply\n"


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
