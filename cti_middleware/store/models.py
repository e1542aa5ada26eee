"""Persisted tables: customers and their numbers, work orders, calls,
agent accounts and the audit trail.

Length limits live here as constants so the service functions can reject
oversized input with a clear error on every back-end (SQLite would
otherwise store anything).
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .db import BaseModel, UTCDateTimeField, utcnow

__all__ = [
    "CORE_MODELS",
    "AgentAccount",
    "AuditLog",
    "BaseModel",
    "CallRecord",
    "Customer",
    "CustomerPhone",
    "WorkOrder",
]

NAME_MAX = 128
ADDRESS_MAX = 255
REGION_MAX = 64
NOTES_MAX = 4000
LANGUAGE_MAX = 16
AGENT_MAX = 129  # "<64>@<64>"
NUMBER_MAX = 32
SUMMARY_MAX = 255
UUID_MAX = 64
QUEUE_MAX = 129
CAUSE_MAX = 64
PATH_MAX = 1024

WORK_ORDER_TYPES = ("inquiry", "complaint", "service_request", "appointment", "callback")
WORK_ORDER_STATUSES = ("new", "assigned", "in_progress", "escalated", "resolved", "closed")
AGENT_ROLES = ("agent", "supervisor", "admin")
# The roles that oversee other agents: supervisor actions, every department, any recording.
SUPERVISING_ROLES = ("supervisor", "admin")


class Customer(BaseModel):
    id = AutoField()
    name = CharField(max_length=NAME_MAX)
    address = CharField(max_length=ADDRESS_MAX, null=True)
    region = CharField(max_length=REGION_MAX, null=True)
    vip = BooleanField(default=False)
    vip_level = IntegerField(default=0)
    notes = TextField(null=True)
    preferred_language = CharField(max_length=LANGUAGE_MAX, null=True)
    last_agent = CharField(max_length=AGENT_MAX, null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "customer"


class CustomerPhone(BaseModel):
    """One number of a customer, stored normalised (see ``phones``) so the
    screen-pop lookup is a single equality match on a unique index."""

    id = AutoField()
    customer = ForeignKeyField(Customer, backref="phones", on_delete="CASCADE")
    number = CharField(max_length=NUMBER_MAX, unique=True)

    class Meta:
        table_name = "customer_phone"


class WorkOrder(BaseModel):
    id = AutoField()
    type = CharField(max_length=32, choices=[(t, t) for t in WORK_ORDER_TYPES])
    status = CharField(
        max_length=32, default="new", choices=[(s, s) for s in WORK_ORDER_STATUSES]
    )
    summary = CharField(max_length=SUMMARY_MAX)
    details = TextField(null=True)
    customer = ForeignKeyField(
        Customer, backref="work_orders", null=True, on_delete="SET NULL"
    )
    agent = CharField(max_length=AGENT_MAX, null=True)
    call_uuid = CharField(max_length=UUID_MAX, null=True, index=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "work_order"
        # The profile reads "newest orders of one customer".
        indexes = ((("customer", "created_at"), False),)


class CallRecord(BaseModel):
    id = AutoField()
    call_uuid = CharField(max_length=UUID_MAX, unique=True)
    caller_number = CharField(max_length=NUMBER_MAX, null=True, index=True)
    caller_name = CharField(max_length=NAME_MAX, null=True)
    customer = ForeignKeyField(Customer, backref="calls", null=True, on_delete="SET NULL")
    queue = CharField(max_length=QUEUE_MAX, null=True)
    agent = CharField(max_length=AGENT_MAX, null=True, index=True)
    joined_at = UTCDateTimeField(null=True, index=True)
    answered_at = UTCDateTimeField(null=True)
    ended_at = UTCDateTimeField(null=True)
    hangup_cause = CharField(max_length=CAUSE_MAX, null=True)
    cc_cause = CharField(max_length=CAUSE_MAX, null=True)
    abandoned = BooleanField(default=False)
    recording_path = CharField(max_length=PATH_MAX, null=True)
    satisfaction = IntegerField(null=True)

    class Meta:
        table_name = "call_record"
        # The profile reads "newest calls of one customer".
        indexes = ((("customer", "joined_at"), False),)


class AgentAccount(BaseModel):
    id = AutoField()
    agent_id = CharField(max_length=AGENT_MAX, unique=True)
    display_name = CharField(max_length=NAME_MAX, null=True)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16, default="agent", choices=[(r, r) for r in AGENT_ROLES])
    active = BooleanField(default=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "agent_account"


class AuditLog(BaseModel):
    id = AutoField()
    actor = CharField(max_length=AGENT_MAX)
    action = CharField(max_length=64)
    target = CharField(max_length=255, null=True)
    arguments = TextField(default="{}")
    result = CharField(max_length=255)
    created_at = UTCDateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "audit_log"


CORE_MODELS = [Customer, CustomerPhone, WorkOrder, CallRecord, AgentAccount, AuditLog]
