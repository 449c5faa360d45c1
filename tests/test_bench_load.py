"""The load test's own logic (bench/load): form answers as a person types them, and verdicts."""

from __future__ import annotations

from bench.load.checks import request_checks
from bench.load.prepare import html_form
from web.officer import taskforms

SCHEMA = {
    "type": "object",
    "required": ["method", "contacted_at"],
    "properties": {
        "method": {"type": "string", "enum": ["phone", "face_to_face"]},
        "contacted_at": {"type": "string", "format": "date-time"},
        "visit_on": {"type": "string", "format": "date"},
        "risk_changed": {"type": "boolean"},
        "confirmed": {"type": "boolean", "const": True},
        "actions": {"type": "array", "items": {"type": "string"}},
        "vulnerability": {"type": "object", "properties": {
            "personal": {"type": "boolean"}, "situational": {"type": "boolean"}}},
        "visits": {"type": "integer"},
        "summary": {"type": "string", "maxLength": 2000},
    },
}


def test_answers_typed_into_the_task_form_read_back_as_the_same_data() -> None:
    data = {"method": "face_to_face", "contacted_at": "2026-11-24T09:30:00+00:00",
            "visit_on": "2026-11-20", "risk_changed": False, "confirmed": True,
            "actions": ["Letter sent", "Patrol asked"],
            "vulnerability": {"personal": True, "situational": False}, "visits": 2,
            "summary": "Spoke to the reporter"}
    fields = taskforms.fields_for(SCHEMA)
    form = html_form(fields, data)
    raw = {k: v if isinstance(v, list) else str(v) for k, v in form.items()}
    parsed, errors = taskforms.parse(fields, raw)
    assert errors == {}
    assert taskforms.check(SCHEMA, fields, parsed) == {}
    assert parsed == data
    assert form["contacted_at-time"] == "09:30"  # London time, as an officer types it


def test_a_server_error_or_an_accepted_hostile_request_fails_the_run() -> None:
    signed = [{"n": "sign in", "s": 302, "ms": 5.0}]
    good = [*signed, {"n": "hostile: bad task id", "s": 404, "ms": 3.0}]
    assert all(o.ok for o in request_checks(good, 1))
    bad = [*signed, {"n": "officer: inbox", "s": 500, "ms": 9.0},
           {"n": "hostile: missing CSRF", "s": 200, "ms": 3.0}]
    verdicts = {o.name: o.ok for o in request_checks(bad, 1)}
    assert verdicts == {"no 5xx, no dropped connection": False,
                        "hostile requests all 4xx": False, "every user signed in": True}
