"""The OpenAPI document matches the blueprint's routes exactly."""

from __future__ import annotations

import re

from flask import Flask

from cti_middleware.api import api_bp
from cti_middleware.api.openapi import DOCUMENT

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(api_bp)
    return app


def _blueprint_operations(app: Flask) -> set[tuple[str, str]]:
    ops = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            ops.add((method.lower(), path))
    return ops


def _document_operations() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method != "parameters"
    }


def test_every_route_is_documented_and_every_documented_route_exists():
    app = _app()
    assert _blueprint_operations(app) == _document_operations()


def test_path_parameters_are_declared():
    for path, item in DOCUMENT["paths"].items():
        names = set(re.findall(r"{([a-z_]+)}", path))
        declared = {p["name"] for p in item.get("parameters", [])}
        assert names == declared, path


def test_references_resolve_and_document_is_served():
    schemas = DOCUMENT["components"]["schemas"]
    refs = set(re.findall(r"#/components/schemas/(\w+)", str(DOCUMENT)))
    assert refs and refs <= set(schemas)
    assert DOCUMENT["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    client = _app().test_client()
    body = client.get("/api/openapi.json").get_json()
    assert body["openapi"].startswith("3.0")
    assert body["paths"].keys() == DOCUMENT["paths"].keys()


def test_secured_operations_document_auth_errors():
    for path, item in DOCUMENT["paths"].items():
        for method, op in item.items():
            if method == "parameters" or path == "/api/openapi.json":
                continue
            assert {"401", "403"} <= set(op["responses"]), (method, path)
            assert op["x-scopes"], (method, path)
