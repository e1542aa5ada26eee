"""Editing the routing tables, shared by the REST API and the CLI.

Both front ends hand over plain values (queue and agent referenced by name,
dates as ISO text, a phone password in clear) and get back rows or one of
three errors: :class:`NotFound`, ``DuplicateError`` or ``StoreError``. The
rules live here once so the two cannot drift apart; the models themselves
still validate every save.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from peewee import (
    BooleanField,
    CharField,
    DateField,
    ForeignKeyField,
    IntegerField,
    Model,
)

from .store.db import database, to_epoch
from .store.routing import (
    AgentConfig,
    EntryPoint,
    Holiday,
    Queue,
    Tier,
)
from .store.validate import DuplicateError, StoreError

# What mod_callcenter is made to match; edits to these trigger a reconcile.
SWITCH_MODELS = (Queue, AgentConfig, Tier)
# Columns never accepted from or shown to clients.
HIDDEN = {"id", "created_at", "phone_a1_hash"}
# Foreign keys are given by their natural key, not the row id.
NATURAL_KEY = {Queue: "name", AgentConfig: "agent_id"}
UNIQUE_LABEL = {
    Queue: "a queue with this name",
    AgentConfig: "an agent with this id or phone user",
    Tier: "a tier for this agent in this queue",
    Holiday: "a holiday on this day in this calendar",
    EntryPoint: "an entry point for this number",
}


class NotFound(LookupError):
    """A row, or a queue/agent named in the input, does not exist."""


def editable_fields(model: type[Model]) -> dict[str, Any]:
    """The model's columns a client may set, by name (write-only extras included)."""
    fields = {f.name: f for f in model._meta.sorted_fields if f.name not in HIDDEN}
    if model is AgentConfig:
        fields["phone_password"] = None
    return fields


def required_fields(model: type[Model]) -> list[str]:
    """Columns that must be given on create: not nullable and without a default."""
    return [name for name, f in editable_fields(model).items()
            if f is not None and not f.null and f.default is None]


def _lookup(model: type[Model], key: object) -> Model:
    column = getattr(model, NATURAL_KEY[model])
    row = model.get_or_none(column == key) if isinstance(key, str) else None
    if row is None:
        raise NotFound(f"no {model.__name__.lower().replace('config', '')} {key!r}")
    return row


def find(model: type[Model], natural_key: str) -> Model:
    """A queue by name or an agent config by agent id."""
    return _lookup(model, natural_key)


def get(model: type[Model], row_id: int) -> Model:
    row = model.get_or_none(model.id == row_id)
    if row is None:
        raise NotFound(f"no {model._meta.table_name} {row_id}")
    return row


def _day(value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise StoreError(f"day must be YYYY-MM-DD, not {value!r}") from None


def assign(row: Model, data: Mapping[str, Any]) -> Model:
    """Copy ``data`` onto ``row``, resolving references; nothing is saved."""
    fields = editable_fields(type(row))
    for name, value in data.items():
        if name not in fields:
            raise StoreError(f"unknown field {name}")
        field = fields[name]
        if name == "phone_password":
            _set_password(row, value)
        elif isinstance(field, ForeignKeyField):
            if value is None and field.null:
                setattr(row, name, None)
            else:
                setattr(row, name, _lookup(field.rel_model, value))
        elif isinstance(field, DateField):
            setattr(row, name, _day(value))
        elif value is None and not field.null:
            raise StoreError(f"{name} must not be empty")
        elif isinstance(field, BooleanField) and not isinstance(value, bool):
            raise StoreError(f"{name} must be true or false")
        elif isinstance(field, IntegerField) and (isinstance(value, bool) or not isinstance(value, int)):
            raise StoreError(f"{name} must be a whole number")
        elif isinstance(field, CharField) and value is not None:
            if not isinstance(value, str):
                raise StoreError(f"{name} must be text")
            if len(value) > field.max_length:
                raise StoreError(f"{name} is longer than {field.max_length} characters")
            setattr(row, name, value)
        else:
            setattr(row, name, value)
    return row


def _set_password(row: AgentConfig, password: object) -> None:
    """Store the digest A1 hash (md5 of user:domain:password), never the password."""
    if password is None:
        row.phone_a1_hash = None
        return
    if not isinstance(password, str) or not 8 <= len(password) <= 128:
        raise StoreError("phone_password must be 8..128 characters")
    if not row.phone_user or not row.agent_id or "@" not in row.agent_id:
        raise StoreError("phone_password needs phone_user and agent_id")
    a1 = f"{row.phone_user}:{row.agent_id.split('@', 1)[1]}:{password}"
    row.phone_a1_hash = hashlib.md5(a1.encode()).hexdigest()


def _ordered(data: Mapping[str, Any]) -> dict[str, Any]:
    # phone_password needs phone_user/agent_id assigned first
    return dict(sorted(data.items(), key=lambda kv: kv[0] == "phone_password"))


def save(row: Model) -> Model:
    """Validate and store ``row``; a unique clash becomes ``DuplicateError``."""
    from peewee import IntegrityError

    try:
        with database.atomic():
            row.save()
    except IntegrityError:
        label = UNIQUE_LABEL.get(type(row), "an equal row")
        raise DuplicateError(f"{label} already exists") from None
    return row


def create(model: type[Model], data: Mapping[str, Any]) -> Model:
    missing = [name for name in required_fields(model) if data.get(name) is None]
    if missing:
        raise StoreError(f"{', '.join(missing)} required")
    return save(assign(model(), _ordered(data)))


def update(row: Model, data: Mapping[str, Any]) -> Model:
    return save(assign(row, _ordered(data)))


def delete(row: Model) -> None:
    """Delete ``row`` and its tiers; a queue still used by an entry point is refused."""
    if isinstance(row, Queue):
        users = [e.dnis for e in EntryPoint.select().where(
            (EntryPoint.queue == row.id) | (EntryPoint.vip_queue == row.id))]
        if users:
            raise DuplicateError(f"queue {row.name} is used by entry point(s) {', '.join(users)}")
    with database.atomic():
        row.delete_instance(recursive=True)


def to_dict(row: Model) -> dict[str, Any]:
    """Public view of a routing row; references by natural key, secrets left out."""
    out: dict[str, Any] = {"id": row.id}
    for name, field in editable_fields(type(row)).items():
        if field is None:
            continue
        if isinstance(field, ForeignKeyField):
            ref_id = getattr(row, field.column_name)
            ref = getattr(row, name) if ref_id is not None else None
            out[name] = getattr(ref, NATURAL_KEY[field.rel_model]) if ref is not None else None
        else:
            value = getattr(row, name)
            out[name] = value.isoformat() if isinstance(value, date) else value
    if isinstance(row, AgentConfig):
        out["phone_password_set"] = bool(row.phone_a1_hash)
    created = getattr(row, "created_at", None)
    if isinstance(created, datetime):
        out["created_at"] = to_epoch(created)
    return out


def label(row: Model) -> str:
    """Audit target of a row."""
    model = type(row)
    if model in NATURAL_KEY:
        return f"{model._meta.table_name}:{getattr(row, NATURAL_KEY[model])}"
    return f"{model._meta.table_name}:{row.id}"
