"""Attended transfer: ``uuid_broadcast <agent-leg> att_xfer::<dial string> aleg``.

The agent leg calls a colleague while the caller waits (soft hold, no event); when
the first agent hangs up, the colleague is bridged to the caller.  For mod_callcenter
the queue call ends the moment the first agent leaves (``bridge-agent-end``,
``member-queue-end``); only ``CHANNEL_BRIDGE`` of the colleague's leg with the member
leg shows where the call went.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import gevent

from cti_middleware.simulator.channels import Channel
from cti_middleware.simulator.config import parse_contact
from cti_middleware.simulator.switch import SRC_BRIDGE, SRC_UNBRIDGE

if TYPE_CHECKING:
    from cti_middleware.simulator.api import Api


def broadcast(api: Api, chan: Channel, args: list[str]) -> str:
    """``uuid_broadcast``: only ``att_xfer::`` changes anything here; the rest just plays."""
    if not args:
        return "-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n"
    app, _, data = args[0].partition("::")
    if app == "att_xfer" and chan.bridged is not None:
        gevent.spawn(_consult, api, chan, data)
    return "+OK Message sent\n"


def _consult(api: Api, agent: Channel, dial: str) -> None:
    sw = api.switch
    member = agent.bridged
    if member is None:
        return
    variables, target = parse_contact(dial)
    endpoint, _, dest = target.partition("/")
    number = variables.get("origination_caller_id_number", agent.profile.caller_id_number)
    consult = sw.make_channel(f"{endpoint}/{dest}", "outbound", agent.profile.caller_id_name, number, dest,
                              "Outbound Call", dest, None, "mod_loopback", kind="consult")
    consult.call_uuid = member.uuid
    snap = agent.profile.copy()
    snap.logical_direction = "inbound"
    snap.created = 0
    snap.times = dict.fromkeys(snap.times, 0)
    snap.transfer_source = None
    snap.index = 1
    consult.other, consult.other_type = snap, "originator"
    v = consult.set_var
    v("max_forwards", "70")
    v("originator_codec", "L16@8000h@20i")
    v("originator", agent.uuid)
    v("signal_bond", agent.uuid)
    v("call_uuid", member.uuid)
    for key, value in variables.items():
        v(key, value)
    v("ignore_early_media", "true")
    v("originate_early_media", "false")
    v("originating_leg_uuid", agent.uuid)
    v("originate_endpoint", endpoint)
    av = agent.set_var
    av("current_loop", "1")
    av("total_loops", "1")
    av("current_application_data", dial)
    av("current_application", "att_xfer")
    av("soft_holding_uuid", member.uuid)
    agent.application, agent.application_data = "att_xfer", dial
    sw.fire_create(consult)
    delay = int(variables.get("null_auto_answer_delay", "1000")) / 1000.0
    gevent.sleep(api.cc.config.scaled(delay))
    if not agent.alive or agent.hanging_up or not consult.alive:
        return
    sw.answer(consult, "CS_CONSUME_MEDIA", "DOWN", 7)
    consult.call_state = "ACTIVE"
    consult.set_var("endpoint_disposition", "ANSWER")
    av("originated_legs", f"{consult.uuid};Outbound Call;{dest}")
    av("originate_disposition", "SUCCESS")
    av("DIALSTATUS", "SUCCESS")
    av("originate_causes", f"{consult.uuid};NONE")
    av("signal_bond", consult.uuid)
    agent.consult = consult
    other = consult.profile.copy()
    other.logical_direction = "inbound"
    agent.other, agent.other_type = other, "originatee"
    agent.profile.callee_id_number = dest
    sw.fire("CHANNEL_BRIDGE", agent, SRC_BRIDGE,
            prefix=[("Bridge-A-Unique-ID", agent.uuid), ("Bridge-B-Unique-ID", consult.uuid)])
    av("current_loop", None)
    av("total_loops", None)


def complete(api: Api, agent: Channel, cause: str) -> None:
    """The consulting agent hangs up: the colleague takes over the caller."""
    sw = api.switch
    member, consult = agent.bridged, agent.consult
    assert member is not None and consult is not None
    agent.hanging_up = member.hanging_up = False
    agent.hangup_initiator = True
    sw.ev_hangup(agent, cause)
    sw.ev_complete(agent)
    _hand_over(api, agent, member, consult, cause)
    sw.ev_destroy(agent)


def _hand_over(api: Api, agent: Channel, member: Channel, consult: Channel, cause: str) -> None:
    """The caller leaves the consulting agent's bridge for the colleague's leg."""
    sw = api.switch
    sw.fire_unbridge(member, with_cause=False, note_peer_cause=False)
    agent.state_number = 12 if agent.hanging_up else agent.state_number
    agent.set_var("last_bridge_to", consult.uuid)
    agent.set_var("bridge_channel", consult.name)
    agent.set_var("bridge_uuid", consult.uuid)
    sw.fire("CHANNEL_UNBRIDGE", agent, SRC_UNBRIDGE,
            prefix=[("Bridge-A-Unique-ID", agent.uuid), ("Bridge-B-Unique-ID", consult.uuid)])
    agent.set_var("soft_holding_uuid", None)
    callback, member.on_bridge_end = member.on_bridge_end, None
    agent.consult = None
    member.bridged = None
    member.unbridged = False
    cv = consult.set_var
    cv("last_bridge_to", agent.uuid)
    cv("last_sent_callee_id_name", member.profile.caller_id_name)
    cv("last_sent_callee_id_number", consult.profile.caller_id_number)
    cv("last_bridge_hangup_cause", cause)
    cv("bridge_hangup_cause", cause)
    cv("call_uuid", consult.uuid)
    cv("pre_transfer_caller_id_name", consult.profile.caller_id_name)
    cv("pre_transfer_caller_id_number", consult.profile.caller_id_number)
    cv("channel_cid_flipped", "yes")
    consult.set_var("att_xfer_result", "success")
    sw.bridge(consult, member)
    consult.application, consult.application_data = "", ""
    if member.other is not None:
        member.other.callee_id_name = member.other.callee_id_number = None
    member.set_state("CS_EXCHANGE_MEDIA", "ACTIVE", 5)
    if callback is not None:
        callback()


# att_xfer's default keys, pressed by the consulting agent
CANCEL_KEY, HANGUP_KEY, CONF_KEY = "#", "*", "0"


def keys(api: Api, chan: Channel, digits: str) -> None:
    """DTMF received on a leg: only an agent leg in a consultation reacts (att_xfer's keys).

    Each key acts at most once, in order; keys after the one that ended the
    consultation are ignored, as att_xfer is no longer listening.
    """
    for digit in digits:
        consult = chan.consult
        if consult is None or not consult.alive or not chan.alive or chan.hanging_up:
            return
        if digit == CANCEL_KEY:
            cancel(api, chan, consult)
        elif digit == HANGUP_KEY:
            api.switch.hangup(chan, "NORMAL_CLEARING")
        elif digit == CONF_KEY:
            conference(api, chan, consult)


def cancel(api: Api, agent: Channel, consult: Channel) -> None:
    """``#``: the colleague's leg is hung up and the agent is back with the caller.

    The agent's bridge to the caller never ended (the caller was only soft-held),
    so there is no new CHANNEL_BRIDGE: the agent leg leaves the consultation bridge
    and the colleague's leg goes down.
    """
    sw = api.switch
    agent.consult = None
    consult.hanging_up = True
    agent.set_var("last_bridge_to", consult.uuid)
    sw.fire("CHANNEL_UNBRIDGE", agent, SRC_UNBRIDGE,
            prefix=[("Bridge-A-Unique-ID", agent.uuid), ("Bridge-B-Unique-ID", consult.uuid)])
    agent.set_var("soft_holding_uuid", None)
    agent.set_var("signal_bond", agent.bridged.uuid if agent.bridged is not None else None)
    consult.set_var("att_xfer_result", "cancel")
    sw.ev_hangup(consult, "NORMAL_CLEARING")
    sw.ev_complete(consult)
    sw.ev_destroy(consult)
    agent.application, agent.application_data = "uuid_bridge", agent.bridged.uuid if agent.bridged else ""


def conference(api: Api, agent: Channel, consult: Channel) -> None:
    """``0``: all three talk.  Approximated: the caller is handed to the colleague
    exactly as on completion, and the agent leg stays up as a three-way listener of
    the caller instead of hanging up; the queue call ends as it does on completion."""
    member = agent.bridged
    if member is None:
        return
    _hand_over(api, agent, member, consult, "NORMAL_CLEARING")
    agent.bridged = None
    agent.application, agent.application_data = "three_way", member.uuid
    agent.set_var("current_application", "three_way")
