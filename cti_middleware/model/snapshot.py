"""Parse FreeSWITCH's list replies into a :class:`Snapshot` for :meth:`State.resync`.

``callcenter_config ... list`` answers with a pipe-separated table: a header line,
one line per row, and a final ``+OK`` line (an empty table is just the header and
``+OK``).  Values are not escaped, so a caller name holding ``|`` or a newline
(scenario 09 of the recordings) would shift or split a row; rows are therefore
re-joined until they have as many fields as the header, and surplus fields are
folded back into the one free-text column of that table.

``show channels as json`` answers ``{"row_count": 0}`` when empty, else
``{"row_count": N, "rows": [...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import orjson

__all__ = [
    "AgentRow",
    "ChannelRow",
    "MemberRow",
    "QueueRow",
    "Snapshot",
    "SnapshotError",
    "TierRow",
    "parse_agent_list",
    "parse_channels",
    "parse_member_list",
    "parse_queue_list",
    "parse_table",
    "parse_tier_list",
]


class SnapshotError(ValueError):
    """A reply is an error (``-ERR ...``) or not the expected table."""


class AgentRow(NamedTuple):
    name: str
    agent_type: str
    contact: str
    status: str
    state: str
    max_no_answer: int
    wrap_up_time: int
    last_bridge_start: float | None
    last_bridge_end: float | None
    last_offered_call: float | None
    last_status_change: float | None
    no_answer_count: int
    calls_answered: int


class TierRow(NamedTuple):
    queue: str
    agent: str
    state: str
    level: int
    position: int


class QueueRow(NamedTuple):
    name: str
    strategy: str


class MemberRow(NamedTuple):
    queue: str
    member_id: str
    session_uuid: str
    caller_number: str
    caller_name: str
    joined_at: float | None
    bridged_at: float | None
    serving_agent: str | None
    state: str


class ChannelRow(NamedTuple):
    uuid: str
    name: str
    direction: str
    created_at: float | None
    caller_number: str
    caller_name: str
    destination: str
    callstate: str
    presence_id: str | None
    application: str | None
    application_data: str | None


@dataclass(frozen=True)
class Snapshot:
    """FreeSWITCH's view at one moment; ``None`` parts are left as they are.

    ``taken_at`` (epoch seconds) is supplied by the caller, who knows when it asked;
    it becomes the ``since`` of agents whose status or state was corrected.
    """

    taken_at: float
    agents: list[AgentRow] | None = None
    tiers: list[TierRow] | None = None
    queues: list[QueueRow] | None = None
    members: list[MemberRow] | None = None
    channels: list[ChannelRow] | None = None


def parse_table(text: str, free_column: str | None = None) -> list[dict[str, str]]:
    """Rows of a pipe-separated ``callcenter_config`` table, as dicts by column name."""
    text = text.rstrip("\n")
    if text.startswith("-ERR"):
        raise SnapshotError(text.strip())
    lines = text.split("\n")
    if not lines or lines[-1].strip() != "+OK":
        raise SnapshotError("table does not end with +OK")
    lines = lines[:-1]
    if not lines:
        return []  # an empty ``queue list members`` is a bare +OK, without a header
    if not lines[0]:
        raise SnapshotError("table without a header line")
    header = lines[0].split("|")
    width = len(header)
    free = header.index(free_column) if free_column in header else None
    rows: list[dict[str, str]] = []
    pending: str | None = None
    for line in lines[1:]:
        line = line if pending is None else pending + "\n" + line
        fields = line.split("|")
        if len(fields) < width:
            pending = line
            continue
        pending = None
        if len(fields) > width:
            if free is None:
                raise SnapshotError(f"row with {len(fields)} fields, header has {width}")
            extra = len(fields) - width
            fields[free : free + extra + 1] = ["|".join(fields[free : free + extra + 1])]
        rows.append(dict(zip(header, fields)))
    if pending is not None:
        raise SnapshotError("truncated row at end of table")
    return rows


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _epoch(value: str) -> float | None:
    number = _int(value)
    return float(number) if number > 0 else None


def parse_agent_list(text: str) -> list[AgentRow]:
    return [
        AgentRow(
            r["name"], r.get("type", ""), r.get("contact", ""), r.get("status", ""),
            r.get("state", ""), _int(r.get("max_no_answer", "0")),
            _int(r.get("wrap_up_time", "0")), _epoch(r.get("last_bridge_start", "0")),
            _epoch(r.get("last_bridge_end", "0")), _epoch(r.get("last_offered_call", "0")),
            _epoch(r.get("last_status_change", "0")), _int(r.get("no_answer_count", "0")),
            _int(r.get("calls_answered", "0")),
        )
        for r in parse_table(text, free_column="contact")
    ]


def parse_tier_list(text: str) -> list[TierRow]:
    return [
        TierRow(r["queue"], r["agent"], r.get("state", ""), _int(r.get("level", "1")),
                _int(r.get("position", "1")))
        for r in parse_table(text)
    ]


def parse_queue_list(text: str) -> list[QueueRow]:
    return [QueueRow(r["name"], r.get("strategy", "")) for r in parse_table(text, "moh_sound")]


def parse_member_list(text: str) -> list[MemberRow]:
    """``callcenter_config queue list members <queue>`` (or ``member list``)."""
    return [
        MemberRow(
            r["queue"], r.get("uuid", ""), r["session_uuid"], r.get("cid_number", ""),
            r.get("cid_name", ""), _epoch(r.get("joined_epoch", "0")),
            _epoch(r.get("bridge_epoch", "0")), r.get("serving_agent") or None,
            r.get("state", ""),
        )
        for r in parse_table(text, free_column="cid_name")
    ]


def parse_channels(text: str) -> list[ChannelRow]:
    """``show channels as json``."""
    stripped = text.strip()
    if stripped.startswith("-ERR"):
        raise SnapshotError(stripped)
    try:
        obj = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        raise SnapshotError(f"show channels reply is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise SnapshotError("show channels reply is not an object")
    rows = obj.get("rows") or []
    out: list[ChannelRow] = []
    for r in rows:
        if not isinstance(r, dict) or not r.get("uuid"):
            continue
        out.append(
            ChannelRow(
                r["uuid"], r.get("name", ""), r.get("direction", ""),
                _epoch(str(r.get("created_epoch", "0"))), r.get("cid_num", ""),
                r.get("cid_name", ""), r.get("dest", ""), r.get("callstate", ""),
                r.get("presence_id") or None, r.get("application") or None,
                r.get("application_data") or None,
            )
        )
    return out
