"""Calls the dialplan bridged straight to an agent's phone (the sticky route).

mod_callcenter sends nothing for them: no member, no ``agent-offering``, no
``bridge-agent-*``.  What identifies one is the agent's leg itself: the dialplan
puts ``cti_agent``, ``cti_queue``, ``cti_route`` and ``cti_call_uuid`` (the
caller's channel) in the ``{...}`` block of the bridge dial string, and FreeSWITCH
sets those on the new leg before its ``CHANNEL_CREATE``, exactly as it does with
the ``cc_*`` variables of the legs mod_callcenter originates.  A leg is not
matched by its contact alone: an agent's phone also rings for internal and
personal calls, which must not pop as customer calls, and a contact says nothing
about the caller, queue or route.

The changes are the ones a queue call produces, so pops, records and webhooks
need no second path: the leg created -> ``CallOffered``; bridged to the caller
-> ``CallBridged``; either side hanging up after that -> ``CallEnded``
(``Terminated``).  A leg that ends unanswered -> ``OfferWithdrawn``:
``no-answer`` (the ring timed out: the dialplan falls back to the queue),
``caller-left`` (plus an abandoned ``CallEnded``) or ``failed`` (busy,
rejected, unreachable).  The agent's mod_callcenter status and state do not
change (FreeSWITCH does not change them), but the agent's current call does, as
``callcenter_track`` makes mod_callcenter treat the agent as busy meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import events as ev
from . import changes as ch
from .entities import Channel, DirectCall

if TYPE_CHECKING:
    from .state import State

__all__ = ["bridged", "current_call", "finish", "hangup", "is_direct_leg", "offer", "prune"]

# Hangup causes of a leg whose ring time ran out (FreeSWITCH's originate uses
# ALLOTTED_TIMEOUT for leg_timeout, NO_ANSWER for the phone's own timeout).
_TIMEOUTS = frozenset({"NO_ANSWER", "ALLOTTED_TIMEOUT", "NO_USER_RESPONSE", "PROGRESS_TIMEOUT"})
_CALLER_GONE = frozenset({"ORIGINATOR_CANCEL"})


def is_direct_leg(e: ev.ChannelEvent) -> bool:
    """A leg the dialplan made for an agent: not mod_callcenter's, not the caller's own."""
    return bool(
        e.cti_agent and e.cti_call_uuid and e.cti_call_uuid != e.uuid and not e.cc_side
    )


def offer(state: State, leg: Channel, e: ev.ChannelEvent, out: list) -> None:
    """First sight of a direct leg: the agent's desktop is offered the caller."""
    agent_name = e.cti_agent or ""
    call_uuid = e.cti_call_uuid or ""
    previous = state.direct_calls.get(call_uuid)
    if previous is not None and previous in state.direct:
        finish(state, state.direct[previous], e.ts, None, False, out)
    caller = state.channels.get(call_uuid)
    number = caller.caller_number if caller is not None else e.caller_number
    name = caller.caller_name if caller is not None else e.caller_name
    call = DirectCall(call_uuid, leg.uuid, agent_name, e.cti_queue or "", e.cti_route or "direct",
                      number, name, e.ts)
    state.direct[leg.uuid] = call
    state.direct_calls[call_uuid] = leg.uuid
    leg.agent = agent_name
    leg.cc_member_uuid = call_uuid
    agent = state.agent(agent_name)
    agent.last_offered_at = e.ts
    if call.queue:
        agent.queue = call.queue
    out.append(ch.CallOffered(agent_name, call.queue, call_uuid, number, name, e.ts, e.ts,
                              call.route))
    state.update_agent(out, agent, e.ts, call=call_uuid)


def bridged(state: State, a: str, b: str, ts: float, out: list) -> None:
    """``CHANNEL_BRIDGE`` of a direct leg with its caller (either way round)."""
    call = state.direct.get(a) or state.direct.get(b)
    if call is None or call.bridged_at is not None or {a, b} != {call.leg_uuid, call.call_uuid}:
        return
    call.bridged_at = ts
    caller = state.channels.get(call.call_uuid)
    if caller is not None:
        caller.served_by = call.agent
    agent = state.agent(call.agent)
    agent.last_bridge_start = ts
    agent.agent_uuid = call.leg_uuid
    out.append(ch.CallBridged(call.agent, call.queue, call.call_uuid, call.leg_uuid,
                              call.caller_number, call.caller_name, ts, call.route))
    state.update_agent(out, agent, ts, call=call.call_uuid)


def hangup(state: State, uuid: str, ts: float, cause: str | None, out: list) -> None:
    """Either side of a direct call hung up: the direct call is over."""
    leg_uuid = uuid if uuid in state.direct else state.direct_calls.get(uuid)
    call = state.direct.get(leg_uuid) if leg_uuid else None
    if call is None:
        return
    caller_left = uuid == call.call_uuid or cause in _CALLER_GONE
    finish(state, call, ts, cause, caller_left, out)


def finish(state: State, call: DirectCall, ts: float, cause: str | None, caller_left: bool,
           out: list) -> None:
    state.direct.pop(call.leg_uuid, None)
    if state.direct_calls.get(call.call_uuid) == call.leg_uuid:
        del state.direct_calls[call.call_uuid]
    agent = state.agent(call.agent)
    if call.bridged_at is not None:
        agent.last_bridge_end = ts
        if agent.agent_uuid == call.leg_uuid:
            agent.agent_uuid = None
    if agent.call_uuid == call.call_uuid:
        state.update_agent(out, agent, ts, call=None)
    if call.bridged_at is not None:
        out.append(ch.CallEnded(
            call.call_uuid, call.queue, call.caller_number, call.caller_name, call.agent,
            call.offered_at, call.bridged_at, ts, "Terminated", False, cause, None, False,
            call.route,
        ))
        return
    if caller_left:
        reason = "caller-left"
    elif cause is None or cause in _TIMEOUTS:
        reason = "no-answer"
    else:
        reason = "failed"
    out.append(ch.OfferWithdrawn(call.agent, call.queue, call.call_uuid, reason, cause, ts))
    if caller_left:
        out.append(ch.CallEnded(
            call.call_uuid, call.queue, call.caller_number, call.caller_name, None,
            call.offered_at, None, ts, "Cancel", True, cause, "BREAK_OUT", False, call.route,
        ))


def prune(state: State, alive: set[str], ts: float, out: list) -> None:
    """After a resync: end the direct calls whose agent leg FreeSWITCH no longer has."""
    for call in [c for c in state.direct.values() if c.leg_uuid not in alive]:
        finish(state, call, ts, None, call.call_uuid not in alive, out)


def current_call(state: State, agent: str) -> str | None:
    """The caller an agent's phone is ringing or connected to outside the queues."""
    for call in state.direct.values():
        if call.agent == agent:
            return call.call_uuid
    return None
