"""``callcenter_config`` and ``show channels`` replies for a big call centre.

Rows follow the recorded replies of scenario 01 (same columns, same order), scaled to
any number of agents, queues, waiting members and channels, so a resync parses what
FreeSWITCH would send.
"""

from __future__ import annotations

import uuid

import orjson

from .corpus import agent_name, caller_number, queue_name

AGENT_HEAD = ("name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|"
              "reject_delay_time|busy_delay_time|no_answer_delay_time|last_bridge_start|"
              "last_bridge_end|last_offered_call|last_status_change|no_answer_count|"
              "calls_answered|talk_time|ready_time|external_calls_count")
TIER_HEAD = "queue|agent|state|level|position"
QUEUE_HEAD = ("name|strategy|moh_sound|time_base_score|tier_rules_apply|tier_rule_wait_second|"
              "tier_rule_wait_multiply_level|tier_rule_no_agent_no_wait|discard_abandoned_after|"
              "abandoned_resume_allowed|max_wait_time|max_wait_time_with_no_agent|"
              "max_wait_time_with_no_agent_time_reached|record_template|calls_answered|"
              "calls_abandoned|ring_progressively_delay|skip_agents_with_external_calls|"
              "agent_no_answer_status")
MEMBER_HEAD = ("queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|"
               "joined_epoch|rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|"
               "serving_agent|serving_system|state|score")
EPOCH = 1795457112


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, "/".join(map(str, parts))))


class SnapshotReplies:
    """Answers the resync's ``api`` commands for the given sizes."""

    def __init__(self, agents: int = 1000, queues: int = 100, channels: int = 1000) -> None:
        self.agents, self.queues = agents, queues
        per_queue = max(1, channels // 2 // queues)  # a bridged call is two channels
        self.members = {queue_name(q): [(q, i) for i in range(per_queue)] for q in range(queues)}
        self.replies = {
            "callcenter_config agent list": self._agents(),
            "callcenter_config tier list": self._tiers(),
            "callcenter_config queue list": self._queue_list(),
            "show channels as json": self._channels(channels),
        }

    def __call__(self, command: str) -> str:
        prefix = "callcenter_config queue list members "
        if command.startswith(prefix):
            return self._member_list(command[len(prefix):].strip())
        return self.replies.get(command, "-ERR no reply\n")

    def _agents(self) -> str:
        rows = [AGENT_HEAD]
        for i in range(self.agents):
            name = agent_name(i)
            state = "In a queue call" if i % 2 == 0 else "Waiting"
            rows.append(f"{name}|single_box||callback|[leg_timeout=10]sofia/internal/{name}|"
                        f"Available|{state}|3|3|5|5|5|{EPOCH}|{EPOCH}|{EPOCH}|{EPOCH}|0|1|9|0|0")
        return "\n".join(rows + ["+OK", ""])

    def _tiers(self) -> str:
        rows = [TIER_HEAD]
        for i in range(self.agents):
            rows.append(f"{queue_name(i % self.queues)}|{agent_name(i)}|Ready|1|1")
        return "\n".join(rows + ["+OK", ""])

    def _queue_list(self) -> str:
        rows = [QUEUE_HEAD]
        for q in range(self.queues):
            rows.append(f"{queue_name(q)}|longest-idle-agent|local_stream://moh|system|false|300|"
                        "true|false|60|false|0|0|5||2|0|0|true|On Break")
        return "\n".join(rows + ["+OK", ""])

    def _member_list(self, queue: str) -> str:
        rows = [MEMBER_HEAD]
        for q, i in self.members.get(queue, []):
            agent = agent_name((q + i * self.queues) % self.agents)
            rows.append(f"{queue}|single_box|{_uuid('m', q, i)}|{_uuid('s', q, i)}|"
                        f"{caller_number(q * 1000 + i)}|张三|{EPOCH}|{EPOCH}|0|{EPOCH}|0|0|0|"
                        f"{agent}|single_box|Answered|3")
        return "\n".join(rows + ["+OK", ""])

    def _channels(self, count: int) -> str:
        rows = []
        for n in range(count):
            q, i = divmod(n // 2, max(1, count // 2 // self.queues))
            member = n % 2 == 0
            uid = _uuid("s", q, i) if member else _uuid("a", q, i)
            agent = agent_name((q + i * self.queues) % self.agents)
            rows.append({
                "uuid": uid, "direction": "inbound" if member else "outbound",
                "created": "2026-11-23 18:05:12", "created_epoch": str(EPOCH),
                "name": f"sofia/internal/{caller_number(q * 1000 + i)}@10.0.0.1" if member
                else f"sofia/internal/{agent}", "state": "CS_EXCHANGE_MEDIA",
                "cid_name": "张三", "cid_num": caller_number(q * 1000 + i), "ip_addr": "10.0.0.1",
                "dest": "support", "application": "callcenter" if member else "",
                "application_data": queue_name(q) if member else "", "dialplan": "XML",
                "context": "default", "read_codec": "PCMA", "read_rate": "8000",
                "read_bit_rate": "64000", "write_codec": "PCMA", "write_rate": "8000",
                "write_bit_rate": "64000", "secure": "", "hostname": "fs1",
                "presence_id": "" if member else agent, "presence_data": "", "accountcode": "",
                "callstate": "ACTIVE", "callee_name": "", "callee_num": "",
                "callee_direction": "", "call_uuid": _uuid("s", q, i), "sent_callee_name": "",
                "sent_callee_num": "", "initial_cid_name": "张三",
                "initial_cid_num": caller_number(q * 1000 + i), "initial_ip_addr": "10.0.0.1",
                "initial_dest": "support", "initial_dialplan": "XML", "initial_context": "default",
            })
        return orjson.dumps({"row_count": len(rows), "rows": rows}).decode() + "\n"
