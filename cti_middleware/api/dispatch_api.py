"""Dispatch management: departments (service points), dispatch rules and SLAs.

Every change is audited with the token's name; reads need ``data:read``,
writes ``data:write``.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from peewee import IntegrityError

from ..store import dispatch
from ..store.audit import audit
from ..store.db import connected
from ..store.models import REGION_MAX, WORK_ORDER_TYPES
from ..store.validate import DuplicateError, StoreError
from . import openapi
from .auth import actor, require
from .blueprint import api_bp
from .errors import ApiError
from .openapi import (
    NS,
    PAGE,
    WRITE_ERRORS,
    I,
    N,
    S,
    _obj,
    _op,
    _page_of,
    _path,
    _q,
    _ref,
)
from .params import body, integer, no_content, paginate, string, string_list

LISTS = {"regions": string_list(dispatch.LIST_MAX, REGION_MAX),
         "types": string_list(len(WORK_ORDER_TYPES), 32),
         "members": string_list(dispatch.LIST_MAX, 129)}
DEPARTMENT_CREATE = {"name": string(dispatch.DEPARTMENT_NAME_MAX, required=True), **LISTS}
DEPARTMENT_UPDATE = {"name": string(dispatch.DEPARTMENT_NAME_MAX), **LISTS}
RULE_CREATE = {"department_id": integer(required=True), "region": string(REGION_MAX),
               "type": string(32)}
SLA_UPDATE = {"response_seconds": integer(required=True), "resolution_seconds": integer()}


def _store_call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except (DuplicateError, IntegrityError) as exc:
        raise ApiError(409, str(exc)) from None
    except StoreError as exc:
        raise ApiError(422, str(exc)) from None
    except LookupError as exc:
        raise ApiError(404, str(exc.args[0] if exc.args else exc)) from None


@api_bp.get("/departments")
@require("data:read")
@connected
def list_departments() -> Any:
    query = dispatch.Department.select().order_by(dispatch.Department.id)
    return jsonify(paginate(query, dispatch.department_to_dict))


@api_bp.post("/departments")
@require("data:write")
@connected
def create_department() -> Any:
    data = body(DEPARTMENT_CREATE)
    dept = _store_call(dispatch.add_department, data["name"], regions=data.get("regions"),
                       types=data.get("types"), members=data.get("members"))
    audit(actor(), "department.create", f"department:{dept.id}", data, "ok")
    return jsonify(dispatch.department_to_dict(dept)), 201


def _department(dept_id: int) -> dispatch.Department:
    dept = dispatch.Department.get_or_none(dispatch.Department.id == dept_id)
    if dept is None:
        raise ApiError(404, f"no department {dept_id}")
    return dept


@api_bp.get("/departments/<int:dept_id>")
@require("data:read")
@connected
def get_department(dept_id: int) -> Any:
    return jsonify(dispatch.department_to_dict(_department(dept_id)))


@api_bp.patch("/departments/<int:dept_id>")
@require("data:write")
@connected
def edit_department(dept_id: int) -> Any:
    data = body(DEPARTMENT_UPDATE)
    _department(dept_id)
    changes = {k: v for k, v in data.items() if v is not None or k != "name"}
    dept = _store_call(dispatch.update_department, dept_id, **changes)
    audit(actor(), "department.update", f"department:{dept_id}", data, "ok")
    return jsonify(dispatch.department_to_dict(dept))


@api_bp.delete("/departments/<int:dept_id>")
@require("data:write")
@connected
def remove_department(dept_id: int) -> Any:
    _department(dept_id)
    dispatch.delete_department(dept_id)
    audit(actor(), "department.delete", f"department:{dept_id}", {}, "ok")
    return no_content()


@api_bp.get("/dispatch-rules")
@require("data:read")
@connected
def list_rules() -> Any:
    query = dispatch.DispatchRule.select().order_by(dispatch.DispatchRule.id)
    return jsonify(paginate(query, dispatch.rule_to_dict))


@api_bp.post("/dispatch-rules")
@require("data:write")
@connected
def create_rule() -> Any:
    data = body(RULE_CREATE)
    rule = _store_call(dispatch.add_rule, data["department_id"], region=data.get("region"),
                       type=data.get("type"))
    audit(actor(), "dispatch_rule.create", f"dispatch_rule:{rule.id}", data, "ok")
    return jsonify(dispatch.rule_to_dict(rule)), 201


@api_bp.delete("/dispatch-rules/<int:rule_id>")
@require("data:write")
@connected
def remove_rule(rule_id: int) -> Any:
    if not dispatch.delete_rule(rule_id):
        raise ApiError(404, f"no dispatch rule {rule_id}")
    audit(actor(), "dispatch_rule.delete", f"dispatch_rule:{rule_id}", {}, "ok")
    return no_content()


@api_bp.get("/sla")
@require("data:read")
@connected
def get_sla() -> Any:
    return jsonify({"items": list(dispatch.sla_table().values())})


@api_bp.put("/sla/<order_type>")
@require("data:write")
@connected
def put_sla(order_type: str) -> Any:
    if order_type not in WORK_ORDER_TYPES:
        raise ApiError(404, f"no work-order type {order_type[:32]!r}")
    data = body(SLA_UPDATE)
    row = _store_call(dispatch.set_sla, order_type, data["response_seconds"],
                      data.get("resolution_seconds"))
    audit(actor(), "sla.update", f"sla:{order_type}", data, "ok")
    return jsonify(row)


# --- OpenAPI ----------------------------------------------------------------------------

R, W = "data:read", "data:write"
STRINGS = {"type": "array", "items": S}
TYPES = {"type": "array", "items": {"type": "string", "enum": list(WORK_ORDER_TYPES)}}
DEPT_FIELDS = {"name": S, "regions": {**STRINGS, "description": "regions or districts covered"},
               "types": {**TYPES, "description": "types handled (empty: any)"},
               "members": {**STRINGS, "description": "agent ids, 1000@default"}}
SCHEMAS = {
    "Department": _obj({"id": I, **DEPT_FIELDS, "created_at": N}),
    "DepartmentCreate": _obj(DEPT_FIELDS, ["name"]),
    "DepartmentUpdate": _obj(DEPT_FIELDS),
    "DispatchRule": _obj({"id": I, "region": NS, "type": NS, "department_id": I,
                          "created_at": N}),
    "DispatchRuleCreate": _obj({"department_id": I, "region": NS, "type": {
        "type": "string", "enum": list(WORK_ORDER_TYPES), "nullable": True}},
        ["department_id"]),
    "Sla": _obj({"type": S, "response_seconds": I, "resolution_seconds": {
        **I, "nullable": True, "description": "null for appointments: due at window end"}}),
    "SlaUpdate": _obj({"response_seconds": I, "resolution_seconds": {**I, "nullable": True}},
                      ["response_seconds"]),
}
PATHS = {
    "/api/departments": {
        "get": _op("List departments", R, ("200", _page_of("Department")), params=PAGE,
                   errors=("400",)),
        "post": _op("Create a department", W, ("201", _ref("Department")),
                    body="DepartmentCreate", errors=(*WRITE_ERRORS, "409")),
    },
    "/api/departments/{dept_id}": {
        "parameters": [_path("dept_id")],
        "get": _op("Read a department", R, ("200", _ref("Department")), errors=("404",)),
        "patch": _op("Edit a department", W, ("200", _ref("Department")),
                     body="DepartmentUpdate", errors=(*WRITE_ERRORS, "404", "409")),
        "delete": _op("Delete a department and its rules", W, ("204", None),
                      errors=("404",)),
    },
    "/api/dispatch-rules": {
        "get": _op("List dispatch rules", R, ("200", _page_of("DispatchRule")), params=PAGE,
                   errors=("400",)),
        "post": _op("Route region + type to a department (most specific wins)", W,
                    ("201", _ref("DispatchRule")), body="DispatchRuleCreate",
                    errors=(*WRITE_ERRORS, "409")),
    },
    "/api/dispatch-rules/{rule_id}": {
        "parameters": [_path("rule_id")],
        "delete": _op("Delete a dispatch rule", W, ("204", None), errors=("404",)),
    },
    "/api/sla": {
        "get": _op("SLA per work-order type", R, ("200", _obj({"items": {
            "type": "array", "items": _ref("Sla")}})))},
    "/api/sla/{order_type}": {
        "parameters": [_path("order_type", {"type": "string",
                                            "enum": list(WORK_ORDER_TYPES)})],
        "put": _op("Set one type's SLA", W, ("200", _ref("Sla")), body="SlaUpdate",
                   errors=(*WRITE_ERRORS, "404")),
    },
}
openapi.extend(PATHS, SCHEMAS)
# The work-order list and create routes (described in openapi.py) gained dispatch inputs.
openapi.PATHS["/api/workorders"]["get"]["parameters"][-2:-2] = [
    _q("overdue", {"type": "boolean"}, "only orders past due_at and not resolved/closed"),
    _q("department_id", I)]
openapi.SCHEMAS["WorkOrderCreate"]["properties"]["region"] = {
    **S, "description": "region to dispatch by when the customer has none"}
