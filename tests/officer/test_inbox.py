"""The inbox: who sees which tasks, deadlines in working days, filters, sorting, paging, claims."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import clock
from engine.calendar import default_calendar
from tests.officer.support import audit_rows, browser, set_case, set_task, task_row
from web.officer.queues import deadline

NUISANCE = {"occurred_at": "2026-12-23T23:30:00Z", "location": "14 Mill Lane",
            "description": "Loud music", "category": "nuisance"}


def _assess(api, **overrides):
    reference = api.open_case(**overrides)["reference"]
    return reference, api.open_task(reference, "assess_risk")["id"]


def test_an_officer_sees_their_task_with_link_title_priority_and_deadline(api):
    reference, task_id = _assess(api)
    page = browser(api, "olivia").text("/inbox")
    assert f'href="/cases/{reference}"' in page
    assert f'href="/tasks/{task_id}"' in page and "Assess the risk" in page
    assert "govuk-tag--red" in page and "P1" in page
    assert "29 December 2026" in page and "1 working day left" in page
    assert "My tasks (<span data-count=\"mine\">1</span>)" in page
    # A colleague does not hold it; the other team cannot see it at all.
    assert task_id not in browser(api, "oscar").text("/inbox")
    assert task_id not in browser(api, "sam").text("/inbox?view=team")


def test_the_teams_unclaimed_tasks_are_the_teams_only(api):
    _reference, task_id = _assess(api)
    set_task(api, task_id, assignee=None)
    assert task_id in browser(api, "oscar").text("/inbox?view=team")
    assert task_id in browser(api, "tara").text("/inbox?view=team")
    assert task_id not in browser(api, "oscar").text("/inbox")
    for who in ("sam", "tom"):
        assert task_id not in browser(api, who).text("/inbox?view=team")


@pytest.mark.parametrize(("now", "wording"), [
    (datetime(2026, 12, 24, 10, 0, tzinfo=UTC), "1 working day left"),  # over Christmas
    (datetime(2026, 12, 29, 10, 0, tzinfo=UTC), "due today"),
    (datetime(2026, 12, 29, 17, 30, tzinfo=UTC), "overdue (was due today)"),
    (datetime(2026, 12, 30, 10, 0, tzinfo=UTC), "overdue by 1 working day"),
    (datetime(2027, 1, 4, 10, 0, tzinfo=UTC), "overdue by 3 working days"),  # New Year's Day
])
def test_deadline_wording_counts_working_days(now, wording):
    found = deadline(datetime(2026, 12, 29, 17, 0, tzinfo=UTC), now)
    assert found is not None
    assert (found.date, found.wording) == ("29 December 2026", wording)


def test_deadline_wording_across_a_weekend():
    due = default_calendar().due_after_working_days(datetime(2027, 1, 8, 10, tzinfo=UTC), 2)
    assert deadline(due, datetime(2027, 1, 8, 10, tzinfo=UTC)).wording == "2 working days left"
    assert deadline(due, datetime(2027, 1, 9, 12, tzinfo=UTC)).wording == "2 working days left"
    assert deadline(due, datetime(2027, 1, 11, 12, tzinfo=UTC)).wording == "1 working day left"
    assert deadline(None, datetime(2027, 1, 11, 12, tzinfo=UTC)) is None


def test_the_page_shows_overdue_after_the_deadline(api):
    _reference, task_id = _assess(api)
    clock.set_now(datetime(2026, 12, 30, 10, 0, tzinfo=UTC))
    olivia = browser(api, "olivia")
    assert "overdue by 1 working day" in olivia.text("/inbox")
    assert task_id in olivia.text("/inbox?due=overdue")
    assert task_id not in olivia.text("/inbox?due=today")
    assert task_id not in olivia.text("/inbox?due=soon")


def test_due_today_and_due_soon_sections(api):
    _reference, task_id = _assess(api)
    olivia = browser(api, "olivia")
    assert task_id in olivia.text("/inbox?due=soon")  # 1 working day away over Christmas
    assert task_id not in olivia.text("/inbox?due=today")
    clock.set_now(datetime(2026, 12, 29, 9, 0, tzinfo=UTC))
    olivia = browser(api, "olivia")  # the old session timed out while the clock moved
    assert task_id in olivia.text("/inbox?due=today")
    assert task_id not in olivia.text("/inbox?due=soon")


def test_filters_by_priority_stage_area_and_task_type(api):
    _r1, p1 = _assess(api)
    r2, p2 = _assess(api, incident=NUISANCE)
    set_case(api, r2, priority=2, area="Brimington")
    olivia = browser(api, "olivia")
    page = olivia.text("/inbox?area=St+Helen%27s")
    assert p1 in page and p2 not in page
    page = olivia.text("/inbox?priority=1")
    assert p1 in page and p2 not in page
    page = olivia.text("/inbox?priority=2")
    assert p2 in page and p1 not in page
    page = olivia.text("/inbox?task=assess_risk")
    assert p1 in page and p2 in page
    stage = task_stage(api, p1)
    assert p1 in olivia.text(f"/inbox?stage={stage}")
    assert p1 not in olivia.text("/inbox?stage=legal_action" if stage != "legal_action"
                                 else "/inbox?stage=closure")


def task_stage(api, task_id):
    from sqlalchemy import select

    from cases.records import Case
    from web.extensions import unit

    with api.app.app_context(), unit() as session:
        return session.scalar(select(Case.stage).where(
            Case.reference == task_row(api, task_id).business_key)).value


@pytest.mark.parametrize("query", ["priority=9", "stage=nonsense", "area=Atlantis",
                                   "task=%3Cscript%3E", "sort=colour", "view=everyone",
                                   "due=yesterday", "page=abc", "page=0"])
def test_a_bad_filter_is_ignored_with_a_message(api, query):
    _reference, task_id = _assess(api)
    response = browser(api, "olivia").get(f"/inbox?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "was ignored" in page or "the first page is shown" in page
    assert task_id in page
    assert "<script>" not in page.split("</header>")[1].replace("<script type", "")


def test_sorting_by_due_date_or_priority(api):
    _r1, p1 = _assess(api)
    r2, p2 = _assess(api, incident=NUISANCE)
    set_case(api, r2, priority=2)
    set_task(api, p1, due_at=datetime(2027, 1, 20, 17, 0, tzinfo=UTC))
    olivia = browser(api, "olivia")
    page = olivia.text("/inbox")
    assert page.index(p2) < page.index(p1)
    page = olivia.text("/inbox?sort=priority")
    assert page.index(p1) < page.index(p2)


def test_pagination_boundaries(api):
    ids = [_assess(api, incident=NUISANCE)[1] for _ in range(26)]
    olivia = browser(api, "olivia")
    first = olivia.text("/inbox")
    assert sum(i in first for i in ids) == 25
    assert "govuk-pagination" in first and "Page 1 of 2" in first
    second = olivia.text("/inbox?page=2")
    assert sum(i in second for i in ids) == 1 and "Page 2 of 2" in second
    beyond = olivia.text("/inbox?page=3")
    assert "There is no page 3" in beyond and "Page 2 of 2" in beyond


def test_exactly_25_tasks_fit_one_page(api):
    for _ in range(25):
        _assess(api, incident=NUISANCE)
    page = browser(api, "olivia").text("/inbox")
    assert "govuk-pagination" not in page and "Page 1 of 1" in page


def test_claiming_an_unclaimed_task_and_a_second_claim_conflicts(api):
    _reference, task_id = _assess(api)
    set_task(api, task_id, assignee=None)
    oscar = browser(api, "oscar")
    response = oscar.post(f"/tasks/{task_id}/claim")
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    assert task_row(api, task_id).assignee == "oscar"
    assert "You claimed" in oscar.text("/inbox")
    refused = browser(api, "olivia").post(f"/tasks/{task_id}/claim")
    assert refused.status_code == 409
    assert "completed or changed by someone else" in refused.get_data(as_text=True)
    assert task_row(api, task_id).assignee == "oscar"
    assert browser(api, "sam").post(f"/tasks/{task_id}/claim").status_code == 404
    assert len(audit_rows(api, "page.task_claimed")) == 1


def test_claim_needs_the_csrf_token(api):
    _reference, task_id = _assess(api)
    set_task(api, task_id, assignee=None)
    assert browser(api, "oscar").post(f"/tasks/{task_id}/claim", csrf=False).status_code == 400
    assert task_row(api, task_id).assignee is None


def test_release_by_the_holder_or_a_team_leader_only(api):
    _reference, task_id = _assess(api)
    assert browser(api, "oscar").post(f"/tasks/{task_id}/release").status_code == 403
    assert task_row(api, task_id).assignee == "olivia"
    assert browser(api, "olivia").post(f"/tasks/{task_id}/release").status_code == 302
    assert task_row(api, task_id).assignee is None
    # Nobody holds it now: nothing to release.
    assert browser(api, "tara").post(f"/tasks/{task_id}/release").status_code == 409
    browser(api, "oscar").post(f"/tasks/{task_id}/claim")
    assert browser(api, "tara").post(f"/tasks/{task_id}/release").status_code == 302
    assert task_row(api, task_id).assignee is None
    assert len(audit_rows(api, "page.task_released")) == 2


def test_a_team_leader_reassigns_to_an_officer_of_their_team(api):
    _reference, task_id = _assess(api)
    tara = browser(api, "tara")
    assert 'name="officer"' in tara.text("/inbox?view=all_team")
    assert tara.post(f"/tasks/{task_id}/assign", {"officer": "oscar"}).status_code == 302
    assert task_row(api, task_id).assignee == "oscar"
    (row,) = audit_rows(api, "page.task_assigned")
    assert (row.actor, row.summary["from_user"], row.summary["to_user"]) == (
        "tara", "olivia", "oscar")
    assert tara.post(f"/tasks/{task_id}/assign", {"officer": "sam"}).status_code == 400
    assert tara.post(f"/tasks/{task_id}/assign", {}).status_code == 400
    assert browser(api, "olivia").post(f"/tasks/{task_id}/assign",
                                       {"officer": "olivia"}).status_code == 403
    assert browser(api, "tom").post(f"/tasks/{task_id}/assign",
                                    {"officer": "sam"}).status_code == 404
    assert task_row(api, task_id).assignee == "oscar"


def test_counts_json_for_a_session_only(api):
    _reference, task_id = _assess(api)
    set_task(api, task_id, due_at=datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    body = browser(api, "olivia").get("/inbox/counts.json").get_json()
    assert body == {"mine": 1, "team": 0, "mine_overdue": 1, "mine_today": 0}
    assert browser(api, "tara").get("/inbox/counts.json").get_json()["all_team"] == 1
    assert api.client().get("/inbox/counts.json").status_code == 401
    assert api.get("/inbox/counts.json", "olivia").status_code == 401  # a token is not enough


def test_the_inbox_loads_its_script_with_the_nonce_and_is_audited(api):
    response = browser(api, "olivia").get("/inbox")
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}" src="/static/js/inbox.js"' in response.get_data(as_text=True)
    assert [r.actor for r in audit_rows(api, "page.inbox_viewed")][-1] == "olivia"


def test_other_roles_do_not_get_the_inbox(api):
    assert browser(api, "petra").get("/inbox").status_code == 403
    assert api.client().get("/inbox").status_code == 302
