"""``uuid_transfer``: sending a leg to another extension of the dialplan.

Taking the member leg out of its bridge (``uuid_transfer <agent-leg> -bleg 2000 XML
agents``) ends the queue call for mod_callcenter (``bridge-agent-end``,
``member-queue-end`` Terminated) while the caller lives on in the new extension; the
agent leg, left alone, hangs up.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from cti_middleware.simulator.channels import Channel, usec

if TYPE_CHECKING:
    from cti_middleware.simulator.api import Api

USAGE = "-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n"


def transfer(api: Api, chan: Channel, args: list[str]) -> str:
    leg = ""
    if args and args[0] in ("-bleg", "-both"):
        leg = args.pop(0)
    if not args:
        return USAGE
    dest = args[0]
    dialplan = args[1] if len(args) > 1 else "XML"
    context = args[2] if len(args) > 2 else "default"
    targets = [chan]
    if leg == "-bleg":
        if chan.bridged is None:
            return "-ERR No such channel!\n"
        targets = [chan.bridged]
    elif leg == "-both" and chan.bridged is not None:
        transfer_both(api, chan, chan.bridged, dest, dialplan, context)
        return "+OK\n"
    for target in targets:
        if target.alive and not target.hanging_up:
            transfer_leg(api, target, dest, dialplan, context)
    return "+OK\n"


def new_profile(chan: Channel, dest: str, dialplan: str, context: str) -> None:
    """The caller profile a transfer creates (index + 1, RDNIS = the old destination)."""
    now = time.time()
    profile = chan.profile.copy()
    profile.index += 1
    profile.created = usec(now)
    profile.rdnis = chan.profile.destination_number
    profile.destination_number = dest
    profile.dialplan = dialplan
    profile.context = context
    profile.transfer_source = f"{int(now)}:{uuid.uuid4()}:bl_xfer:{dest}/{context}/{dialplan}"
    profile.times["Bridged-Time"] = 0
    chan.profile = profile
    chan.other = None
    chan.other_type = ""
    chan.set_var("max_forwards", "70")
    chan.set_var("transfer_source", profile.transfer_source)


def transfer_leg(api: Api, chan: Channel, dest: str, dialplan: str, context: str) -> None:
    sw, cc = api.switch, api.cc
    peer = chan.bridged if chan.bridged is not None and chan.bridged.alive else None
    member = cc.member_of(chan)
    if peer is None and member is not None and member.state in ("Waiting", "Trying"):
        cc.member_gone(chan)
    new_profile(chan, dest, dialplan, context)
    if peer is not None:
        chan.set_state("CS_SOFT_EXECUTE", "ACTIVE", 2)
        peer.hangup_initiator = True
        for leg in (chan, peer):
            leg.set_var("signal_bond", None)
        chan.bridged_at = None
        sw.ev_hangup(peer, "NORMAL_CLEARING", direct=False)
        sw.ev_complete(peer)
        sw.fire_unbridge(chan, with_cause=False, note_peer_cause=False)
        chan.set_var("current_application_data", None)
        chan.bridged = None
        chan.set_state("CS_EXECUTE", "ACTIVE", 4)
        if chan.on_bridge_end is not None:
            chan.on_bridge_end()
        sw.ev_destroy(peer)
    run_extension(api, chan, dest, context)


def run_extension(api: Api, chan: Channel, dest: str, context: str) -> None:
    """The dialplan for a leg arriving at ``dest`` in ``context``.

    With a mod_xml_curl server configured every hunt asks it first (in the leg's
    own greenlet); otherwise, and when it has nothing, the built-in dialplan:
    queue numbers join their queue, an agent's extension in ``default`` rings the
    agent's phone (FreeSWITCH's Local_Extension), anything else parks.
    """
    from cti_middleware.simulator.hunt import builtin_actions, engine_of

    engine = engine_of(api)
    if engine.client is not None:
        engine.hunt(chan)
        return
    chan.set_var("DP_MATCH", f"ARRAY::{dest}|:{dest}")
    chan.set_var("call_uuid", chan.uuid)
    queue = api.cc.config.destinations.get(dest) if context == "default" else None
    chan.set_state("CS_EXECUTE", "ACTIVE", 4)
    if queue is not None and queue in api.cc.queues:
        chan.set_var("hangup_after_bridge", "true")
        api.cc.join(chan, queue)
        return
    actions = builtin_actions(api, chan, dest, context)
    if actions[0].app != "park":
        engine.run_actions(chan, actions)
        return
    chan.application, chan.application_data = "park", ""
    chan.set_var("current_application", "park")


def transfer_both(api: Api, one: Channel, other: Channel, dest: str, dialplan: str, context: str) -> None:
    """Both legs leave their bridge for the same extension; neither hangs up, so for
    mod_callcenter the queue call only ends when one of them does."""
    sw = api.switch
    member = one if one.kind == "loopback" else other
    agent = other if member is one else one
    for leg in (agent, member):
        new_profile(leg, dest, dialplan, context)
    sw.fire_unbridge(member, with_cause=False, note_peer_cause=False)
    callback = member.on_bridge_end
    member.bridged = agent.bridged = None
    if callback is not None:
        member.on_bridge_end = agent.on_bridge_end = callback
    for leg in (member, agent):
        run_extension(api, leg, dest, context)
