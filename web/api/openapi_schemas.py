"""The component schemas of the OpenAPI document (enumerations exactly as API.md lists them)."""

from __future__ import annotations

from typing import Any

from cases.enums import Category, Channel, HateStrand, Stage
from cases.people import Role
from engine.models import TaskStatus

TIME = {"type": "string", "format": "date-time",
        "description": "ISO 8601; without an offset it means Europe/London"}
UTC_TIME = {"type": ["string", "null"], "format": "date-time", "description": "UTC, with Z"}
BOOL = {"type": "boolean"}


def _enum(kind: Any) -> list[str]:
    return [m.value for m in kind]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _text(longest: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": longest}


# A first report's incident and a later one share their fields; only "required" differs.
INCIDENT_FIELDS: dict[str, Any] = {
    "occurred_at": TIME, "location": _text(500), "description": _text(10_000),
    "category": {"type": "string", "enum": _enum(Category)},
    "hate_strands": {"type": "array", "uniqueItems": True,
                     "items": {"type": "string", "enum": _enum(HateStrand)}},
    "postcode": _text(8),
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "enum": [
                    "bad_request", "unauthorized", "forbidden", "not_found",
                    "method_not_allowed", "conflict", "too_large", "unsupported_media_type",
                    "validation_failed", "internal_error"]},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": {"type": "string"},
                            "description": "dotted field path or BPMN element id -> message"},
                "problems": {"type": "array", "items": _ref("Problem")},
            }}},
    },
    "Problem": {
        "type": "object", "required": ["element_id", "element_type", "message"],
        "properties": {"element_id": {"type": "string"}, "element_type": {"type": "string"},
                       "message": {"type": "string"}},
    },
    "ContactPreferences": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "channels": {"type": "array", "items": {"enum": ["email", "sms", "phone", "letter"]}},
            "unsafe_channels": {"type": "array",
                                "items": {"enum": ["email", "sms", "phone", "letter"]}},
            "safe_times": {"type": "array", "maxItems": 14, "items": {
                "type": "object", "required": ["from", "to"], "additionalProperties": False,
                "properties": {"days": {"enum": ["mon-fri", "sat-sun", "any"]},
                               "from": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                               "to": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}}}},
            "no_voicemail": BOOL, "confidential": BOOL,
        },
    },
    "Reporter": {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "description": "give at least one of phone, email or address",
        "properties": {"name": _text(200), "phone": _text(32), "email": _text(254),
                       "address": _text(500),
                       "contact_preferences": _ref("ContactPreferences")},
    },
    "Incident": {
        "type": "object", "additionalProperties": False,
        "required": ["occurred_at", "location", "description", "category"],
        "properties": INCIDENT_FIELDS,
    },
    "NewIncident": {
        "type": "object", "additionalProperties": False,
        "required": ["occurred_at", "location", "description"],
        "properties": INCIDENT_FIELDS,
    },
    "Vulnerability": {
        "type": "object", "additionalProperties": False,
        "properties": {k: BOOL for k in ("child_at_risk", "vulnerable_adult", "repeat_victim",
                                         "threat_of_violence", "high_risk")},
    },
    "Report": {
        "type": "object", "additionalProperties": False,
        "required": ["channel", "reporter", "incident"],
        "properties": {
            "received_at": TIME, "channel": {"type": "string", "enum": _enum(Channel)},
            "reporter": _ref("Reporter"), "incident": _ref("Incident"),
            "vulnerability": _ref("Vulnerability"),
            "people": {"type": "array", "maxItems": 20, "items": _ref("PersonInvolved"),
                       "description": "Other people involved: victims, witnesses and the "
                                      "people reported."},
        },
    },
    "PersonInvolved": {
        "type": "object", "required": ["role", "name"], "additionalProperties": False,
        "properties": {"role": {"type": "string",
                                "enum": ["victim", "witness", "reported_person"]},
                       "name": {"type": "string"}, "phone": {"type": "string"},
                       "email": {"type": "string"}, "address": {"type": "string"}},
    },
    "Officer": {
        "type": ["object", "null"],
        "properties": {"username": {"type": "string"}, "name": {"type": "string"},
                       "email": {"type": ["string", "null"]},
                       "phone": {"type": ["string", "null"]}},
    },
    "CaseSummary": {
        "type": "object",
        "required": ["reference", "status", "priority", "received_at", "first_contact_due_at",
                     "case_officer"],
        "properties": {
            "reference": {"type": "string", "pattern": "^ASB-[0-9]{4}-[0-9]{6}$"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "priority": {"type": ["integer", "null"], "enum": [1, 2, None]},
            "received_at": UTC_TIME, "first_contact_due_at": UTC_TIME,
            "case_officer": _ref("Officer"),
        },
    },
    "Case": {
        "allOf": [_ref("CaseSummary"), {
            "type": "object", "required": ["stage", "update_frequency"],
            "properties": {
                "stage": {"type": "string", "enum": _enum(Stage)},
                "update_frequency": {"type": ["string", "null"]},
                "channel": {"type": "string", "enum": _enum(Channel)},
                "category": {"type": "string", "enum": _enum(Category)},
                "hate_strands": {"type": "array", "items": {"enum": _enum(HateStrand)}},
                "next_update_due_at": UTC_TIME, "first_contact_at": UTC_TIME,
                "closed_at": UTC_TIME,
            }}],
    },
    "IncidentReceived": {
        "type": "object", "required": ["case", "outcome", "status"],
        "properties": {"case": {"type": "string"},
                       "outcome": {"enum": ["added", "reopened", "new_case"]},
                       "status": {"enum": ["open", "closed"]},
                       "linked_from": {"type": ["string", "null"]}},
    },
    "Task": {
        "type": "object", "required": ["id", "name", "title", "state", "role", "assignee",
                                       "due_at"],
        "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "title": {"type": "string"},
            "state": {"type": "string", "enum": _enum(TaskStatus)},
            "role": {"type": ["string", "null"], "enum": [*_enum(Role), None]},
            "assignee": {"type": ["string", "null"]}, "due_at": UTC_TIME,
        },
    },
    "TaskDetail": {
        "allOf": [_ref("Task"), {
            "type": "object", "required": ["case", "form"],
            "properties": {"case": {"type": "string"},
                           "form": {"type": "object",
                                    "description": "JSON Schema 2020-12 of the data"}}}],
    },
    "TaskPage": {
        "type": "object", "required": ["items", "page", "per_page", "total"],
        "properties": {"items": {"type": "array", "items": _ref("Task")},
                       "page": {"type": "integer", "minimum": 1},
                       "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                       "total": {"type": "integer", "minimum": 0}},
    },
    "Completion": {
        "type": "object", "required": ["data"], "additionalProperties": False,
        "properties": {"data": {"type": "object", "description": "the form's fields"}},
    },
    "Completed": {
        "type": "object", "required": ["case", "next_tasks"],
        "properties": {"case": {"type": "string"},
                       "next_tasks": {"type": "array", "items": _ref("Task")}},
    },
    "Diagram": {
        "type": "object", "required": ["id", "version", "process_ids", "executable", "problems"],
        "properties": {"id": {"type": "integer"}, "version": {"type": "integer"},
                       "process_ids": {"type": "array", "items": {"type": "string"}},
                       "executable": BOOL, "published": BOOL,
                       "problems": {"type": "array", "items": _ref("Problem")}},
    },
    "ClockSet": {
        "type": "object", "required": ["now"], "properties": {"now": TIME},
    },
}
