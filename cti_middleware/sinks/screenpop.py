"""Screen pops: who is calling, looked up once per offered call, pushed to the agent.

The lookup is the one database query on the event path, so it runs in a bounded pool
of greenlets and its result is kept per call: the pop at offer, the one at bridge and
the one that follows a transfer all reuse it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import gevent.event
import gevent.pool

from .. import payloads
from ..model.changes import (
    CallBridged,
    CallEnded,
    CallFollowed,
    CallOffered,
    Change,
    MemberJoined,
    OfferWithdrawn,
)
from ..store.errors import DB_ERRORS
from ..store.recordings import recording_ids
from .sockets import AGENT_NS, SUPERVISOR_NS, agent_room

log = logging.getLogger(__name__)

Lookup = Callable[[str], tuple[dict[str, Any] | None, str | None]]
RecordingIds = Callable[[list[str]], dict[str, int]]


class _CallInfo:
    __slots__ = ("attached", "lookup", "offered_at", "queue")

    def __init__(self, lookup: gevent.event.AsyncResult, queue: str | None,
                 offered_at: float | None) -> None:
        self.lookup = lookup
        self.queue = queue
        self.offered_at = offered_at
        self.attached: dict[str, Any] = {}


class ScreenPopSink:
    """Turns offers, bridges and transfers into ``screen.pop`` events for the right agent."""

    def __init__(self, emit: Callable[..., Any], lookup: Lookup, pool_size: int = 64,
                 remember: int = 10000, lookup_timeout: float = 5.0,
                 recordings: RecordingIds | None = recording_ids) -> None:
        self.emit = emit
        self.lookup = lookup
        self.recordings = recordings
        self.pool = gevent.pool.Pool(pool_size)
        self.remember = remember
        self.lookup_timeout = lookup_timeout
        self.calls: OrderedDict[str, _CallInfo] = OrderedDict()

    # --- call data ---------------------------------------------------------------------
    def _info(self, member_uuid: str, number: str, queue: str | None = None,
              offered_at: float | None = None) -> _CallInfo:
        info = self.calls.get(member_uuid)
        if info is None:
            result: gevent.event.AsyncResult = gevent.event.AsyncResult()
            self.pool.spawn(self._lookup, number, result)
            info = _CallInfo(result, queue, offered_at)
            self.calls[member_uuid] = info
            while len(self.calls) > self.remember:
                self.calls.popitem(last=False)
        elif info.offered_at is None:
            info.offered_at = offered_at  # looked up when the caller joined, offered now
        return info

    def _lookup(self, number: str, result: gevent.event.AsyncResult) -> None:
        try:
            found = self.lookup(number)
        except DB_ERRORS as exc:
            # A database that went away costs the pop its customer card, not the pop.
            log.error("customer lookup for a screen pop failed: %s", exc)
            found = (None, None)
        self._mark_recordings(found[0])
        result.set(found)

    def _mark_recordings(self, customer: dict[str, Any] | None) -> None:
        """Give each past call its ``recording_id`` (or None) so the desktop can offer playback;
        without the recordings index the history just shows no playback."""
        calls = customer.get("calls") if isinstance(customer, dict) else None
        if not calls or self.recordings is None:
            return
        try:
            ids = self.recordings([c.get("call_uuid") for c in calls])
        except DB_ERRORS as exc:
            log.warning("recordings of a screen pop's history not looked up: %s", exc)
            ids = {}
        for call in calls:
            call["recording_id"] = ids.get(call.get("call_uuid"))

    def attach(self, member_uuid: str, data: dict[str, Any]) -> None:
        """Notes or a draft work order an agent attached; they travel with the call."""
        info = self.calls.get(member_uuid)
        if info is not None:
            info.attached.update(data)

    def attached(self, member_uuid: str) -> dict[str, Any]:
        info = self.calls.get(member_uuid)
        return dict(info.attached) if info else {}

    def repop(self, agent: str, member: Any) -> None:
        """Pop the call an agent is on again, for a desktop that (re)connected mid-call."""
        info = self._info(member.uuid, member.caller_number, member.queue, member.joined_at)
        stage = "bridged" if member.agent == agent else "offered"
        self.pool.spawn(self._pop, info, agent, member.uuid, stage, member.queue,
                        member.caller_number, member.caller_name, member.answered_at, None)

    def repop_direct(self, agent: str, call: Any) -> None:
        """The same for a call the dialplan bridged straight to the agent (sticky routing)."""
        info = self._info(call.call_uuid, call.caller_number, call.queue, call.offered_at)
        stage = "bridged" if call.bridged_at is not None else "offered"
        self.pool.spawn(self._pop, info, agent, call.call_uuid, stage, call.queue,
                        call.caller_number, call.caller_name, call.answered_at, None, call.route)

    # --- changes -----------------------------------------------------------------------
    def handle(self, change: Change) -> None:
        if isinstance(change, MemberJoined):
            # mod_callcenter offers the call some 20 ms later: look the caller up now
            # so the card is (nearly) ready when the pop goes out.
            self._info(change.member_uuid, change.caller_number, change.queue)
        elif isinstance(change, CallOffered):
            info = self._info(change.member_uuid, change.caller_number, change.queue,
                              change.offered_at)
            self._pop_soon(info, change.agent, change.member_uuid, "offered",
                           change.queue, change.caller_number, change.caller_name, None, None,
                           change.route)
        elif isinstance(change, CallBridged):
            info = self._info(change.member_uuid, change.caller_number, change.queue)
            self._pop_soon(info, change.agent, change.member_uuid, "bridged",
                           change.queue, change.caller_number, change.caller_name,
                           change.answered_at, None, change.route)
        elif isinstance(change, CallFollowed) and change.to_agent:
            info = self._info(change.member_uuid, change.caller_number, change.queue)
            self._pop_soon(info, change.to_agent, change.member_uuid, "bridged",
                           change.queue, change.caller_number, change.caller_name,
                           change.at, change.from_agent)
        elif isinstance(change, OfferWithdrawn):
            self.emit("call.withdrawn", {"call_uuid": change.member_uuid, "reason": change.reason},
                      to=agent_room(change.agent), namespace=AGENT_NS)
        elif isinstance(change, CallEnded) and change.agent:
            payload = {"call_uuid": change.member_uuid, "cause": change.cause,
                       "transferred": change.transferred, "ended_at": change.ended_at}
            self.emit("call.ended", payload, to=agent_room(change.agent), namespace=AGENT_NS)

    def _pop_soon(self, info: _CallInfo, *args: Any) -> None:
        """Pop now if the caller has been looked up (the usual case: the lookup starts
        when they join the queue), else in a greenlet that waits for the lookup.
        Emitting only queues the packets, so popping inline never blocks the event path,
        and it saves the pop a turn of the hub behind everything else that is ready.
        The yield after it lets the desktop's websocket writer send the pop before this
        greenlet goes on with the events behind it."""
        if info.lookup.ready():
            self._pop(info, *args)
            gevent.sleep(0)
        else:
            self.pool.spawn(self._pop, info, *args)

    def _pop(self, info: _CallInfo, agent: str, member_uuid: str, stage: str, queue: str | None,
             number: str, name: str, answered_at: float | None,
             transferred_from: str | None, route: str = "queue") -> None:
        try:
            customer, region = info.lookup.get(timeout=self.lookup_timeout)
        except gevent.Timeout:
            customer, region = None, None
        payload = payloads.screen_pop(
            call_uuid=member_uuid, stage=stage, queue=queue or info.queue, agent=agent,
            caller_number=number, caller_name=name, customer=customer, region=region,
            offered_at=info.offered_at, answered_at=answered_at, attached=info.attached,
            transferred_from=transferred_from,
        )
        payload["route"] = route  # "sticky": the dialplan rang this agent directly
        self.emit("screen.pop", payload, to=agent_room(agent), namespace=AGENT_NS)
        self.emit("screen.pop", payload, to="supervisors", namespace=SUPERVISOR_NS)
