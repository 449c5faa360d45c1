"""The inbox, one task with its form, claiming and completing through the lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import clock
from tests.api.support import error_of

ASSESSMENT = {"harm": "medium", "community_impact": "low", "child_at_risk": False,
              "vulnerable_adult": False, "raise_priority": False,
              "vulnerability": {"personal": False, "situational": True, "incidental": False}}
CONTACT = {"contacted_at": "2026-12-29T11:00:00+00:00", "method": "phone",
           "summary": "Talked through the diary sheets"}
PLAN = {"actions": ["Send diary sheets"], "update_frequency": "weekly",
        "agreed_with_reporter": True}
CLOSE = {"closure_reason": "resolved", "reporter_told": True, "satisfaction_asked": True,
         "summary": "Resolved"}


def complete(api, task_id, data, who="olivia"):
    return api.post(f"/api/v1/tasks/{task_id}/complete", who, json={"data": data})


def test_the_officers_inbox_lists_the_assess_risk_task(api):
    reference = api.open_case()["reference"]
    response = api.get("/api/v1/tasks?assignee=me&state=open")
    assert response.status_code == 200
    page = response.get_json()
    assert (page["page"], page["per_page"], page["total"]) == (1, 25, 1)
    (task,) = page["items"]
    assert (task["name"], task["assignee"], task["role"], task["due_at"]) == (
        "assess_risk", "olivia", "officer", "2026-12-29T17:00:00Z")
    assert api.get("/api/v1/tasks?assignee=me", "oscar").get_json()["total"] == 0
    # The team leader's queue: every task of the team.
    queue = api.get("/api/v1/tasks", "tara").get_json()
    assert [t["id"] for t in queue["items"]] == [task["id"]]
    assert api.get("/api/v1/tasks", "tom").get_json()["total"] == 0
    del reference


def test_the_inbox_is_sorted_by_due_date_then_id_and_paginated(api):
    api.open_case()  # priority 1: due 29 Dec
    api.open_case(incident={"occurred_at": "2026-12-23T23:30:00Z", "location": "14 Mill Lane",
                            "description": "Loud music", "category": "nuisance"})  # 4 Jan
    api.open_case()
    items = api.get("/api/v1/tasks?assignee=me").get_json()["items"]
    keys = [(t["due_at"], t["id"]) for t in items]
    assert keys == sorted(keys) and len(keys) == 3
    page2 = api.get("/api/v1/tasks?assignee=me&per_page=2&page=2").get_json()
    assert (page2["total"], page2["per_page"], [t["id"] for t in page2["items"]]) == (
        3, 2, [items[2]["id"]])
    assert api.get("/api/v1/tasks?per_page=1000").get_json()["per_page"] == 100


@pytest.mark.parametrize(("query", "field"), [
    ("state=done", "state"), ("assignee=oscar", "assignee"), ("page=0", "page"),
    ("page=two", "page"), ("per_page=-1", "per_page")])
def test_bad_task_filters_are_refused(api, query, field):
    error = error_of(api.get(f"/api/v1/tasks?{query}"), 422, "validation_failed")
    assert field in error["details"]


def test_a_task_answers_with_its_case_and_form_schema(api):
    reference = api.open_case()["reference"]
    task = api.open_task(reference, "assess_risk")
    body = api.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert body["case"] == reference
    assert body["form"]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(body["form"]["required"]) == {"harm", "community_impact"}
    # Visible to the team, not to another team or a process owner.
    assert api.get(f"/api/v1/tasks/{task['id']}", "oscar").status_code == 200
    for who in ("sam", "tom", "petra", "paul"):
        error_of(api.get(f"/api/v1/tasks/{task['id']}", who), 404, "not_found")
    error_of(api.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000"), 404, "not_found")
    error_of(api.get("/api/v1/tasks/" + "x" * 300), 404, "not_found")


def test_the_lifecycle_runs_through_the_api_and_a_second_completion_conflicts(api):
    reference = api.open_case()["reference"]
    assess = api.open_task(reference, "assess_risk")
    done = complete(api, assess["id"], ASSESSMENT)
    assert done.status_code == 200
    (contact,) = done.get_json()["next_tasks"]
    assert done.get_json()["case"] == reference and contact["name"] == "first_contact"
    before = api.counts()
    error_of(complete(api, assess["id"], ASSESSMENT), 409, "conflict")
    assert api.counts() == before
    assert api.get(f"/api/v1/tasks/{assess['id']}").get_json()["state"] == "completed"
    assert complete(api, contact["id"], CONTACT).status_code == 200
    plan = api.open_task(reference, "agree_action_plan")
    clock.set_now(datetime(2026, 12, 30, 10, 0, tzinfo=UTC))
    assert complete(api, plan["id"], PLAN).status_code == 200
    assert api.get(f"/api/v1/cases/{reference}").get_json()["update_frequency"] == "weekly"
    work = api.open_task(reference, "work_case")
    next_tasks = complete(api, work["id"], {"outcome": "Noise stopped"}).get_json()["next_tasks"]
    assert [t["name"] for t in next_tasks] == ["close_case"]
    assert complete(api, next_tasks[0]["id"], CLOSE).status_code == 200
    case = api.get(f"/api/v1/cases/{reference}").get_json()
    assert (case["status"], case["stage"]) == ("closed", "closure")


def test_a_new_incident_on_a_recently_closed_case_reopens_it(api):
    reference = api.open_case()["reference"]
    for name, data in (("assess_risk", ASSESSMENT), ("first_contact", CONTACT),
                       ("agree_action_plan", PLAN), ("work_case", {"outcome": "Done"}),
                       ("close_case", CLOSE)):
        assert complete(api, api.open_task(reference, name)["id"], data).status_code == 200
    clock.set_now(datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    response = api.post(f"/api/v1/cases/{reference}/incidents", json={
        "occurred_at": "2027-01-04T09:00:00Z", "location": "14 Mill Lane",
        "description": "It started again"})
    assert response.status_code == 201
    assert response.get_json()["outcome"] == "reopened"
    assert response.get_json()["case"] == reference
    assert api.get(f"/api/v1/cases/{reference}").get_json()["status"] == "open"


@pytest.mark.parametrize(("data", "field"), [
    ({"community_impact": "low"}, "harm"),
    ({"harm": "awful", "community_impact": "low"}, "harm"),
    ({"harm": "low", "community_impact": "low", "notes": 5}, "notes"),
    ({"harm": "low", "community_impact": "low", "extra": 1}, "extra"),
])
def test_form_errors_are_422_by_field_and_change_nothing(api, data, field):
    task = api.open_task(api.open_case()["reference"], "assess_risk")
    before = api.counts()
    error = error_of(complete(api, task["id"], data), 422, "validation_failed")
    assert field in error["details"]
    assert api.counts() == before
    assert api.get(f"/api/v1/tasks/{task['id']}").get_json()["state"] == "open"


@pytest.mark.parametrize(("kwargs", "status", "code"), [
    ({"json": {"data": "harm"}}, 422, "validation_failed"),
    ({"json": {"data": {}, "more": 1}}, 422, "validation_failed"),
    ({"data": "{oops", "content_type": "application/json"}, 400, "bad_request"),
    ({"data": "harm=low", "content_type": "application/x-www-form-urlencoded"}, 415,
     "unsupported_media_type"),
])
def test_malformed_completions_are_refused(api, kwargs, status, code):
    task = api.open_task(api.open_case()["reference"], "assess_risk")
    before = api.counts()
    error_of(api.post(f"/api/v1/tasks/{task['id']}/complete", **kwargs), status, code)
    assert api.counts() == before


def test_someone_elses_task_is_forbidden_to_a_colleague_but_not_to_the_team_leader(api):
    task = api.open_task(api.open_case()["reference"], "assess_risk")
    before = api.counts()
    error_of(complete(api, task["id"], ASSESSMENT, "oscar"), 403, "forbidden")
    # Claiming: a colleague who could take it were it free is told someone holds it.
    error_of(api.post(f"/api/v1/tasks/{task['id']}/claim", "oscar"), 409, "conflict")
    error_of(api.post(f"/api/v1/tasks/{task['id']}/claim", "maria"), 403, "forbidden")
    error_of(complete(api, task["id"], ASSESSMENT, "sam"), 404, "not_found")
    assert api.counts() == before
    # The team leader may claim nothing held by another, but may complete the team's task.
    error_of(api.post(f"/api/v1/tasks/{task['id']}/claim", "tara"), 409, "conflict")
    assert complete(api, task["id"], ASSESSMENT, "tara").status_code == 200


def test_claiming_your_own_task_answers_200(api):
    task = api.open_task(api.open_case()["reference"], "assess_risk")
    response = api.post(f"/api/v1/tasks/{task['id']}/claim")
    assert response.status_code == 200 and response.get_json()["assignee"] == "olivia"
    assert api.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200


def test_an_unassigned_task_can_be_claimed_by_its_role_and_then_conflicts(api):
    from engine.models import HumanTask
    from web.extensions import unit

    task = api.open_task(api.open_case()["reference"], "assess_risk")
    with api.app.app_context(), unit() as session:
        session.get(HumanTask, task["id"]).assignee = None
    response = api.post(f"/api/v1/tasks/{task['id']}/claim", "oscar")
    assert response.status_code == 200 and response.get_json()["assignee"] == "oscar"
    error_of(api.post(f"/api/v1/tasks/{task['id']}/claim", "olivia"), 409, "conflict")
    done = complete(api, task["id"], ASSESSMENT, "oscar")
    assert done.status_code == 200
    error_of(api.post(f"/api/v1/tasks/{task['id']}/claim", "oscar"), 409, "conflict")


def test_completed_tasks_are_listed_by_state(api):
    task = api.open_task(api.open_case()["reference"], "assess_risk")
    complete(api, task["id"], ASSESSMENT)
    done = api.get("/api/v1/tasks?assignee=me&state=completed").get_json()
    assert [t["id"] for t in done["items"]] == [task["id"]]
    assert api.get("/api/v1/tasks?assignee=me&state=cancelled").get_json()["total"] == 0
