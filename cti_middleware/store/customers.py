"""Customers, their numbers, and the screen-pop lookup.

:func:`screen_pop_customer` runs for every offered call, so it is built
from indexed queries only: one unique-index probe on the normalised number,
then three small reads for the profile (numbers, newest orders, newest
calls) each served by a (customer, time) index.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from peewee import IntegrityError

from .db import connected, connection, database, to_epoch, utcnow
from .models import (
    ADDRESS_MAX,
    LANGUAGE_MAX,
    NAME_MAX,
    NOTES_MAX,
    CallRecord,
    Customer,
    CustomerPhone,
    WorkOrder,
)
from .phones import normalize_number, region_of
from .validate import DuplicateError, StoreError, text

PROFILE_ITEMS = 5


def _phone_keys(phones: Iterable[str] | str) -> list[str]:
    if isinstance(phones, str):
        phones = [phones]
    keys: list[str] = []
    for raw in phones:
        try:
            key = normalize_number(raw)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        if key in keys:
            raise DuplicateError(f"number {key} is listed twice")
        keys.append(key)
    if not keys:
        raise StoreError("a customer needs at least one phone number")
    return keys


def _check_free(keys: list[str]) -> None:
    taken = CustomerPhone.select(CustomerPhone.number, CustomerPhone.customer).where(
        CustomerPhone.number.in_(keys)
    )
    for row in taken:
        raise DuplicateError(
            f"number {row.number} already belongs to customer {row.customer_id}"
        )


@connected
def add_customer(
    name: str,
    phones: Iterable[str] | str,
    address: str | None = None,
    vip: bool = False,
    notes: str | None = None,
    *,
    vip_level: int | None = None,
    region: str | None = None,
    preferred_language: str | None = None,
) -> Customer:
    """Create a customer with one or more numbers.

    Numbers are normalised; one already owned by any customer raises
    :class:`DuplicateError`. ``region`` defaults to the first number's home
    region; ``vip_level`` defaults to 1 for a VIP and 0 otherwise.
    """
    fields = {
        "name": text(name, "name", NAME_MAX, required=True),
        "address": text(address, "address", ADDRESS_MAX),
        "notes": text(notes, "notes", NOTES_MAX),
        "preferred_language": text(preferred_language, "preferred_language", LANGUAGE_MAX),
        "vip": bool(vip),
        "vip_level": int(vip_level) if vip_level is not None else int(bool(vip)),
    }
    keys = _phone_keys(phones)
    fields["region"] = text(region, "region", 64) or region_of(keys[0])
    try:
        with database.atomic():
            _check_free(keys)
            customer = Customer.create(**fields)
            CustomerPhone.insert_many(
                [{"customer": customer.id, "number": key} for key in keys]
            ).execute()
    except IntegrityError:
        # Lost a race with a concurrent insert of the same number.
        raise DuplicateError("number already belongs to another customer") from None
    return customer


@connected
def add_phone(customer: Customer | int, raw: str) -> str:
    """Attach another number to an existing customer; returns its key."""
    (key,) = _phone_keys([raw])
    try:
        with database.atomic():
            _check_free([key])
            CustomerPhone.create(customer=customer, number=key)
    except IntegrityError:
        raise DuplicateError(f"number {key} already belongs to another customer") from None
    return key


@connected
def find_by_number(raw: str) -> Customer | None:
    """The customer owning ``raw`` (any format), via one indexed query.

    Raises ``ValueError`` if ``raw`` is not a phone number at all.
    """
    return _find(normalize_number(raw))


def _find(key: str) -> Customer | None:
    return (
        Customer.select()
        .join(CustomerPhone)
        .where(CustomerPhone.number == key)
        .first()
    )


def _work_orders(customer_id: int) -> list[dict[str, Any]]:
    rows = (
        WorkOrder.select(
            WorkOrder.id, WorkOrder.type, WorkOrder.status, WorkOrder.summary,
            WorkOrder.created_at,
        )
        .where(WorkOrder.customer == customer_id)
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        .limit(PROFILE_ITEMS)
    )
    return [
        {
            "id": row.id,
            "type": row.type,
            "status": row.status,
            "summary": row.summary,
            "created_at": to_epoch(row.created_at),
        }
        for row in rows
    ]


def _calls(customer_id: int) -> list[dict[str, Any]]:
    rows = (
        CallRecord.select(
            CallRecord.call_uuid, CallRecord.queue, CallRecord.agent,
            CallRecord.joined_at, CallRecord.answered_at, CallRecord.ended_at,
            CallRecord.abandoned,
        )
        .where(CallRecord.customer == customer_id)
        .order_by(CallRecord.joined_at.desc(nulls="LAST"), CallRecord.id.desc())
        .limit(PROFILE_ITEMS)
    )
    return [
        {
            "call_uuid": row.call_uuid,
            "queue": row.queue,
            "agent": row.agent,
            "joined_at": to_epoch(row.joined_at),
            "answered_at": to_epoch(row.answered_at),
            "ended_at": to_epoch(row.ended_at),
            "abandoned": bool(row.abandoned),
        }
        for row in rows
    ]


@connected
def phones_of(customer_id: int) -> list[str]:
    """A customer's normalised numbers, in the order they were added."""
    query = (
        CustomerPhone.select(CustomerPhone.number)
        .where(CustomerPhone.customer == customer_id)
        .order_by(CustomerPhone.id)
    )
    return [row.number for row in query]


def customer_profile(customer: Customer) -> dict[str, Any]:
    """The ``customer`` object of the ``screen.pop`` payload.

    Up to five newest work orders and five newest calls, newest first,
    times as epoch seconds.
    """
    return {
        "id": customer.id,
        "name": customer.name,
        "address": customer.address,
        "phones": phones_of(customer.id),
        "vip": bool(customer.vip),
        "notes": customer.notes,
        "work_orders": _work_orders(customer.id),
        "calls": _calls(customer.id),
    }


# The screen-pop reads as plain SQL: at a hundred offered calls a second, building
# and compiling Peewee queries and model objects cost more than the indexed probes
# themselves.  Each is one statement on an index; the placeholder is the driver's.
_POP_SQL = {
    "find": "SELECT c.id, c.name, c.address, c.vip, c.notes FROM customer_phone p "
            "JOIN customer c ON c.id = p.customer_id WHERE p.number = {p} LIMIT 1",
    "phones": "SELECT number FROM customer_phone WHERE customer_id = {p} ORDER BY id",
    "orders": "SELECT id, type, status, summary, created_at FROM work_order "
              "WHERE customer_id = {p} ORDER BY created_at DESC, id DESC LIMIT "
              f"{PROFILE_ITEMS}",
    "calls": "SELECT call_uuid, queue, agent, joined_at, answered_at, ended_at, abandoned "
             "FROM call_record WHERE customer_id = {p} "
             "ORDER BY joined_at IS NULL, joined_at DESC, id DESC LIMIT "
             f"{PROFILE_ITEMS}",
}
_sql_for: dict[str, dict[str, str]] = {}
# PostgreSQL connections on which the statements are PREPAREd: planned once per
# connection, not once per call (the plan is the same for every number).
_prepared: weakref.WeakSet = weakref.WeakSet()


def _pop_sql() -> dict[str, str]:
    mark = database.param
    found = _sql_for.get(mark)
    if found is None:
        found = _sql_for[mark] = {k: v.format(p=mark) for k, v in _POP_SQL.items()}
    return found


def _rows(name: str, value: object) -> list[tuple]:
    if database.param == "%s":
        conn = database.connection()
        if conn not in _prepared:
            with conn.cursor() as cur:
                for key, text in _POP_SQL.items():
                    cur.execute(f"PREPARE cti_pop_{key} AS {text.format(p='$1')}")
            _prepared.add(conn)
        return database.execute_sql(f"EXECUTE cti_pop_{name}(%s)", (value,)).fetchall()
    return database.execute_sql(_pop_sql()[name], (value,)).fetchall()


def _epoch(raw: object) -> float | None:
    """A timestamp column as the driver returns it (datetime, or text on SQLite)."""
    return to_epoch(_TIME.python_value(raw)) if raw is not None else None


_TIME = CallRecord.joined_at


def customer_id_by_number(raw: str) -> int | None:
    """The id of the customer owning ``raw`` (any format): one indexed probe, no model built.

    Raises ``ValueError`` if ``raw`` is not a phone number at all.
    """
    key = normalize_number(raw)
    with connection():
        rows = _rows("find", key)
    return rows[0][0] if rows else None


@connected
def screen_pop_customer(raw_number: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """(customer profile or None, home region or None) for a caller number.

    Never raises on odd caller IDs ("anonymous", empty): such callers are
    simply unknown.  Same result as :func:`customer_profile` on the found
    customer, read with four plain indexed statements.
    """
    try:
        key = normalize_number(raw_number or "")
    except ValueError:
        return None, None
    rows = _rows("find", key)
    if not rows:
        return None, region_of(key)
    cid, name, address, vip, notes = rows[0]
    profile = {
        "id": cid,
        "name": name,
        "address": address,
        "phones": [r[0] for r in _rows("phones", cid)],
        "vip": bool(vip),
        "notes": notes,
        "work_orders": [
            {"id": r[0], "type": r[1], "status": r[2], "summary": r[3],
             "created_at": _epoch(r[4])}
            for r in _rows("orders", cid)
        ],
        "calls": [
            {"call_uuid": r[0], "queue": r[1], "agent": r[2], "joined_at": _epoch(r[3]),
             "answered_at": _epoch(r[4]), "ended_at": _epoch(r[5]), "abandoned": bool(r[6])}
            for r in _rows("calls", cid)
        ],
    }
    return profile, region_of(key)


@connected
def touch_last_agent(customer_id: int, agent: str) -> None:
    """Remember who last served the customer (for sticky routing)."""
    Customer.update(last_agent=agent, updated_at=utcnow()).where(
        Customer.id == customer_id
    ).execute()
