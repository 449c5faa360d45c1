"""What the reporter sends reaches the running case; their page shows nobody else."""

from __future__ import annotations

import io

from sqlalchemy import select

from cases.challenge import Complaint
from cases.evidence import EvidenceItem
from cases.records import Case
from tests.reporter.support import audits, open_tasks, post, send_report
from web.extensions import unit

WHEN = {"incident_day": "24", "incident_month": "12", "incident_year": "2026",
        "incident_time": "08:15"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _sent(client, path, data, **kw):
    response = post(client, path, data, **kw)
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    assert "Thank you" in response.get_data(as_text=True)
    return response


def test_a_new_incident_reaches_the_officer(api):
    client, ref, _, _ = send_report(api)
    _sent(client, "/my-case/incident", {**WHEN, "location": "Outside 14 Mill Lane",
                                        "description": "Bins kicked over", "category": "nuisance"})
    assert "review_incident" in open_tasks(api, ref)
    assert "A new incident" in client.get("/my-case").get_data(as_text=True)
    assert audits(api, "reporter.incident_added")[0].summary["how"] == "added"


def test_a_diary_entry_reaches_the_officer(api):
    client, ref, _, _ = send_report(api)
    _sent(client, "/my-case/diary", {**WHEN, "what_happened": "Music until 3am",
                                     "effect": "No sleep"})
    assert "review_diary_entry" in open_tasks(api, ref)
    assert "A diary entry" in client.get("/my-case").get_data(as_text=True)


def test_evidence_is_stored_on_the_case(api, signed_in):
    client, ref, _, _ = send_report(api)
    _sent(client, "/my-case/evidence", {"kind": "photo", "description": "The door",
                                        "file": (io.BytesIO(PNG), "door.png")},
          content_type="multipart/form-data")
    with api.app.app_context(), unit() as session:
        item = session.scalars(select(EvidenceItem).join(Case).where(Case.reference == ref)).one()
        assert item.uploaded_by == "reporter"
    assert "door.png" in signed_in("olivia").get(f"/cases/{ref}").get_data(as_text=True)


def test_evidence_of_the_wrong_type_is_refused_and_nothing_stored(api):
    client, ref, _, _ = send_report(api)
    response = post(client, "/my-case/evidence", {"kind": "photo",
                                                  "file": (io.BytesIO(b"MZ\x90\x00"), "x.png")},
                    content_type="multipart/form-data")
    assert response.status_code == 400 and "There is a problem" in response.get_data(True)
    with api.app.app_context(), unit() as session:
        assert session.scalars(select(EvidenceItem)).first() is None


def test_a_change_of_circumstances_reopens_the_risk_assessment(api, signed_in):
    client, ref, _, _ = send_report(api)
    _sent(client, "/my-case/circumstances", {"details": "He threatened my son yesterday"})
    assert "review_risk" in open_tasks(api, ref)
    page = signed_in("olivia").get(f"/cases/{ref}").get_data(as_text=True)
    assert "He threatened my son yesterday" in page  # the officer reads it on the case file
    (entry,) = [li for li in page.split('<li class="council-timeline__item"')
                if 'data-kind="reporter"' in li]                  # and in the timeline, dated
    assert "Change of circumstances" in entry and "He threatened my son yesterday" in entry


def test_contact_preferences_apply_and_a_new_frequency_goes_to_the_officer(api):
    client, ref, _, _ = send_report(api)
    assert client.get("/my-case/preferences").status_code == 200
    _sent(client, "/my-case/preferences", {"pref_channels": ["sms"],
                                           "unsafe_channels": ["letter"],
                                           "no_voicemail": "y", "frequency": "weekly"})
    with api.app.app_context(), unit() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        prefs = [p for p in case.parties if str(p.role) == "reporter"][0].contact_preferences
        assert prefs["channels"] == ["sms"] and prefs["unsafe_channels"] == ["letter"]
        assert prefs["no_voicemail"] is True
    assert "phone_reporter" in open_tasks(api, ref)


def test_bad_preferences_are_shown_again_and_nothing_changes(api):
    client, ref, _, _ = send_report(api)
    response = post(client, "/my-case/preferences", {"pref_channels": ["email"],
                                                     "safe_from": "25:00", "safe_to": "09:00"})
    assert response.status_code == 400 and "There is a problem" in response.get_data(True)
    assert "phone_reporter" not in open_tasks(api, ref)


def test_a_complaint_starts_the_complaints_process(api):
    client, ref, _, _ = send_report(api)
    _sent(client, "/my-case/complaint", {"details": "Nobody called me back",
                                         "outcome_sought": "A call this week"})
    with api.app.app_context(), unit() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        complaint = session.scalars(select(Complaint).where(Complaint.case_id == case.id)).one()
        complaint_ref = complaint.reference
    assert open_tasks(api, complaint_ref)
    page = client.get("/my-case").get_data(as_text=True)
    assert complaint_ref in page and "A complaint" in page


def test_empty_forms_are_shown_again_with_messages_and_send_nothing(api):
    client, ref, _, _ = send_report(api)
    before = open_tasks(api, ref)
    for path in ("/my-case/incident", "/my-case/diary", "/my-case/circumstances",
                 "/my-case/case-review", "/my-case/complaint"):
        response = post(client, path, {})
        assert response.status_code == 400, path
        assert "There is a problem" in response.get_data(as_text=True), path
    assert open_tasks(api, ref) == before
    assert audits(api, "reporter.incident") == [] and audits(api, "reporter.diary") == []


def test_the_case_page_never_shows_other_people_or_internal_notes(api):
    client, ref, _, _ = send_report(api, witness_name="Wendy Witness",
                                    witness_phone="07700 900999",
                                    vulnerability=["threat_of_violence"])
    pages = [client.get(path).get_data(as_text=True) for path in (
        "/my-case", "/my-case/incident", "/my-case/diary", "/my-case/evidence",
        "/my-case/circumstances", "/my-case/preferences", "/my-case/case-review",
        "/my-case/complaint")]
    for page in pages:
        assert "Derek Noisy" not in page and "16 Mill Lane" not in page
        assert "Wendy Witness" not in page and "07700 900999" not in page
        assert "threat_of_violence" not in page and "Threat of violence" not in page
        assert "priority" not in page.lower() and "risk assessment" not in page.lower()


def test_every_view_and_action_is_audited_without_secrets(api):
    client, ref, code, _ = send_report(api)
    client.get("/my-case")
    _sent(client, "/my-case/diary", {**WHEN, "what_happened": "Shouting at 2am"})
    actions = [a.action for a in audits(api, "reporter.")]
    assert actions == ["reporter.case_opened", "reporter.signed_in", "reporter.case_viewed",
                       "reporter.diary_added"]
    for row in audits(api, "reporter."):
        assert row.actor == "reporter" and row.case_reference == ref
        assert code not in str(row.summary) and "Shouting" not in str(row.summary)


def test_on_a_closed_case_a_review_or_complaint_still_starts_but_a_diary_is_refused(api):
    from cases.challenge import CaseReview
    from cases.records import CaseStatus
    from engine import clock

    client, ref, _, _ = send_report(api)
    with api.app.app_context(), unit() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        case.status, case.closed_at = CaseStatus.CLOSED, clock.now()
    _sent(client, "/my-case/case-review", {"details": "Closed without anything done"})
    _sent(client, "/my-case/complaint", {"details": "Closed without telling me"})
    refused = post(client, "/my-case/diary", {**WHEN, "what_happened": "More noise"})
    assert refused.status_code == 400 and "The case is closed" in refused.get_data(True)
    with api.app.app_context(), unit() as session:
        case_id = session.scalars(select(Case.id).where(Case.reference == ref)).one()
        assert session.scalars(select(CaseReview).where(CaseReview.case_id == case_id)).one()
        assert session.scalars(select(Complaint).where(Complaint.case_id == case_id)).one()


def test_an_anonymous_reporter_has_no_contact_preferences_to_change(api):
    client, _ref, _, _ = send_report(api, anonymous="yes", reporter_email=None,
                                     reporter_phone=None, reporter_name=None,
                                     pref_channels=None)
    assert "Change how and how often" not in client.get("/my-case").get_data(as_text=True)
    assert client.get("/my-case/preferences").status_code == 404
