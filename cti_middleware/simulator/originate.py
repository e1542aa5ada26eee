"""``originate``: loopback calls into the dialplan, and the small dialplan itself.

``originate {vars}loopback/<dest>/<context> &park()`` creates ``loopback/<dest>-a``
(the caller's phone, parked) and ``loopback/<dest>-b`` which runs the dialplan: in
context ``default``, ``support`` and ``vip`` answer and join the queue the
destination map names; ``park`` parks; other contexts answer and park numeric
extensions (the recorded ``agents`` context).  The supervisor apps an originate may
name (``&eavesdrop(uuid)``, ``&three_way(uuid)``, ``&intercept(uuid)``) run in
:mod:`.eavesdrop` once the leg is answered.

With a mod_xml_curl server (``--xml-curl``) a call into ``default`` is routed
before it is answered, as FreeSWITCH does: the B leg hunts at once and the
originate waits until the dialplan answers it (``answer``, early media with
``pre_answer``, a bridge, or the ``callcenter`` app) before the A leg is answered
and runs its app; a B leg hung up first (a silent ``respond 403`` or ``hangup``)
takes the A leg down with the same cause, and the reply is ``-ERR <cause>``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import gevent

from cti_middleware.simulator.apps import POLL, answer_leg, live
from cti_middleware.simulator.callcenter import CallCenter
from cti_middleware.simulator.channels import Channel
from cti_middleware.simulator.config import parse_contact
from cti_middleware.simulator.eavesdrop import Supervision
from cti_middleware.simulator.entry import HUNT
from cti_middleware.simulator.switch import Switch

HOSTILE_NAME = "Mallory\nCC-Agent: 9999@default\nCC-Action: agent-offering"
HOSTILE_NOTE = "line1\nEvent-Name: HEARTBEAT"
ORIGINATE_TIMEOUT = 60  # seconds FreeSWITCH's originate waits for an answer by default
USAGE = (
    "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] "
    "[<cid_name>] [<cid_num>] [<timeout_sec>]\n"
)


@dataclass
class OriginateRequest:
    variables: dict[str, str]
    endpoint: str
    target: str
    app: str
    app_args: str


def parse_originate(args: str) -> OriginateRequest | None:
    """Split the originate arguments; None when they are not an originate at all."""
    args = args.strip()
    if not args:
        return None
    if args.startswith("{"):
        end = args.find("}")
        if end < 0:
            return None
        head, rest = args[: end + 1], args[end + 1 :]
        url, _, app = rest.partition(" ")
        variables, _ = parse_contact(head)
    else:
        url, _, app = args.partition(" ")
        variables = {}
    url_vars, url = parse_contact(url)
    variables.update(url_vars)
    endpoint, _, target = url.partition("/")
    app = app.strip()
    match = re.match(r"^&([\w:]+)\((.*)\)\s*$", app) or re.match(r"^&([\w:]+)\s*(.*)$", app)
    if match:
        name, app_args = match.group(1), match.group(2)
    else:
        name, app_args = "transfer", app
    if not endpoint or not app:
        return None
    return OriginateRequest(variables, endpoint, target, name, app_args)


class Originator:
    """Creates call legs for ``originate`` and runs the B legs through the dialplan."""

    def __init__(self, switch: Switch, cc: CallCenter) -> None:
        self.switch = switch
        self.cc = cc
        self.supervision = Supervision(switch)

    def originate(self, args: str) -> str:
        req = parse_originate(args)
        if req is None:
            return USAGE
        if req.endpoint == "loopback":
            return self._loopback(req)
        if req.endpoint in ("null", "user", "sofia"):
            return self._single(req)
        return "-ERR CHAN_NOT_IMPLEMENTED\n"

    def _cid(self, req: OriginateRequest, default_number: str) -> tuple[str, str]:
        name = req.variables.get("origination_caller_id_name", "FreeSWITCH")
        number = req.variables.get("origination_caller_id_number", default_number)
        return name, number

    def _loopback(self, req: OriginateRequest) -> str:
        parts = req.target.split("/")
        dest = parts[0]
        context = parts[1] if len(parts) > 1 and parts[1] else "default"
        hostile = dest == "hostile" and context == "default"
        queue = self.cc.config.destinations.get(dest) if context == "default" else None
        if hostile:  # the recorded extension that plants newlines in caller values
            queue = "support@default"

        routable = queue is not None or dest == "park" or (context != "default" and re.match(r"^\w+$", dest))
        sw = self.switch
        cid_name, cid_number = self._cid(req, "0000000000")
        a = sw.make_channel(f"loopback/{dest}-a", "outbound", cid_name, cid_number, dest, "Outbound Call",
                            context, "xml", "mod_loopback", context)
        b = sw.make_channel(f"loopback/{dest}-b", "inbound", cid_name, cid_number, dest, "Outbound Call",
                            context, "xml", "mod_loopback", context)
        a.partner, b.partner = b, a
        b.hit_dialplan = True
        for key, value in req.variables.items():
            a.set_var(key, value)
        a.set_var("originate_early_media", "true")
        a.set_var("originate_endpoint", "loopback")
        a.set_var("other_loopback_leg_uuid", b.uuid)
        a.set_var("loopback_leg", "A")
        for key, value in req.variables.items():
            b.set_var(key, value)
        b.set_var("other_loopback_leg_uuid", a.uuid)
        b.set_var("loopback_leg", "B")
        sw.fire_create(a)
        sw.fire_create(b)
        if not routable:
            sw.hangup(b, "NO_ROUTE_DESTINATION")
            return "-ERR NO_ROUTE_DESTINATION\n"
        sw.bus.skip(3)
        if queue == HUNT:  # mod_xml_curl decides: route first, answer when the dialplan says so
            return self._route_first(req, a, b)
        sw.answer(a, "CS_CONSUME_MEDIA", "DOWN", 7)
        a.set_var("endpoint_disposition", "ANSWER")
        if hostile:
            b.set_var("crm_note", HOSTILE_NOTE)
        else:
            b.set_var("DP_MATCH", f"ARRAY::{dest}|:{dest}")
        b.set_var("call_uuid", b.uuid)
        b.set_var("current_application", "answer")
        sw.answer(b, "CS_EXECUTE", "RINGING", 4)
        b.call_state = "ACTIVE"
        a.set_state("CS_EXECUTE", "ACTIVE", 4)
        self._caller_side(a, req, cid_name, cid_number, context)
        b.set_var("endpoint_disposition", "ANSWER")
        sw.bus.skip(3)
        if hostile:
            b.profile.orig_caller_id_name = b.profile.caller_id_name
            b.profile.caller_id_name = HOSTILE_NAME
        if queue is not None and queue in self.cc.queues:
            b.set_var("hangup_after_bridge", "true")
            self.cc.join(b, queue)
        else:
            b.application, b.application_data = "park", ""
            b.set_var("current_application", "park")
        return f"+OK {a.uuid}\n"

    def _caller_side(self, a: Channel, req: OriginateRequest, cid_name: str, cid_number: str,
                     context: str) -> None:
        """The originate succeeded: the A leg shows the far end as its caller and runs the app."""
        a.set_var("pre_transfer_caller_id_name", cid_name)
        a.set_var("pre_transfer_caller_id_number", cid_number)
        a.set_var("channel_cid_flipped", "yes")
        a.set_var("call_uuid", a.uuid)
        a.profile.caller_id_name, a.profile.caller_id_number = "Outbound Call", context
        a.profile.callee_id_name, a.profile.callee_id_number = cid_name, cid_number
        self._run_app(a, req.app, req.app_args)
        self.supervision.execute(a, req.app, req.app_args)

    def _route_first(self, req: OriginateRequest, a: Channel, b: Channel) -> str:
        """Hunt the B leg now and wait, as ``originate`` waits, for it to answer or fail.

        The A leg is answered by the B leg's answer (``answer``, or a bridge; see
        :func:`.apps.answer_leg`); early media (``pre_answer``) also completes the
        originate, as ``originate_early_media`` allows.  A B leg that is hung up
        first takes the A leg with it and the reply is that cause.
        """
        cid_name, cid_number = a.profile.caller_id_name, a.profile.caller_id_number
        context = b.profile.context
        a.set_state("CS_CONSUME_MEDIA", a.call_state, 7)  # an originated leg waits for its answer there
        self.cc.join(b, HUNT)
        cause = self._await_answer(a, b, req.variables.get("originate_timeout", ""))
        if cause:
            if live(a):
                self.switch.hangup(a, cause)
            return f"-ERR {cause}\n"
        if a.answered_at is None:  # early media only: the A leg runs its app before the answer
            a.set_state("CS_EXECUTE", "EARLY", 4)
        self._caller_side(a, req, cid_name, cid_number, context)
        return f"+OK {a.uuid}\n"

    def _await_answer(self, a: Channel, b: Channel, timeout: str) -> str:
        """'' once the B leg answered (or has early media), else the cause the call ended with."""
        seconds = int(timeout) if timeout.isdigit() and int(timeout) > 0 else ORIGINATE_TIMEOUT
        deadline = time.monotonic() + self.cc.config.scaled(seconds)
        while True:
            gevent.sleep(POLL)
            if not live(b) or not live(a):
                return b.hangup_cause or a.hangup_cause or "NORMAL_CLEARING"
            if b.bridged is not None:  # a bridge answers the caller's leg
                answer_leg(self.switch, b)
            if b.answered_at is not None or b.answer_state == "early":
                return ""
            if time.monotonic() >= deadline:
                self.switch.hangup(a, "NO_ANSWER")
                return "NO_ANSWER"

    def _single(self, req: OriginateRequest) -> str:
        sw = self.switch
        name = f"{req.endpoint}/{req.target}"
        dest = req.target.split("@")[0].split("/")[-1]
        cid_name, cid_number = self._cid(req, "0000000000")
        chan = sw.make_channel(name, "outbound", cid_name, cid_number, dest, "Outbound Call", dest, None,
                               f"mod_{req.endpoint}", kind="null")
        for key, value in req.variables.items():
            chan.set_var(key, value)
        chan.set_var("originate_endpoint", req.endpoint)
        sw.fire_create(chan)
        sw.answer(chan, "CS_CONSUME_MEDIA", "DOWN", 7)
        chan.set_state("CS_EXECUTE", "ACTIVE", 4)
        self._run_app(chan, req.app, req.app_args)
        self.supervision.execute(chan, req.app, req.app_args)
        return f"+OK {chan.uuid}\n"

    @staticmethod
    def _run_app(chan: Channel, app: str, args: str) -> None:
        chan.application, chan.application_data = app, args
        chan.set_var("current_application", app)
        if args:
            chan.set_var("current_application_data", args)
