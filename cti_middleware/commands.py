"""The only writer to the switch: validated arguments in, ESL api command strings out.

Every value that ends up in a command is checked against a strict pattern first, and
commands are assembled from fixed words and checked values only.  A space, newline,
brace, quote, ``&`` or ``|`` in a value could append an argument, start a second
command or inject channel variables, so such values are refused with a clear error and
never reach FreeSWITCH.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AGENT_STATES",
    "AGENT_STATUSES",
    "InvalidArgument",
    "agent_set_state",
    "agent_set_status",
    "attended_transfer",
    "blind_transfer",
    "check",
    "eavesdrop",
    "hangup",
    "hold",
    "intercept",
    "outbound_call",
    "phone_event",
    "recv_dtmf",
    "send_dtmf",
]


class InvalidArgument(ValueError):
    """A value that must not become part of an ESL command."""

    def __init__(self, kind: str, value: object) -> None:
        shown = repr(value)[:40]
        super().__init__(f"invalid {kind}: {shown}")
        self.kind = kind


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    max_len: int


PATTERNS: dict[str, _Pattern] = {
    "uuid": _Pattern(re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), 36),
    "agent": _Pattern(re.compile(r"[A-Za-z0-9_.-]{1,64}@[A-Za-z0-9_.-]{1,64}"), 129),
    "queue": _Pattern(re.compile(r"[A-Za-z0-9_.-]{1,64}@[A-Za-z0-9_.-]{1,64}"), 129),
    "extension": _Pattern(re.compile(r"[0-9A-Za-z_.*#+-]{1,32}"), 32),
    "number": _Pattern(re.compile(r"\+?[0-9]{2,20}"), 21),
    "context": _Pattern(re.compile(r"[A-Za-z0-9_-]{1,32}"), 32),
    "dtmf": _Pattern(re.compile(r"[0-9*#A-Da-d]{1,32}"), 32),
    # Endpoint dial strings of agent phones: sofia/internal/1000@host, user/1000@domain,
    # null/agent1000, loopback/x; optional [a=b,c=d] channel variables with plain values.
    "dial_string": _Pattern(
        re.compile(r"(\[[A-Za-z0-9_]{1,40}=[A-Za-z0-9_.:@-]{0,64}(,[A-Za-z0-9_]{1,40}=[A-Za-z0-9_.:@-]{0,64}){0,15}\])?"
                   r"[A-Za-z0-9_]{1,20}/[A-Za-z0-9_.:@/+-]{1,200}"),
        400,
    ),
    "caller_name": _Pattern(re.compile(r"[\w .'-]{0,40}", re.UNICODE), 40),
}

AGENT_STATUSES = ("Available", "Available (On Demand)", "On Break", "Logged Out")
AGENT_STATES = ("Waiting", "Idle", "Receiving", "In a queue call")


def check(kind: str, value: object) -> str:
    """``value`` if it is a well-formed ``kind``, else :class:`InvalidArgument`."""
    pattern = PATTERNS[kind]
    if not isinstance(value, str) or len(value) > pattern.max_len or not pattern.regex.fullmatch(value):
        raise InvalidArgument(kind, value)
    return value


def _quoted_choice(kind: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidArgument(kind, value)
    return f"'{value}'" if " " in str(value) else str(value)


def agent_set_status(agent: str, status: str) -> str:
    return (f"callcenter_config agent set status {check('agent', agent)} "
            f"{_quoted_choice('status', status, AGENT_STATUSES)}")


def agent_set_state(agent: str, state: str) -> str:
    return (f"callcenter_config agent set state {check('agent', agent)} "
            f"{_quoted_choice('state', state, AGENT_STATES)}")


def hangup(uuid: str, cause: str = "NORMAL_CLEARING") -> str:
    if cause not in ("NORMAL_CLEARING", "CALL_REJECTED", "USER_BUSY", "ORIGINATOR_CANCEL"):
        raise InvalidArgument("hangup cause", cause)
    return f"uuid_kill {check('uuid', uuid)} {cause}"


def hold(uuid: str, on: bool = True) -> str:
    return f"uuid_hold {check('uuid', uuid)}" if on else f"uuid_hold off {check('uuid', uuid)}"


def phone_event(uuid: str, event: str = "talk") -> str:
    if event not in ("talk", "hold", "unhold"):
        raise InvalidArgument("phone event", event)
    return f"uuid_phone_event {check('uuid', uuid)} {event}"


def send_dtmf(uuid: str, digits: str) -> str:
    return f"uuid_send_dtmf {check('uuid', uuid)} {check('dtmf', digits)}"


def recv_dtmf(uuid: str, digits: str) -> str:
    """DTMF as if pressed on that channel's phone: drives att_xfer and eavesdrop menus."""
    return f"uuid_recv_dtmf {check('uuid', uuid)} {check('dtmf', digits)}"


def blind_transfer(agent_leg: str, extension: str, context: str = "default") -> str:
    """Send the agent's bridged partner (the caller) to ``extension``; as in FreeSWITCH's -bleg."""
    return (f"uuid_transfer {check('uuid', agent_leg)} -bleg {check('extension', extension)} "
            f"XML {check('context', context)}")


def attended_transfer(agent_leg: str, target_dial_string: str) -> str:
    """Consult: the caller hears hold music while the agent talks to the target."""
    return (f"uuid_broadcast {check('uuid', agent_leg)} "
            f"att_xfer::{check('dial_string', target_dial_string)} aleg")


def _vars(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{k}={v}" for k, v in pairs) + "}"


def outbound_call(agent_dial_string: str, number: str, caller_id_number: str,
                  caller_id_name: str = "", context: str = "default", agent: str | None = None) -> str:
    """Click-to-call: ring the agent's phone first, then dial ``number`` from the dialplan."""
    pairs = [
        ("origination_caller_id_number", check("number", number)),
        ("effective_caller_id_number", check("number", caller_id_number)),
        ("ignore_early_media", "true"),
    ]
    if caller_id_name:
        pairs.append(("effective_caller_id_name", check("caller_name", caller_id_name).replace(" ", "_")))
    if agent:
        pairs.append(("cc_outbound_agent", check("agent", agent)))
    return (f"originate {_vars(pairs)}{check('dial_string', agent_dial_string)} "
            f"{check('number', number)} XML {check('context', context)}")


# The target is the agent's leg. FreeSWITCH's eavesdrop mixes the supervisor into what that
# leg *reads* for ``whisper_aleg`` (so the customer hears it) and into what it *writes* for
# ``whisper_bleg`` (so the agent hears it): whispering to the agent is the b-leg flag.
# Barge is eavesdrop with both flags rather than ``three_way``, which has the same audio but
# no key menu, so a barge could never be switched back to listen or whisper.
EAVESDROP_MODES = {
    "listen": [],
    "whisper": [("eavesdrop_whisper_bleg", "true")],
    "barge": [("eavesdrop_whisper_aleg", "true"), ("eavesdrop_whisper_bleg", "true")],
}

# Keys of FreeSWITCH's eavesdrop menu, pressed on the supervisor's leg to switch mode
# within one session.
EAVESDROP_KEYS = {"whisper": "2", "barge": "3", "listen": "0"}


def eavesdrop(supervisor_dial_string: str, target_uuid: str, mode: str, supervisor: str) -> str:
    """Ring the supervisor, then listen to / whisper into / barge into the agent's call."""
    if mode not in ("listen", "whisper", "barge"):
        raise InvalidArgument("mode", mode)
    pairs = [
        ("origination_caller_id_number", "eavesdrop"),
        ("cc_supervisor", check("agent", supervisor)),
        ("eavesdrop_enable_dtmf", "true"),
        *EAVESDROP_MODES.get(mode, []),
    ]
    return (f"originate {_vars(pairs)}{check('dial_string', supervisor_dial_string)} "
            f"&eavesdrop({check('uuid', target_uuid)})")


def intercept(supervisor_dial_string: str, customer_leg: str, supervisor: str) -> str:
    """Take over: the supervisor's phone joins ``customer_leg`` and its partner (the agent) is dropped."""
    pairs = [("origination_caller_id_number", "intercept"), ("cc_supervisor", check("agent", supervisor))]
    return (f"originate {_vars(pairs)}{check('dial_string', supervisor_dial_string)} "
            f"&intercept({check('uuid', customer_leg)})")
