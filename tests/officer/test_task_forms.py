"""Task pages: forms drawn from the JSON Schemas, validation, drafts, completion and conflicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import render_template_string
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from engine import clock
from tests.officer.support import (
    ASSESSMENT,
    audit_rows,
    browser,
    complete_by_api,
    revision,
    set_task,
    task_row,
)
from web.officer import taskforms

FORMS = sorted((Path(__file__).resolve().parents[2] / "bpmn" / "forms").glob("*.json"))
FIELDS_HTML = ('{% from "tasks/_fields.html" import form_field %}'
               '{% for f in fields %}{{ form_field(f, raw, errors.get(f.name)) }}{% endfor %}')
GOOD = {"harm": "high", "community_impact": "low", "child_at_risk": "no",
        "vulnerable_adult": "no", "raise_priority": "no", "vulnerability": "personal",
        "notes": "Neighbours confirm the noise"}


def _render(app, schema, raw=None, errors=None):
    with app.test_request_context("/"):
        return render_template_string(FIELDS_HTML, fields=taskforms.fields_for(schema),
                                      raw=raw or {}, errors=errors or {})


@pytest.mark.parametrize("path", FORMS, ids=[p.stem for p in FORMS])
def test_every_shipped_form_renders_each_field_with_its_label_and_hint(api, path):
    schema = json.loads(path.read_text())
    html = _render(api.app, schema)
    for name, prop in schema["properties"].items():
        assert str(escape(prop["title"])) in html, name
        if prop.get("description"):
            assert str(escape(prop["description"])) in html, name
        kind = taskforms.fields_for({"properties": {name: prop}})[0].kind
        expected = {
            "radios": f'type="radio" value="{(prop.get("enum") or [""])[0]}"',
            "yes_no": f'name="{name}" type="radio" value="yes"',
            "confirm": f'name="{name}" type="checkbox" value="yes"',
            "textarea": f'<textarea class="govuk-textarea" id="{name}" name="{name}"',
            "lines": f'<textarea class="govuk-textarea" id="{name}" name="{name}"',
            "datetime": f'name="{name}-time"',
            "date": f'name="{name}-day"',
            "select": f'<select class="govuk-select" id="{name}" name="{name}"',
            "number": f'id="{name}" name="{name}" type="text"',
            "checkboxes": f'name="{name}" type="checkbox"',
            "text": f'name="{name}" type="text"',
        }[kind]
        assert expected in html, (name, kind)


def test_field_kinds_follow_the_schema():
    schema = {"properties": {
        "many": {"type": "string", "enum": list("abcdefg")},
        "few": {"type": "string", "enum": ["a", "b"]},
        "short": {"type": "string", "maxLength": 200},
        "long": {"type": "string", "maxLength": 201},
        "when": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "ok": {"type": "boolean", "const": True},
        "flag": {"type": "boolean"},
        "items": {"type": "array", "items": {"type": "string"}},
        "vuln": {"type": "object", "properties": {"a": {"type": "boolean"}}},
        "count": {"type": "integer"}}}
    kinds = {f.name: f.kind for f in taskforms.fields_for(schema)}
    assert kinds == {"many": "select", "few": "radios", "short": "text", "long": "textarea",
                     "when": "datetime", "day": "date", "ok": "confirm", "flag": "yes_no",
                     "items": "lines", "vuln": "checkboxes", "count": "number"}


def test_typed_values_become_form_data_in_london_time():
    schema = json.loads((FORMS[0].parent / "first_contact.json").read_text())
    fields = taskforms.fields_for(schema)
    form = MultiDict({"contacted_at-day": "29", "contacted_at-month": "6",
                      "contacted_at-year": "2026", "contacted_at-time": "10:30",
                      "method": "phone", "summary": "  Spoke  "})
    data, errors = taskforms.parse(fields, taskforms.raw_values(fields, form))
    assert errors == {}
    assert data == {"contacted_at": "2026-06-29T10:30:00+01:00", "method": "phone",
                    "summary": "Spoke"}
    bad = taskforms.raw_values(fields, MultiDict({"contacted_at-day": "31",
                                                  "contacted_at-month": "2",
                                                  "contacted_at-year": "2026"}))
    data, errors = taskforms.parse(fields, bad)
    assert "real date" in errors["contacted_at"] and "contacted_at" not in data
    assert taskforms.check(schema, fields, data) == {
        "contacted_at": "Enter when you made contact",
        "method": "Select how you contacted the reporter", "summary": "Enter summary"}


def _assess(api):
    reference = api.open_case()["reference"]
    return reference, api.open_task(reference, "assess_risk")["id"]


def test_the_task_page_shows_the_form_and_is_audited(api):
    reference, task_id = _assess(api)
    page = browser(api, "olivia").text(f"/tasks/{task_id}")
    assert "Assess the risk" in page and f'href="/cases/{reference}"' in page
    assert "Harm to the victim" in page and "Complete task" in page and "Save draft" in page
    assert 'name="csrf_token"' in page
    (row,) = audit_rows(api, "page.task_viewed")
    assert (row.actor, row.object_id, row.case_reference) == ("olivia", task_id, reference)


def test_server_validation_shows_errors_and_keeps_what_was_typed(api):
    _reference, task_id = _assess(api)
    olivia = browser(api, "olivia")
    response = olivia.post(f"/tasks/{task_id}", {
        "action": "complete", "community_impact": "medium", "notes": "Typed <notes>",
        "vulnerability": ["situational"], "raise_priority": "yes"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and 'href="#harm"' in page
    assert "Select harm to the victim" in page and "govuk-error-message" in page
    assert "Typed &lt;notes&gt;" in page
    assert 'value="medium" checked' in page and 'value="situational" checked' in page
    assert task_row(api, task_id).state.value == "open"
    assert audit_rows(api, "page.task_form_invalid")[0].summary["fields"] == ["harm"]


def test_a_draft_is_saved_and_shown_again(api):
    _reference, task_id = _assess(api)
    olivia = browser(api, "olivia")
    saved = olivia.post(f"/tasks/{task_id}", {"action": "save_draft", "harm": "low",
                                              "notes": "Half-written thought"})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/tasks/{task_id}"
    page = olivia.text(f"/tasks/{task_id}")
    assert "Your draft was saved" in page and "Showing your draft" in page
    assert "Half-written thought" in page and 'value="low" checked' in page
    # Drafts are personal: the team leader does not see Olivia's.
    assert "Half-written thought" not in browser(api, "tara").text(f"/tasks/{task_id}")
    assert len(audit_rows(api, "page.task_draft_saved")) == 1
    olivia.post(f"/tasks/{task_id}", {"action": "complete", **GOOD})
    from sqlalchemy import func, select

    from cases.drafts import TaskDraft
    from web.extensions import unit

    with api.app.app_context(), unit() as session:
        assert session.scalar(select(func.count()).select_from(TaskDraft)) == 0


def test_completing_redirects_to_the_inbox_with_the_next_task(api):
    reference, task_id = _assess(api)
    olivia = browser(api, "olivia")
    response = olivia.post(f"/tasks/{task_id}", {"action": "complete", **GOOD})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    inbox = olivia.text("/inbox")
    assert "govuk-notification-banner--success" in inbox
    assert "is complete. Next: “Make first contact”" in inbox
    contact = api.open_task(reference, "first_contact")
    assert contact["id"] in inbox
    assert task_row(api, task_id).state.value == "completed"
    (row,) = audit_rows(api, "page.task_completed")
    assert row.summary["next_tasks"] == ["first_contact"]
    assert "Neighbours" not in json.dumps(row.summary)
    # The completed task shows what was submitted.
    done = olivia.text(f"/tasks/{task_id}")
    assert "What was submitted" in done and "Neighbours confirm the noise" in done
    assert "Complete task" not in done


def test_first_contact_and_action_plan_through_the_pages(api):
    reference, task_id = _assess(api)
    complete_by_api(api, task_id, ASSESSMENT)
    contact = api.open_task(reference, "first_contact")["id"]
    olivia = browser(api, "olivia")
    response = olivia.post(f"/tasks/{contact}", {
        "action": "complete", "contacted_at-day": "24", "contacted_at-month": "12",
        "contacted_at-year": "2026", "contacted_at-time": "10:30", "method": "phone",
        "summary": "Agreed diary sheets"})
    assert response.status_code == 302
    assert api.get(f"/api/v1/cases/{reference}").get_json()["first_contact_at"] == (
        "2026-12-24T10:30:00Z")
    plan = api.open_task(reference, "agree_action_plan")["id"]
    refused = olivia.post(f"/tasks/{plan}", {"action": "complete", "actions": "Visit\n\n",
                                             "update_frequency": "weekly"})
    assert refused.status_code == 422
    assert "Tick the box to confirm" in refused.get_data(as_text=True)
    done = olivia.post(f"/tasks/{plan}", {"action": "complete", "update_frequency": "weekly",
                                          "actions": "Visit the flat\nSend diary sheets",
                                          "agreed_with_reporter": "yes"})
    assert done.status_code == 302
    summary = olivia.text(f"/tasks/{plan}")
    assert "Visit the flat\nSend diary sheets" in summary and "Weekly" in summary


def test_a_stale_task_shows_the_conflict_and_changes_nothing(api):
    _reference, task_id = _assess(api)
    olivia = browser(api, "olivia")
    olivia.text(f"/tasks/{task_id}")
    complete_by_api(api, task_id, ASSESSMENT, who="tara")
    before = revision(api, task_id)
    audits = len(audit_rows(api, "page.task_completed"))
    response = olivia.post(f"/tasks/{task_id}", {"action": "complete", **GOOD})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This task was completed or changed by someone else" in page
    assert revision(api, task_id) == before
    assert len(audit_rows(api, "page.task_completed")) == audits
    assert task_row(api, task_id).finished_by == "tara"


def test_someone_who_may_not_act_gets_a_read_only_page_and_403(api):
    _reference, task_id = _assess(api)
    oscar = browser(api, "oscar")
    page = oscar.text(f"/tasks/{task_id}")
    assert "you cannot work on it" in page and "Complete task" not in page
    assert 'id="task-form"' not in page
    response = oscar.post(f"/tasks/{task_id}", {"action": "complete", **GOOD})
    assert response.status_code == 403
    assert task_row(api, task_id).state.value == "open"


def test_an_invisible_task_is_404(api):
    _reference, task_id = _assess(api)
    sam = browser(api, "sam")
    assert sam.get(f"/tasks/{task_id}").status_code == 404
    assert sam.post(f"/tasks/{task_id}", {"action": "complete"}).status_code == 404
    assert sam.get("/tasks/" + "x" * 300).status_code == 404
    assert sam.get("/tasks/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_post_without_the_csrf_token_is_400(api):
    _reference, task_id = _assess(api)
    response = browser(api, "olivia").post(f"/tasks/{task_id}", {"action": "complete", **GOOD},
                                           csrf=False)
    assert response.status_code == 400
    assert task_row(api, task_id).state.value == "open"


def test_a_team_leader_completes_a_team_task_held_by_an_officer(api):
    _reference, task_id = _assess(api)
    set_task(api, task_id, due_at=datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    clock.set_now(datetime(2026, 12, 24, 11, 0, tzinfo=UTC))
    tara = browser(api, "tara")
    assert "overdue" in tara.text(f"/tasks/{task_id}")
    assert tara.post(f"/tasks/{task_id}", {"action": "complete", **GOOD}).status_code == 302
    assert task_row(api, task_id).finished_by == "tara"
