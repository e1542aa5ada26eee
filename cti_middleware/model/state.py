"""The live call-centre state, updated one event at a time.

:meth:`State.apply` takes a typed event (:mod:`cti_middleware.events`) and returns
the domain changes (:mod:`.changes`) it caused, and nothing when nothing changed.
It is pure: no I/O, no clock; every time comes from the event.

What the model relies on, as FreeSWITCH 1.10's mod_callcenter behaves:

* an agent's status/state come only from ``agent-status-change`` /
  ``agent-state-change``; its current call from ``agent-offering`` /
  ``bridge-agent-*``.  Wrap-up is never announced: after ``bridge-agent-end`` the
  agent is ``Waiting`` at once and simply gets no offer before
  ``last_bridge_end + wrap_up_time``;
* ring-all: the agents that lose go back to ``Waiting`` with no fail event;
* transfers: mod_callcenter ends the queue call when the agent leg leaves, though
  the caller may talk on.  Only ``CHANNEL_BRIDGE`` of the caller's channel with a
  new peer (attended) or ``member-queue-end`` with the caller still up and a
  ``bl_xfer`` transfer source (blind) shows where it went;
* supervisor legs (eavesdrop, whisper, three-way) are ordinary channels with no
  mod_callcenter variables: they never make an agent busy;
* a caller the dialplan bridges straight to an agent (sticky route) has no
  mod_callcenter events at all: the agent's leg carries ``cti_*`` variables and
  :mod:`.direct` turns it into the changes a queue call makes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import events as ev
from . import changes as ch
from . import direct
from .entities import (
    ANSWERED,
    TRYING,
    WAITING,
    Agent,
    Channel,
    DirectCall,
    Member,
    Queue,
    contact_key,
)

if TYPE_CHECKING:
    from .snapshot import Snapshot

__all__ = ["State"]

_KEEP = object()
_IDLE_STATES = frozenset({"Waiting", "Idle"})

Out = list  # list[ch.Change]; a plain alias keeps the hot path free of typing lookups


class State:
    """Agents, queues, members and channels as last reported by FreeSWITCH."""

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}
        self.queues: dict[str, Queue] = {}
        self.members: dict[str, Member] = {}
        self.channels: dict[str, Channel] = {}
        self.registrations: dict[str, bool] = {}
        self.direct: dict[str, DirectCall] = {}
        """Direct (non-queue) calls by the agent leg's uuid."""
        self.direct_calls: dict[str, str] = {}
        """Caller uuid -> agent leg uuid of its direct call."""
        self._contacts: dict[str, str] = {}
        self._handlers: dict[type, Callable[[object, Out], None]] = {
            ev.AgentStatus: self._on_agent_status,
            ev.AgentState: self._on_agent_state,
            ev.AgentOffering: self._on_offering,
            ev.BridgeAgentStart: self._on_bridge_start,
            ev.BridgeAgentEnd: self._on_bridge_end,
            ev.BridgeAgentFail: self._on_bridge_fail,
            ev.MemberQueueStart: self._on_member_start,
            ev.MemberQueueEnd: self._on_member_end,
            ev.MembersCount: self._on_members_count,
            ev.AgentMaxNoAnswer: self._on_max_no_answer,
            ev.AgentAdded: self._on_agent_add,
            ev.AgentContact: self._on_agent_contact,
            ev.ChannelCreate: self._on_channel,
            ev.ChannelProgress: self._on_channel,
            ev.ChannelAnswer: self._on_answer,
            ev.ChannelBridge: self._on_bridge,
            ev.ChannelUnbridge: self._on_unbridge,
            ev.ChannelHold: self._on_hold,
            ev.ChannelUnhold: self._on_hold,
            ev.ChannelHangup: self._on_hangup,
            ev.ChannelHangupComplete: self._on_hangup,
            ev.ChannelDestroy: self._on_destroy,
            ev.Registration: self._on_registration,
        }

    # ------------------------------------------------------------------ public

    def apply(self, event: ev.Event) -> list[ch.Change]:
        """Update the state with one event; return what changed (often nothing)."""
        handler = self._handlers.get(type(event))
        if handler is None:
            return []
        out: list[ch.Change] = []
        handler(event, out)
        return out

    def resync(self, snapshot: Snapshot) -> list[ch.Change]:
        """Replace the state with a snapshot of FreeSWITCH's own tables.

        Returns a change for every agent whose status, state or call differs, and
        ends the members FreeSWITCH no longer has (e.g. after a restart).
        """
        from .resync import apply_snapshot

        out: list[ch.Change] = []
        apply_snapshot(self, snapshot, out)
        return out

    def agent_for_channel(self, channel: Channel) -> str | None:
        """Whose phone a channel is, using what the channel carries.

        ``variable_cc_agent`` on a leg mod_callcenter made (``cc_side=agent``) or
        set from the user directory; otherwise ``presence_id`` or the channel name
        matched against the agents' contacts.  A caller leg (``cc_side=member``)
        carries the *serving* agent in ``cc_agent`` and is never an agent leg.
        """
        side = channel.cc_side
        if side == "member":
            return None
        if channel.cc_agent:
            return channel.cc_agent
        if side == "agent":
            return None
        pid = channel.presence_id
        if pid and pid in self.agents:
            return pid
        return self._contacts.get(contact_key(channel.name))

    def set_contact(self, agent: Agent, contact: str | None) -> None:
        """Record an agent's contact and index it for channel-to-agent mapping."""
        if agent.contact:
            old = contact_key(agent.contact)
            if self._contacts.get(old) == agent.name:
                del self._contacts[old]
        agent.contact = contact
        if contact:
            self._contacts[contact_key(contact)] = agent.name

    # ------------------------------------------------------------------ helpers

    def agent(self, name: str) -> Agent:
        """The agent record, created on first sight (events may precede a resync)."""
        agent = self.agents.get(name)
        if agent is None:
            agent = self.agents[name] = Agent(name)
        return agent

    def queue(self, name: str) -> Queue:
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name)
        return queue

    def update_agent(
        self,
        out: Out,
        agent: Agent,
        ts: float,
        status: str | None = None,
        state: str | None = None,
        call: object = _KEEP,
    ) -> None:
        """Change an agent and report it only if what a desktop shows differs."""
        before = agent.key()
        if status is not None and status != agent.status:
            agent.status = status
            agent.since = ts
        if state is not None and state != agent.state:
            agent.state = state
            agent.since = ts
        if call is not _KEEP:
            agent.call_uuid = call  # type: ignore[assignment]
        if agent.key() != before:
            out.append(agent_change(agent))

    def _queue_mark(self, queue: Queue) -> tuple[int, int]:
        return (queue.waiting, queue.members)

    def _queue_report(self, queue: Queue, before: tuple[int, int], out: Out) -> None:
        if (queue.waiting, queue.members) != before:
            out.append(ch.QueueCountChanged(queue.name, queue.waiting, queue.members))

    def _add_member(self, member: Member) -> None:
        self.members[member.uuid] = member
        queue = self.queue(member.queue)
        queue.members += 1
        if member.state != ANSWERED:
            queue.waiting += 1
        channel = self.channels.get(member.uuid)
        if channel is not None:
            channel.member_queue = member.queue

    def _drop_member(self, member: Member) -> None:
        self.members.pop(member.uuid, None)
        queue = self.queue(member.queue)
        queue.members = max(0, queue.members - 1)
        if member.state != ANSWERED:
            queue.waiting = max(0, queue.waiting - 1)

    def _member_for(self, e: ev.AgentOffering | ev.BridgeAgentStart | ev.BridgeAgentFail) -> Member:
        member = self.members.get(e.member_uuid)
        if member is None:
            # Joined before this connection existed: build it from what the event says.
            joined = getattr(e, "joined_at", None)
            member = Member(e.member_uuid, e.queue, e.caller_number, e.caller_name, joined)
            self._add_member(member)
        return member

    def withdraw_offers(self, member: Member, reason: str, ts: float, out: Out) -> None:
        for name in sorted(member.offered_to):
            agent = self.agents.get(name)
            if agent is not None and agent.call_uuid == member.uuid:
                self.update_agent(out, agent, ts, call=None)
            out.append(ch.OfferWithdrawn(name, member.queue, member.uuid, reason, None, ts))
        member.offered_to.clear()

    # ------------------------------------------------------------------ callcenter

    def _on_agent_status(self, e: ev.AgentStatus, out: Out) -> None:
        self.update_agent(out, self.agent(e.agent), e.ts, status=e.status)

    def _on_agent_state(self, e: ev.AgentState, out: Out) -> None:
        agent = self.agent(e.agent)
        if e.state in _IDLE_STATES and agent.call_uuid in self.direct_calls:
            # A direct call is invisible to mod_callcenter: idle there, busy here.
            self.update_agent(out, agent, e.ts, state=e.state)
            return
        if e.state in _IDLE_STATES and agent.call_uuid is not None:
            member = self.members.get(agent.call_uuid)
            if member is not None and e.agent in member.offered_to:
                member.offered_to.discard(e.agent)
                taken = member.agent is not None and member.agent != e.agent
                reason = "taken" if taken else "cancelled"
                out.append(ch.OfferWithdrawn(e.agent, member.queue, member.uuid, reason, None, e.ts))
            self.update_agent(out, agent, e.ts, state=e.state, call=None)
            return
        self.update_agent(out, agent, e.ts, state=e.state)

    def _on_offering(self, e: ev.AgentOffering, out: Out) -> None:
        member = self._member_for(e)
        queue = self.queue(member.queue)
        mark = self._queue_mark(queue)
        if member.state == WAITING:
            member.state = TRYING
        member.offered_to.add(e.agent)
        if e.member_id:
            member.member_id = e.member_id
        agent = self.agent(e.agent)
        agent.last_offered_at = e.ts
        agent.queue = e.queue
        out.append(
            ch.CallOffered(
                e.agent, member.queue, member.uuid, member.caller_number,
                member.caller_name, member.joined_at, e.ts,
            )
        )
        self.update_agent(out, agent, e.ts, call=member.uuid)
        self._queue_report(queue, mark, out)

    def _on_bridge_start(self, e: ev.BridgeAgentStart, out: Out) -> None:
        member = self._member_for(e)
        queue = self.queue(member.queue)
        mark = self._queue_mark(queue)
        if member.state != ANSWERED:
            member.state = ANSWERED
            queue.waiting = max(0, queue.waiting - 1)
        member.offered_to.discard(e.agent)
        member.agent = e.agent
        member.agent_uuid = e.agent_uuid
        if member.answered_at is None:
            member.answered_at = e.ts
        if member.joined_at is None:
            member.joined_at = e.joined_at
        caller = self.channels.get(member.uuid)
        if caller is not None:
            caller.served_by = e.agent
            caller.member_queue = member.queue
        if e.agent_uuid:
            leg = self.channels.get(e.agent_uuid)
            if leg is not None:
                leg.agent = e.agent
        agent = self.agent(e.agent)
        agent.last_bridge_start = e.ts
        agent.agent_uuid = e.agent_uuid
        agent.queue = member.queue
        out.append(
            ch.CallBridged(
                e.agent, member.queue, member.uuid, e.agent_uuid,
                member.caller_number, member.caller_name, e.ts,
            )
        )
        self.update_agent(out, agent, e.ts, call=member.uuid)
        self._queue_report(queue, mark, out)

    def _on_bridge_end(self, e: ev.BridgeAgentEnd, out: Out) -> None:
        agent = self.agent(e.agent)
        agent.last_bridge_end = e.ts
        agent.agent_uuid = None
        if agent.call_uuid == e.member_uuid:
            self.update_agent(out, agent, e.ts, call=None)

    def _on_bridge_fail(self, e: ev.BridgeAgentFail, out: Out) -> None:
        member = self.members.get(e.member_uuid)
        if member is not None:
            member.offered_to.discard(e.agent)
            if member.state == TRYING and not member.offered_to:
                member.state = WAITING
        agent = self.agent(e.agent)
        if agent.call_uuid == e.member_uuid:
            self.update_agent(out, agent, e.ts, call=None)
        out.append(ch.OfferWithdrawn(e.agent, e.queue, e.member_uuid, "failed", e.hangup_cause, e.ts))

    def _on_member_start(self, e: ev.MemberQueueStart, out: Out) -> None:
        queue = self.queue(e.queue)
        mark = self._queue_mark(queue)
        member = self.members.get(e.member_uuid)
        if member is not None and member.queue != e.queue:
            self._drop_member(member)
            member = None
        if member is None:
            member = Member(e.member_uuid, e.queue, e.caller_number, e.caller_name, e.ts, e.member_id)
            self._add_member(member)
        out.append(
            ch.MemberJoined(e.queue, e.member_uuid, e.caller_number, e.caller_name, e.ts)
        )
        self._queue_report(queue, mark, out)

    def _on_member_end(self, e: ev.MemberQueueEnd, out: Out) -> None:
        queue = self.queue(e.queue)
        mark = self._queue_mark(queue)
        member = self.members.get(e.member_uuid)
        if member is None:
            member = Member(e.member_uuid, e.queue, e.caller_number, e.caller_name, e.joined_at)
            member.state = ANSWERED  # not counted as waiting, it never was here
            member.agent = e.agent
            member.answered_at = e.answered_at if e.agent else None
            queue.members += 1
        else:
            self.withdraw_offers(member, "caller-left", e.ts, out)
        self._drop_member(member)
        channel = self.channels.get(e.member_uuid)
        hangup = e.hangup_cause or (channel.hangup_cause if channel is not None else None)
        agent = member.agent or e.agent
        answered = member.answered_at if member.answered_at is not None else (
            e.answered_at if agent else None
        )
        transferred = member.followed
        if e.channel_alive and not member.followed:
            destination = blind_transfer_destination(e.transfer_source)
            if destination is not None:
                transferred = True
                out.append(
                    ch.CallFollowed(
                        member.uuid, member.queue, agent, None, None, None, destination,
                        member.caller_number, member.caller_name, e.ts,
                    )
                )
        out.append(
            ch.CallEnded(
                member.uuid, member.queue, member.caller_number, member.caller_name, agent,
                member.joined_at, answered, e.ts, e.cause, agent is None and answered is None,
                hangup, e.cancel_reason, transferred,
            )
        )
        out.append(ch.MemberLeft(member.queue, member.uuid))
        self._queue_report(queue, mark, out)

    def _on_members_count(self, e: ev.MembersCount, out: Out) -> None:
        queue = self.queue(e.queue)
        mark = self._queue_mark(queue)
        queue.members = e.count
        self._queue_report(queue, mark, out)

    def _on_max_no_answer(self, e: ev.AgentMaxNoAnswer, out: Out) -> None:
        self.agent(e.agent)
        out.append(ch.AgentNoAnswerLimitReached(e.agent, e.member_uuid, e.ts))

    def _on_agent_add(self, e: ev.AgentAdded, out: Out) -> None:
        known = e.agent in self.agents
        agent = self.agent(e.agent)
        agent.agent_type = e.agent_type or agent.agent_type
        if not known:
            out.append(ch.AgentAdded(e.agent, e.agent_type))

    def _on_agent_contact(self, e: ev.AgentContact, out: Out) -> None:
        agent = self.agent(e.agent)
        if agent.contact != e.contact:
            self.set_contact(agent, e.contact)
            out.append(ch.AgentContactChanged(e.agent, e.contact))

    # ------------------------------------------------------------------ channels

    def _channel(self, e: ev.ChannelEvent, out: Out | None = None) -> Channel:
        channel = self.channels.get(e.uuid)
        if channel is None:
            channel = self.channels[e.uuid] = Channel(
                e.uuid, e.name, e.direction, e.caller_number, e.caller_name, e.destination,
                created_at=e.ts, answered=e.answered, cc_side=e.cc_side, cc_agent=e.cc_agent,
                cc_member_uuid=e.cc_member_uuid, presence_id=e.presence_id,
            )
            if e.uuid in self.members:
                channel.member_queue = self.members[e.uuid].queue
            channel.agent = self.agent_for_channel(channel)
            if out is not None and e.cti_agent is not None and direct.is_direct_leg(e):
                direct.offer(self, channel, e, out)
            return channel
        if (e.cc_side, e.cc_agent) != (channel.cc_side, channel.cc_agent) and (
            e.cc_side or e.cc_agent
        ):
            channel.cc_side = e.cc_side
            channel.cc_agent = e.cc_agent
            channel.cc_member_uuid = e.cc_member_uuid or channel.cc_member_uuid
            channel.agent = self.agent_for_channel(channel)
        return channel

    def _on_channel(self, e: ev.ChannelEvent, out: Out) -> None:
        self._channel(e, out)

    def _on_answer(self, e: ev.ChannelEvent, out: Out) -> None:
        self._channel(e, out).answered = True
        call = self.direct.get(e.uuid)
        if call is not None and call.answered_at is None:
            call.answered_at = e.ts

    def _on_bridge(self, e: ev.ChannelEvent, out: Out) -> None:
        channel = self._channel(e, out)
        other_uuid = e.other_uuid
        if not other_uuid:
            return
        channel.bridged_to = other_uuid
        other = self.channels.get(other_uuid)
        if other is not None:
            other.bridged_to = channel.uuid
        if self.direct:
            direct.bridged(self, channel.uuid, other_uuid, e.ts, out)
        self._follow(channel, other_uuid, other, e.other_name, e.ts, out)
        if other is not None:
            self._follow(other, channel.uuid, channel, channel.name, e.ts, out)

    def _follow(
        self, caller: Channel, peer_uuid: str, peer: Channel | None,
        peer_name: str | None, ts: float, out: Out,
    ) -> None:
        """Report a queue caller bridged to someone other than its queue agent leg."""
        member = self.members.get(caller.uuid)
        if member is None and caller.member_queue is None:
            return
        if member is not None and (member.agent_uuid == peer_uuid or member.agent_uuid is None):
            return
        if peer is not None and peer.cc_side == "agent" and peer.cc_member_uuid == caller.uuid:
            return
        to_agent = peer.agent if peer is not None else None
        from_agent = member.agent if member is not None else caller.served_by
        if member is not None:
            member.followed = True
        caller.served_by = to_agent
        out.append(
            ch.CallFollowed(
                caller.uuid, caller.member_queue, from_agent, to_agent, peer_uuid,
                peer.name if peer is not None else peer_name, None,
                member.caller_number if member is not None else caller.caller_number,
                member.caller_name if member is not None else caller.caller_name, ts,
            )
        )

    def _on_unbridge(self, e: ev.ChannelEvent, out: Out) -> None:
        channel = self._channel(e)
        peer = channel.bridged_to
        channel.bridged_to = None
        if peer:
            other = self.channels.get(peer)
            if other is not None and other.bridged_to == channel.uuid:
                other.bridged_to = None

    def _on_hold(self, e: ev.ChannelEvent, out: Out) -> None:
        channel = self._channel(e)
        held = type(e) is ev.ChannelHold
        if channel.held == held:
            return
        channel.held = held
        if channel.uuid in self.members or channel.member_queue:
            member_uuid: str | None = channel.uuid
            agent = channel.served_by
        else:
            agent = channel.agent
            member_uuid = channel.cc_member_uuid
            if member_uuid is None and channel.bridged_to in self.members:
                member_uuid = channel.bridged_to
        out.append(ch.ChannelHeld(channel.uuid, held, agent, member_uuid, e.ts))

    def _on_hangup(self, e: ev.ChannelEvent, out: Out) -> None:
        channel = self._channel(e)
        channel.hung_up = True
        channel.hangup_cause = e.hangup_cause or channel.hangup_cause
        if self.direct:
            direct.hangup(self, e.uuid, e.ts, channel.hangup_cause, out)

    def _on_destroy(self, e: ev.ChannelEvent, out: Out) -> None:
        self.channels.pop(e.uuid, None)
        if self.direct:
            direct.hangup(self, e.uuid, e.ts, e.hangup_cause, out)

    def _on_registration(self, e: ev.Registration, out: Out) -> None:
        key = f"{e.user}@{e.domain}"
        if self.registrations.get(key) == e.registered:
            return
        self.registrations[key] = e.registered
        agent = e.agent or (key if key in self.agents else None)
        if agent is not None and agent in self.agents:
            self.agents[agent].registered = e.registered
        out.append(ch.RegistrationChanged(e.user, e.domain, agent, e.registered, e.contact, e.ts))


def agent_change(agent: Agent) -> ch.AgentStateChanged:
    return ch.AgentStateChanged(
        agent.name, agent.status, agent.state, agent.since, agent.call_uuid, agent.wrap_up_until
    )


def blind_transfer_destination(transfer_source: str | None) -> str | None:
    """``<epoch>:<uuid>:bl_xfer:2000/agents/XML`` -> ``2000``; None for anything else."""
    if not transfer_source:
        return None
    _, sep, rest = transfer_source.partition(":bl_xfer:")
    if not sep:
        return None
    return rest.split("/", 1)[0] or None
