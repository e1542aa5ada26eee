"""Call routing data: mod_callcenter queues, agents and tiers, the caller
blacklist, business-hours calendars and per-number entry points.

FreeSWITCH is made to match these tables (see ``cti_middleware.dialplan``):
the dialplan is rendered from them on every call and mod_callcenter is
reconciled to them, so this module is the single place the routing is
edited. Names that end up inside FreeSWITCH commands or dialplan data are
checked against strict patterns on write, so a bad row can never be stored
in the first place.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateField,
    ForeignKeyField,
    IntegerField,
)

from .db import BaseModel, UTCDateTimeField, connected, utcnow
from .phones import normalize_number
from .validate import StoreError

__all__ = [
    "ROUTING_MODELS",
    "AgentConfig",
    "BlacklistEntry",
    "BusinessHours",
    "EntryPoint",
    "Holiday",
    "Queue",
    "Tier",
    "check_pattern",
    "entry_point_for",
    "is_blacklisted",
    "is_open",
    "provisioning_snapshot",
]

# Patterns for every value that becomes part of an ESL command or dialplan
# data. They exclude whitespace, quotes, "|" (the separator of
# callcenter_config list output) and "$"/"{" (variable expansion).
QUEUE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}@[A-Za-z0-9_.-]{1,64}")
AGENT_NAME = QUEUE_NAME
DNIS = re.compile(r"[A-Za-z0-9+*#_.-]{1,32}")
CALENDAR = re.compile(r"[A-Za-z0-9_.-]{1,64}")
SOUND = re.compile(r"[A-Za-z0-9_./:;=%(),!+-]{1,255}")
PHONE_USER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# Agent contacts are dial strings written by administrators; variables
# such as ${sofia_contact(...)} are legitimate there, but whitespace,
# quotes, backslashes and "|" never are.
CONTACT = re.compile(r"[A-Za-z0-9_@.:;=\[\]{}/,+%*#$()!~^-]{1,512}")

STRATEGIES = (
    "ring-all",
    "longest-idle-agent",
    "round-robin",
    "top-down",
    "agent-with-least-talk-time",
    "agent-with-fewest-calls",
    "sequentially-by-agent-order",
    "random",
    "ring-progressively",
)
AGENT_TYPES = ("callback", "uuid-standby")
TIMEOUT_ACTIONS = ("voicemail", "callback", "hangup")
BLACKLIST_MODES = ("announce", "reject")
LANGUAGES = ("zh", "yue", "en")
DEFAULT_MOH = "local_stream://moh"


def check_pattern(value: str, pattern: re.Pattern[str], field: str) -> str:
    """Return ``value`` if it fully matches ``pattern``, else raise StoreError."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise StoreError(f"invalid {field}: {value!r}")
    return value


def _check_choice(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise StoreError(f"{field} must be one of {', '.join(allowed)}")
    return value


class _Checked:
    """Runs :meth:`validate` before every save, whichever code path saves."""

    def validate(self) -> None:  # pragma: no cover - overridden
        pass

    def save(self, *args, **kwargs):
        self.validate()
        return super().save(*args, **kwargs)


class Queue(_Checked, BaseModel):
    """One mod_callcenter queue; field names follow its queue parameters."""

    id = AutoField()
    name = CharField(max_length=129, unique=True)
    strategy = CharField(max_length=32, default="longest-idle-agent")
    moh_sound = CharField(max_length=255, default=DEFAULT_MOH)
    announce_sound = CharField(max_length=255, null=True)
    announce_frequency = IntegerField(default=0)
    time_base_score = CharField(max_length=8, default="system")
    max_wait_time = IntegerField(default=0)
    max_wait_time_with_no_agent = IntegerField(default=0)
    max_wait_time_with_no_agent_time_reached = IntegerField(default=5)
    tier_rules_apply = BooleanField(default=False)
    tier_rule_wait_second = IntegerField(default=300)
    tier_rule_wait_multiply_level = BooleanField(default=True)
    tier_rule_no_agent_no_wait = BooleanField(default=False)
    discard_abandoned_after = IntegerField(default=60)
    abandoned_resume_allowed = BooleanField(default=False)
    record_calls = BooleanField(default=True)
    # What the caller is offered when mod_callcenter gives up on the wait.
    timeout_action = CharField(max_length=16, default="voicemail")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "cc_queue"

    def validate(self) -> None:
        check_pattern(self.name, QUEUE_NAME, "queue name")
        _check_choice(self.strategy, STRATEGIES, "strategy")
        _check_choice(self.time_base_score, ("system", "queue"), "time_base_score")
        _check_choice(self.timeout_action, TIMEOUT_ACTIONS, "timeout_action")
        check_pattern(self.moh_sound, SOUND, "moh_sound")
        if self.announce_sound:
            check_pattern(self.announce_sound, SOUND, "announce_sound")
        for field in (
            "announce_frequency",
            "max_wait_time",
            "max_wait_time_with_no_agent",
            "max_wait_time_with_no_agent_time_reached",
            "tier_rule_wait_second",
            "discard_abandoned_after",
        ):
            value = getattr(self, field)
            if not isinstance(value, int) or not 0 <= value <= 86400:
                raise StoreError(f"{field} must be 0..86400")

    @property
    def domain(self) -> str:
        return self.name.split("@", 1)[1]


class AgentConfig(_Checked, BaseModel):
    """One mod_callcenter agent and, optionally, its SIP phone account."""

    id = AutoField()
    agent_id = CharField(max_length=129, unique=True)
    name = CharField(max_length=128, null=True)
    # Number spoken to the caller when the agent answers; the agent id's
    # user part when empty.
    employee_no = CharField(max_length=16, null=True)
    type = CharField(max_length=16, default="callback")
    contact = CharField(max_length=512)
    max_no_answer = IntegerField(default=3)
    wrap_up_time = IntegerField(default=10)
    reject_delay_time = IntegerField(default=10)
    busy_delay_time = IntegerField(default=60)
    no_answer_delay_time = IntegerField(default=60)
    # Directory user for the agent's phone; its digest secret is stored as
    # the A1 hash (md5 of user:domain:password), never in clear.
    phone_user = CharField(max_length=64, null=True, unique=True)
    phone_a1_hash = CharField(max_length=32, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "cc_agent"

    def validate(self) -> None:
        check_pattern(self.agent_id, AGENT_NAME, "agent id")
        _check_choice(self.type, AGENT_TYPES, "agent type")
        check_pattern(self.contact, CONTACT, "contact")
        if self.employee_no:
            check_pattern(self.employee_no, re.compile(r"[0-9]{1,16}"), "employee number")
        if self.phone_user:
            check_pattern(self.phone_user, PHONE_USER, "phone user")
        if self.phone_a1_hash and not re.fullmatch(r"[0-9a-f]{32}", self.phone_a1_hash):
            raise StoreError("phone_a1_hash must be 32 lowercase hex digits")
        for field in (
            "max_no_answer",
            "wrap_up_time",
            "reject_delay_time",
            "busy_delay_time",
            "no_answer_delay_time",
        ):
            value = getattr(self, field)
            if not isinstance(value, int) or not 0 <= value <= 86400:
                raise StoreError(f"{field} must be 0..86400")

    @property
    def domain(self) -> str:
        return self.agent_id.split("@", 1)[1]

    @property
    def spoken_number(self) -> str:
        """Digits announced to the caller ("工号"): employee_no or the user part."""
        if self.employee_no:
            return self.employee_no
        user = self.agent_id.split("@", 1)[0]
        return user if user.isdigit() else ""


class Tier(_Checked, BaseModel):
    id = AutoField()
    agent = ForeignKeyField(AgentConfig, backref="tiers", on_delete="CASCADE")
    queue = ForeignKeyField(Queue, backref="tiers", on_delete="CASCADE")
    level = IntegerField(default=1)
    position = IntegerField(default=1)

    class Meta:
        table_name = "cc_tier"
        indexes = ((("agent", "queue"), True),)

    def validate(self) -> None:
        for field in ("level", "position"):
            value = getattr(self, field)
            if not isinstance(value, int) or not 0 <= value <= 1000:
                raise StoreError(f"{field} must be 0..1000")


class BlacklistEntry(_Checked, BaseModel):
    id = AutoField()
    number = CharField(max_length=32, unique=True)
    reason = CharField(max_length=255, null=True)
    added_by = CharField(max_length=129, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "blacklist"

    def validate(self) -> None:
        try:
            self.number = normalize_number(self.number)
        except ValueError as exc:
            raise StoreError(str(exc)) from None


class BusinessHours(_Checked, BaseModel):
    """Opening hours of a calendar for one weekday (0 = Monday)."""

    id = AutoField()
    calendar = CharField(max_length=64, index=True)
    weekday = IntegerField()
    opens = CharField(max_length=5)  # "HH:MM"
    closes = CharField(max_length=5)  # "HH:MM", exclusive; "24:00" allowed

    class Meta:
        table_name = "business_hours"

    def validate(self) -> None:
        check_pattern(self.calendar, CALENDAR, "calendar")
        if not 0 <= self.weekday <= 6:
            raise StoreError("weekday must be 0 (Monday) .. 6 (Sunday)")
        if _minutes(self.opens) >= _minutes(self.closes):
            raise StoreError("opens must be before closes")


class Holiday(_Checked, BaseModel):
    """A date that overrides the weekly hours: closed all day when
    ``opens``/``closes`` are empty, else open those hours (a working
    weekend day, shortened hours before a festival)."""

    id = AutoField()
    calendar = CharField(max_length=64)
    day = DateField()
    name = CharField(max_length=64, null=True)
    opens = CharField(max_length=5, null=True)
    closes = CharField(max_length=5, null=True)

    class Meta:
        table_name = "holiday"
        indexes = ((("calendar", "day"), True),)

    def validate(self) -> None:
        check_pattern(self.calendar, CALENDAR, "calendar")
        if bool(self.opens) != bool(self.closes):
            raise StoreError("give both opens and closes, or neither")
        if self.opens and _minutes(self.opens) >= _minutes(self.closes):
            raise StoreError("opens must be before closes")


class EntryPoint(_Checked, BaseModel):
    """What a dialled number (DNIS) leads to."""

    id = AutoField()
    dnis = CharField(max_length=32, unique=True)
    name = CharField(max_length=64, null=True)
    queue = ForeignKeyField(Queue, backref="entry_points", on_delete="CASCADE")
    vip_queue = ForeignKeyField(Queue, null=True, on_delete="SET NULL")
    vip_base_score = IntegerField(default=300)
    calendar = CharField(max_length=64, null=True)  # None: always open
    timezone = CharField(max_length=64, default="Asia/Shanghai")
    language = CharField(max_length=8, default="zh")
    language_menu = BooleanField(default=True)
    main_menu = BooleanField(default=True)
    menu_tries = IntegerField(default=3)
    menu_timeout_ms = IntegerField(default=5000)
    blacklist_mode = CharField(max_length=16, default="announce")
    sticky_agent = BooleanField(default=True)
    sticky_timeout = IntegerField(default=15)
    survey = BooleanField(default=True)
    voicemail_box = CharField(max_length=64, null=True)
    # Number shown to customers when agents call back about this line.
    caller_id_number = CharField(max_length=32, null=True)

    class Meta:
        table_name = "entry_point"

    def validate(self) -> None:
        check_pattern(self.dnis, DNIS, "dnis")
        _check_choice(self.language, LANGUAGES, "language")
        _check_choice(self.blacklist_mode, BLACKLIST_MODES, "blacklist_mode")
        if self.calendar:
            check_pattern(self.calendar, CALENDAR, "calendar")
        if self.voicemail_box:
            check_pattern(self.voicemail_box, PHONE_USER, "voicemail box")
        if self.caller_id_number:
            check_pattern(self.caller_id_number, DNIS, "caller id number")
        try:
            ZoneInfo(self.timezone)
        except (ValueError, KeyError, OSError):
            raise StoreError(f"unknown timezone {self.timezone!r}") from None
        if not 1 <= self.menu_tries <= 9:
            raise StoreError("menu_tries must be 1..9")
        if not 1000 <= self.menu_timeout_ms <= 60000:
            raise StoreError("menu_timeout_ms must be 1000..60000")
        if not 0 <= self.sticky_timeout <= 120:
            raise StoreError("sticky_timeout must be 0..120")
        if not 0 <= self.vip_base_score <= 86400:
            raise StoreError("vip_base_score must be 0..86400")


ROUTING_MODELS = [Queue, AgentConfig, Tier, BlacklistEntry, BusinessHours, Holiday, EntryPoint]


def _minutes(hhmm: str | None) -> int:
    if not isinstance(hhmm, str) or not re.fullmatch(r"\d{2}:\d{2}", hhmm):
        raise StoreError(f"time must be HH:MM, not {hhmm!r}")
    hours, minutes = int(hhmm[:2]), int(hhmm[3:])
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise StoreError(f"time out of range: {hhmm!r}")
    return hours * 60 + minutes


def _within(opens: str, closes: str, moment: time) -> bool:
    now = moment.hour * 60 + moment.minute
    return _minutes(opens) <= now < _minutes(closes)


@connected
def is_blacklisted(raw_number: str | None, now: datetime | None = None) -> BlacklistEntry | None:
    """The live blacklist entry for a caller number, or None.

    Numbers that cannot be normalised (anonymous, garbage) are never
    blacklisted here; the dialplan treats them like any unknown caller.
    """
    if not raw_number:
        return None
    try:
        key = normalize_number(raw_number)
    except ValueError:
        return None
    entry = BlacklistEntry.get_or_none(BlacklistEntry.number == key)
    if entry is None:
        return None
    if entry.expires_at is not None and entry.expires_at <= (now or utcnow()):
        return None
    return entry


@connected
def is_open(calendar: str | None, when: datetime, tz: str = "Asia/Shanghai") -> bool:
    """Whether ``calendar`` is open at ``when`` (aware datetime).

    A holiday row for the local date wins over the weekday's hours; no
    calendar means always open, a calendar with no hours that day is closed.
    """
    if not calendar:
        return True
    local = when.astimezone(ZoneInfo(tz))
    holiday = Holiday.get_or_none(
        (Holiday.calendar == calendar) & (Holiday.day == local.date())
    )
    if holiday is not None:
        if not holiday.opens:
            return False
        return _within(holiday.opens, holiday.closes, local.time())
    rows = BusinessHours.select().where(
        (BusinessHours.calendar == calendar) & (BusinessHours.weekday == local.weekday())
    )
    return any(_within(row.opens, row.closes, local.time()) for row in rows)


@connected
def entry_point_for(dnis: str | None) -> EntryPoint | None:
    """The entry point of a dialled number, with its queues loaded."""
    if not dnis or not DNIS.fullmatch(dnis):
        return None
    return EntryPoint.get_or_none(EntryPoint.dnis == dnis)


@connected
def agent_config(agent_id: str) -> AgentConfig | None:
    return AgentConfig.get_or_none(AgentConfig.agent_id == agent_id)


@connected
def agent_by_phone_user(user: str) -> AgentConfig | None:
    if not user or not PHONE_USER.fullmatch(user):
        return None
    return AgentConfig.get_or_none(AgentConfig.phone_user == user)


@connected
def provisioning_snapshot() -> tuple[list[Queue], list[AgentConfig], list[Tier]]:
    """Every queue, agent and tier, ordered by name, as mod_callcenter needs them."""
    queues = list(Queue.select().order_by(Queue.name))
    agents = list(AgentConfig.select().order_by(AgentConfig.agent_id))
    tiers = list(
        Tier.select(Tier, Queue, AgentConfig)
        .join(Queue)
        .switch(Tier)
        .join(AgentConfig)
        .order_by(Queue.name, AgentConfig.agent_id)
    )
    return queues, agents, tiers

