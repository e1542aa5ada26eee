"""OpenAPI 3.0 description of the ``/api`` blueprint, served at /api/openapi.json.

Kept beside the views (and checked against the blueprint's URL map by a
test) so the document cannot drift from the routes.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ..store.webhooks import EVENT_TYPES
from ..store.workflow import SEVERITIES, STATUSES
from .blueprint import api_bp
from .errors import CODES


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **_json(_ref("Error"))}


def _page_of(name: str) -> dict[str, Any]:
    return {"allOf": [_ref("Page"), {"type": "object", "properties": {
        "items": {"type": "array", "items": _ref(name)}}}]}


# Every operation can answer these: the blueprint refuses NUL characters in any
# query or path value (400) before the token is even checked.
ERRORS = {"400": _error("invalid argument"),
          "401": _error("missing, invalid or revoked token"),
          "403": _error("token lacks a required scope")}


def _op(summary: str, scope: str | list[str], ok: tuple[str, dict[str, Any] | None],
        *, params: list[dict[str, Any]] | None = None, body: str | None = None,
        errors: tuple[str, ...] = ()) -> dict[str, Any]:
    scopes = [scope] if isinstance(scope, str) else scope
    status, schema = ok
    responses: dict[str, Any] = {status: {"description": "success",
                                          **(_json(schema) if schema else {})}}
    responses.update(ERRORS)
    messages = {"400": "invalid argument", "404": "not found", "409": "conflict",
                "413": "body larger than 1 MiB", "422": "validation failed"}
    for code in errors:
        responses[code] = _error(messages[code])
    # Bearer schemes carry no scope list in OpenAPI 3.0; scopes go in x-scopes.
    op: dict[str, Any] = {"summary": summary, "security": [{"bearer": []}], "x-scopes": scopes,
                          "responses": responses,
                          "description": f"Requires scope(s): {', '.join(scopes)}."}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"required": True, **_json(_ref(body))}
    return op


def _q(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _path(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "integer"}}


PAGE = [_q("page", {"type": "integer", "minimum": 1, "default": 1}),
        _q("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20})]
S = {"type": "string"}
N = {"type": "number"}
I = {"type": "integer"}
B = {"type": "boolean"}
NS = {"type": "string", "nullable": True}
NN = {"type": "number", "nullable": True}
EPOCH = "epoch seconds"
WRITE_ERRORS = ("400", "413", "422")


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """A request body that rejects unknown fields (they answer 422)."""
    return {**schema, "additionalProperties": False}


CUSTOMER_FIELDS = {"name": S, "address": NS, "region": NS, "vip": B, "vip_level": I,
                   "notes": NS, "preferred_language": NS}
SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": {"type": "string", "enum": sorted(
        {*CODES.values(), "illegal_transition"})}, "message": S}, ["error", "message"]),
    "Page": _obj({"items": {"type": "array", "items": {}}, "page": I, "per_page": I,
                  "total": I}, ["items", "page", "per_page", "total"]),
    "Customer": _obj({"id": I, **CUSTOMER_FIELDS, "phones": {"type": "array", "items": S},
                      "last_agent": NS, "created_at": N, "updated_at": N}),
    "CustomerCreate": _closed(_obj({**CUSTOMER_FIELDS, "phones": {
        "type": "array", "items": S, "minItems": 1, "maxItems": 20}}, ["name", "phones"])),
    "CustomerUpdate": _closed(_obj(CUSTOMER_FIELDS)),
    "HistoryItem": _obj({
        "kind": {"type": "string", "enum": ["call", "work_order", "callback", "voicemail"]},
        "at": NN,
        # call
        "call_uuid": NS, "queue": NS, "agent": NS, "answered_at": NN, "ended_at": NN,
        "abandoned": B,
        "recording_id": {**I, "nullable": True,
                         "description": "call and voicemail: the indexed recording, if any"},
        "audio": {**NS, "description": "call and voicemail: /api/recordings/{id}/audio, if recorded"},
        # work order, callback, voicemail
        "id": I, "status": S, "type": S, "summary": S,
        # callback and voicemail
        "source": S, "result": NS, "score": {**I, "nullable": True}, "reason": NS, "number": S,
        "attempts": I, "work_order_id": {**I, "nullable": True},
        "recording_path": {**NS, "description": "voicemail: where the message was recorded"},
    }, ["kind", "at"]),
    "WorkOrder": _obj({"id": I, "type": S, "status": {"type": "string", "enum": list(STATUSES)},
                       "summary": S, "details": NS, "customer_id": {**I, "nullable": True},
                       "agent": NS, "call_uuid": NS, "created_at": N, "updated_at": N,
                       "department_id": {**I, "nullable": True}, "department": NS,
                       "region": NS, "respond_by": NN, "due_at": NN, "overdue": B,
                       "fields": {"type": "object"}, "events": {"type": "array", "items": _obj({
                           "action": S, "from": NS, "to": S, "actor": S, "note": NS, "at": N})}}),
    "WorkOrderCreate": _obj({
        "type": {"type": "string", "enum": ["inquiry", "complaint", "service_request",
                                            "appointment", "callback"]},
        "summary": S, "details": NS, "customer_id": I, "agent": NS, "call_uuid": NS,
        "window_start": {**N, "description": f"appointment only, {EPOCH}"},
        "window_end": {**N, "description": f"appointment only, {EPOCH}"},
        "address": {**S, "description": "appointment only"},
        "severity": {"type": "string", "enum": list(SEVERITIES),
                     "description": "complaint only"},
        "against": {**S, "description": "complaint only"}}, ["type", "summary"]),
    "Transition": _obj({"to": {"type": "string", "enum": [*STATUSES, "escalate", "reopen"]},
                        "note": S}, ["to"]),
    "BlacklistEntry": _obj({"id": I, "number": S, "reason": NS, "added_by": NS,
                            "created_at": N, "expires_at": NN}),
    "BlacklistCreate": _closed(_obj({"number": S, "reason": NS, "expires_at": NN}, ["number"])),
    "CallRecord": _obj({"call_uuid": S, "caller_number": NS, "caller_name": NS,
                        "customer_id": {**I, "nullable": True}, "queue": NS, "agent": NS,
                        "joined_at": NN, "answered_at": NN, "ended_at": NN,
                        "hangup_cause": NS, "cc_cause": NS, "abandoned": B,
                        "recording_path": NS, "satisfaction": {**I, "nullable": True}}),
    "Agent": _obj({"agent_id": S, "name": NS, "role": S, "active": B, "created_at": N}),
    "Webhook": _obj({"id": I, "url": S, "events": {"type": "array", "items": {
        "type": "string", "enum": list(EVENT_TYPES)}}, "active": B, "created_by": NS,
        "created_at": N, "secret": {**S, "description": "only in the creation response"}}),
    "WebhookCreate": _closed(_obj({"url": S, "events": {"type": "array", "items": {
        "type": "string", "enum": list(EVENT_TYPES)}, "minItems": 1, "maxItems": 10},
        "secret": {**NS, "minLength": 16, "maxLength": 128}}, ["url", "events"])),
    "Delivery": _obj({"id": I, "event_id": S, "event_type": S, "subscription_id": I,
                      "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
                      "attempts": I, "next_attempt_at": NN, "last_error": NS,
                      "created_at": N, "delivered_at": NN, "body": {"type": "object"}}),
}

R, W = "data:read", "data:write"
PATHS: dict[str, Any] = {
    "/api/openapi.json": {"get": {"summary": "This document", "security": [],
                                  "responses": {"200": {"description": "OpenAPI 3.0"}}}},
    "/api/customers": {
        "get": _op("Search customers", R, ("200", _page_of("Customer")), params=[
            _q("q", S, "fragment of name or address"),
            _q("phone", S, "phone number in any format"), *PAGE], errors=("400",)),
        "post": _op("Create a customer", W, ("201", _ref("Customer")), body="CustomerCreate",
                    errors=(*WRITE_ERRORS, "409")),
    },
    "/api/customers/{customer_id}": {
        "parameters": [_path("customer_id")],
        "get": _op("Read a customer", R, ("200", _ref("Customer")), errors=("404",)),
        "patch": _op("Edit a customer", W, ("200", _ref("Customer")), body="CustomerUpdate",
                     errors=(*WRITE_ERRORS, "404")),
    },
    "/api/customers/{customer_id}/merge/{other_id}": {
        "parameters": [_path("customer_id"), _path("other_id")],
        "post": _op("Merge other_id into customer_id (other_id is deleted)", W,
                    ("200", _ref("Customer")), errors=("400", "404")),
    },
    "/api/customers/{customer_id}/history": {
        "parameters": [_path("customer_id")],
        "get": _op("Calls, work orders, callbacks and voicemails, newest first", R,
                   ("200", _page_of("HistoryItem")),
                   params=PAGE, errors=("400", "404")),
    },
    "/api/workorders": {
        "get": _op("List work orders, newest first", R, ("200", _page_of("WorkOrder")), params=[
            _q("status", S), _q("type", S), _q("agent", S), _q("customer_id", I),
            _q("since", N, EPOCH), _q("until", N, EPOCH), *PAGE], errors=("400",)),
        "post": _op("Create a work order", W, ("201", _ref("WorkOrder")),
                    body="WorkOrderCreate", errors=WRITE_ERRORS),
    },
    "/api/workorders/{order_id}": {
        "parameters": [_path("order_id")],
        "get": _op("Read a work order with its fields and events", R,
                   ("200", _ref("WorkOrder")), errors=("404",)),
    },
    "/api/workorders/{order_id}/transition": {
        "parameters": [_path("order_id")],
        "post": _op("Move a work order along the workflow", W, ("200", _ref("WorkOrder")),
                    body="Transition", errors=(*WRITE_ERRORS, "404", "409")),
    },
    "/api/blacklist": {
        "get": _op("List blacklisted numbers", R, ("200", _page_of("BlacklistEntry")),
                   params=PAGE, errors=("400",)),
        "post": _op("Blacklist a number", W, ("201", _ref("BlacklistEntry")),
                    body="BlacklistCreate", errors=(*WRITE_ERRORS, "409")),
    },
    "/api/blacklist/{entry_id}": {
        "parameters": [_path("entry_id")],
        "delete": _op("Remove a blacklist entry", W, ("204", None), errors=("404",)),
    },
    "/api/calls": {
        "get": _op("List call records, newest first", R, ("200", _page_of("CallRecord")),
                   params=[_q("agent", S), _q("number", S), _q("since", N, EPOCH),
                           _q("until", N, EPOCH), *PAGE], errors=("400",)),
    },
    "/api/calls/{call_uuid}": {
        "parameters": [_path("call_uuid", S)],
        "get": _op("Read a call record", R, ("200", _ref("CallRecord")), errors=("404",)),
    },
    "/api/agents": {
        "get": _op("List agent accounts", R, ("200", _page_of("Agent")), params=PAGE,
                   errors=("400",)),
    },
    "/api/webhooks": {
        "get": _op("List webhook subscriptions", "events:read", ("200", _page_of("Webhook")),
                   params=PAGE, errors=("400",)),
        "post": _op("Subscribe a URL", ["events:read", W], ("201", _ref("Webhook")),
                    body="WebhookCreate", errors=WRITE_ERRORS),
    },
    "/api/webhooks/{sub_id}": {
        "parameters": [_path("sub_id")],
        "delete": _op("Delete a subscription", ["events:read", W], ("204", None),
                      errors=("404",)),
    },
    "/api/webhooks/{sub_id}/deliveries": {
        "parameters": [_path("sub_id")],
        "get": _op("Delivery log, newest first", "events:read", ("200", _page_of("Delivery")),
                   params=PAGE, errors=("400", "404")),
    },
    "/api/deliveries/{delivery_id}/redeliver": {
        "parameters": [_path("delivery_id")],
        "post": _op("Send a delivery again (same event id and body)", ["events:read", W],
                    ("202", _ref("Delivery")), errors=("404",)),
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "CTI middleware API", "version": "1",
             "description": "Times are epoch seconds. Lists are paginated with page/per_page "
                            "(per_page at most 100). Errors are {error, message}."},
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "API token (cti_...)"}},
        "schemas": SCHEMAS,
    },
    "security": [{"bearer": []}],
}


def extend(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Add another view module's paths and schemas, so each module describes its own
    routes next to them and the document still comes out whole."""
    clash = set(paths) & set(PATHS) | set(schemas or {}) & set(SCHEMAS)
    if clash:
        raise ValueError(f"OpenAPI entries defined twice: {sorted(clash)}")
    PATHS.update(paths)
    SCHEMAS.update(schemas or {})


@api_bp.get("/openapi.json")
def openapi_document() -> Any:
    return jsonify(DOCUMENT)
