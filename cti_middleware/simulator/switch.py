"""The switch core: channels, their events, bridging, holding and hanging up.

The orders in which FreeSWITCH reports a hang-up depend on which leg went first and
on who still holds the session (mod_callcenter keeps the member and agent sessions
locked until it has sent ``bridge-agent-end``).  Those orders are written out here as
they were recorded, one function per situation, rather than derived from a thread
model: the point is that a client sees exactly the sequences a real switch sends.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from cti_middleware.simulator.channels import Channel, Profile, usec
from cti_middleware.simulator.config import SimConfig
from cti_middleware.simulator.events import EventBus, Headers

SRC_CREATE = ("switch_core_state_machine.c", "switch_core_session_run", 626)
SRC_ANSWER = ("switch_channel.c", "switch_channel_perform_mark_answered", 3846)
SRC_HANGUP = ("switch_channel.c", "switch_channel_perform_hangup", 3445)
SRC_COMPLETE = ("switch_core_state_machine.c", "switch_core_session_reporting_state", 943)
SRC_DESTROY = ("switch_core_session.c", "switch_core_session_perform_destroy", 1584)
SRC_BRIDGE = ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1689)
SRC_UNBRIDGE = ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1879)
SRC_HOLD = ("switch_ivr.c", "switch_ivr_hold", 1558)
SRC_UNHOLD = ("switch_ivr.c", "switch_ivr_unhold", 1604)


class Switch:
    """Channel registry and channel-level behaviour."""

    def __init__(self, config: SimConfig, bus: EventBus) -> None:
        self.config = config
        self.bus = bus
        self.channels: dict[str, Channel] = {}
        self.session_counter = 0
        self.peak = 0
        self.started_at = time.time()
        # called with the member leg when a queue member's leg goes down unbridged
        self.on_member_gone: Callable[[Channel], None] | None = None
        # called when an agent in an attended transfer hangs up (the colleague takes over)
        self.on_consult_hangup: Callable[[Channel, str], None] | None = None
        # legs whose dialplan goes on when their bridge peer leaves (unless hangup_after_bridge)
        self.resumable: set[str] = set()

    # -- registry -------------------------------------------------------------
    def new_session_id(self) -> int:
        self.session_counter += 1
        return self.session_counter

    def add(self, channel: Channel) -> None:
        self.channels[channel.uuid] = channel
        self.peak = max(self.peak, len(self.channels))

    def get(self, channel_uuid: str) -> Channel | None:
        channel = self.channels.get(channel_uuid)
        return channel if channel and channel.alive else None

    def ordered(self) -> list[Channel]:
        return [c for c in self.channels.values() if c.alive]

    # -- events ---------------------------------------------------------------
    def fire(self, name: str, channel: Channel, source: tuple[str, str, int], extra: Headers | None = None,
             prefix: Headers | None = None, with_cause: bool = True) -> None:
        headers = self.bus.core_headers(name, source)
        headers += prefix or []
        headers += channel.data(with_hangup_cause=with_cause)
        headers += extra or []
        self.bus.fire(headers)

    def fire_create(self, channel: Channel) -> None:
        self.bus.skip(2)
        self.fire("CHANNEL_CREATE", channel, SRC_CREATE)

    def answer(self, channel: Channel, cs: str, call_state: str, number: int) -> None:
        now = time.time()
        channel.answered_at = now
        channel.profile.times["Answered-Time"] = usec(now)
        channel.set_state(cs, call_state, number, "answered")
        self.bus.skip(1)
        self.fire("CHANNEL_ANSWER", channel, SRC_ANSWER)

    # -- creation -------------------------------------------------------------
    def make_channel(self, name: str, direction: str, cid_name: str, cid_number: str, dest: str,
                     callee_name: str, callee_number: str, dialplan: str | None, source: str,
                     context: str = "default", kind: str = "loopback") -> Channel:
        chan_uuid = str(uuid.uuid4())
        now = usec()
        profile = Profile(
            direction=direction, logical_direction=direction, caller_id_name=cid_name,
            caller_id_number=cid_number, callee_id_name=callee_name, callee_id_number=callee_number,
            destination_number=dest, unique_id=chan_uuid, channel_name=name, source=source,
            context=context, dialplan=dialplan, created=now,
        )
        profile.times["Created-Time"] = now
        channel = Channel(chan_uuid, name, direction, profile, self.new_session_id(), kind=kind)
        channel.created_at = now / 1e6
        v = channel.set_var
        v("direction", direction)
        if direction == "outbound":
            v("is_outbound", "true")
        v("uuid", chan_uuid)
        v("call_uuid", chan_uuid)
        v("session_id", str(channel.session_id))
        for key, value in (("read_codec", "L16"), ("read_rate", "8000"), ("write_codec", "L16"),
                           ("write_rate", "8000")):
            v(key, value)
        v("channel_name", name)
        self.add(channel)
        return channel

    # -- bridging -------------------------------------------------------------
    def bridge(self, member: Channel, agent: Channel, member_vars: list[tuple[str, str]] | None = None) -> None:
        """Bridge two answered legs (uuid_bridge) and report CHANNEL_BRIDGE on the first."""
        now = time.time()
        stamp = usec(now)
        xfer_member = f"{int(now)}:{uuid.uuid4()}:uuid_br:{agent.uuid}"
        xfer_agent = f"{int(now)}:{uuid.uuid4()}:uuid_br:{member.uuid}"
        for chan, xfer in ((member, xfer_member), (agent, xfer_agent)):
            chan.profile.index += 1
            chan.profile.created = stamp
            chan.profile.transfer_source = xfer
            chan.profile.times["Bridged-Time"] = stamp
            chan.bridged_at = now
        member.profile.callee_id_name = agent.profile.callee_id_name
        member.profile.callee_id_number = agent.profile.destination_number
        member.bridged, agent.bridged = agent, member
        agent.call_uuid = member.uuid
        if member.partner is not None:  # the caller's own leg sees who answered
            member.partner.profile.caller_id_number = agent.profile.destination_number
        other = agent.profile.copy()
        other.logical_direction = "inbound"
        other.created = stamp
        other.transfer_source = None
        member.other, member.other_type = other, "originatee"
        snap = member.profile.copy()
        snap.created = 0
        snap.times = dict.fromkeys(snap.times, 0)
        snap.index = 1
        snap.transfer_source = None
        snap.callee_id_name, snap.callee_id_number = "Outbound Call", "default"
        agent.other, agent.other_type = snap, "originator"
        mv = member.set_var
        mv("bridge_channel", agent.name)
        mv("bridge_uuid", agent.uuid)
        mv("signal_bond", agent.uuid)
        mv("original_destination_number", member.profile.destination_number)
        mv("original_caller_id_name", member.profile.caller_id_name)
        mv("original_caller_id_number", member.profile.caller_id_number)
        mv("transfer_history", xfer_member)
        mv("transfer_source", xfer_member)
        for key, value in member_vars or []:
            mv(key, value)
        member.set_state("CS_SOFT_EXECUTE", "ACTIVE", 3)
        member.application, member.application_data = "uuid_bridge", agent.uuid
        agent.set_state("CS_EXCHANGE_MEDIA", "ACTIVE", 5)
        agent.application, agent.application_data = "uuid_bridge", member.uuid
        av = agent.set_var
        av("original_destination_number", agent.profile.destination_number)
        av("original_caller_id_name", agent.profile.caller_id_name)
        av("original_caller_id_number", agent.profile.caller_id_number)
        av("transfer_history", xfer_agent)
        av("transfer_source", xfer_agent)
        av("call_uuid", member.uuid)
        self.bus.skip(6)
        self.fire("CHANNEL_BRIDGE", member, SRC_BRIDGE,
                  prefix=[("Bridge-A-Unique-ID", member.uuid), ("Bridge-B-Unique-ID", agent.uuid)])
        mv("bridge_to", agent.uuid)
        mv("last_bridge_to", agent.uuid)
        mv("bridge_channel", agent.name)
        mv("bridge_uuid", agent.uuid)
        mv("signal_bond", agent.uuid)
        mv("last_sent_callee_id_name", agent.profile.callee_id_name)
        mv("last_sent_callee_id_number", agent.profile.destination_number)
        av("bridge_to", member.uuid)
        av("last_bridge_to", member.uuid)
        av("bridge_channel", member.name)
        av("bridge_uuid", member.uuid)
        av("signal_bond", member.uuid)

    def fire_unbridge(self, member: Channel, with_cause: bool, note_peer_cause: bool = True) -> None:
        agent_uuid = member.variables.get("bridge_to", member.bridged.uuid if member.bridged else "")
        member.set_var("bridge_to", None)
        peer = member.bridged
        if (note_peer_cause and peer is not None and member.answer_state != "hangup"
                and "last_bridge_hangup_cause" not in member.variables):
            member.set_var("last_bridge_hangup_cause", peer.hangup_cause or "NORMAL_CLEARING")
        member.set_var("bridge_hangup_cause", (peer.hangup_cause if peer else None) or "NORMAL_CLEARING")
        if peer is not None and not peer.hangup_initiator:
            peer.set_var("bridge_hangup_cause", peer.hangup_cause or "NORMAL_CLEARING")
        member.unbridged = True
        self.fire("CHANNEL_UNBRIDGE", member, SRC_UNBRIDGE, with_cause=with_cause,
                  prefix=[("Bridge-A-Unique-ID", member.uuid), ("Bridge-B-Unique-ID", agent_uuid)])

    # -- hold -----------------------------------------------------------------
    def hold(self, channel: Channel) -> None:
        channel.held = True
        self.fire("CHANNEL_HOLD", channel, SRC_HOLD)

    # -- hang-up primitives ---------------------------------------------------
    def ev_hangup(self, channel: Channel, cause: str, direct: bool = True) -> None:
        """CHANNEL_HANGUP; ``direct`` is False when the leg only follows its bridge peer."""
        channel.hangup_cause = cause
        channel.hanging_up = True
        channel.answer_state = "hangup"
        channel.state_number = 10
        channel.profile.times["Hangup-Time"] = 0
        self._bridge_hangup_vars(channel, cause, direct)
        self.bus.skip(1)
        if channel.on_hangup is not None:
            callback, channel.on_hangup = channel.on_hangup, None
            callback(cause)
        self.fire("CHANNEL_HANGUP", channel, SRC_HANGUP)

    @staticmethod
    def _bridge_hangup_vars(channel: Channel, cause: str, direct: bool) -> None:
        """The bridge bookkeeping variables, as each side of a bridge leaves them."""
        peer = channel.bridged
        if peer is None or channel.unbridged or channel.kind == "consult":
            return
        if channel.kind == "agent":
            if not direct:
                channel.set_var("bridge_to", None)
            if peer.answer_state == "hangup":
                channel.set_var("last_bridge_hangup_cause", peer.hangup_cause or "NORMAL_CLEARING")
            if direct:
                channel.set_var("last_bridge_role", "originatee")
            return
        if peer.answer_state == "hangup":
            channel.set_var("last_bridge_hangup_cause", peer.hangup_cause or "NORMAL_CLEARING")
        channel.set_var("last_bridge_role", "originator")

    def ev_complete(self, channel: Channel) -> None:
        now = time.time()
        if channel.kind == "agent":
            channel.set_var("bridge_to", None)
        channel.hangup_vars(now)
        channel.set_state("CS_REPORTING", "HANGUP", 11)
        self.bus.skip(1)
        self.fire("CHANNEL_HANGUP_COMPLETE", channel, SRC_COMPLETE,
                  prefix=[("Hangup-Cause", channel.hangup_cause or "NORMAL_CLEARING")])

    def ev_destroy(self, channel: Channel) -> None:
        channel.state_number = 12
        self.fire("CHANNEL_DESTROY", channel, SRC_DESTROY)
        channel.alive = False
        self.channels.pop(channel.uuid, None)

    def _mark_down(self, *chans: Channel) -> None:
        for chan in chans:
            chan.hanging_up = True

    # -- hang-up sequences ----------------------------------------------------
    def hangup(self, channel: Channel, cause: str = "NORMAL_CLEARING") -> bool:
        """Hang up one channel and whatever goes down with it; False if already going."""
        if not channel.alive or channel.hanging_up:
            return False
        if channel.consult is not None and channel.consult.alive and self.on_consult_hangup is not None:
            self.on_consult_hangup(channel, cause)
        elif channel.kind == "loopback" and channel.partner is not None:
            a, b = self.loopback_pair(channel)
            if b.bridged is not None and b.bridged.alive and b.bridged.kind == "consult":
                self._caller_leaves_colleague(a, b, b.bridged, cause)
            elif b.bridged is not None and b.bridged.alive:
                self._bridged_down(initiator=channel, a=a, b=b, x=b.bridged, cause=cause)
            else:
                self._pair_down(first=channel, a=a, b=b, cause=cause)
        elif channel.bridged is not None and channel.bridged.alive:
            peer = channel.bridged
            if self._stays_after_bridge(peer):
                self._peer_leaves(peer, channel, cause)
            elif peer.kind == "loopback" and peer.partner is not None:
                a, b = self.loopback_pair(peer)
                self._bridged_down(initiator=channel, a=a, b=b, x=channel, cause=cause)
            else:
                self._two_down(channel, peer, cause)
        else:
            self._single_down(channel, cause)
        return True

    def hangup_all(self, cause: str) -> None:
        """hupall: every channel at once, in the order the recordings show."""
        done: set[str] = set()
        ringing = [c for c in self.ordered() if c.kind == "agent" and c.bridged is None]
        for chan in ringing + [c for c in self.ordered() if c not in ringing]:
            if chan.uuid in done or not chan.alive or chan.hanging_up:
                continue
            group = self._group(chan)
            done.update(c.uuid for c in group)
            if chan.kind == "loopback" and chan.partner is not None:
                a, b = self.loopback_pair(chan)
                if b.bridged is not None and b.bridged.alive:
                    self._bridged_down(initiator=None, a=a, b=b, x=b.bridged, cause=cause)
                    continue
            self.hangup(chan, cause)

    def _group(self, chan: Channel) -> list[Channel]:
        group = [chan]
        if chan.partner is not None:
            group.append(chan.partner)
        for c in list(group):
            if c.bridged is not None:
                group.append(c.bridged)
        return group

    @staticmethod
    def loopback_pair(channel: Channel) -> tuple[Channel, Channel]:
        """(A leg, B leg) of a loopback pair."""
        partner = channel.partner
        assert partner is not None
        if channel.variables.get("loopback_leg") == "A":
            return channel, partner
        return partner, channel

    def _single_down(self, chan: Channel, cause: str) -> None:
        self.ev_hangup(chan, cause)
        self.ev_complete(chan)
        self._end_queue_call(chan)
        self.ev_destroy(chan)

    @staticmethod
    def _end_queue_call(chan: Channel) -> None:
        """A leg of a queue call that left its bridge (transfer -both) went down."""
        if chan.on_bridge_end is not None:
            chan.on_bridge_end()

    def _two_down(self, first: Channel, second: Channel, cause: str) -> None:
        self._mark_down(first, second)
        self.ev_hangup(first, cause)
        self.ev_complete(first)
        self.fire_unbridge(second, with_cause=False)
        self.ev_hangup(second, "NORMAL_CLEARING")
        self.ev_complete(second)
        self.ev_destroy(first)
        self.ev_destroy(second)

    def _stays_after_bridge(self, chan: Channel) -> bool:
        """Whether ``chan`` outlives its bridge: its dialplan resumes unless hangup_after_bridge."""
        flag = (chan.variables.get("hangup_after_bridge") or "").strip().lower()
        return chan.uuid in self.resumable and flag not in ("true", "yes", "on", "1", "enabled", "active")

    def _peer_leaves(self, stay: Channel, gone: Channel, cause: str) -> None:
        """The bridge peer hangs up; ``stay`` goes back to CS_EXECUTE, its next action runs."""
        self._mark_down(gone)
        gone.hangup_initiator = True
        self.ev_hangup(gone, cause)
        self.ev_complete(gone)
        self.fire_unbridge(stay, with_cause=False)
        stay.bridged = None
        stay.set_state("CS_EXECUTE", "ACTIVE", 4)
        stay.set_var("bridge_channel", None)
        stay.set_var("bridge_uuid", None)
        stay.set_var("signal_bond", None)
        stay.set_var("call_uuid", stay.uuid)
        if stay.on_bridge_end is not None:
            stay.on_bridge_end()
        self.ev_destroy(gone)

    def _pair_down(self, first: Channel, a: Channel, b: Channel, cause: str) -> None:
        """A loopback pair not bridged to anything (a caller still waiting, or parked)."""
        self._mark_down(a, b)
        second = b if first is a else a
        self.ev_hangup(first, cause)
        self.ev_hangup(second, cause)
        self.ev_complete(a)
        if self.on_member_gone is not None and b.variables.get("cc_side") == "member":
            self.on_member_gone(b)
        self.ev_complete(b)
        self._end_queue_call(b)
        self.ev_destroy(a)
        self.ev_destroy(b)

    def _caller_leaves_colleague(self, a: Channel, b: Channel, y: Channel, cause: str) -> None:
        """After an attended transfer the colleague's leg is the bridge's A side."""
        self._mark_down(a, b, y)
        self.ev_hangup(a, cause)
        self.ev_hangup(b, cause)
        self.ev_complete(a)
        b.set_var("bridge_to", None)
        self.ev_complete(b)
        self.ev_destroy(a)
        y.set_var("bridge_to", None)
        y.set_var("last_bridge_hangup_cause", b.hangup_cause or cause)
        y.set_var("bridge_hangup_cause", b.hangup_cause or cause)
        self.fire("CHANNEL_UNBRIDGE", y, SRC_UNBRIDGE,
                  prefix=[("Bridge-A-Unique-ID", y.uuid), ("Bridge-B-Unique-ID", b.uuid)])
        y.set_state("CS_EXECUTE", "ACTIVE", 4)
        self.ev_hangup(y, "NORMAL_CLEARING", direct=False)
        self.ev_complete(y)
        self.ev_destroy(y)
        self.ev_destroy(b)

    def _bridged_down(self, initiator: Channel | None, a: Channel, b: Channel, x: Channel, cause: str) -> None:
        """A caller (a/b loopback pair) bridged to x goes down; orders as recorded."""
        self._mark_down(a, b, x)
        if initiator is x:  # the agent hangs up first
            x.hangup_initiator = True
            self.ev_hangup(x, cause)
            self.ev_complete(x)
            self.fire_unbridge(b, with_cause=False)
            self.ev_hangup(b, "NORMAL_CLEARING")
            self.ev_hangup(a, "NORMAL_CLEARING")
            self.ev_complete(b)
            self.ev_complete(a)
            self.ev_destroy(a)
        elif initiator is None:  # hupall
            self.ev_hangup(x, cause)
            self.ev_hangup(a, cause)
            self.ev_hangup(b, cause)
            self.ev_complete(x)
            self.fire_unbridge(b, with_cause=True)
            self.ev_complete(a)
            self.ev_complete(b)
            self.ev_destroy(a)
        elif b.held or initiator is b:  # the caller side first; a held member leg follows at once
            first, second = (a, b) if initiator is a else (b, a)
            self.ev_hangup(first, cause)
            self.ev_hangup(second, cause)
            self.ev_complete(a)
            self.ev_hangup(x, "NORMAL_CLEARING", direct=False)
            self.ev_complete(x)
            self.fire_unbridge(b, with_cause=True)
            self.ev_complete(b)
            self.ev_destroy(a)
        else:  # the caller hangs up; the agent leg is torn down before the member leg
            self.ev_hangup(a, cause)
            self.ev_hangup(x, "NORMAL_CLEARING", direct=False)
            self.ev_complete(x)
            self.ev_hangup(b, cause)
            self.ev_complete(a)
            self.fire_unbridge(b, with_cause=True)
            self.ev_complete(b)
            self.ev_destroy(a)
        if b.on_bridge_end is not None:
            b.on_bridge_end()
        self.ev_destroy(x)
        self.ev_destroy(b)

    def shutdown_all(self) -> None:
        """What a shutting-down switch still reports: hang-ups, but no mod_callcenter
        wrap-up and no destroy of sessions the module still holds."""
        for chan in self.ordered():
            if not chan.alive or chan.hanging_up:
                continue
            if chan.kind == "loopback" and chan.partner is not None:
                a, b = self.loopback_pair(chan)
                x = b.bridged if b.bridged is not None and b.bridged.alive else None
                self._mark_down(a, b, *([x] if x else []))
                cause = "SYSTEM_SHUTDOWN"
                self.ev_hangup(b, cause)
                self.ev_hangup(a, cause)
                if x is not None:
                    self.ev_hangup(x, cause)
                    self.ev_complete(x)
                self.ev_complete(a)
                if x is not None:
                    self.fire_unbridge(b, with_cause=True)
                self.ev_complete(b)
                self.ev_destroy(a)
                for held in (b, x):
                    if held is not None:
                        held.alive = False
                        self.channels.pop(held.uuid, None)
            else:
                self._single_down(chan, "SYSTEM_SHUTDOWN")
