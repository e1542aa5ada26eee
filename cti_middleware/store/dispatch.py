"""Work-order dispatch: departments (service points), dispatch rules and SLAs.

A new order is handed to the department whose rule matches it best, so an
agent who takes a complaint never has to know who handles complaints in
which district. Matching is by the order's type and the customer's region
(the home region of the number when the customer has none) or a district
named in the address:

* explicit rules (region and/or type -> department) and the coverage a
  department declares (its regions x its types) are both candidates;
* the most specific candidate wins: a district found in the address beats
  a region prefix, a longer region beats a shorter one ("广东省深圳市" over
  "广东省"), a rule naming the type beats one for any type, an explicit
  rule beats declared coverage; the lowest id breaks remaining ties;
* a rule with neither region nor type is the default; without any match
  the order stays ``new`` and unassigned.

Dispatch data lives beside the order (:class:`WorkOrderDispatch`) so the
shared work-order table needs no migration. The SLA gives each type a
response and a resolution time; ``due_at`` is fixed when the order is
created (an appointment is due at the end of its window) and an order is
*overdue* while it is past ``due_at`` and neither resolved nor closed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from peewee import (
    JOIN,
    AutoField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .db import BaseModel, UTCDateTimeField, connected, database, to_epoch, utcnow
from .models import (
    ADDRESS_MAX,
    REGION_MAX,
    SUPERVISING_ROLES,
    WORK_ORDER_TYPES,
    Customer,
    WorkOrder,
)
from .phones import region_of
from .routing import AGENT_NAME, check_pattern
from .validate import DuplicateError, StoreError, text
from .workflow import (
    IllegalTransition,
    create_work_order,
    order_fields,
    transition,
    work_order_to_dict,
)

__all__ = [
    "CLOSED_STATUSES",
    "DEFAULT_SLA",
    "DISPATCH_ACTOR",
    "Department",
    "DispatchRule",
    "SlaPolicy",
    "WorkOrderDispatch",
    "add_department",
    "add_rule",
    "claim_overdue",
    "create_and_dispatch",
    "delete_department",
    "delete_rule",
    "departments_of",
    "dispatch_order",
    "match_department",
    "order_payload",
    "set_sla",
    "sla_table",
    "update_department",
]

DISPATCH_ACTOR = "dispatch"
DEPARTMENT_NAME_MAX = 64
LIST_MAX = 200
CLOSED_STATUSES = ("resolved", "closed")
HOUR = 3600
# (response seconds, resolution seconds); appointment resolution None = window end.
DEFAULT_SLA: dict[str, tuple[int, int | None]] = {
    "complaint": (2 * HOUR, 24 * HOUR),
    "service_request": (8 * HOUR, 48 * HOUR),
    "inquiry": (24 * HOUR, 72 * HOUR),
    "appointment": (24 * HOUR, None),
    "callback": (4 * HOUR, 24 * HOUR),
}
SLA_MAX_SECONDS = 366 * 24 * HOUR


class Department(BaseModel):
    """A service point: who handles which types in which regions."""

    id = AutoField()
    name = CharField(max_length=DEPARTMENT_NAME_MAX, unique=True)
    regions = TextField(default="[]")
    types = TextField(default="[]")
    members = TextField(default="[]")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "department"


class DispatchRule(BaseModel):
    id = AutoField()
    region = CharField(max_length=REGION_MAX, null=True)
    type = CharField(max_length=32, null=True)
    department = ForeignKeyField(Department, backref="rules", on_delete="CASCADE")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "dispatch_rule"


class SlaPolicy(BaseModel):
    id = AutoField()
    type = CharField(max_length=32, unique=True)
    response_seconds = IntegerField()
    resolution_seconds = IntegerField(null=True)

    class Meta:
        table_name = "sla_policy"


class WorkOrderDispatch(BaseModel):
    id = AutoField()
    work_order = ForeignKeyField(WorkOrder, unique=True, on_delete="CASCADE")
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
    region = CharField(max_length=REGION_MAX, null=True)
    respond_by = UTCDateTimeField(null=True)
    due_at = UTCDateTimeField(null=True, index=True)
    overdue_notified_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "work_order_dispatch"


# --- departments and rules ------------------------------------------------------------

def _list(value: object, field: str, check: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise StoreError(f"{field} must be a list")
    if len(value) > LIST_MAX:
        raise StoreError(f"{field} has more than {LIST_MAX} items")
    out: list[str] = []
    for item in value:
        item = check(item)
        if item not in out:
            out.append(item)
    return out


def _region(value: object) -> str:
    return text(value, "region", REGION_MAX, required=True)  # type: ignore[return-value]


def _type(value: object) -> str:
    if value not in WORK_ORDER_TYPES:
        raise StoreError(f"type must be one of {', '.join(WORK_ORDER_TYPES)}")
    return value  # type: ignore[return-value]


def _member(value: object) -> str:
    return check_pattern(value, AGENT_NAME, "member")  # type: ignore[arg-type]


def department_to_dict(dept: Department) -> dict[str, Any]:
    return {
        "id": dept.id,
        "name": dept.name,
        "regions": json.loads(dept.regions),
        "types": json.loads(dept.types),
        "members": json.loads(dept.members),
        "created_at": to_epoch(dept.created_at),
    }


def rule_to_dict(rule: DispatchRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "region": rule.region,
        "type": rule.type,
        "department_id": rule.department_id,
        "created_at": to_epoch(rule.created_at),
    }


@connected
def add_department(
    name: str,
    *,
    regions: list[str] | None = None,
    types: list[str] | None = None,
    members: list[str] | None = None,
) -> Department:
    """Create a department; a taken name raises :class:`DuplicateError`."""
    name = text(name, "name", DEPARTMENT_NAME_MAX, required=True)  # type: ignore[assignment]
    values = {
        "regions": json.dumps(_list(regions, "regions", _region), ensure_ascii=False),
        "types": json.dumps(_list(types, "types", _type)),
        "members": json.dumps(_list(members, "members", _member)),
    }
    with database.atomic():
        if Department.select().where(Department.name == name).exists():
            raise DuplicateError(f"department {name!r} exists")
        return Department.create(name=name, **values)


@connected
def update_department(dept_id: int, **changes: Any) -> Department:
    """Change name, regions, types or members; unknown ids raise LookupError."""
    dept = Department.get_or_none(Department.id == dept_id)
    if dept is None:
        raise LookupError(f"no department {dept_id}")
    checks = {"regions": _region, "types": _type, "members": _member}
    for field, value in changes.items():
        if field == "name":
            name = text(value, "name", DEPARTMENT_NAME_MAX, required=True)
            taken = Department.select().where(
                (Department.name == name) & (Department.id != dept_id)).exists()
            if taken:
                raise DuplicateError(f"department {name!r} exists")
            dept.name = name
        elif field in checks:
            setattr(dept, field, json.dumps(_list(value, field, checks[field]),
                                            ensure_ascii=False))
        else:
            raise StoreError(f"unknown field {field}")
    dept.save()
    return dept


@connected
def delete_department(dept_id: int) -> bool:
    """Remove a department and its rules; its orders keep their history."""
    return bool(Department.delete().where(Department.id == dept_id).execute())


@connected
def add_rule(department: int, *, region: str | None = None, type: str | None = None) -> DispatchRule:
    """Route ``region`` + ``type`` (either may be None = any) to ``department``."""
    region = text(region, "region", REGION_MAX)
    if type is not None:
        _type(type)
    if not Department.select().where(Department.id == department).exists():
        raise StoreError(f"no department {department}")
    same = DispatchRule.select().where(
        (DispatchRule.region.is_null() if region is None else DispatchRule.region == region)
        & (DispatchRule.type.is_null() if type is None else DispatchRule.type == type))
    with database.atomic():
        if same.exists():
            raise DuplicateError("a rule for that region and type exists")
        return DispatchRule.create(region=region, type=type, department=department)


@connected
def delete_rule(rule_id: int) -> bool:
    return bool(DispatchRule.delete().where(DispatchRule.id == rule_id).execute())


@connected
def departments_of(agent: str) -> list[Department]:
    """The departments ``agent`` is a member of."""
    quoted = json.dumps(agent)
    rows = Department.select().where(Department.members.contains(quoted))
    return [d for d in rows if agent in json.loads(d.members)]


def members_of(dept: Department | None) -> list[str]:
    return json.loads(dept.members) if dept is not None else []


# --- matching ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    region: str | None
    type: str | None
    department_id: int
    explicit: bool
    order: int


def _score(cand: _Candidate, order_type: str, region: str | None,
           address: str | None) -> tuple[int, ...] | None:
    if cand.type is not None and cand.type != order_type:
        return None
    place = 0
    if cand.region is not None:
        if address and cand.region in address and not (region or "").startswith(cand.region):
            place = 1000 + len(cand.region)  # a district named in the address
        elif region and region.startswith(cand.region):
            place = len(cand.region)
        else:
            return None
    return (place, cand.type is not None, cand.explicit, -cand.order)


def _candidates() -> list[_Candidate]:
    found = [
        _Candidate(r.region, r.type, r.department_id, True, r.id)
        for r in DispatchRule.select()
    ]
    for dept in Department.select():
        regions = json.loads(dept.regions) or [None]
        types = json.loads(dept.types) or [None]
        if regions == [None] and types == [None]:
            continue  # a department without coverage is reached through rules only
        found.extend(
            _Candidate(region, order_type, dept.id, False, dept.id)
            for region in regions for order_type in types
        )
    return found


@connected
def match_department(order_type: str, region: str | None,
                     address: str | None = None) -> Department | None:
    """The department an order of ``order_type`` from ``region`` goes to (see module doc)."""
    best: tuple[tuple[int, ...], int] | None = None
    for cand in _candidates():
        score = _score(cand, order_type, region, address)
        if score is not None and (best is None or score > best[0]):
            best = (score, cand.department_id)
    return Department.get_or_none(Department.id == best[1]) if best else None


# --- SLA ------------------------------------------------------------------------------

def _seconds(value: object, field: str, *, nullable: bool = False) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= SLA_MAX_SECONDS:
        raise StoreError(f"{field} must be whole seconds between 1 and {SLA_MAX_SECONDS}")
    return value


@connected
def set_sla(order_type: str, response_seconds: int,
            resolution_seconds: int | None) -> dict[str, Any]:
    """Configure one type's SLA (resolution None only for appointments: the window end)."""
    _type(order_type)
    response = _seconds(response_seconds, "response_seconds")
    resolution = _seconds(resolution_seconds, "resolution_seconds",
                          nullable=order_type == "appointment")
    with database.atomic():
        updated = SlaPolicy.update(
            response_seconds=response, resolution_seconds=resolution,
        ).where(SlaPolicy.type == order_type).execute()
        if not updated:
            SlaPolicy.create(type=order_type, response_seconds=response,
                             resolution_seconds=resolution)
    return sla_table()[order_type]


@connected
def sla_table() -> dict[str, dict[str, Any]]:
    """Every type's SLA: the configured row, else the default."""
    table = {t: {"type": t, "response_seconds": r, "resolution_seconds": s}
             for t, (r, s) in DEFAULT_SLA.items()}
    for row in SlaPolicy.select():
        table[row.type] = {"type": row.type, "response_seconds": row.response_seconds,
                           "resolution_seconds": row.resolution_seconds}
    return table


def _deadlines(order: WorkOrder, fields: dict[str, Any],
               sla: dict[str, Any]) -> tuple[datetime, datetime | None]:
    created = order.created_at
    respond_by = created + timedelta(seconds=sla["response_seconds"])
    resolution = sla["resolution_seconds"]
    if order.type == "appointment" and fields.get("window_end") is not None:
        due = datetime.fromtimestamp(fields["window_end"], UTC)
    elif resolution is not None:
        due = created + timedelta(seconds=resolution)
    else:
        due = None
    return respond_by, due


# --- dispatch -------------------------------------------------------------------------

def _order_region(order: WorkOrder, region: str | None) -> tuple[str | None, str | None]:
    """(region, address) to match on: the customer's, else what the caller gave."""
    customer = Customer.get_or_none(Customer.id == order.customer_id) if order.customer_id else None
    found = customer.region if customer is not None else None
    if found is None and customer is not None:
        numbers = [p.number for p in customer.phones]
        found = next((r for r in map(region_of, numbers) if r), None)
    address = order_fields(order.id).get("address") or (customer.address if customer else None)
    return found or text(region, "region", REGION_MAX), text(address, "address", ADDRESS_MAX)


@connected
def dispatch_order(order_id: int, *, region: str | None = None) -> tuple[WorkOrder, Department | None]:
    """Fix the order's SLA deadlines and hand it to its department.

    ``region`` is used only when the customer has none (an unknown caller's
    number region, say). The transition to ``assigned`` is recorded with the
    actor ``dispatch``; without a matching department the order stays new.
    """
    order = WorkOrder.get_by_id(order_id)
    area, address = _order_region(order, region)
    dept = match_department(order.type, area, address)
    respond_by, due = _deadlines(order, order_fields(order_id), sla_table()[order.type])
    WorkOrderDispatch.insert(
        work_order=order_id, department=dept.id if dept else None, region=area,
        respond_by=respond_by, due_at=due,
    ).on_conflict_ignore().execute()
    if dept is not None and order.status == "new":
        try:
            order = transition(order_id, "assigned", DISPATCH_ACTOR,
                               f"department {dept.name}"[:1000])
        except IllegalTransition:
            order = WorkOrder.get_by_id(order_id)  # moved meanwhile: leave it
    return order, dept


def is_overdue(status: str, due_at: datetime | None, now: datetime | None = None) -> bool:
    return (due_at is not None and status not in CLOSED_STATUSES
            and due_at < (now or utcnow()))


def _dispatch_fields(row: WorkOrderDispatch | None, status: str,
                     dept_name: str | None) -> dict[str, Any]:
    if row is None:
        return {"department_id": None, "department": None, "region": None,
                "respond_by": None, "due_at": None, "overdue": False}
    return {
        "department_id": row.department_id,
        "department": dept_name,
        "region": row.region,
        "respond_by": to_epoch(row.respond_by),
        "due_at": to_epoch(row.due_at),
        "overdue": is_overdue(status, row.due_at),
    }


@connected
def order_payload(order: WorkOrder, *, detail: bool = False) -> dict[str, Any]:
    """The work-order payload with its department, deadlines and ``overdue``."""
    row = (WorkOrderDispatch.select(WorkOrderDispatch, Department)
           .join(Department, JOIN.LEFT_OUTER)
           .where(WorkOrderDispatch.work_order == order.id).first())
    name = row.department.name if row is not None and row.department_id else None
    return {**work_order_to_dict(order, detail=detail),
            **_dispatch_fields(row, order.status, name)}


def with_dispatch(query: Any) -> Any:
    """``query`` over WorkOrder joined to its dispatch row (for filters)."""
    return query.join(WorkOrderDispatch, JOIN.LEFT_OUTER,
                      on=(WorkOrderDispatch.work_order == WorkOrder.id))


def overdue_condition(now: datetime | None = None) -> Any:
    """SQL condition for ``overdue`` on a :func:`with_dispatch` query."""
    return ((WorkOrderDispatch.due_at < (now or utcnow()))
            & WorkOrder.status.not_in(CLOSED_STATUSES))


@connected
def claim_overdue(now: datetime | None = None, limit: int = 500) -> list[WorkOrder]:
    """Orders that just became overdue, each returned once across all processes.

    The notified mark is set with a conditional update, so two checkers
    racing on the same row cannot both report it.
    """
    now = now or utcnow()
    rows = (WorkOrderDispatch.select(WorkOrderDispatch, WorkOrder)
            .join(WorkOrder, on=(WorkOrderDispatch.work_order == WorkOrder.id))
            .where(overdue_condition(now) & WorkOrderDispatch.overdue_notified_at.is_null())
            .order_by(WorkOrderDispatch.due_at).limit(limit))
    claimed = []
    for row in rows:
        won = (WorkOrderDispatch.update(overdue_notified_at=now)
               .where((WorkOrderDispatch.id == row.id)
                      & WorkOrderDispatch.overdue_notified_at.is_null()).execute())
        if won:
            claimed.append(row.work_order)
    return claimed


@connected
def department_of(order_id: int) -> Department | None:
    row = WorkOrderDispatch.get_or_none(WorkOrderDispatch.work_order == order_id)
    if row is None or row.department_id is None:
        return None
    return Department.get_or_none(Department.id == row.department_id)


@connected
def may_handle(agent: str, role: str, order: WorkOrder) -> bool:
    """Supervisors handle any order; agents their own and their department's."""
    if role in SUPERVISING_ROLES or order.agent == agent:
        return True
    return agent in members_of(department_of(order.id))


@connected
def create_and_dispatch(
    actor: str,
    order_type: str,
    summary: str,
    *,
    region: str | None = None,
    **options: Any,
) -> tuple[WorkOrder, Department | None]:
    """Create an order (see :func:`workflow.create_work_order`) and dispatch it.

    The one creation path for REST and the desktop, so every order gets its
    deadlines and department the same way.
    """
    with database.atomic():
        order = create_work_order(actor, order_type, summary, **options)
        return dispatch_order(order.id, region=region)
