"""A manager's actions on an instance, through the pages: each with its effect and its audit
entry (who and why); each refusal re-shows the form and changes nothing.

The cases are those of instances_support.py, opened through the API on the shipped processes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from cases.audit import AuditEvent
from engine import clock
from engine.models import HumanTask, Incident, IncidentStatus, ProcessInstance, TaskStatus
from tests.manager.instances_support import (
    build_world,
    open_task_id,
    run_worker,
    set_officers_active,
)
from tests.officer.support import audit_rows, browser
from web.extensions import unit

AFTER_DEADLINE = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def world(tmp_path):
    world = build_world(tmp_path, incident=False)
    clock.set_now(datetime(2026, 12, 29, 9, 0, tzinfo=UTC))  # before a's first-contact deadline
    return world


@pytest.fixture
def maria(world):
    return browser(world.api, "maria")


def _instance(world, key: str) -> ProcessInstance:
    with world.api.app.app_context(), unit() as session:
        row = session.get(ProcessInstance, world.ids[key])
        session.expunge(row)
        return row


def _open(world, key: str) -> dict[str, str | None]:
    with world.api.app.app_context(), unit() as session:
        return dict(session.execute(select(HumanTask.name, HumanTask.assignee).where(
            HumanTask.business_key == world.refs[key], HumanTask.state == TaskStatus.OPEN)).all())


def _state(world) -> tuple:
    """Everything a refused action must leave as it was."""
    with world.api.app.app_context(), unit() as session:
        rows = session.execute(select(ProcessInstance.id, ProcessInstance.status,
                                      ProcessInstance.revision, ProcessInstance.next_timer_at)
                               .order_by(ProcessInstance.id)).all()
        tasks = session.execute(select(HumanTask.id, HumanTask.state, HumanTask.assignee)
                                .order_by(HumanTask.id)).all()
        changes = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.not_like("page.%")))
    return [tuple(r) for r in rows], [tuple(t) for t in tasks], changes


def test_suspend_holds_the_deadline_until_resume(world, maria):
    a = world.ids["a"]
    form = maria.text(f"/instances/{a}/suspend")
    assert "Why are you doing this?" in form and "cannot be claimed or completed" in form
    response = maria.post(f"/instances/{a}/suspend", {"reason": "Reporter in hospital"})
    assert (response.status_code, response.location) == (302, f"/instances/{a}")
    assert "The process is suspended." in maria.text(f"/instances/{a}")
    row = _instance(world, "a")
    assert (row.status.value, row.next_timer_at) == ("suspended", None)
    (event,) = audit_rows(world.api, "instance_suspended")
    assert (event.actor, event.case_reference, event.summary["reason"]) == (
        "maria", world.refs["a"], "Reporter in hospital")
    assert f'data-instance="{a}"' in maria.text("/instances?status=suspended")

    # The officer cannot complete the held case's task meanwhile.
    task = open_task_id(world.api, world.refs["a"], "first_contact")
    refused = world.api.post(f"/api/v1/tasks/{task}/complete", "olivia", json={"data": {
        "contacted_at": "2026-12-29T08:30:00+00:00", "method": "phone", "summary": "Spoke"}})
    assert refused.status_code == 409 and "suspended" in refused.get_json()["error"]["message"]
    clock.set_now(AFTER_DEADLINE)
    run_worker(world)
    assert _open(world, "a") == {"first_contact": "olivia"}  # no escalation while held
    maria = browser(world.api, "maria")  # a new day, a new sign-in

    response = maria.post(f"/instances/{a}/resume", {"reason": "Back home"})
    assert response.status_code == 302
    (event,) = audit_rows(world.api, "instance_resumed")
    assert (event.actor, event.summary["reason"]) == ("maria", "Back home")
    run_worker(world)
    assert _open(world, "a") == {"first_contact": "olivia", "first_contact_overdue": "tara"}


def test_cancel_ends_it_and_takes_the_tasks_out_of_the_inbox(world, maria):
    task = open_task_id(world.api, world.refs["a"], "first_contact")
    assert task in browser(world.api, "olivia").text("/inbox")
    response = maria.post(f"/instances/{world.ids['a']}/cancel", {"reason": "Opened twice"})
    assert response.status_code == 302
    assert _instance(world, "a").status.value == "cancelled"
    assert _open(world, "a") == {}
    assert task not in browser(world.api, "olivia").text("/inbox")
    (event,) = audit_rows(world.api, "instance_cancelled")
    assert (event.actor, event.summary["reason"], event.summary["tasks_cancelled"]) == (
        "maria", "Opened twice", 1)
    page = maria.text(f"/instances/{world.ids['a']}")
    assert "Cancelled" in page and 'id="instance-actions"' not in page
    assert "Cancelled 29 Dec 2026, 09:00 by maria" in page  # maria has no display name


def test_reassign_moves_a_task_to_the_other_officer_s_inbox(world, maria):
    task = open_task_id(world.api, world.refs["a"], "first_contact")
    form = maria.text(f"/instances/{world.ids['a']}/reassign?task={task}")
    assert f'value="{task}" checked' in form
    assert "Oscar Officer (officer, North)" in form and "Tara Leader" not in form
    response = maria.post(f"/instances/{world.ids['a']}/reassign", {
        "task": task, "to": str(world.users["oscar"]), "reason": "Olivia is on leave"})
    assert response.status_code == 302
    assert _open(world, "a") == {"first_contact": "oscar"}
    assert task in browser(world.api, "oscar").text("/inbox")
    assert task not in browser(world.api, "olivia").text("/inbox")
    (event,) = audit_rows(world.api, "task_reassigned")
    assert (event.actor, event.object_id, event.summary["from"], event.summary["to"],
            event.summary["reason"]) == ("maria", task, "olivia", "oscar", "Olivia is on leave")


def test_reassign_a_selection_at_once(world, maria):
    with world.api.app.app_context(), unit() as session:
        world.engine.send_message(session, world.refs["a"], "change_of_circumstances",
                                  {"note": "x"}, actor="api")
    tasks = [open_task_id(world.api, world.refs["a"], n) for n in ("first_contact", "review_risk")]
    response = maria.client.post(f"/instances/{world.ids['a']}/reassign", data={
        "csrf_token": maria.token, "task": tasks, "to": str(world.users["oscar"]),
        "reason": "Oscar takes the case over"})
    assert response.status_code == 302
    assert _open(world, "a") == {"first_contact": "oscar", "review_risk": "oscar"}
    assert len(audit_rows(world.api, "task_reassigned")) == 2


@pytest.mark.parametrize(("path", "data", "status", "message"), [
    ("suspend", {"reason": ""}, 400, "Enter why you are doing this"),
    ("cancel", {"reason": "   "}, 400, "Enter why you are doing this"),
    ("resume", {"reason": "Go on"}, 409, "The process is not suspended."),
    ("reassign", {"task": "{task}", "to": "{tara}", "reason": "Tara knows the family"}, 409,
     "Tara Leader cannot take this: &#39;Make first contact&#39; is work for the role officer"),
    ("reassign", {"task": "{task}", "to": "{oscar}", "reason": ""}, 400,
     "Enter why you are doing this"),
    ("reassign", {"to": "{oscar}", "reason": "Leave"}, 400, "Choose at least one task"),
    ("reassign", {"task": "{task}", "to": "olivia", "reason": "Leave"}, 400,
     "Choose who should do the tasks"),
])
def test_refusals_show_the_form_again_and_change_nothing(world, maria, path, data, status,
                                                         message):
    task = open_task_id(world.api, world.refs["a"], "first_contact")
    form = {k: v.format(task=task, tara=world.users["tara"], oscar=world.users["oscar"])
            for k, v in data.items()}
    before = _state(world)
    response = maria.post(f"/instances/{world.ids['a']}/{path}", form)
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert "There is a problem" in page and message in page
    assert '<form method="post"' in page
    assert _state(world) == before


def test_a_cancelled_instance_refuses_every_action(world, maria):
    a = world.ids["a"]
    assert maria.post(f"/instances/{a}/cancel", {"reason": "Duplicate"}).status_code == 302
    before = _state(world)
    for action in ("suspend", "cancel"):
        response = maria.post(f"/instances/{a}/{action}", {"reason": "Again"})
        assert response.status_code == 409
        assert "The process has ended (cancelled)." in response.get_data(as_text=True)
    task = open_task_id(world.api, world.refs["b"], "assess_risk")  # another case's task
    response = maria.post(f"/instances/{a}/reassign", {"task": task, "to": world.users["oscar"],
                                                       "reason": "X"})
    assert response.status_code == 400
    assert _state(world) == before


def test_without_the_csrf_token_or_as_another_role_nothing_happens(world, maria):
    before = _state(world)
    url = f"/instances/{world.ids['a']}/suspend"
    assert maria.post(url, {"reason": "Hold"}, csrf=False).status_code == 400
    assert browser(world.api, "tara").post(url, {"reason": "Hold"}).status_code == 403
    assert browser(world.api, "adam").post(url, {"reason": "Hold"}).status_code == 403
    assert _state(world) == before


def test_retry_reruns_the_failed_step(tmp_path):
    world = build_world(tmp_path)  # d's officer assignment failed: nobody was active
    maria = browser(world.api, "maria")
    with world.api.app.app_context(), unit() as session:
        incident_id = session.scalar(select(Incident.id).where(
            Incident.instance_id == world.ids["d"]))
    url = f"/instances/{world.ids['d']}/incidents/{incident_id}/retry"
    assert "no active officer" in maria.text(url)
    before = _state(world)
    assert maria.post(url, {"reason": ""}).status_code == 400
    assert _state(world) == before
    set_officers_active(world.api, False)
    response = maria.post(url, {"reason": "Try once more"})
    assert response.status_code == 302
    assert "failed again" in maria.text(f"/instances/{world.ids['d']}")
    set_officers_active(world.api, True)
    response = maria.post(url, {"reason": "Officers are back"})
    assert response.status_code == 302
    assert "ran again and succeeded" in maria.text(f"/instances/{world.ids['d']}")
    with world.api.app.app_context(), unit() as session:
        incident = session.get(Incident, incident_id)
        assert (incident.status, incident.attempts) == (IncidentStatus.RESOLVED, 2)
    assert list(_open(world, "d")) == ["assess_risk"]
    events = audit_rows(world.api, "incident_retried")
    assert [(e.actor, e.task_name, e.summary["reason"]) for e in events] == [
        ("maria", "assign_officer", "Try once more"),
        ("maria", "assign_officer", "Officers are back")]
    response = maria.post(url, {"reason": "Again"})
    assert response.status_code == 409
    assert "The incident is resolved already." in response.get_data(as_text=True)


def test_an_officer_completing_a_task_of_a_suspended_case_is_told_why(world, maria):
    a = world.ids["a"]
    maria.post(f"/instances/{a}/suspend", {"reason": "Reporter in hospital"})
    task = open_task_id(world.api, world.refs["a"], "first_contact")
    before = _state(world)
    olivia = browser(world.api, "olivia")
    response = olivia.post(f"/tasks/{task}", {
        "contacted_at-day": "29", "contacted_at-month": "12", "contacted_at-year": "2026",
        "contacted_at-time": "08:30", "method": "phone", "summary": "Spoke"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Nothing was saved: the process is suspended: a manager must resume it first" in page
    assert _state(world)[:2] == before[:2]
