"""The reporter's journey: public form, e-mailed link, case page, and a Case Review request."""

from __future__ import annotations

import re

from sqlalchemy import select

from cases.challenge import CaseReview
from cases.outbox import OutboxMessage
from cases.records import Case, PartyRole
from tests.reporter.support import (
    REPORT,
    audits,
    case_of,
    csrf,
    open_tasks,
    post,
    send_report,
)
from web.extensions import unit

LINK_RE = re.compile(r"http://localhost(/follow/[A-Za-z0-9_-]+)")


def _access_mail(api, reference):
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.case_reference == reference,
            OutboxMessage.template == "reporter_access")))
        session.expunge_all()
        return rows


def test_public_report_opens_a_case_like_intake_and_mails_the_link(api):
    client, ref, code, response = send_report(api)
    page = response.get_data(as_text=True)
    assert "emailed your reference and a private link" in page
    assert code not in response.headers.get("Location", "")
    case = case_of(api, ref)
    assert str(case.channel) == "online" and case.priority in (1, 2)
    assert api.open_task(ref, "assess_risk")  # the same process as an officer's intake
    (mail,) = _access_mail(api, ref)
    assert mail.to_address == "rita@example.org" and code in mail.body_text
    link = LINK_RE.search(mail.body_text)
    assert link, mail.body_text
    # The link opens the case in a new browser, and the final URL carries no secret.
    fresh = api.app.test_client()
    opened = fresh.get(link.group(1))
    assert opened.status_code == 302 and opened.headers["Location"] == "/my-case"
    page = fresh.get("/my-case").get_data(as_text=True)
    assert ref in page and "Olivia Officer" in page and "01246 111222" in page
    assert "reporter_access" not in page and code not in page
    assert [a.summary["how"] for a in audits(api, "reporter.signed_in")] == ["report", "link"]


def test_journey_from_the_public_form_to_a_case_review_request(api):
    client, ref, _code, _ = send_report(api)
    assert client.get("/my-case").status_code == 200
    form = client.get("/my-case/case-review")
    assert form.status_code == 200 and "Ask for an ASB Case Review" in form.get_data(True)
    response = post(client, "/my-case/case-review",
                    {"details": "Four reports in three months and nothing has changed"})
    assert response.status_code == 200, response.get_data(True)[:2000]
    assert "Thank you" in response.get_data(as_text=True)
    with api.app.app_context(), unit() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        review = session.scalars(select(CaseReview).where(CaseReview.case_id == case.id)).one()
        review_ref = review.reference
        assert review.applicant.name == "Rita Reporter"
    assert open_tasks(api, review_ref)  # the Case Review process runs
    page = client.get("/my-case").get_data(as_text=True)
    assert review_ref in page and "An application for an ASB Case Review" in page
    assert audits(api, "reporter.case_review_asked")[0].case_reference == ref


def test_a_report_with_errors_is_shown_again_and_opens_nothing(api):
    client = api.app.test_client()
    before = api.counts()["cases"]
    response = post(client, "/report", {**REPORT, "description": "", "incident_day": "31",
                                        "incident_month": "2", "reporter_email": "not-an-email"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page and 'href="#description"' in page
    assert "The date the incident happened must be a real date" in page
    assert api.counts()["cases"] == before


def test_a_named_report_needs_a_way_to_reach_the_reporter(api):
    client = api.app.test_client()
    response = post(client, "/report", {**REPORT, "reporter_email": "", "reporter_phone": "",
                                        "pref_channels": []})
    assert response.status_code == 400
    assert "give a phone number, email address or address" in response.get_data(True)


def test_an_anonymous_report_gets_a_reference_and_code_on_screen_only(api):
    client, ref, code, response = send_report(
        api, anonymous="yes", reporter_name="Should be ignored", reporter_email=None,
        reporter_phone=None, pref_channels=None)
    page = response.get_data(as_text=True)
    assert "Write down your case reference and your follow-up code" in page
    assert "reported anonymously" in page
    assert _access_mail(api, ref) == []
    with api.app.app_context(), unit() as session:
        case = session.scalars(select(Case).where(Case.reference == ref)).one()
        (reporter,) = [p.person for p in case.parties if p.role is PartyRole.REPORTER]
        assert reporter.name == "Anonymous reporter" and not reporter.email
    # The code works later in another browser.
    other = api.app.test_client()
    opened = post(other, "/follow", {"reference": ref, "code": code.lower().replace("-", " ")})
    assert opened.status_code == 302
    assert ref in other.get("/my-case").get_data(as_text=True)
    assert audits(api, "reporter.case_opened")[0].summary["anonymous"] is True


def test_the_forms_carry_labels_fieldsets_and_csrf(api):
    client = api.app.test_client()
    page = client.get("/report").get_data(as_text=True)
    assert '<label class="govuk-label" for="description">' in page
    assert page.count("<fieldset") >= 5
    assert csrf(client)
    refused = client.post("/report", data=REPORT)
    assert refused.status_code == 400
