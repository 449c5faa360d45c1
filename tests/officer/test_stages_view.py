"""Starting a stage from the case file: the page, each refusal, access and the audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import HumanTask, ProcessInstance, TaskStatus
from tests.officer.conftest import audit_rows, token
from web.extensions import unit

WARNING = "asb_legal_warning"


@pytest.fixture
def ref(api):
    return api.open_case()["reference"]


def instances(api, process_id):
    with api.app.app_context(), unit() as session:
        return session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.process_id == process_id)) or 0


def test_the_page_lists_the_stages_by_group(signed_in, ref):
    html = signed_in("olivia").get(f"/cases/{ref}/actions").get_data(as_text=True)
    for heading in ("Support and partners", "Evidence", "Legal action"):
        assert heading in html
    for title in ("Refer to partner agencies", "Ask for evidence", "Send a warning letter",
                  "Make a safeguarding referral"):
        assert title in html
    assert 'id="stage"' in html  # the error summary's link has a target


def test_starting_a_stage_opens_its_first_task_and_is_audited(api, signed_in, ref):
    olivia = signed_in("olivia")
    response = olivia.post(f"/cases/{ref}/actions",
                           data={"csrf_token": token(olivia), "stage": WARNING})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/tasks/")
    task_id = response.headers["Location"].rsplit("/", 1)[1]
    with api.app.app_context(), unit() as session:
        task = session.get(HumanTask, task_id)
        assert (task.assignee, task.state) == ("olivia", TaskStatus.OPEN)
        row = session.get(ProcessInstance, task.instance_id)
        assert (row.process_id, row.business_key) == (WARNING, ref)
    (event,) = audit_rows(api, "stage.started")
    assert (event.actor, event.case_reference) == ("olivia", ref)
    assert event.summary["process_id"] == WARNING
    page = olivia.get(f"/cases/{ref}/actions").get_data(as_text=True)
    assert "Already under way on this case" in page


@pytest.mark.parametrize(("form", "message"), [
    ({}, "Select what you want to start"),
    ({"stage": "asb_case"}, "Select one of the actions listed"),
    ({"stage": "x" * 500}, "Select one of the actions listed"),
])
def test_a_bad_choice_is_refused_with_a_message_and_starts_nothing(api, signed_in, ref, form,
                                                                   message):
    olivia = signed_in("olivia")
    before = api.counts()
    response = olivia.post(f"/cases/{ref}/actions", data={"csrf_token": token(olivia), **form})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "There is a problem" in html and 'href="#stage"' in html
    assert api.counts() == before


def test_a_single_stage_cannot_run_twice_at_once(api, signed_in, ref):
    olivia = signed_in("olivia")
    data = {"csrf_token": token(olivia), "stage": WARNING}
    assert olivia.post(f"/cases/{ref}/actions", data=data).status_code == 302
    again = olivia.post(f"/cases/{ref}/actions", data=data)
    assert again.status_code == 400
    assert "already under way on this case" in again.get_data(as_text=True)
    assert instances(api, WARNING) == 1


def test_the_csrf_token_is_required(api, signed_in, ref):
    response = signed_in("olivia").post(f"/cases/{ref}/actions", data={"stage": WARNING})
    assert response.status_code == 400
    assert instances(api, WARNING) == 0


def test_who_may_start_stages(api, signed_in, ref):
    for who, status in (("maria", 403), ("petra", 403), ("sam", 404), ("tom", 404)):
        client = signed_in(who)
        assert client.get(f"/cases/{ref}/actions").status_code == status, who
    assert instances(api, WARNING) == 0


def test_break_glass_access_reads_but_never_starts_a_stage(api, signed_in, ref):
    sam = signed_in("sam")
    granted = sam.post(f"/cases/{ref}/break-glass", data={
        "csrf_token": token(sam), "reason": "Out-of-hours call from the reporter"})
    assert granted.status_code == 302
    assert sam.get(f"/cases/{ref}").status_code == 200
    assert sam.get(f"/cases/{ref}/actions").status_code == 403
    refused = sam.post(f"/cases/{ref}/actions", data={"csrf_token": token(sam), "stage": WARNING})
    assert refused.status_code == 403
    assert instances(api, WARNING) == 0


def test_the_case_file_links_to_the_stages_only_for_those_who_may_start_them(signed_in, ref):
    link = f'href="/cases/{ref}/actions"'
    assert link in signed_in("olivia").get(f"/cases/{ref}").get_data(as_text=True)
    assert link not in signed_in("maria").get(f"/cases/{ref}").get_data(as_text=True)


def test_the_case_file_shows_legal_action_with_its_dated_steps(api, signed_in, ref):
    from datetime import timedelta

    from cases.legal import LegalTool, open_action, record_step
    from cases.operations import case_by_reference
    from engine import clock

    with api.app.app_context(), unit() as session:
        case = case_by_reference(session, ref)
        action = open_action(session, case, LegalTool.COMMUNITY_PROTECTION, at=clock.now(),
                             by="olivia")
        record_step(session, action, "cpw_served", at=clock.now(), by="olivia",
                    due_at=clock.now() + timedelta(days=14))
    html = signed_in("olivia").get(f"/cases/{ref}").get_data(as_text=True)
    section = html[html.index('id="casework"'):]
    assert "Community protection</strong>, started" in section
    assert "cpw served" in section and "under way" in section
    assert "Nothing yet." not in section
