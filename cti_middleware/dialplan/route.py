"""Choosing the dialplan step for one mod_xml_curl request.

The call flow is a chain of small steps. The entry step answers the
dialled number (DNIS) in the caller's context; every later step lives in
the internal context (:data:`INTERNAL_CONTEXT`), reached only by
``transfer``/``execute_extension`` from an earlier step, so a caller cannot
dial into the middle of the flow. Each step is decided here from the
request and the database, and rendered by one template; the caller's
digits come back as the next destination (``menu-1``, ``survey-4``) after
``play_and_get_digits`` has checked them against a fixed pattern.

Nothing here trusts request values: numbers are normalised, names from
channel variables are validated against the same patterns as the store.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..store import callbacks, routing
from ..store.phones import normalize_number

log = logging.getLogger(__name__)

INTERNAL_CONTEXT = "cti"
OUTBOUND_CONTEXT = "cti-outbound"
LANG_BY_DIGIT = {"1": "zh", "2": "yue", "3": "en"}
# mod_say module per prompt language (Cantonese digits come from the zh
# module with Cantonese recordings under the sound prefix).
SAY_MODULE = {"zh": "zh", "yue": "zh", "en": "en"}
DIAL_NUMBER = re.compile(r"\+?[0-9*#]{1,32}")
GATEWAY = re.compile(r"[A-Za-z0-9_.-]{1,64}")
UUID = re.compile(r"[0-9a-fA-F-]{36}")
_RECORDING = re.compile(r"(?P<day>\d{4}/\d{2}/\d{2})/(?P<uuid>[0-9a-fA-F-]{36})\.wav$")

AgentStatus = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Settings:
    """Deployment values the templates need (from the Flask config)."""

    sounds_dir: str = "/usr/share/freeswitch/sounds/cti"
    recordings_dir: str = "/var/lib/freeswitch/recordings/cti"
    outbound_gateway: str = "carrier"
    outbound_caller_id: str | None = None
    internal_context: str = INTERNAL_CONTEXT
    outbound_context: str = OUTBOUND_CONTEXT

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            sounds_dir=config.get("CTI_SOUNDS_DIR", cls.sounds_dir),
            recordings_dir=config.get("CTI_RECORDINGS_DIR", cls.recordings_dir),
            outbound_gateway=config.get("CTI_OUTBOUND_GATEWAY", cls.outbound_gateway),
            outbound_caller_id=config.get("CTI_OUTBOUND_CALLER_ID"),
        )


@dataclass
class Call:
    """What a dialplan request says about the channel."""

    uuid: str
    caller_number: str
    caller_name: str
    destination: str
    context: str
    variables: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Call:
        variables = {
            key[len("variable_"):]: value
            for key, value in params.items()
            if key.startswith("variable_")
        }
        return cls(
            uuid=params.get("Unique-ID") or params.get("Channel-Call-UUID") or "",
            caller_number=params.get("Caller-Caller-ID-Number") or params.get("Hunt-ANI") or "",
            caller_name=params.get("Caller-Caller-ID-Name") or "",
            destination=params.get("Hunt-Destination-Number")
            or params.get("Caller-Destination-Number")
            or "",
            context=params.get("Hunt-Context") or params.get("Caller-Context") or "",
            variables=variables,
        )


@dataclass
class Step:
    """A decided step: the template and what it shows."""

    template: str
    values: dict[str, Any]

    def context(self) -> dict[str, Any]:
        return {"template": self.template, **self.values}


def now_utc() -> datetime:
    return datetime.now(UTC)


def route(
    params: Mapping[str, str],
    *,
    settings: Settings,
    agent_status: AgentStatus | None = None,
    now: datetime | None = None,
) -> Step | None:
    """The step for a dialplan request, or None to let FreeSWITCH use its files."""
    call = Call.from_params(params)
    if not call.destination or not call.context:
        return None
    if call.context == settings.outbound_context:
        return _outbound(call, settings)
    if call.context == settings.internal_context:
        return _internal(call, settings, agent_status or (lambda _agent: None))
    return _entry(call, settings, agent_status or (lambda _agent: None), now or now_utc())


# -- shared pieces -----------------------------------------------------------


def _base(call: Call, settings: Settings, ep: routing.EntryPoint, lang: str) -> dict[str, Any]:
    return {
        "context_name": call.context,
        "destination": call.destination,
        "internal": settings.internal_context,
        "ep": ep,
        "lang": lang,
        "say_module": SAY_MODULE[lang],
        "sounds": f"{settings.sounds_dir.rstrip('/')}/{lang}",
        "common_sounds": f"{settings.sounds_dir.rstrip('/')}/common",
        "recordings_dir": settings.recordings_dir.rstrip("/"),
    }


def _customer(number: str):
    from ..store.customers import find_by_number

    if not number:
        return None
    try:
        return find_by_number(number)
    except ValueError:
        return None


def _queue_step(
    call: Call,
    settings: Settings,
    ep: routing.EntryPoint,
    lang: str,
    agent_status: AgentStatus,
) -> Step:
    customer = _customer(call.caller_number)
    vip = bool(customer is not None and customer.vip)
    queue = ep.vip_queue if vip and ep.vip_queue_id else ep.queue
    sticky = None
    tried = call.variables.get("cti_sticky_tried") == "true"
    if ep.sticky_agent and not tried and customer is not None and customer.last_agent:
        agent = routing.agent_config(customer.last_agent)
        status = agent_status(customer.last_agent) if agent is not None else None
        if agent is not None and status == "Available":
            sticky = agent
        log.debug("sticky agent %s for %s: %s", customer.last_agent, call.uuid, status)
    values = _base(call, settings, ep, lang)
    values.update(
        customer=customer,
        vip=vip,
        base_score=ep.vip_base_score if vip else 0,
        queue=queue,
        sticky=sticky,
    )
    return Step("queue.xml.j2", values)


def _entry_point_of(call: Call) -> routing.EntryPoint | None:
    return routing.entry_point_for(call.variables.get("cti_dnis"))


def _lang_of(call: Call, ep: routing.EntryPoint) -> str:
    lang = call.variables.get("cti_lang")
    return lang if lang in routing.LANGUAGES else ep.language


# -- the entry step ----------------------------------------------------------


def _entry(
    call: Call, settings: Settings, agent_status: AgentStatus, now: datetime
) -> Step | None:
    ep = routing.entry_point_for(call.destination)
    if ep is None:
        return None
    lang = ep.language
    values = _base(call, settings, ep, lang)
    if routing.is_blacklisted(call.caller_number, now):
        return Step("blacklisted.xml.j2", values)
    customer = _customer(call.caller_number)
    if customer is not None and customer.preferred_language in routing.LANGUAGES:
        lang = customer.preferred_language
        values = _base(call, settings, ep, lang)
    values["customer"] = customer
    if not routing.is_open(ep.calendar, now, ep.timezone):
        return _voicemail(call, ep, values, "after_hours.xml.j2")
    if ep.language_menu and customer is None:
        return Step("language_menu.xml.j2", values)
    if ep.main_menu:
        return Step("main_menu.xml.j2", values)
    step = _queue_step(call, settings, ep, lang, agent_status)
    step.values["entry"] = True
    return step


# -- internal steps ----------------------------------------------------------

_INTERNAL = re.compile(
    r"(?P<name>lang|menu|queue|after-queue|callback|survey|agent-intro)(?:-(?P<digit>[0-9]))?"
)


def _internal(call: Call, settings: Settings, agent_status: AgentStatus) -> Step | None:
    match = _INTERNAL.fullmatch(call.destination)
    ep = _entry_point_of(call)
    if match is None or ep is None:
        return None
    name, digit = match["name"], match["digit"]
    lang = _lang_of(call, ep)
    if name == "lang":
        lang = LANG_BY_DIGIT.get(digit or "", ep.language)
        template = "main_menu.xml.j2" if ep.main_menu else None
        if template is None:
            step = _queue_step(call, settings, ep, lang, agent_status)
            step.values["set_lang"] = True
            return step
        values = _base(call, settings, ep, lang)
        values["set_lang"] = True
        return Step(template, values)
    values = _base(call, settings, ep, lang)
    if name == "menu":
        return _menu_choice(call, settings, ep, lang, digit, agent_status, values)
    if name == "queue":
        return _queue_step(call, settings, ep, lang, agent_status)
    if name == "after-queue":
        return _after_queue(call, settings, ep, lang, agent_status, values)
    if name == "callback":
        return _callback_choice(call, ep, digit, values)
    if name == "survey":
        return _survey_result(call, digit, values)
    return _agent_intro(call, values)


def _menu_choice(call, settings, ep, lang, digit, agent_status, values) -> Step:
    if digit is None:
        return Step("main_menu.xml.j2", values)
    if digit == "1":
        return Step("self_service.xml.j2", values)
    if digit == "2":
        return _voicemail(call, ep, values)
    # "0", or no valid choice after every try: a person is the safe default.
    return _queue_step(call, settings, ep, lang, agent_status)


def _answered(call: Call) -> bool:
    v = call.variables
    if v.get("cc_cause") == "answered":
        return True
    # A direct bridge to the sticky agent that connected.
    return bool(v.get("cti_agent")) and v.get("originate_disposition") == "SUCCESS"


def _after_queue(
    call: Call,
    settings: Settings,
    ep: routing.EntryPoint,
    lang: str,
    agent_status: AgentStatus,
    values: dict[str, Any],
) -> Step:
    if _answered(call):
        return Step("survey.xml.j2" if ep.survey else "goodbye.xml.j2", values)
    reason = call.variables.get("cc_cancel_reason")
    if call.variables.get("cc_cause") == "cancel" and reason in ("TIMEOUT", "NO_AGENT_TIMEOUT"):
        queue = routing.Queue.get_or_none(routing.Queue.name == call.variables.get("cc_queue"))
        action = queue.timeout_action if queue is not None else "voicemail"
        if action == "callback":
            return Step("callback_offer.xml.j2", values)
        if action == "voicemail":
            return _voicemail(call, ep, values)
    if "cc_cause" not in call.variables and call.variables.get("cti_queue_tried") != "true":
        # The sticky agent did not answer: now the queue (sticky is off
        # because cti_sticky_tried is set).
        return _queue_step(call, settings, ep, lang, agent_status)
    return Step("goodbye.xml.j2", values)


def _callback_choice(call: Call, ep, digit: str | None, values: dict[str, Any]) -> Step:
    if digit == "1":
        request_callback(call, ep)
        return Step("callback_confirmed.xml.j2", values)
    if digit == "2":
        return _voicemail(call, ep, values)
    return Step("callback_offer.xml.j2", values)


def _survey_result(call: Call, digit: str | None, values: dict[str, Any]) -> Step:
    if digit is None:
        return Step("survey.xml.j2", values)
    if digit in "12345" and UUID.fullmatch(call.uuid or ""):
        record_survey(call.uuid, int(digit))
    return Step("goodbye.xml.j2", values)


def _agent_intro(call: Call, values: dict[str, Any]) -> Step | None:
    agent_id = call.variables.get("cc_agent") or call.variables.get("cti_agent") or ""
    agent = routing.agent_config(agent_id) if routing.AGENT_NAME.fullmatch(agent_id) else None
    values["spoken_number"] = agent.spoken_number if agent is not None else ""
    # Queue calls are recorded by mod_callcenter (record-template); a direct
    # bridge to the sticky agent has no cc_queue and is recorded here.
    queue = routing.Queue.get_or_none(routing.Queue.name == call.variables.get("cti_queue", ""))
    values["record"] = bool(
        "cc_queue" not in call.variables and queue is not None and queue.record_calls
    )
    return Step("agent_intro.xml.j2", values)


# -- outbound ----------------------------------------------------------------


def _outbound(call: Call, settings: Settings) -> Step | None:
    number = call.destination
    if not DIAL_NUMBER.fullmatch(number) or not GATEWAY.fullmatch(settings.outbound_gateway):
        return None
    ep = routing.entry_point_for(call.variables.get("cti_dnis"))
    caller_id = (ep.caller_id_number if ep is not None else None) or settings.outbound_caller_id
    agent_phone = routing.agent_by_phone_user(number)
    return Step(
        "outbound.xml.j2",
        {
            "context_name": call.context,
            "destination": number,
            "caller_id": caller_id,
            "gateway": settings.outbound_gateway,
            "internal_user": agent_phone,
            "recordings_dir": settings.recordings_dir.rstrip("/"),
        },
    )


# -- writes triggered by the caller's digits ----------------------------------


def record_survey(call_uuid: str, score: int) -> None:
    """Store a 1-5 satisfaction score on the call record of ``call_uuid``."""
    from peewee import IntegrityError

    from ..store.db import connection
    from ..store.models import CallRecord

    with connection():
        updated = (
            CallRecord.update(satisfaction=score)
            .where(CallRecord.call_uuid == call_uuid)
            .execute()
        )
        if not updated:
            try:
                CallRecord.create(call_uuid=call_uuid, satisfaction=score)
            except IntegrityError:  # written meanwhile by the event pipeline
                CallRecord.update(satisfaction=score).where(
                    CallRecord.call_uuid == call_uuid
                ).execute()
    log.info("survey score %d stored for call %s", score, call_uuid)


def request_callback(call: Call, ep: routing.EntryPoint) -> None:
    """Open a callback work order for the caller's number."""
    from ..store.db import connection
    from ..store.models import WorkOrder

    try:
        number = normalize_number(call.caller_number)
    except ValueError:
        log.warning("callback requested from unusable number on call %s", call.uuid)
        return
    customer = _customer(number)
    with connection():
        order = WorkOrder.create(
            type="callback",
            status="new",
            summary=f"Callback requested to {number} ({ep.dnis})",
            customer=customer,
            call_uuid=call.uuid if UUID.fullmatch(call.uuid or "") else None,
        )
    callbacks.requested_task(order, number, queue=_task_queue(call, ep))
    log.info("callback requested for %s on call %s", number, call.uuid)


def _voicemail(call: Call, ep: routing.EntryPoint, values: dict[str, Any],
               template: str = "voicemail.xml.j2") -> Step:
    """A step that ends in the voicemail box; the caller also gets a callback task.

    The task is made here, when FreeSWITCH asks for the step, with the path
    the step records the message to (``record_session`` beside mod_voicemail,
    whose own file name is chosen inside the module and never reported on the
    channel). So no ESL event is needed, and a caller who hangs up instead of
    pressing # still gets called back.
    """
    if ep.voicemail_box and UUID.fullmatch(call.uuid or ""):
        path = f"{values['recordings_dir']}/voicemail/{call.uuid}.wav"
        callbacks.voicemail_task(call.caller_number, queue=_task_queue(call, ep),
                                 call_uuid=call.uuid, recording_path=path)
        values["voicemail_recording"] = path
    return Step(template, values)


def _task_queue(call: Call, ep: routing.EntryPoint) -> str | None:
    """The queue a callback task of this call belongs to: the one it waited in, else the entry point's."""
    queue = call.variables.get("cc_queue", "")
    if routing.QUEUE_NAME.fullmatch(queue):
        return queue
    return ep.queue.name if ep.queue_id else None


def parse_recording_path(path: str) -> tuple[str, str] | None:
    """``(YYYY/MM/DD, call uuid)`` of a path made by the queues' record template."""
    match = _RECORDING.search(path or "")
    return (match["day"], match["uuid"]) if match else None
