"""Realistic event streams built from the recordings of a real FreeSWITCH.

The calls of scenarios 03 (answered), 06 (ring-all) and 13 (SIP, hold) are replayed
with fresh call uuids, agents spread over a pool, queues spread over many, and each
call its own caller number, so the state model sees many distinct calls and agents
with events of real size and header count.  Encoding goes through the product's own
encoders, which reproduce FreeSWITCH's bytes.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from ..esl.wire import (
    FrameParser,
    encode_event_json,
    encode_event_plain,
    parse_event_pairs,
)

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "captures"
SCENARIOS = ("03-answered-call", "06-vip-ring-all", "13-sip-call-agent-holds")
TEMPLATE_AGENTS = ("1000", "1001", "1002", "1003")
TEMPLATE_NUMBER = "13800138000"

Pairs = list[tuple[str, str]]
Event = tuple[Pairs, str | None]

_TOKENS = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|\b100[0-3]@default|agent100[0-3]\b|sip:100[0-3]@|/100[0-3]@"
    r"|13800138000|support@default|vip@default"
)


def load_scenario(name: str) -> list[Event]:
    """The events of one recording, headers in order with duplicates kept."""
    data = (CAPTURES / name / "events.plain").read_bytes()
    frames = FrameParser().feed(data)
    return [parse_event_pairs(f) for f in frames if f.content_type == "text/event-plain"]


def agent_name(index: int) -> str:
    return f"{10000 + index}@default"


def queue_name(index: int) -> str:
    return f"q{index}@default"


def caller_number(index: int) -> str:
    """A valid Chinese mobile number, one per customer id (see :mod:`.pgdata`)."""
    return f"139{index:08d}"


class CallMaker:
    """Rewrites one recorded call into a new one: new uuids, agents, queue, caller."""

    def __init__(self, agents: int = 1000, queues: int = 100, customers: int = 1_000_000,
                 seed: int = 7) -> None:
        self.agents, self.queues, self.customers = agents, queues, customers
        self.rng = random.Random(seed)
        self.templates = {name: load_scenario(name) for name in SCENARIOS}
        self.core_uuids = {
            v for events in self.templates.values() for pairs, _ in events
            for k, v in pairs if k == "Core-UUID"
        }

    def call(self, index: int, scenario: str | None = None,
             first_agent: int | None = None) -> list[Event]:
        scenario = scenario or SCENARIOS[index % len(SCENARIOS)]
        base = (index * 4) % self.agents if first_agent is None else first_agent
        agents = {a: agent_name((base + i) % self.agents) for i, a in enumerate(TEMPLATE_AGENTS)}
        queue = queue_name(index % self.queues)
        number = caller_number(self.rng.randrange(self.customers))
        uuids: dict[str, str] = {}

        def swap(match: re.Match[str]) -> str:
            tok = match.group(0)
            if "-" in tok and len(tok) == 36:
                if tok in self.core_uuids:
                    return tok
                new = uuids.get(tok)
                if new is None:
                    new = uuids[tok] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
                return new
            if tok == TEMPLATE_NUMBER:
                return number
            if tok.endswith("@default") and tok[:4] in agents:
                return agents[tok[:4]]
            if tok.startswith("agent"):
                return "agent" + agents[tok[5:]].split("@")[0]
            if tok.startswith(("sip:", "/")):
                head = tok[:-5]
                return head + agents[tok[len(head):len(head) + 4]].split("@")[0] + "@"
            return queue

        out = []
        for pairs, body in self.templates[scenario]:
            new = [(k, _TOKENS.sub(swap, v) if _needs(v) else v) for k, v in pairs]
            out.append((new, _TOKENS.sub(swap, body) if body else body))
        return out


def _needs(value: str) -> bool:
    return len(value) >= 11 or "@" in value


def interleave(calls: list[list[Event]], width: int = 8) -> Iterator[Event]:
    """Calls overlap as they do in a busy queue: ``width`` at a time, round robin."""
    for start in range(0, len(calls), width):
        group = [iter(c) for c in calls[start:start + width]]
        while group:
            alive = []
            for it in group:
                item = next(it, None)
                if item is not None:
                    yield item
                    alive.append(it)
            group = alive


def encode_block(events: list[Event], fmt: str, first_sequence: int = 1) -> tuple[bytes, int]:
    """One buffer of ``text/event-<fmt>`` frames with sequence numbers renumbered."""
    encode = encode_event_json if fmt == "json" else encode_event_plain
    parts = []
    seq = first_sequence
    for pairs, body in events:
        pairs = [(k, str(seq) if k == "Event-Sequence" else v) for k, v in pairs]
        parts.append(encode(pairs, body))
        seq += 1
    return b"".join(parts), len(parts)


def flood_block(calls: int = 250, agents: int = 1000, queues: int = 100) -> list[Event]:
    """The repeating unit of the ingest flood: ``calls`` interleaved calls."""
    maker = CallMaker(agents=agents, queues=queues)
    return list(interleave([maker.call(i) for i in range(calls)]))
