"""``GET /api/openapi.json``: the OpenAPI 3.1 description of every route under ``/api/``."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from .openapi_schemas import SCHEMAS

SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*codes: int) -> dict[str, Any]:
    names = {400: "malformed request", 401: "no token or a bad token",
             403: "may see it but not do this", 404: "unknown, or not visible to the caller",
             409: "completed or changed meanwhile", 413: "body too large",
             415: "wrong content type", 422: "invalid fields"}
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes if c in names}


def _param(name: str, schema: dict[str, Any], where: str = "path",
           description: str = "") -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema,
            "description": description}


REFERENCE = _param("reference", {"type": "string", "maxLength": 20}, description="ASB-2026-000123")
TASK_ID = _param("task_id", {"type": "string", "maxLength": 36})
DIAGRAM_ID = _param("diagram_id", {"type": "integer", "minimum": 0})
PAGING = [_param("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
                 "query"),
          _param("per_page", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25},
                 "query")]
JSON_BODY_ERRORS = (400, 401, 403, 404, 415, 422)


def _op(summary: str, responses: dict[str, Any], *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None, security: bool = True) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    op["security"] = SECURITY if security else []
    return op


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


XML_BODY = {"required": True, "content": {
    "application/xml": {"schema": {"type": "string", "maxLength": 5 * 1024 * 1024}}}}
XML_ANSWER = {"description": "the XML as stored, byte-for-byte",
              "content": {"application/xml": {"schema": {"type": "string"}}}}


def paths() -> dict[str, Any]:
    """The ``paths`` object: one entry per route (a test holds it to the URL map)."""
    return {
        "/api/openapi.json": {"get": _op("This document", {"200": {
            "description": "OpenAPI 3.1", "content": {"application/json": {
                "schema": {"type": "object"}}}}}, security=False)},
        "/api/v1/cases": {"post": _op(
            "Record a report as a new case; priority and deadline decided at once",
            {"201": _json("CaseSummary", "the new case"), **_errors(*JSON_BODY_ERRORS)},
            body=_body("Report"))},
        "/api/v1/cases/{reference}": {"get": _op(
            "A case", {"200": _json("Case", "the case"), **_errors(401, 404)},
            params=[REFERENCE])},
        "/api/v1/cases/{reference}/tasks": {"get": _op(
            "The case's tasks, open, completed and cancelled",
            {"200": _json("TaskPage", "tasks by due date then id"), **_errors(401, 404, 422)},
            params=[REFERENCE, *PAGING])},
        "/api/v1/cases/{reference}/incidents": {"post": _op(
            "A new incident: to the open case, a recently closed one re-opened, or a new case",
            {"201": _json("IncidentReceived", "the case that received it"),
             **_errors(*JSON_BODY_ERRORS, 409)},
            params=[REFERENCE], body=_body("NewIncident"))},
        "/api/v1/tasks": {"get": _op(
            "The caller's inbox (assignee=me) or every task the caller may work on",
            {"200": _json("TaskPage", "tasks by due date then id"), **_errors(401, 422)},
            params=[_param("assignee", {"type": "string", "enum": ["me"]}, "query"),
                    _param("state", {"type": "string", "enum": ["open", "completed",
                                                                "cancelled"],
                                     "default": "open"}, "query"), *PAGING])},
        "/api/v1/tasks/{task_id}": {"get": _op(
            "A task with its case and its form's JSON Schema",
            {"200": _json("TaskDetail", "the task"), **_errors(401, 404)}, params=[TASK_ID])},
        "/api/v1/tasks/{task_id}/claim": {"post": _op(
            "Make the task yours", {"200": _json("Task", "yours now (or already)"),
                                    **_errors(401, 403, 404, 409)}, params=[TASK_ID])},
        "/api/v1/tasks/{task_id}/complete": {"post": _op(
            "Complete the task with its form's data",
            {"200": _json("Completed", "the tasks that opened next"),
             **_errors(*JSON_BODY_ERRORS, 409)}, params=[TASK_ID], body=_body("Completion"))},
        "/api/v1/diagrams": {"post": _op(
            "Upload a BPMN or DMN file as a draft (process owners and admins)",
            {"201": _json("Diagram", "the draft, with its problems"),
             **_errors(401, 403, 413, 415, 422)}, body=XML_BODY)},
        "/api/v1/diagrams/{diagram_id}": {"get": _op(
            "A diagram's XML as uploaded", {"200": XML_ANSWER, **_errors(401, 403, 404)},
            params=[DIAGRAM_ID])},
        "/api/v1/diagrams/{diagram_id}/publish": {"post": _op(
            "Publish a draft: new cases use it",
            {"200": _json("Diagram", "published"), **_errors(401, 403, 404, 422)},
            params=[DIAGRAM_ID])},
        "/api/v1/_test/clock": {"post": _op(
            "Set the product clock (exists only with ASB_TESTING=1; 404 otherwise)",
            {"200": {"description": "the new time", "content": {"application/json": {
                "schema": {"type": "object"}}}}, "404": {"description": "not in testing mode"},
             **_errors(422)}, body=_body("ClockSet"), security=False)},
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    responses = {f"E{code}": _json("Error", text) for code, text in (
        (400, "malformed request"), (401, "no token or a bad token"),
        (403, "the caller may see the object but not do this"),
        (404, "unknown, or not visible to the caller"),
        (409, "completed or changed meanwhile"), (413, "body too large"),
        (415, "wrong content type"), (422, "invalid fields, by dotted path or element id"))}
    return {
        "openapi": "3.1.0",
        "info": {"title": "ASB case management API", "version": "1.0.0",
                 "description": "Times are ISO 8601; without an offset they mean "
                                "Europe/London. Answers give UTC with Z. Browser-session "
                                "calls that change data need the X-CSRFToken header."},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "paths": paths(),
        "components": {
            "schemas": SCHEMAS,
            "responses": responses,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a personal API token (asb users token NAME)"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "asb_session"},
            },
        },
    }


def openapi_json() -> Response:
    """Serve the document."""
    return jsonify(document())
