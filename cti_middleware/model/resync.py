"""Replace the live state with a :class:`~.snapshot.Snapshot` (see ``State.resync``).

Used after (re)connecting: events missed while disconnected, or a FreeSWITCH
restart, leave the model wrong; FreeSWITCH's own tables are the truth then.
Desktops are told about every agent that differs, and members FreeSWITCH no longer
has are ended (``CallEnded`` with cause ``Lost``) so their call is still recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import changes as ch
from .entities import ANSWERED, TRYING, WAITING, Agent, Channel, Member
from .snapshot import AgentRow, MemberRow, Snapshot

if TYPE_CHECKING:
    from .state import State

__all__ = ["apply_snapshot"]

_IDLE_STATES = frozenset({"Waiting", "Idle"})
_MEMBER_STATES = {"Waiting": WAITING, "Trying": TRYING, "Answered": ANSWERED}


def apply_snapshot(state: State, snap: Snapshot, out: list) -> None:
    if snap.queues is not None:
        _queues(state, snap)
    before_agents = {name: a.key() for name, a in state.agents.items()}
    if snap.members is not None:
        _members(state, snap, out)
    if snap.agents is not None:
        _agents(state, snap, before_agents, out)
    if snap.channels is not None:
        _channels(state, snap)
        if state.direct:
            from .direct import prune

            prune(state, set(state.channels), snap.taken_at, out)


def _queues(state: State, snap: Snapshot) -> None:
    present = {row.name for row in snap.queues or ()}
    for row in snap.queues or ():
        state.queue(row.name).strategy = row.strategy or None
    for name in list(state.queues):
        if name not in present and not any(m.queue == name for m in state.members.values()):
            del state.queues[name]


def _members(state: State, snap: Snapshot, out: list) -> None:
    rows = {r.session_uuid: r for r in snap.members or () if r.state in _MEMBER_STATES}
    marks = {name: (q.waiting, q.members) for name, q in state.queues.items()}
    for uuid in [u for u in state.members if u not in rows]:
        _end_lost(state, state.members[uuid], snap.taken_at, out)
    for uuid, row in rows.items():
        member = state.members.get(uuid)
        if member is None:
            member = _new_member(row)
            state.members[uuid] = member
            out.append(
                ch.MemberJoined(member.queue, uuid, member.caller_number, member.caller_name,
                                member.joined_at or snap.taken_at)
            )
        else:
            member.state = _MEMBER_STATES[row.state]
            if row.serving_agent and member.state == ANSWERED:
                member.agent = row.serving_agent
    _recount(state)
    for name, queue in state.queues.items():
        if marks.get(name, (0, 0)) != (queue.waiting, queue.members):
            out.append(ch.QueueCountChanged(name, queue.waiting, queue.members))


def _new_member(row: MemberRow) -> Member:
    member = Member(row.session_uuid, row.queue, row.caller_number, row.caller_name,
                    row.joined_at, row.member_id or None, _MEMBER_STATES[row.state])
    if member.state == ANSWERED:
        member.agent = row.serving_agent
        member.answered_at = row.bridged_at
    elif member.state == TRYING and row.serving_agent and "@" in row.serving_agent:
        member.offered_to.add(row.serving_agent)
    return member


def _end_lost(state: State, member: Member, at: float, out: list) -> None:
    """A member FreeSWITCH forgot without telling us: record how far it got."""
    state.withdraw_offers(member, "caller-left", at, out)
    del state.members[member.uuid]
    channel = state.channels.get(member.uuid)
    hangup = channel.hangup_cause if channel is not None else None
    out.append(
        ch.CallEnded(
            member.uuid, member.queue, member.caller_number, member.caller_name, member.agent,
            member.joined_at, member.answered_at, at, "Lost",
            member.agent is None and member.answered_at is None, hangup, None, member.followed,
        )
    )
    out.append(ch.MemberLeft(member.queue, member.uuid))


def _recount(state: State) -> None:
    counts: dict[str, list[int]] = {}
    for member in state.members.values():
        c = counts.setdefault(member.queue, [0, 0])
        c[1] += 1
        if member.state != ANSWERED:
            c[0] += 1
    for name in counts:
        state.queue(name)
    for name, queue in state.queues.items():
        queue.waiting, queue.members = counts.get(name, (0, 0))


def _agents(state: State, snap: Snapshot, before: dict, out: list) -> None:
    from .state import agent_change

    calls = _calls_by_agent(state) if snap.members is not None else None
    present = set()
    for row in snap.agents or ():
        present.add(row.name)
        agent = state.agents.get(row.name)
        is_new = agent is None
        if agent is None:
            agent = state.agents[row.name] = Agent(row.name)
        _update_agent(state, agent, row, snap.taken_at, calls)
        if is_new or before.get(row.name) != agent.key():
            out.append(agent_change(agent))
    for name in [n for n in state.agents if n not in present]:
        agent = state.agents.pop(name)
        state.set_contact(agent, None)
        out.append(ch.AgentRemoved(name))


def _update_agent(
    state: State, agent: Agent, row: AgentRow, at: float,
    calls: dict[str, str] | None,
) -> None:
    if (agent.status, agent.state) != (row.status, row.state):
        agent.since = at if agent.status != "Unknown" else (row.last_status_change or at)
    agent.status = row.status
    agent.state = row.state
    agent.agent_type = row.agent_type or agent.agent_type
    agent.wrap_up_time = row.wrap_up_time
    agent.last_bridge_start = row.last_bridge_start
    agent.last_bridge_end = row.last_bridge_end
    agent.last_offered_at = row.last_offered_call
    if row.contact != agent.contact:
        state.set_contact(agent, row.contact or None)
    if row.state in _IDLE_STATES:
        agent.call_uuid = None
    elif calls is not None:
        agent.call_uuid = calls.get(agent.name)
    elif agent.call_uuid is not None and agent.call_uuid not in state.members:
        agent.call_uuid = None
    if agent.call_uuid is None and state.direct:
        # mod_callcenter lists an agent on a direct call as idle; the model knows better.
        from .direct import current_call

        agent.call_uuid = current_call(state, agent.name)


def _calls_by_agent(state: State) -> dict[str, str]:
    calls: dict[str, str] = {}
    for member in state.members.values():
        if member.agent and member.state == ANSWERED:
            calls[member.agent] = member.uuid
        for name in member.offered_to:
            calls.setdefault(name, member.uuid)
    return calls


def _channels(state: State, snap: Snapshot) -> None:
    fresh: dict[str, Channel] = {}
    for row in snap.channels or ():
        channel = state.channels.get(row.uuid)
        if channel is None:
            channel = Channel(
                row.uuid, row.name, row.direction, row.caller_number, row.caller_name,
                row.destination, created_at=row.created_at, presence_id=row.presence_id,
            )
            channel.agent = state.agent_for_channel(channel)
        channel.answered = channel.answered or row.callstate in ("ACTIVE", "HELD")
        channel.held = row.callstate == "HELD"
        member = state.members.get(row.uuid)
        if member is not None:
            channel.member_queue = member.queue
            channel.served_by = member.agent
        fresh[row.uuid] = channel
    state.channels = fresh

