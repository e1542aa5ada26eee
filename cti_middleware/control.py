"""Third-party call control: who may do what to which call, and what the switch said.

Every request from a desktop goes through :meth:`CallControl.run`, which checks the
arguments, checks that the actor may act on the call or agent, builds the command
with :mod:`.commands` (the only place command strings are made), runs it, and writes
one audit entry whatever the outcome.  Failures come back as a short error code the
desktop can act on, never as an exception, so a bad click cannot break a socket.

The service knows nothing of Flask or Socket.IO: it is given the live state, the
switch's ``api``/``bgapi`` callables and the audit writer, so it can be tested with
fakes.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import commands
from .commands import InvalidArgument
from .esl.client import CommandError, CommandTimeout, NotConnectedError
from .model.entities import Agent, Member
from .store.audit import audit as write_audit
from .store.errors import DB_ERRORS
from .store.models import SUPERVISING_ROLES

log = logging.getLogger(__name__)

INVALID_ARGUMENT = "invalid_argument"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
SWITCH_ERROR = "switch_error"
SWITCH_TIMEOUT = "switch_timeout"
SWITCH_UNAVAILABLE = "switch_unavailable"
ILLEGAL_STATE = "illegal_state"

DEFAULT_CALLER_ID = "4008001234"
FORCE_STATUSES = ("Available", "On Break", "Logged Out")
# att_xfer's keys, pressed on the agent's leg while a consultation is up.
CONSULT_KEYS = {"call.consult_cancel": "#", "call.consult_complete": "*", "call.conference": "0"}
NOTES_MAX = 2000
WORK_ORDER_MAX = 64

ApiCall = Callable[..., str]


class ControlError(Exception):
    """A refused or failed control action, with the code the desktop sees."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Actor:
    """Who asks: the logged-in agent id and its role.

    An API token acts as ``token:<id>`` with role ``crm`` (so the audit names it) and
    ``queues`` holding its queue limit (None: every queue).
    """

    agent: str
    role: str
    queues: frozenset[str] | None = None


TOKEN_ROLE = "crm"
# What a CRM may do for an agent; everything else stays with the agent's own desktop.
TOKEN_ACTIONS = frozenset({"call.dial", "call.hangup"})


def token_actor(token_id: int, queues: Iterable[str] | None) -> Actor:
    """The actor of an API token, limited to ``queues`` if given."""
    return Actor(f"token:{token_id}", TOKEN_ROLE, None if queues is None else frozenset(queues))


@dataclass(frozen=True)
class CallLegs:
    """A call as control sees it: the customer's leg, the agent's leg, who may touch it."""

    call_uuid: str
    agent_leg: str | None
    owners: frozenset[str]


@dataclass
class MonitorSession:
    """A supervisor's eavesdrop leg, kept so a mode change is a key press, not a new call."""

    agent: str
    leg: str
    mode: str


ON_BREAK = "On Break"


class BreakReasons:
    """Why each agent is on break, shared by control (which learns it) and every
    ``agent.state`` payload (which shows it).

    A reason is recorded before the switch is asked for On Break, so the status event
    that answers finds it; it is forgotten the first time the agent is seen off break
    afterwards, whoever made that change (the agent, a supervisor, the switch).
    """

    def __init__(self) -> None:
        self._reasons: dict[str, str] = {}
        self._seen_on_break: set[str] = set()
        # Told when an agent already On Break gets another reason: the switch reports
        # no change then, so nothing else would show the new reason.
        self._listeners: list[Callable[[str], None]] = []

    def subscribe(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def announce(self, agent: str) -> None:
        """Tell the listeners ``agent``'s reason changed while the status did not."""
        for listener in self._listeners:
            try:
                listener(agent)
            except Exception:  # showing the reason late must not fail the request
                log.exception("break reason listener failed for %s", agent)

    def set(self, agent: str, reason: str, on_break_now: bool = False) -> str | None:
        """Record ``reason``; returns the previous one so a failed request can put it back."""
        previous = self._reasons.get(agent)
        self._reasons[agent] = reason
        if on_break_now:
            self._seen_on_break.add(agent)
        else:
            self._seen_on_break.discard(agent)
        return previous

    def restore(self, agent: str, previous: str | None) -> None:
        if previous is None:
            self.clear(agent)
        else:
            self._reasons[agent] = previous

    def clear(self, agent: str) -> None:
        self._reasons.pop(agent, None)
        self._seen_on_break.discard(agent)

    def get(self, agent: str) -> str | None:
        return self._reasons.get(agent)

    def current(self, agent: str, status: str | None) -> str | None:
        """The reason to show with ``status``; forgets it once the break is over."""
        if agent not in self._reasons:
            return None
        if status == ON_BREAK:
            self._seen_on_break.add(agent)
            return self._reasons[agent]
        if agent in self._seen_on_break:
            self.clear(agent)
        return None


def _arg(arguments: dict[str, Any], name: str, kind: str) -> str:
    """A required argument, checked against the command pattern of ``kind``."""
    try:
        return commands.check(kind, arguments.get(name))
    except InvalidArgument:
        raise ControlError(INVALID_ARGUMENT, f"invalid {name}") from None


def _target_of(arguments: Any, actor: Actor) -> str:
    if isinstance(arguments, dict):
        for key in ("uuid", "agent", "number"):
            value = arguments.get(key)
            if isinstance(value, str):
                return value[:255]
    return actor.agent


def _local_part(name: str) -> str:
    return name.split("@", 1)[0]


class CallControl:
    """Authorise, validate, execute and audit call-control actions."""

    def __init__(
        self,
        state: Any,
        *,
        api: ApiCall,
        bgapi: ApiCall,
        tiers: Callable[[], Iterable[Any]],
        not_ready_reasons: Iterable[str],
        attach: Callable[[str, dict[str, Any]], None],
        audit: Callable[..., Any] = write_audit,
        caller_id: str = DEFAULT_CALLER_ID,
        context: str = "default",
        queue_extensions: dict[str, str] | None = None,
        originate_timeout: float = 60.0,
        reasons: BreakReasons | None = None,
    ) -> None:
        self.state = state
        self.api = api
        self.bgapi = bgapi
        self.tiers = tiers
        self.not_ready_reasons = tuple(not_ready_reasons)
        self.attach = attach
        self.audit = audit
        self.caller_id = commands.check("number", caller_id)
        self.context = commands.check("context", context)
        self.queue_extensions = dict(queue_extensions or {})
        self.originate_timeout = originate_timeout
        self.reasons = reasons if reasons is not None else BreakReasons()
        self.sessions: dict[str, MonitorSession] = {}
        self.actions: dict[str, Callable[[Actor, dict[str, Any]], dict[str, Any]]] = {
            "agent.login": self.agent_login,
            "agent.logout": self.agent_logout,
            "agent.ready": self.agent_ready,
            "agent.not_ready": self.agent_not_ready,
            "agent.wrapup": self.agent_wrapup,
            "call.answer": self.call_answer,
            "call.hangup": self.call_hangup,
            "call.hold": self.call_hold,
            "call.unhold": self.call_unhold,
            "call.transfer": self.call_transfer,
            "call.consult": self.call_consult,
            **{name: functools.partial(self.call_consult_key, key) for name, key in CONSULT_KEYS.items()},
            "call.dial": self.call_dial,
            "call.dtmf": self.call_dtmf,
            "call.attach_data": self.call_attach_data,
            **{f"supervisor.{mode}": functools.partial(self.supervisor_monitor, mode)
               for mode in ("listen", "whisper", "barge")},
            "supervisor.stop": self.supervisor_stop,
            "supervisor.force": self.supervisor_force,
            "supervisor.release": self.supervisor_release,
            "supervisor.takeover": self.supervisor_takeover,
        }

    # --- the one entry point ------------------------------------------------------
    def run(self, actor: Actor, action: str, arguments: Any) -> dict[str, Any]:
        """Do ``action`` for ``actor`` and return the acknowledgement; always audited."""
        try:
            handler = self.actions.get(action)
            if handler is None:
                raise ControlError(INVALID_ARGUMENT, f"unknown action {action[:40]!r}")
            if actor.role == TOKEN_ROLE and action not in TOKEN_ACTIONS:
                raise ControlError(FORBIDDEN, "not allowed for an API token")
            if arguments is None:
                arguments = {}
            if not isinstance(arguments, dict):
                raise ControlError(INVALID_ARGUMENT, "arguments must be an object")
            ack = {"ok": True, **handler(actor, arguments)}
            result = "ok"
        except ControlError as exc:
            ack = {"ok": False, "error": exc.code, "message": exc.message}
            result = f"{exc.code}: {exc.message}"
        except InvalidArgument as exc:
            ack = {"ok": False, "error": INVALID_ARGUMENT, "message": str(exc)}
            result = f"{INVALID_ARGUMENT}: {exc}"
        self._write_audit(actor, action, arguments, result)
        return ack

    def not_ready_reason(self, agent: str) -> str | None:
        """Why an agent is on break, as last chosen through control (None if unknown)."""
        return self.reasons.get(agent)

    def _break_for(self, agent: str, reason: str) -> None:
        """On Break with ``reason``, recorded first so the switch's status event carries it."""
        record = self.state.agents.get(agent)
        on_break = record is not None and record.status == ON_BREAK
        previous = self.reasons.set(agent, reason, on_break)
        try:
            self._set_status(agent, ON_BREAK)
        except ControlError:
            self.reasons.restore(agent, previous)
            raise
        if on_break and previous != reason:  # no status change will carry the new reason
            self.reasons.announce(agent)

    def _checked_reason(self, reason: Any) -> str:
        if not isinstance(reason, str) or reason not in self.not_ready_reasons:
            raise ControlError(INVALID_ARGUMENT, "reason must be one of " + ", ".join(self.not_ready_reasons))
        return reason

    def _write_audit(self, actor: Actor, action: str, arguments: Any, result: str) -> None:
        recorded = arguments if isinstance(arguments, dict) else {"value": repr(arguments)[:200]}
        try:
            self.audit(actor.agent, action, _target_of(arguments, actor), recorded, result)
        except DB_ERRORS as exc:
            # The trail must not decide whether a call can be held.
            log.error("cannot write audit entry for %s by %s: %s", action, actor.agent, exc)

    def _switch(self, command: str, background: bool = False) -> str:
        """Run one command; map the switch's failures to control errors."""
        try:
            if background:
                reply = self.bgapi(command, timeout=self.originate_timeout)
            else:
                reply = self.api(command)
        except CommandError as exc:
            raise ControlError(SWITCH_ERROR, str(exc)) from None
        except CommandTimeout as exc:
            raise ControlError(SWITCH_TIMEOUT, str(exc)) from None
        except NotConnectedError as exc:
            raise ControlError(SWITCH_UNAVAILABLE, str(exc)) from None
        if reply.startswith(("-ERR", "-USAGE")):
            raise ControlError(SWITCH_ERROR, reply.strip())
        return reply

    # --- agent status -------------------------------------------------------------
    def _set_status(self, agent: str, status: str) -> None:
        self._switch(commands.agent_set_status(agent, status))

    def agent_login(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        self._set_status(actor.agent, "Available")
        self.reasons.clear(actor.agent)
        return {"status": "Available"}

    def agent_logout(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        self._set_status(actor.agent, "Logged Out")
        self.reasons.clear(actor.agent)
        return {"status": "Logged Out"}

    def agent_ready(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        self._set_status(actor.agent, "Available")
        self.reasons.clear(actor.agent)
        record = self.state.agents.get(actor.agent)
        if record is not None and record.state == "Idle":
            # Idle means "do not offer": ready ends manual wrap-up too.
            self._switch(commands.agent_set_state(actor.agent, "Waiting"))
        return {"status": "Available"}

    def agent_not_ready(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        reason = self._checked_reason(arguments.get("reason"))
        self._break_for(actor.agent, reason)
        return {"status": ON_BREAK, "reason": reason}

    def agent_wrapup(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        self._switch(commands.agent_set_state(actor.agent, "Idle"))
        return {"state": "Idle"}

    # --- finding a call and who owns it ---------------------------------------------
    def _member_of(self, uuid: str) -> Member | None:
        members = self.state.members
        if uuid in members:
            return members[uuid]
        return next((m for m in members.values() if m.agent_uuid == uuid), None)

    def _channel_agent(self, channel: Any) -> str | None:
        return channel.agent or self.state.agent_for_channel(channel)

    def _legs(self, uuid: str) -> CallLegs:
        member = self._member_of(uuid)
        if member is not None:
            owners = set(member.offered_to)
            if member.agent:
                owners.add(member.agent)
            return CallLegs(member.uuid, member.agent_uuid, frozenset(owners))
        for agent in self.state.agents.values():
            if uuid in (agent.call_uuid, agent.agent_uuid) and agent.call_uuid:
                return CallLegs(agent.call_uuid, agent.agent_uuid, frozenset({agent.name}))
        channel = self.state.channels.get(uuid)
        if channel is None or channel.hung_up:
            raise ControlError(NOT_FOUND, "no such call")
        owner = self._channel_agent(channel)
        partner = self.state.channels.get(channel.bridged_to) if channel.bridged_to else None
        if owner:
            return CallLegs(channel.bridged_to or channel.uuid, channel.uuid, frozenset({owner}))
        partner_owner = self._channel_agent(partner) if partner is not None else None
        if partner_owner:
            return CallLegs(channel.uuid, partner.uuid, frozenset({partner_owner}))
        return CallLegs(channel.uuid, None, frozenset())

    def _own_call(self, actor: Actor, arguments: dict[str, Any]) -> CallLegs:
        legs = self._legs(_arg(arguments, "uuid", "uuid"))
        if actor.role == "admin" or actor.agent in legs.owners:
            return legs
        if actor.role == "supervisor" and any(self.supervises(actor, a) for a in legs.owners):
            return legs
        if actor.role == TOKEN_ROLE and any(self._token_covers(actor, a) for a in legs.owners):
            return legs
        raise ControlError(FORBIDDEN, "not your call")

    def _token_covers(self, actor: Actor, agent: str) -> bool:
        """Whether a token's queue limit includes a queue ``agent`` serves."""
        if actor.queues is None:
            return True
        return any(t.agent == agent and t.queue in actor.queues for t in self.tiers())

    def _dialing_agent(self, actor: Actor, arguments: dict[str, Any]) -> str:
        """Whose phone rings first: the actor's own, or for a token the named agent's."""
        if actor.role != TOKEN_ROLE:
            return actor.agent
        agent = _arg(arguments, "agent", "agent")
        if agent not in self.state.agents:
            raise ControlError(NOT_FOUND, "no such agent")
        if not self._token_covers(actor, agent):
            raise ControlError(FORBIDDEN, "the agent serves none of the token's queues")
        return agent

    def _agent_leg(self, actor: Actor, legs: CallLegs) -> str:
        if legs.agent_leg:
            return legs.agent_leg
        for channel in self.state.channels.values():
            if channel.cc_member_uuid == legs.call_uuid and not channel.hung_up and (
                    self._channel_agent(channel) in legs.owners or channel.cc_agent == actor.agent):
                return channel.uuid
        raise ControlError(ILLEGAL_STATE, "the call has no agent leg yet")

    def _bridged(self, legs: CallLegs) -> str:
        if not legs.agent_leg:
            raise ControlError(ILLEGAL_STATE, "the call is not bridged to an agent")
        return legs.agent_leg

    # --- call actions -------------------------------------------------------------
    def call_answer(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        legs = self._own_call(actor, arguments)
        self._switch(commands.phone_event(self._agent_leg(actor, legs), "talk"))
        return {}

    def call_hangup(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        legs = self._own_call(actor, arguments)
        self._switch(commands.hangup(legs.call_uuid))
        return {}

    def call_hold(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        legs = self._own_call(actor, arguments)
        self._bridged(legs)
        self._switch(commands.hold(legs.call_uuid, True))
        return {"held": True}

    def call_unhold(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        legs = self._own_call(actor, arguments)
        self._bridged(legs)
        self._switch(commands.hold(legs.call_uuid, False))
        return {"held": False}

    def _extension_for(self, target: Any) -> str:
        """Dialplan extension of a transfer target: digits, a queue, or an agent."""
        if isinstance(target, str) and "@" in target:
            name = commands.check("queue", target)
            if name in self.queue_extensions:
                return commands.check("extension", self.queue_extensions[name])
            if name in self.state.queues or name in self.state.agents:
                return commands.check("extension", _local_part(name))
            raise ControlError(NOT_FOUND, "no such queue or agent")
        return commands.check("extension", target)

    def _dial_string_for(self, target: Any) -> str:
        """Endpoint to consult: an agent's own phone, else the target through the dialplan."""
        if isinstance(target, str) and target in self.state.agents:
            return self._phone_of(target)
        return f"loopback/{self._extension_for(target)}/{self.context}"

    def _phone_of(self, agent: str) -> str:
        record: Agent | None = self.state.agents.get(agent)
        if record is not None and record.contact:
            try:
                return commands.check("dial_string", record.contact)
            except InvalidArgument:
                pass
        local, _, domain = agent.partition("@")
        return commands.check("dial_string", f"user/{local}@{domain}")

    def call_transfer(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        legs = self._own_call(actor, arguments)
        extension = self._extension_for(arguments.get("target"))
        agent_leg = self._bridged(legs)
        self._switch(commands.blind_transfer(agent_leg, extension, self.context))
        return {"extension": extension}

    def call_consult(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        legs = self._own_call(actor, arguments)
        dial = self._dial_string_for(arguments.get("target"))
        agent_leg = self._bridged(legs)
        self._switch(commands.attended_transfer(agent_leg, dial))
        return {}

    def call_consult_key(self, key: str, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        legs = self._own_call(actor, arguments)
        agent_leg = self._bridged(legs)
        self._switch(commands.recv_dtmf(agent_leg, key))
        return {}

    def call_dial(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        agent = self._dialing_agent(actor, arguments)
        number = _arg(arguments, "number", "number")
        command = commands.outbound_call(self._phone_of(agent), number, self.caller_id,
                                         context=self.context, agent=agent)
        reply = self._switch(command, background=True)
        return {"uuid": reply.strip().removeprefix("+OK").strip() or None}

    def call_dtmf(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        digits = _arg(arguments, "digits", "dtmf")
        legs = self._own_call(actor, arguments)
        # Towards the customer: the far end is usually an IVR the agent navigates.
        self._switch(commands.send_dtmf(legs.call_uuid, digits))
        return {}

    def call_attach_data(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        notes = arguments.get("notes")
        if notes is not None:
            if not isinstance(notes, str) or len(notes) > NOTES_MAX:
                raise ControlError(INVALID_ARGUMENT, f"notes must be text of at most {NOTES_MAX} characters")
            data["notes"] = notes
        order = arguments.get("work_order")
        if order is not None:
            if isinstance(order, bool) or not isinstance(order, (int, str)) or len(str(order)) > WORK_ORDER_MAX:
                raise ControlError(INVALID_ARGUMENT, "work_order must be an id")
            data["work_order"] = order
        if not data:
            raise ControlError(INVALID_ARGUMENT, "nothing to attach")
        legs = self._own_call(actor, arguments)
        self.attach(legs.call_uuid, data)
        return {"call_uuid": legs.call_uuid}

    # --- supervisor actions ---------------------------------------------------------
    def supervises(self, actor: Actor, agent: str) -> bool:
        """Whether ``actor`` may act on ``agent``: admins on everyone, supervisors on the
        agents of the queues they serve (everyone when they serve none). Recording
        playback asks the same question, so it is public."""
        if actor.role == "admin":
            return True
        if actor.role != "supervisor":
            return False
        tiers = list(self.tiers())
        mine = {t.queue for t in tiers if t.agent == actor.agent}
        if not mine:
            return True
        return any(t.agent == agent and t.queue in mine for t in tiers)

    def _supervised_agent(self, actor: Actor, arguments: dict[str, Any]) -> Agent:
        if actor.role not in SUPERVISING_ROLES:
            raise ControlError(FORBIDDEN, "supervisor role required")
        agent = _arg(arguments, "agent", "agent")
        record = self.state.agents.get(agent)
        if record is None:
            raise ControlError(NOT_FOUND, "no such agent")
        if not self.supervises(actor, agent):
            raise ControlError(FORBIDDEN, "not an agent of your queues")
        return record

    def _call_of(self, record: Agent) -> CallLegs:
        if not record.call_uuid:
            raise ControlError(ILLEGAL_STATE, "the agent is not on a call")
        legs = self._legs(record.call_uuid)
        if not legs.agent_leg:
            raise ControlError(ILLEGAL_STATE, "the agent's call is not bridged")
        return legs

    def supervisor_monitor(self, mode: str, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        record = self._supervised_agent(actor, arguments)
        session = self.sessions.get(actor.agent)
        if session is not None and session.agent == record.name:
            try:
                self._switch(commands.recv_dtmf(session.leg, commands.EAVESDROP_KEYS[mode]))
            except ControlError as exc:
                gone = ("no such", "cannot locate session")  # uuid_recv_dtmf says the latter
                if exc.code != SWITCH_ERROR or not any(text in exc.message.lower() for text in gone):
                    raise
                # The supervisor hung up meanwhile: start a new session below.
                self.sessions.pop(actor.agent, None)
            else:
                session.mode = mode
                return {"uuid": session.leg, "mode": mode}
        legs = self._call_of(record)
        if actor.agent in self.sessions:
            self._end_session(actor.agent)
        command = commands.eavesdrop(self._phone_of(actor.agent), legs.agent_leg, mode, actor.agent)
        reply = self._switch(command, background=True)
        leg = reply.strip().removeprefix("+OK").strip()
        if leg:
            self.sessions[actor.agent] = MonitorSession(record.name, leg, mode)
        return {"uuid": leg or None, "mode": mode}

    def _end_session(self, supervisor: str) -> None:
        session = self.sessions.pop(supervisor)
        try:
            self._switch(commands.hangup(session.leg))
        except ControlError as exc:
            if exc.code != SWITCH_ERROR:
                raise

    def supervisor_stop(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        record = self._supervised_agent(actor, arguments)
        session = self.sessions.get(actor.agent)
        if session is None or session.agent != record.name:
            raise ControlError(ILLEGAL_STATE, "not monitoring that agent")
        self._end_session(actor.agent)
        return {}

    def supervisor_force(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        record = self._supervised_agent(actor, arguments)
        status = arguments.get("status")
        if status not in FORCE_STATUSES:
            raise ControlError(INVALID_ARGUMENT, "status must be one of " + ", ".join(FORCE_STATUSES))
        if status == ON_BREAK and arguments.get("reason") is not None:
            reason = self._checked_reason(arguments.get("reason"))
            self._break_for(record.name, reason)
            return {"status": status, "reason": reason}
        # A break the supervisor imposes has no reason of the agent's.
        self.reasons.clear(record.name)
        self._set_status(record.name, status)
        return {"status": status}

    def supervisor_release(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        record = self._supervised_agent(actor, arguments)
        if not record.call_uuid:
            raise ControlError(ILLEGAL_STATE, "the agent is not on a call")
        legs = self._legs(record.call_uuid)
        self._switch(commands.hangup(legs.call_uuid))
        return {}

    def supervisor_takeover(self, actor: Actor, arguments: dict[str, Any]) -> dict[str, Any]:
        record = self._supervised_agent(actor, arguments)
        legs = self._call_of(record)
        # intercept bridges the new leg to the named channel and drops that channel's
        # partner: naming the customer's leg hands the customer over, the agent is cut off.
        command = commands.intercept(self._phone_of(actor.agent), legs.call_uuid, actor.agent)
        reply = self._switch(command, background=True)
        return {"uuid": reply.strip().removeprefix("+OK").strip() or None}


def from_runtime(runtime: Any) -> CallControl:
    """The control service wired to a running middleware's link, state and sinks."""
    return CallControl(
        runtime.state,
        api=runtime.link.api,
        bgapi=runtime.link.bgapi,
        tiers=lambda: runtime.pipeline.tiers,
        not_ready_reasons=runtime.settings.not_ready_reasons,
        attach=runtime.screen_pops.attach,
        caller_id=_configured_caller_id(),
        reasons=getattr(runtime, "break_reasons", None),
    )


def _configured_caller_id() -> str:
    """``CTI_OUTBOUND_CALLER_ID``; a malformed value is reported and the default used."""
    value = os.environ.get("CTI_OUTBOUND_CALLER_ID") or DEFAULT_CALLER_ID
    try:
        return commands.check("number", value)
    except InvalidArgument:
        log.error("CTI_OUTBOUND_CALLER_ID %r is not a phone number; using %s", value[:40], DEFAULT_CALLER_ID)
        return DEFAULT_CALLER_ID
