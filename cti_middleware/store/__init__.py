"""Persistence: customers, call history, agent accounts and audit trail.

Import from here in application code; the pure state model never imports
this package.
"""

from .agents import (
    add_agent,
    authenticate,
    get_agent,
    list_agents,
    set_active,
    set_password,
)
from .audit import audit, recent_audit
from .calls import call_to_dict, get_call, recent_calls, record_call
from .customers import (
    add_customer,
    add_phone,
    customer_profile,
    find_by_number,
    screen_pop_customer,
)
from .db import (
    BaseModel,
    close_database,
    connection,
    create_schema,
    database,
    open_database,
)
from .demo import seed_demo
from .phones import normalize_number, region_of
from .validate import DuplicateError, StoreError
from .workorders import add_work_order, set_work_order_status

__all__ = [
    "BaseModel",
    "DuplicateError",
    "StoreError",
    "add_agent",
    "add_customer",
    "add_phone",
    "add_work_order",
    "audit",
    "authenticate",
    "call_to_dict",
    "close_database",
    "connection",
    "create_schema",
    "customer_profile",
    "database",
    "find_by_number",
    "get_agent",
    "get_call",
    "list_agents",
    "normalize_number",
    "open_database",
    "recent_audit",
    "recent_calls",
    "record_call",
    "region_of",
    "screen_pop_customer",
    "seed_demo",
    "set_active",
    "set_password",
    "set_work_order_status",
]
