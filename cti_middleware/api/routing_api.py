"""Routing configuration: mod_callcenter queues, agent configs and tiers, business-hours
calendars and entry points (DNIS -> queue), plus the provisioning status.

Each table gets the same five routes (list, create, read, edit, delete); the
accepted body fields are derived from the model so a column added to the model
is editable (and documented) without touching this module. Edits to queues,
agent configs and tiers ask the running middleware's provisioner, if enabled,
for a reconcile of FreeSWITCH.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, jsonify, request
from peewee import BooleanField, DateField, ForeignKeyField, IntegerField, Model

from .. import routing_admin as admin
from ..store.audit import audit
from ..store.db import connected
from ..store.routing import AgentConfig, BusinessHours, EntryPoint, Holiday, Queue, Tier
from ..store.validate import DuplicateError, StoreError
from . import openapi
from .auth import actor, require
from .blueprint import api_bp
from .errors import ApiError
from .params import Field, body, no_content, paginate

R, W = "data:read", "data:write"


@dataclass(frozen=True)
class Resource:
    path: str  # URL segment under /api
    kind: str  # audit action prefix and endpoint name
    model: type[Model]
    schema: str
    order: tuple[Any, ...]
    # query parameter -> function(query, value) narrowing the list
    filters: dict[str, Callable[[Any, str], Any]] = field(default_factory=dict)


def _by_calendar(model: type[Model]) -> Callable[[Any, str], Any]:
    return lambda query, value: query.where(model.calendar == value)


RESOURCES = (
    Resource("queues", "queue", Queue, "Queue", (Queue.name,)),
    Resource("agent-configs", "agent_config", AgentConfig, "AgentConfig", (AgentConfig.agent_id,)),
    Resource("tiers", "tier", Tier, "Tier", (Tier.id,), {
        "queue": lambda q, v: q.where(Tier.queue.in_(Queue.select(Queue.id).where(Queue.name == v))),
        "agent": lambda q, v: q.where(Tier.agent.in_(
            AgentConfig.select(AgentConfig.id).where(AgentConfig.agent_id == v))),
    }),
    Resource("business-hours", "business_hours", BusinessHours, "BusinessHours",
             (BusinessHours.calendar, BusinessHours.weekday, BusinessHours.opens),
             {"calendar": _by_calendar(BusinessHours)}),
    Resource("holidays", "holiday", Holiday, "Holiday", (Holiday.calendar, Holiday.day),
             {"calendar": _by_calendar(Holiday)}),
    Resource("entry-points", "entry_point", EntryPoint, "EntryPoint", (EntryPoint.dnis,)),
)


def body_fields(model: type[Model], creating: bool) -> dict[str, Field]:
    """The request-body table of ``model`` (see :func:`params.body`)."""
    required = set(admin.required_fields(model)) if creating else set()
    out: dict[str, Field] = {}
    for name, column in admin.editable_fields(model).items():
        need = name in required
        if column is None:  # phone_password
            out[name] = Field((str,), False, 128)
        elif isinstance(column, BooleanField):
            out[name] = Field((bool,), need, nullable=False)
        elif isinstance(column, IntegerField) and not isinstance(column, ForeignKeyField):
            out[name] = Field((int,), need, nullable=False)
        elif isinstance(column, ForeignKeyField):
            out[name] = Field((str,), need, 129, nullable=column.null)
        elif isinstance(column, DateField):
            out[name] = Field((str,), need, 10, nullable=False)
        else:
            out[name] = Field((str,), need, column.max_length, nullable=column.null)
    return out


def _notify(model: type[Model]) -> None:
    """Ask the running middleware's provisioner (if any) to reconcile FreeSWITCH."""
    if model not in admin.SWITCH_MODELS:
        return
    runtime = current_app.extensions.get("cti_runtime")
    provisioner = getattr(runtime, "provisioner", None)
    if provisioner is not None:
        provisioner.request("api")


def _audit_args(data: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k == "phone_password" else v) for k, v in data.items()}


def _get(res: Resource, row_id: int) -> Model:
    try:
        return admin.get(res.model, row_id)
    except admin.NotFound as exc:
        raise ApiError(404, str(exc)) from None


def _write(fn: Callable[[], Model]) -> Model:
    try:
        return fn()
    except DuplicateError as exc:
        raise ApiError(409, str(exc)) from None
    except (StoreError, admin.NotFound) as exc:
        # A queue or agent named in the body that does not exist is a validation error.
        raise ApiError(422, str(exc)) from None


def _register(res: Resource) -> None:
    create_fields, edit_fields = body_fields(res.model, True), body_fields(res.model, False)

    @require(R)
    @connected
    def list_rows() -> Any:
        query = res.model.select()
        for name, narrow in res.filters.items():
            value = request.args.get(name)
            if value:
                query = narrow(query, value)
        return jsonify(paginate(query.order_by(*res.order), admin.to_dict))

    @require(W)
    @connected
    def create_row() -> Any:
        data = body(create_fields)
        row = _write(lambda: admin.create(res.model, data))
        audit(actor(), f"{res.kind}.create", admin.label(row), _audit_args(data), "ok")
        _notify(res.model)
        return jsonify(admin.to_dict(row)), 201

    @require(R)
    @connected
    def get_row(row_id: int) -> Any:
        return jsonify(admin.to_dict(_get(res, row_id)))

    @require(W)
    @connected
    def update_row(row_id: int) -> Any:
        row = _get(res, row_id)
        data = body(edit_fields)
        row = _write(lambda: admin.update(row, data))
        audit(actor(), f"{res.kind}.update", admin.label(row), _audit_args(data), "ok")
        _notify(res.model)
        return jsonify(admin.to_dict(row))

    @require(W)
    @connected
    def delete_row(row_id: int) -> Any:
        row = _get(res, row_id)
        target = admin.label(row)
        try:
            admin.delete(row)
        except DuplicateError as exc:
            raise ApiError(409, str(exc)) from None
        audit(actor(), f"{res.kind}.delete", target, {"id": row_id}, "ok")
        _notify(res.model)
        return no_content()

    base, item = f"/{res.path}", f"/{res.path}/<int:row_id>"
    api_bp.add_url_rule(base, f"{res.kind}_list", list_rows, methods=["GET"])
    api_bp.add_url_rule(base, f"{res.kind}_create", create_row, methods=["POST"])
    api_bp.add_url_rule(item, f"{res.kind}_get", get_row, methods=["GET"])
    api_bp.add_url_rule(item, f"{res.kind}_update", update_row, methods=["PATCH"])
    api_bp.add_url_rule(item, f"{res.kind}_delete", delete_row, methods=["DELETE"])


for _res in RESOURCES:
    _register(_res)


def _provisioner() -> Any:
    return getattr(current_app.extensions.get("cti_runtime"), "provisioner", None)


@api_bp.get("/provisioning")
@require(R)
def provisioning_status() -> Any:
    provisioner = _provisioner()
    return jsonify(provisioner.status() if provisioner else {"enabled": False})


@api_bp.post("/provisioning/sync")
@require(W)
def provisioning_sync() -> Any:
    provisioner = _provisioner()
    if provisioner is None:
        raise ApiError(409, "provisioning is off (start the middleware with CTI_PROVISION=1)")
    provisioner.request("manual")
    audit(actor(), "provisioning.sync", None, {}, "requested")
    return jsonify(provisioner.status()), 202


# --- OpenAPI ----------------------------------------------------------------------------

def _prop(spec: Field) -> dict[str, Any]:
    kind = {str: "string", int: "integer", bool: "boolean"}[spec.types[0]]
    prop: dict[str, Any] = {"type": kind}
    if spec.max_len and kind == "string":
        prop["maxLength"] = spec.max_len
    if spec.nullable and kind == "string":
        prop["nullable"] = True
    return prop


def _schemas(res: Resource) -> dict[str, Any]:
    create = body_fields(res.model, True)
    props = {k: _prop(v) for k, v in create.items() if k != "phone_password"}
    read = {"id": openapi.I, **props}
    if res.model is AgentConfig:
        read["phone_password_set"] = openapi.B
    if "created_at" in res.model._meta.fields:
        read["created_at"] = openapi.N
    writable = {k: _prop(v) for k, v in create.items()}
    required = [k for k, v in create.items() if v.required]
    return {
        res.schema: openapi._obj(read),
        f"{res.schema}Create": openapi._obj(writable, required),
        f"{res.schema}Update": openapi._obj(writable),
    }


def _paths(res: Resource) -> dict[str, Any]:
    noun = res.kind.replace("_", " ")
    filters = [openapi._q(name, openapi.S) for name in res.filters]
    return {
        f"/api/{res.path}": {
            "get": openapi._op(f"List {noun} rows", R, ("200", openapi._page_of(res.schema)),
                               params=[*filters, *openapi.PAGE], errors=("400",)),
            "post": openapi._op(f"Create a {noun}", W, ("201", openapi._ref(res.schema)),
                                body=f"{res.schema}Create",
                                errors=(*openapi.WRITE_ERRORS, "409")),
        },
        f"/api/{res.path}/{{row_id}}": {
            "parameters": [openapi._path("row_id")],
            "get": openapi._op(f"Read a {noun}", R, ("200", openapi._ref(res.schema)),
                               errors=("404",)),
            "patch": openapi._op(f"Edit a {noun}", W, ("200", openapi._ref(res.schema)),
                                 body=f"{res.schema}Update",
                                 errors=(*openapi.WRITE_ERRORS, "404", "409")),
            "delete": openapi._op(f"Delete a {noun}", W, ("204", None), errors=("404", "409")),
        },
    }


def _document() -> None:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "ProvisioningStatus": openapi._obj({
            "enabled": openapi.B, "passes": openapi.I, "commands_sent": openapi.I,
            "commands_failed": openapi.I, "refused": openapi.I, "last_pass_at": openapi.NN,
            "last_error": openapi.NS, "pending": openapi.B,
            "failures": {"type": "array", "items": openapi._obj({
                "command": openapi.S, "reply": openapi.S})}}, ["enabled"]),
    }
    for res in RESOURCES:
        paths.update(_paths(res))
        schemas.update(_schemas(res))
    paths["/api/provisioning"] = {
        "get": openapi._op("mod_callcenter provisioning status (enabled=false when off)", R,
                           ("200", openapi._ref("ProvisioningStatus"))),
    }
    paths["/api/provisioning/sync"] = {
        "post": openapi._op("Reconcile FreeSWITCH with the database now", W,
                            ("202", openapi._ref("ProvisioningStatus")), errors=("409",)),
    }
    openapi.extend(paths, schemas)


_document()
