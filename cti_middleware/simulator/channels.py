"""Channels and the channel part of events (switch_channel_event_set_data).

A channel carries a caller profile, an optional snapshot of the other leg's profile
(once bridged), state names and its variables.  ``channel_data`` turns that into the
headers FreeSWITCH appends to every channel event, in the same order and with the
same names the recordings show.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cti_middleware.simulator.events import Headers

TIME_FIELDS = (
    "Created-Time",
    "Answered-Time",
    "Progress-Time",
    "Progress-Media-Time",
    "Hangup-Time",
    "Transfer-Time",
    "Resurrect-Time",
    "Bridged-Time",
    "Last-Hold",
    "Hold-Accum",
)

CODEC_HEADERS: Headers = [
    ("Channel-Read-Codec-Name", "L16"),
    ("Channel-Read-Codec-Rate", "8000"),
    ("Channel-Read-Codec-Bit-Rate", "128000"),
    ("Channel-Write-Codec-Name", "L16"),
    ("Channel-Write-Codec-Rate", "8000"),
    ("Channel-Write-Codec-Bit-Rate", "128000"),
]

Q850 = {
    "NORMAL_CLEARING": "16",
    "USER_BUSY": "17",
    "NO_ANSWER": "19",
    "ALLOTTED_TIMEOUT": "602",
    "ORIGINATOR_CANCEL": "487",
    "CALL_REJECTED": "21",
    "NO_USER_RESPONSE": "18",
    "NO_ROUTE_DESTINATION": "3",
    "SYSTEM_SHUTDOWN": "503",
    "MANAGER_REQUEST": "503",
    "UNALLOCATED_NUMBER": "1",
    "LOSE_RACE": "502",
    "ATTENDED_TRANSFER": "601",
}


def usec(now: float | None = None) -> int:
    """FreeSWITCH's microsecond timestamps."""
    return int((time.time() if now is None else now) * 1_000_000)


@dataclass
class Profile:
    """A caller profile (switch_caller_profile_t) as events show it."""

    direction: str
    logical_direction: str
    caller_id_name: str
    caller_id_number: str
    callee_id_name: str | None
    callee_id_number: str | None
    destination_number: str
    unique_id: str
    channel_name: str
    source: str
    context: str = "default"
    dialplan: str | None = None
    orig_caller_id_name: str | None = None
    orig_caller_id_number: str | None = None
    ani: str | None = None
    transfer_source: str | None = None
    rdnis: str | None = None
    index: int = 1
    created: int = 0
    times: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIME_FIELDS, 0))

    def headers(self, prefix: str, with_index: bool = True) -> Headers:
        """The ``Caller-*`` (or ``Other-Leg-*``) header block."""
        p = prefix
        out: Headers = [(f"{p}-Direction", self.direction), (f"{p}-Logical-Direction", self.logical_direction)]
        if self.dialplan:
            out.append((f"{p}-Dialplan", self.dialplan))
        out += [
            (f"{p}-Caller-ID-Name", self.caller_id_name),
            (f"{p}-Caller-ID-Number", self.caller_id_number),
            (f"{p}-Orig-Caller-ID-Name", _or(self.orig_caller_id_name, self.caller_id_name)),
            (f"{p}-Orig-Caller-ID-Number", _or(self.orig_caller_id_number, self.caller_id_number)),
        ]
        if self.callee_id_name is not None:  # FreeSWITCH leaves out a callee it does not know
            out += [(f"{p}-Callee-ID-Name", self.callee_id_name), (f"{p}-Callee-ID-Number", self.callee_id_number)]
        out += [
            (f"{p}-ANI", _or(self.ani, self.caller_id_number)),
            (f"{p}-Destination-Number", self.destination_number),
            (f"{p}-Unique-ID", self.unique_id),
            (f"{p}-Source", self.source),
        ]
        if self.transfer_source:
            out.append((f"{p}-Transfer-Source", self.transfer_source))
        out.append((f"{p}-Context", self.context))
        if self.rdnis:
            out.append((f"{p}-RDNIS", self.rdnis))
        out.append((f"{p}-Channel-Name", self.channel_name))
        if with_index:
            out.append((f"{p}-Profile-Index", str(self.index)))
        out.append((f"{p}-Profile-Created-Time", str(self.created)))
        out += [(f"{p}-Channel-{name}", str(self.times[name])) for name in TIME_FIELDS]
        out += [
            (f"{p}-Screen-Bit", "true"),
            (f"{p}-Privacy-Hide-Name", "false"),
            (f"{p}-Privacy-Hide-Number", "false"),
        ]
        return out

    def copy(self) -> Profile:
        clone = Profile(**{k: getattr(self, k) for k in self.__dataclass_fields__ if k != "times"})
        clone.times = dict(self.times)
        return clone


def _or(value: str | None, default: str) -> str:
    return default if value is None else value


@dataclass
class Channel:
    """One call leg."""

    uuid: str
    name: str
    direction: str
    profile: Profile
    session_id: int
    hit_dialplan: bool = False
    cs: str = "CS_INIT"
    call_state: str = "DOWN"
    state_number: int = 2
    answer_state: str = "ringing"
    hangup_cause: str | None = None
    call_uuid: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    other: Profile | None = None
    other_type: str = ""
    # runtime relations (not serialised)
    partner: Channel | None = None  # the other loopback leg
    bridged: Channel | None = None
    created_at: float = field(default_factory=time.time)
    answered_at: float | None = None
    bridged_at: float | None = None
    application: str = ""
    application_data: str = ""
    show_state: str = "CS_INIT"
    alive: bool = True
    hanging_up: bool = False
    kind: str = "loopback"  # loopback | agent | null | supervisor
    cc_member_uuid: str | None = None  # set on agent legs still ringing (pre-answer)
    held: bool = False  # put on hold or tapped (eavesdrop) at some point
    unbridged: bool = False
    consult: Channel | None = None  # an attended transfer's consultation leg
    hangup_initiator: bool = False
    # mod_callcenter's hook on a ringing agent leg: told when the leg is hung up from outside
    on_hangup: Callable[[str], None] | None = None
    # mod_callcenter's hook, run when the bridge of this member leg ends
    on_bridge_end: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        if not self.call_uuid:
            self.call_uuid = self.uuid

    def set_state(self, cs: str, call_state: str, number: int, answer_state: str | None = None) -> None:
        self.cs, self.call_state, self.state_number = cs, call_state, number
        if answer_state:
            self.answer_state = answer_state

    def set_var(self, name: str, value: str | None) -> None:
        """Set (or with None, unset) a variable; a re-set value moves to the end, as in FS."""
        self.variables.pop(name, None)
        if value is not None:
            self.variables[name] = value

    def data(self, with_hangup_cause: bool = True) -> Headers:
        """Channel headers for an event about this channel."""
        out: Headers = [
            ("Channel-State", self.cs),
            ("Channel-Call-State", self.call_state),
            ("Channel-State-Number", str(self.state_number)),
            ("Channel-Name", self.name),
            ("Unique-ID", self.uuid),
            ("Call-Direction", self.direction),
            ("Presence-Call-Direction", self.direction),
            ("Channel-HIT-Dialplan", "true" if self.hit_dialplan else "false"),
            ("Channel-Call-UUID", self.call_uuid),
            ("Answer-State", self.answer_state),
        ]
        if with_hangup_cause and self.hangup_cause:
            out.append(("Hangup-Cause", self.hangup_cause))
        out += CODEC_HEADERS
        out += self.profile.headers("Caller")
        if self.other is not None:
            out.append(("Other-Type", self.other_type))
            out += self.other.headers("Other-Leg", with_index=False)
        out += [(f"variable_{k}", v) for k, v in self.variables.items()]
        return out

    def hangup_vars(self, now: float) -> None:
        """The CDR-like variables FreeSWITCH sets when a channel hangs up."""
        cause = self.hangup_cause or "NORMAL_CLEARING"
        self.set_var("hangup_cause", cause)
        self.set_var("hangup_cause_q850", Q850.get(cause, "16"))
        self.set_var("digits_dialed", "none")
        start, answer = self.created_at, self.answered_at
        stamp = _stamp
        self.set_var("start_stamp", stamp(start))
        self.set_var("profile_start_stamp", stamp(self.profile.created / 1e6 or start))
        if answer:
            self.set_var("answer_stamp", stamp(answer))
        if self.bridged_at:
            self.set_var("bridge_stamp", stamp(self.bridged_at))
        self.set_var("end_stamp", stamp(now))
        for name, value in (
            ("start", start),
            ("profile_start", self.profile.created / 1e6 or start),
            ("answer", answer or 0),
            ("bridge", self.bridged_at or 0),
            ("last_hold", 0),
        ):
            self.set_var(f"{name}_epoch", str(int(value)))
            self.set_var(f"{name}_uepoch", str(usec(value) if value else 0))
        self.set_var("hold_accum_seconds", "0")
        self.set_var("hold_accum_usec", "0")
        self.set_var("hold_accum_ms", "0")
        for name in ("resurrect", "progress", "progress_media"):
            self.set_var(f"{name}_epoch", "0")
            self.set_var(f"{name}_uepoch", "0")
        self.set_var("end_epoch", str(int(now)))
        self.set_var("end_uepoch", str(usec(now)))
        app_recorded = self.kind != "agent" or self.application == "att_xfer"
        if self.application and app_recorded:
            self.set_var("last_app", self.application)
        if self.application_data and app_recorded:
            self.set_var("last_arg", self.application_data)
        self.set_var("caller_id", f'"{self.profile.caller_id_name}" <{self.profile.caller_id_number}>')
        total = now - start
        bill = now - answer if answer else 0.0
        wait = (answer - start) if answer else 0.0
        for suffix, factor in (("sec", 1), ("msec", 1000), ("usec", 1_000_000)):
            dur_name = {"sec": "duration", "msec": "mduration", "usec": "uduration"}[suffix]
            self.set_var(dur_name, str(int(total * factor)))
            self.set_var(f"bill{suffix}", str(int(bill * factor)))
            self.set_var(f"progress{suffix}", "0")
            self.set_var(f"answer{suffix}", "0")
            self.set_var(f"wait{suffix}", str(int(wait * factor)))
            self.set_var(f"progress_media{suffix}", "0")
            self.set_var(f"flow_bill{suffix}", str(int(bill * factor)))
        if self.kind == "loopback":
            self.set_var("is_loopback", "1")


def _stamp(value: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
