"""One offer of a queue member to an agent (mod_callcenter's outbound_agent_thread_run).

The agent's contact is originated (``null/agentNNNN`` here), rings until the simulated
phone answers, refuses or the leg times out, and then either bridges to the member or
reports ``bridge-agent-fail`` with the delays and no-answer accounting of the module.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import gevent

from cti_middleware.simulator import callcenter as cc_mod
from cti_middleware.simulator.channels import Channel
from cti_middleware.simulator.config import parse_contact

ANSWER_SETTLE = 0.005

if TYPE_CHECKING:
    from cti_middleware.simulator.callcenter import Agent, CallCenter, Member, Offer


def run_offer(cc: CallCenter, offer: Offer) -> None:
    agent, member = offer.agent, offer.member
    try:
        _fire_offering(cc, offer)
        gevent.sleep(0)  # let parallel ring-all offers announce themselves first
        if not member.channel.alive or member.channel.hanging_up:
            _finish(cc, offer, "Waiting")
            return
        chan = _originate_agent_leg(cc, offer)
        offer.channel = chan
        kind, cause = _ring(cc, offer)
        if kind == "answer":
            _answered(cc, offer, chan)
        else:
            _failed(cc, offer, chan, cause)
    finally:
        if offer in agent.ringing:
            agent.ringing.remove(offer)
        cc.wake.set()


def _fire_offering(cc: CallCenter, offer: Offer) -> None:
    agent, member = offer.agent, offer.member
    cc.fire(cc_mod.SRC_OFFER, [
        ("CC-Queue", member.queue), ("CC-Action", "agent-offering"), ("CC-Agent", agent.name),
        ("CC-Agent-Type", agent.type), ("CC-Agent-System", "single_box"), ("CC-Member-UUID", member.uuid),
        ("CC-Member-Session-UUID", member.session_uuid), ("CC-Member-CID-Name", member.cid_name),
        ("CC-Member-CID-Number", member.cid_number),
    ])


def _leg_name(dial: str) -> tuple[str, str, str]:
    """Channel name, destination and source module of a dial string."""
    parts = dial.split("/")
    if parts[0] == "null":
        dest = parts[1] if len(parts) > 1 else "null"
        return f"null/{dest}", dest, "mod_loopback"
    if parts[0] == "sofia" and len(parts) >= 3:
        target = "/".join(parts[2:])
        target = target.removeprefix("sip:")
        return f"sofia/{parts[1]}/{target}", target.split("@")[0], "mod_sofia"
    if parts[0] == "user" and len(parts) > 1:
        dest = parts[1].split("@")[0]
        return f"sofia/internal/{dest}", dest, "mod_sofia"
    if parts[0] == "loopback" and len(parts) > 1:
        return f"loopback/{parts[1]}-a", parts[1], "mod_loopback"
    return dial, parts[-1], "mod_loopback"


def _originate_agent_leg(cc: CallCenter, offer: Offer) -> Channel:
    agent, member = offer.agent, offer.member
    contact_vars, dial = parse_contact(agent.contact or f"null/{agent.name.split('@')[0]}")
    name, dest, source = _leg_name(dial)
    sw = cc.switch
    chan = sw.make_channel(name, "outbound", member.cid_name, member.cid_number, dest, "Outbound Call", dest,
                           None, source, kind="agent")
    for key, value in contact_vars.items():
        chan.set_var(key, value)
    request = cc.bus.core_headers("REQUEST_PARAMS", cc_mod.SRC_OVARS)
    for key, value in request:
        if key != "Event-Subclass":
            chan.set_var(key, value)
    v = chan.set_var
    v("cc_queue", member.queue)
    v("cc_queue_joined_epoch", str(member.joined_epoch))
    v("cc_member_uuid", member.uuid)
    v("cc_member_session_uuid", member.session_uuid)
    v("cc_member_pre_answer_uuid", member.uuid)
    v("cc_agent", agent.name)
    v("cc_agent_type", agent.type)
    v("cc_side", "agent")
    v("loopback_bowout", "false")
    v("loopback_bowout_on_execute", "false")
    v("ignore_early_media", "true")
    v("origination_caller_id_name", member.cid_name)
    v("origination_caller_id_number", member.cid_number)
    v("originate_early_media", "false")
    v("originate_endpoint", dial.split("/")[0])
    chan.cc_member_uuid = member.uuid
    chan.application = "park"
    chan.on_hangup = lambda cause: None if offer.outcome.ready() else offer.outcome.set(("fail", cause))
    offer.called_at = int(time.time())
    sw.fire_create(chan)
    return chan


def _ring(cc: CallCenter, offer: Offer) -> tuple[str, str]:
    """Wait for the phone: ('answer', '') or ('fail', cause)."""
    agent = offer.agent
    scaled = cc.config.scaled
    if agent.busy:
        gevent.sleep(0)
        outcome = offer.outcome.get(timeout=0) if offer.outcome.ready() else ("fail", "USER_BUSY")
    elif agent.answer_delay is not None and agent.answer_delay < agent.leg_timeout:
        try:
            outcome = offer.outcome.get(timeout=scaled(agent.answer_delay))
        except gevent.Timeout:
            outcome = ("answer", "")
    else:
        try:
            outcome = offer.outcome.get(timeout=scaled(agent.leg_timeout))
        except gevent.Timeout:
            outcome = ("fail", "ALLOTTED_TIMEOUT")
    if not offer.outcome.ready():
        offer.outcome.set(outcome)
    kind, cause = offer.outcome.get()
    return ("answer", "") if kind == "answer" else ("fail", cause)


def _answered(cc: CallCenter, offer: Offer, chan: Channel) -> None:
    agent, member = offer.agent, offer.member
    sw = cc.switch
    chan.cc_member_uuid = None
    chan.on_hangup = None
    offer.answered = True
    sw.answer(chan, "CS_CONSUME_MEDIA", "DOWN", 7)
    chan.call_state = "ACTIVE"
    chan.set_var("cc_member_pre_answer_uuid", None)
    chan.set_var("endpoint_disposition", "ANSWER")
    # legs that answer at the same moment (ring-all) all report ANSWER before the race is decided
    gevent.sleep(ANSWER_SETTLE)
    if offer in agent.ringing:
        agent.ringing.remove(offer)
    if offer.resolved:  # another agent won this ring-all race and already sent us back
        return
    member_chan = member.channel
    lost = member.serving_agent not in (agent.name, "ring-all") or member.state != "Trying"
    if not member_chan.alive or member_chan.hanging_up:
        # the caller left while this phone was answering: nobody to talk to
        sw.hangup(chan, "NORMAL_CLEARING")
        _finish(cc, offer, "Waiting")
        return
    if lost:
        # ring-all loser: back to Waiting, the answered leg stays parked
        _finish(cc, offer, "Waiting")
        return
    if offer.queue.strategy == "ring-all":
        member.serving_agent, member.serving_system = agent.name, "single_box"
        for other in cc.agents.values():
            for pending in list(other.ringing):
                if pending.member is member and pending is not offer and not pending.outcome.ready():
                    pending.outcome.set(("cancel", "ORIGINATOR_CANCEL"))
    answered = int(time.time())
    cc.fire(cc_mod.SRC_START, [
        ("CC-Queue", member.queue), ("CC-Action", "bridge-agent-start"), ("CC-Agent", agent.name),
        ("CC-Agent-System", "single_box"), ("CC-Agent-UUID", chan.uuid),
        ("CC-Agent-Called-Time", str(offer.called_at)), ("CC-Agent-Answered-Time", str(answered)),
        ("CC-Member-Joined-Time", str(member.joined_epoch)), ("CC-Member-UUID", member.uuid),
        ("CC-Member-Session-UUID", member.session_uuid), ("CC-Member-CID-Name", member.cid_name),
        ("CC-Member-CID-Number", member.cid_number),
    ], chan)
    _release_losers(cc, offer)
    member.state, member.bridge_epoch = "Answered", answered
    cc.stat(member.queue)["answered"] += 1
    member_chan.set_var("cc_agent_uuid", chan.uuid)
    gevent.sleep(0)
    if not member_chan.alive or member_chan.hanging_up:
        # the caller hung up between the answer and the bridge: the queue call still ends
        sw.hangup(chan, "NORMAL_CLEARING")
        _bridge_ended(cc, offer, chan)
        return
    cc.queue_count(member.queue)
    agent.uuid, agent.last_bridge_start = chan.uuid, answered
    agent.calls_answered += 1
    agent.no_answer_count = 0
    cc.set_tier_state(agent.name, member.queue, "Active Inbound")
    member_chan.on_bridge_end = lambda: _bridge_ended(cc, offer, chan)
    sw.bridge(member_chan, chan, cc_mod.moh_vars(member) + [("cc_cause", "answered")])
    member_chan.set_var("cc_agent_bridged", "true")
    member_chan.set_var("last_sent_callee_id_name", chan.profile.callee_id_name)
    member_chan.set_var("last_sent_callee_id_number", chan.profile.destination_number)
    member_chan.set_var("cc_agent", agent.name)
    member_chan.set_var("cc_queue_answered_epoch", str(answered))
    chan.set_var("cc_agent_bridged", "true")
    chan.set_var("last_sent_callee_id_name", member.cid_name)
    chan.set_var("last_sent_callee_id_number", member.cid_number)
    cc.set_state(agent, "In a queue call")


def _release_losers(cc: CallCenter, winner: Offer) -> None:
    """Ring-all: agents who answered too but lost go back to Waiting; their legs stay up."""
    for other in cc.agents.values():
        for pending in list(other.ringing):
            if pending.member is winner.member and pending is not winner and pending.answered:
                pending.resolved = True
                other.ringing.remove(pending)
                _finish(cc, pending, "Waiting")


def _bridge_ended(cc: CallCenter, offer: Offer, chan: Channel) -> None:
    """The caller or the agent left: bridge-agent-end, member-queue-end, agent Waiting."""
    agent, member = offer.agent, offer.member
    member_chan = member.channel
    member_chan.on_bridge_end = chan.on_bridge_end = None
    now = time.time()
    ended = int(now)
    answered = str(agent.last_bridge_start)
    cc.fire(cc_mod.SRC_END, [
        ("CC-Queue", member.queue), ("CC-Action", "bridge-agent-end"), ("CC-Hangup-Cause", "SUCCESS"),
        ("CC-Agent", agent.name), ("CC-Agent-System", "single_box"), ("CC-Agent-UUID", chan.uuid),
        ("CC-Agent-Bridged", "true"), ("CC-Agent-Called-Time", str(offer.called_at)),
        ("CC-Agent-Answered-Time", answered), ("CC-Member-Joined-Time", str(member.joined_epoch)),
        ("CC-Bridge-Terminated-Time", str(ended)), ("CC-Member-UUID", member.uuid),
        ("CC-Member-Session-UUID", member.session_uuid), ("CC-Member-CID-Name", member.cid_name),
        ("CC-Member-CID-Number", member.cid_number),
    ], chan)
    member_chan.set_var("cc_queue_terminated_epoch", str(ended))
    agent.uuid = ""
    agent.talk_time += ended - agent.last_bridge_start
    agent.last_bridge_end = ended
    agent.wrap_until = now + cc.config.scaled(agent.wrap_up_time)
    if member in cc.members:
        cc.members.remove(member)
    cc.fire(cc_mod.SRC_MEMBER_END, [
        ("CC-Queue", member.queue), ("CC-Action", "member-queue-end"), ("CC-Hangup-Cause", "SUCCESS"),
        ("CC-Cause", "Terminated"), ("CC-Agent", agent.name), ("CC-Agent-System", "single_box"),
        ("CC-Agent-UUID", chan.uuid), ("CC-Agent-Called-Time", str(offer.called_at)),
        ("CC-Agent-Answered-Time", answered), ("CC-Member-Leaving-Time", str(ended)),
        ("CC-Member-Joined-Time", str(member.joined_epoch)), ("CC-Member-UUID", member.uuid),
        ("CC-Member-Session-UUID", member.session_uuid), ("CC-Member-CID-Name", member.cid_name),
        ("CC-Member-CID-Number", member.cid_number),
    ], member_chan)
    _finish(cc, offer, "Waiting", tier_state="Ready")


def _failed(cc: CallCenter, offer: Offer, chan: Channel, cause: str) -> None:
    agent, member = offer.agent, offer.member
    sw = cc.switch
    chan.cc_member_uuid = None
    chan.on_hangup = None
    if chan.alive and not chan.hanging_up:
        chan.set_state(chan.cs if chan.cs != "CS_INIT" else "CS_CONSUME_MEDIA", chan.call_state, chan.state_number)
        sw.hangup(chan, cause)
    if member.serving_agent == agent.name:
        member.state, member.serving_agent, member.serving_system = "Waiting", "", ""
    tier_state = "Ready"
    delay = 0
    if cause in ("USER_BUSY", "NORMAL_CIRCUIT_CONGESTION"):
        delay = agent.busy_delay_time
    elif cause == "CALL_REJECTED":
        delay = agent.reject_delay_time
    elif cause != "ORIGINATOR_CANCEL":
        delay = agent.no_answer_delay_time
        tier_state = "No Answer"
        agent.no_answer_count += 1
        if agent.max_no_answer > 0 and agent.no_answer_count >= agent.max_no_answer:
            _max_no_answer(cc, agent, member, offer.queue.agent_no_answer_status)
    if delay > 0:
        agent.ready_time = int(time.time()) + delay
        agent.ready_at = time.time() + cc.config.scaled(delay)
    cc.fire(cc_mod.SRC_FAIL, [
        ("CC-Queue", member.queue), ("CC-Action", "bridge-agent-fail"), ("CC-Hangup-Cause", cause),
        ("CC-Agent", agent.name), ("CC-Agent-System", "single_box"),
        ("CC-Agent-Called-Time", str(offer.called_at)), ("CC-Agent-Aborted-Time", str(int(time.time()))),
        ("CC-Member-UUID", member.uuid), ("CC-Member-Session-UUID", member.channel.uuid),
        ("CC-Member-CID-Name", member.cid_name), ("CC-Member-CID-Number", member.cid_number),
        ("CC-Member-Joined-Time", str(member.joined_epoch)),
    ])
    _finish(cc, offer, "Waiting", tier_state=tier_state)


def _max_no_answer(cc: CallCenter, agent: Agent, member: Member, status: str) -> None:
    cc.fire(cc_mod.SRC_MAX_NO_ANSWER, [
        ("CC-Agent", agent.name), ("CC-Action", "agent-max-no-answer"),
        ("CC-Agent-No-Answer-Count", str(agent.no_answer_count)), ("CC-Agent-No-Answer-Status", status),
        ("CC-Member-UUID", member.uuid), ("CC-Member-Session-UUID", member.channel.uuid),
    ])
    cc.set_status(agent, status)


def _finish(cc: CallCenter, offer: Offer, state: str, tier_state: str = "Ready") -> None:
    """Make the agent available again (Idle when 'Available (On Demand)')."""
    agent = offer.agent
    for tier in cc.tiers:
        if tier.agent != agent.name:
            continue
        if tier.queue == offer.queue.name and tier.state in ("Active Inbound", "Standby", "Offering"):
            tier.state = tier_state
        elif tier.queue != offer.queue.name and tier.state == "Standby":
            tier.state = "Ready"
    final = "Idle" if agent.status == "Available (On Demand)" else state
    cc.set_state(agent, final)
