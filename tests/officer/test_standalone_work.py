"""Complaint and Case Review work has its own reference, not a case's: its unassigned tasks
wait in the inbox of everyone in the lane's role, and nobody else's."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import HumanTask, TaskStatus
from tasks.complaints import make_complaint
from tests.officer.support import browser
from web.extensions import case_engine, unit


def _complaint(api) -> tuple[str, str]:
    with api.app.app_context(), unit() as session:
        complaint = make_complaint(
            session, case_engine(), complainant={"name": "Carol Complainant",
                                                 "email": "carol@example.org"},
            about="Nobody called me back about the noise", actor="maria")
        task = session.scalars(select(HumanTask).where(
            HumanTask.business_key == complaint.reference,
            HumanTask.state == TaskStatus.OPEN)).one()
        assert (task.name, task.role, task.assignee) == ("acknowledge_complaint",
                                                         "team_leader", None)
        return complaint.reference, task.id


def test_an_unassigned_complaint_task_waits_for_the_role_and_can_be_claimed(api):
    reference, task_id = _complaint(api)
    tara, tom = browser(api, "tara"), browser(api, "tom")
    for leader in (tara, tom):   # any team leader: a complaint belongs to no team
        assert reference in leader.text("/inbox?view=team")
        assert leader.get(f"/tasks/{task_id}").status_code == 200
    claimed = tara.post(f"/tasks/{task_id}/claim")
    assert claimed.status_code == 302
    assert reference in tara.text("/inbox")
    assert reference not in tom.text("/inbox?view=team")


def test_other_roles_neither_see_nor_open_it(api):
    reference, task_id = _complaint(api)
    olivia = browser(api, "olivia")
    assert reference not in olivia.text("/inbox?view=team")
    assert olivia.get(f"/tasks/{task_id}").status_code == 404
    assert olivia.post(f"/tasks/{task_id}/claim").status_code == 404
