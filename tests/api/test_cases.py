"""POST /cases, GET /cases/{reference}, its tasks, and new incidents."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from tests.api.support import error_of, report


def test_hate_report_on_christmas_eve_is_priority_one_with_a_deadline_in_utc(api):
    body = api.open_case()
    assert body["priority"] == 1 and body["status"] == "open"
    assert body["received_at"] == "2026-12-24T10:00:00Z"
    assert body["first_contact_due_at"] == "2026-12-29T17:00:00Z"
    assert body["case_officer"]["username"] == "olivia"
    assert body["reference"].startswith("ASB-2026-")


def test_a_nuisance_report_is_priority_two_and_received_at_defaults_to_now(api):
    without = report(incident={"occurred_at": "2026-12-23T23:30:00Z", "location": "14 Mill Lane",
                               "description": "Loud music", "category": "nuisance"})
    del without["received_at"]
    response = api.post("/api/v1/cases", json=without)
    assert response.status_code == 201
    assert response.get_json()["priority"] == 2
    assert response.get_json()["received_at"] == "2026-12-24T10:00:00Z"


def test_a_time_with_an_offset_is_kept_and_answered_in_utc(api):
    body = api.open_case(received_at="2026-12-24T11:00:00+01:00")
    assert body["received_at"] == "2026-12-24T10:00:00Z"


BAD_REPORTS = [
    ({"channel": "phone"}, ["reporter", "incident"]),
    ({"channel": "pigeon"}, ["channel"]),
    ({"channel": 5}, ["channel"]),
    ({"reporter": "Rita"}, ["reporter"]),
    ({"reporter": {"name": "Rita"}}, ["reporter.phone"]),
    ({"reporter": {"name": "Rita", "email": "not-an-email"}}, ["reporter.email"]),
    ({"incident": {"occurred_at": "yesterday", "location": "x", "description": "y",
                   "category": "personal"}}, ["incident.occurred_at"]),
    ({"incident": {"occurred_at": "2026-12-23T10:00:00Z", "location": "x", "description": "y",
                   "category": "noise"}}, ["incident.category"]),
    ({"incident": {"occurred_at": "2026-12-23T10:00:00Z", "location": "x", "description": "y",
                   "category": "personal", "hate_strands": ["height"]}},
     ["incident.hate_strands.0"]),
    ({"vulnerability": {"child_at_risk": "yes"}}, ["vulnerability.child_at_risk"]),
    ({"received_at": "soon"}, ["received_at"]),
    ({"received_at": 12}, ["received_at"]),
    ({"received_at": "2027-01-01T10:00:00Z"}, ["received_at"]),
    ({"surprise": True}, ["surprise"]),
]


@pytest.mark.parametrize(("change", "fields"), BAD_REPORTS)
def test_bad_reports_are_refused_field_by_field_and_change_nothing(api, change, fields):
    body = report(**change)
    if change == {"channel": "phone"}:
        body = {"channel": "phone"}
    before = api.counts()
    error = error_of(api.post("/api/v1/cases", json=body), 422, "validation_failed")
    for field in fields:
        assert field in error["details"], error
    assert api.counts() == before


@pytest.mark.parametrize(("data", "content_type", "status", "code"), [
    ("{not json", "application/json", 400, "bad_request"),
    ("[1, 2]", "application/json", 400, "bad_request"),
    ("null", "application/json", 400, "bad_request"),
    ('{"channel": "phone"}', "text/plain", 415, "unsupported_media_type"),
    ("", None, 415, "unsupported_media_type"),
])
def test_malformed_bodies_are_refused(api, data, content_type, status, code):
    before = api.counts()
    response = api.post("/api/v1/cases", data=data, content_type=content_type)
    error_of(response, status, code)
    assert api.counts() == before


@pytest.mark.parametrize("who", ["petra", "paul"])
def test_process_owners_and_partners_may_not_open_cases(api, who):
    before = api.counts()
    error_of(api.post("/api/v1/cases", who, json=report()), 403, "forbidden")
    assert api.counts() == before


def test_the_case_reads_with_its_officer_stage_and_is_audited(api):
    reference = api.open_case()["reference"]
    response = api.get(f"/api/v1/cases/{reference}")
    assert response.status_code == 200
    case = response.get_json()
    assert case["stage"] == "triage" and case["update_frequency"] is None
    assert case["case_officer"] == {"username": "olivia", "name": "Olivia Officer",
                                    "email": "olivia@council.example.org",
                                    "phone": "01246 111222"}
    with api.app.app_context():
        from web.extensions import unit

        with unit() as session:
            viewed = session.scalars(select(AuditEvent).where(
                AuditEvent.action == "case.viewed")).all()
            assert [(v.actor, v.case_reference) for v in viewed] == [("olivia", reference)]
            assert "Rita" not in str(viewed[0].summary)


@pytest.mark.parametrize("who", ["sam", "tom", "petra", "paul"])
def test_a_case_outside_your_team_and_areas_is_not_found(api, who):
    reference = api.open_case()["reference"]
    before = api.counts()
    error_of(api.get(f"/api/v1/cases/{reference}", who), 404, "not_found")
    error_of(api.get(f"/api/v1/cases/{reference}/tasks", who), 404, "not_found")
    assert api.counts() == before


def test_an_unknown_case_is_not_found(api):
    error_of(api.get("/api/v1/cases/ASB-2026-999999"), 404, "not_found")


def test_the_case_tasks_list_open_and_completed_tasks(api):
    reference = api.open_case()["reference"]
    (task,) = api.tasks_of(reference)
    assert task["name"] == "assess_risk" and task["state"] == "open"
    assert set(task) == {"id", "name", "title", "state", "role", "assignee", "due_at"}
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {
        "harm": "low", "community_impact": "low"}})
    assert done.status_code == 200
    states = {t["name"]: t["state"] for t in api.tasks_of(reference)}
    assert states == {"assess_risk": "completed", "first_contact": "open"}


INCIDENT = {"occurred_at": "2026-12-24T09:00:00", "location": "14 Mill Lane",
            "description": "More shouting this morning"}


def test_a_new_incident_goes_to_the_open_case_and_opens_a_review(api):
    reference = api.open_case()["reference"]
    response = api.post(f"/api/v1/cases/{reference}/incidents", json=INCIDENT)
    assert response.status_code == 201
    assert response.get_json() == {"case": reference, "outcome": "added", "status": "open",
                                   "linked_from": None}
    assert "review_incident" in [t["name"] for t in api.tasks_of(reference)]


@pytest.mark.parametrize(("body", "field"), [
    ({**INCIDENT, "occurred_at": "not a time"}, "occurred_at"),
    ({"occurred_at": "2026-12-24T09:00:00Z", "location": "x"}, "description"),
    ({**INCIDENT, "colour": "red"}, "colour"),
    ({**INCIDENT, "category": "loud"}, "category"),
])
def test_bad_incidents_are_refused_and_change_nothing(api, body, field):
    reference = api.open_case()["reference"]
    before = api.counts()
    error = error_of(api.post(f"/api/v1/cases/{reference}/incidents", json=body), 422,
                     "validation_failed")
    assert field in error["details"]
    assert api.counts() == before


def test_incidents_on_invisible_or_unknown_cases_are_not_found(api):
    reference = api.open_case()["reference"]
    before = api.counts()
    error_of(api.post(f"/api/v1/cases/{reference}/incidents", "sam", json=INCIDENT), 404,
             "not_found")
    error_of(api.post("/api/v1/cases/ASB-2026-424242/incidents", json=INCIDENT), 404,
             "not_found")
    assert api.counts() == before
