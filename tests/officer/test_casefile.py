"""The case file, break-glass access, letters and case search."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from cases.operations import case_by_reference, record_disclosure
from cases.outbox import enqueue
from engine import clock
from tests.api.support import XMAS_EVE
from tests.officer.conftest import audit_rows, token
from web.extensions import unit

ASSESSMENT = {"harm": "medium", "community_impact": "low", "child_at_risk": False,
              "vulnerable_adult": False, "raise_priority": False,
              "vulnerability": {"personal": False, "situational": True, "incidental": False}}
CONTACT = {"contacted_at": "2026-12-24T11:00:00+00:00", "method": "phone",
           "summary": "Talked through the diary sheets"}
PLAN = {"actions": ["Send diary sheets", "Warning letter to number 14"],
        "update_frequency": "weekly", "agreed_with_reporter": True}
LETTER_HTML = "<html><body><h1>Your case</h1><p>We have your report.</p></body></html>"


@pytest.fixture
def ref(api):
    return api.open_case()["reference"]


def page(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def test_the_case_officer_sees_the_whole_case_file_and_the_view_is_audited(api, signed_in, ref):
    html = page(signed_in("olivia"), f"/cases/{ref}")
    for text in (ref, "Priority 1", "Hate", "Confidential", "Rita Reporter", "07700900123",
                 "Racist abuse shouted at my door", "Where the case stands", "Olivia Officer",
                 "First contact", "Due by 29 Dec 2026, 17:00", 'href="/tasks/'):
        assert text in html, text
    (row,) = audit_rows(api, "case.viewed")
    assert (row.actor, row.case_reference) == ("olivia", ref)
    assert row.summary == {"via": "web", "break_glass": False}


@pytest.mark.parametrize(("who", "status"), [
    ("oscar", 200), ("tara", 200), ("maria", 200), ("tom", 404), ("sam", 404),
    ("petra", 403), ("adam", 403), ("paul", 403),
])
def test_who_may_open_the_case_file(api, signed_in, ref, who, status):
    page(signed_in(who), f"/cases/{ref}", status)


def test_a_manager_sees_the_reporters_name_but_not_their_contact_details(signed_in, ref):
    html = page(signed_in("maria"), f"/cases/{ref}")
    assert "Rita Reporter" in html
    assert "07700900123" not in html and "rita@example.org" not in html


def test_strangers_are_sent_to_sign_in_and_unknown_cases_are_404(api, signed_in, ref):
    response = api.app.test_client().get(f"/cases/{ref}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    page(signed_in("olivia"), "/cases/ASB-2026-999999", 404)
    page(signed_in("olivia"), "/cases/not-a-reference", 404)


def test_break_glass_needs_a_reason_grants_thirty_minutes_and_is_audited(api, signed_in, ref):
    sam = signed_in("sam")
    page(sam, f"/cases/{ref}", 404)
    assert "Emergency access" in page(sam, f"/cases/{ref}/break-glass")
    short = sam.post(f"/cases/{ref}/break-glass", data={"reason": "urgent", "csrf_token":
                                                          token(sam)})
    assert short.status_code == 400
    assert "at least 10 characters" in short.get_data(as_text=True)
    page(sam, f"/cases/{ref}", 404)
    assert audit_rows(api, "case.break_glass") == []
    reason = "Caller on the line says the reporter is in danger now"
    done = sam.post(f"/cases/{ref}/break-glass", data={"reason": reason,
                                                        "csrf_token": token(sam)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{ref}")
    assert "emergency access" in page(sam, f"/cases/{ref}")
    (row,) = audit_rows(api, "case.break_glass")
    assert (row.actor, row.case_reference, row.summary["reason"]) == ("sam", ref, reason)
    assert audit_rows(api, "case.viewed")[-1].summary["break_glass"] is True
    clock.set_now(XMAS_EVE + timedelta(minutes=20))
    page(sam, f"/cases/{ref}")
    clock.set_now(XMAS_EVE + timedelta(minutes=31))
    page(sam, f"/cases/{ref}", 404)
    page(signed_in("sam"), f"/cases/{ref}", 404)  # another session has no access


def test_break_glass_is_for_officers_and_team_leaders_and_needs_the_csrf_token(signed_in, ref):
    maria = signed_in("maria")
    assert maria.post(f"/cases/{ref}/break-glass", data={
        "reason": "A long enough reason", "csrf_token": token(maria)}).status_code == 403
    sam = signed_in("sam")
    assert sam.post(f"/cases/{ref}/break-glass",
                    data={"reason": "A long enough reason"}).status_code == 400
    missing = sam.post("/cases/ASB-2026-999999/break-glass",
                       data={"reason": "A long enough reason", "csrf_token": token(sam)})
    assert missing.status_code == 404


def _drive(api, ref):
    for name, data in (("assess_risk", ASSESSMENT), ("first_contact", CONTACT),
                       ("agree_action_plan", PLAN)):
        task = api.open_task(ref, name)
        response = api.post(f"/api/v1/tasks/{task['id']}/complete", "olivia",
                            json={"data": data})
        assert response.status_code == 200, response.get_json()
    with api.app.app_context(), unit() as session:
        case = case_by_reference(session, ref)
        record_disclosure(session, case, at=clock.now(), by="olivia", recipient="Police",
                          what="Incident details", legal_basis="crime_and_disorder_act_s115")
        letter = enqueue(session, recipient_role="reporter", channel="letter",
                         to_address="12 Mill Lane", body_text="We have your report.",
                         body_html=LETTER_HTML, template="acknowledgement",
                         subject="Your report", created_at=clock.now(), case_reference=ref)
        return letter.id


def test_the_timeline_shows_every_kind_of_event_newest_first(api, signed_in, ref):
    _drive(api, ref)
    olivia = signed_in("olivia")
    png = (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    response = olivia.post(f"/cases/{ref}/evidence", data={
        "kind": "photo", "description": "Door", "csrf_token": token(olivia),
        "file": (io.BytesIO(png), "door.png")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    html = page(olivia, f"/cases/{ref}")
    kinds = set(re.findall(r'data-kind="(\w+)"', html))
    assert kinds >= {"incident", "contact", "task", "message", "assessment", "plan",
                     "evidence", "disclosure"}
    assert "Task completed: " in html and "Action plan version 1 agreed" in html
    assert "Send diary sheets" in html and "weekly" in html
    assert "Disclosed to Police" in html


def test_a_letter_can_be_viewed_and_its_pdf_downloaded(api, signed_in, ref):
    letter_id = _drive(api, ref)
    olivia = signed_in("olivia")
    assert "We have your report." in page(olivia, f"/cases/{ref}/letters/{letter_id}")
    response = olivia.get(f"/cases/{ref}/letters/{letter_id}.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    assert audit_rows(api, "letter.downloaded")[0].actor == "olivia"
    page(signed_in("sam"), f"/cases/{ref}/letters/{letter_id}.pdf", 404)
    other = api.open_case()["reference"]
    page(olivia, f"/cases/{other}/letters/{letter_id}.pdf", 404)


@pytest.mark.parametrize("query", ["rita reporter", "RITA", "mill lane", "s40 1ab", "S401AB"])
def test_search_finds_visible_cases_by_name_address_and_postcode(api, signed_in, ref, query):
    html = page(signed_in("olivia"), f"/cases?q={query}")
    assert ref in html


def test_search_by_reference_and_only_among_visible_cases(api, signed_in, ref):
    assert ref in page(signed_in("olivia"), f"/cases?q={ref.lower()}")
    assert ref in page(signed_in("olivia"), f"/cases?q={ref[-6:]}")
    assert ref not in page(signed_in("sam"), "/cases?q=rita")
    assert "No cases you may see" in page(signed_in("sam"), "/cases?q=rita")


@pytest.mark.parametrize("query", ["", "a", "  ", "%_", "'; drop table cases; --", "x" * 500])
def test_search_guides_on_empty_or_short_queries_and_never_fails(signed_in, ref, query):
    html = page(signed_in("olivia"), f"/cases?q={query}")
    assert "Enter at least 3 characters" in html or "No cases you may see" in html


def test_search_pages_its_results(api, signed_in):
    for _ in range(22):
        api.open_case(reporter={"name": "Pat Pager", "phone": "07700900999"})
    olivia = signed_in("olivia")
    first = page(olivia, "/cases?q=pat+pager")
    assert "22 cases match" in first and "Page 1 of 2" in first
    second = page(olivia, "/cases?q=pat+pager&page=2")
    assert second.count('href="/cases/ASB-') == 2
    page(olivia, "/cases?q=pat+pager&page=abc")


def test_search_is_for_case_workers(signed_in, ref):
    page(signed_in("petra"), "/cases?q=rita", 403)
