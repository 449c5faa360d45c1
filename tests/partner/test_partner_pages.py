"""A signed-in partner: their agency's referrals only, what was disclosed only, their answers."""

from __future__ import annotations

from sqlalchemy import select

from cases.partner_access import PartnerNote, PartnerNoteKind
from cases.referrals import ReferralStatus
from tests.officer.support import browser
from web.extensions import unit

from .conftest import WITH_REPORTER, audits, mails, new_case, paul, refer, referral_row


def test_a_partner_lands_on_their_agencys_referrals_and_nothing_else(api):
    reference = new_case(api)
    police, victims = refer(api, reference, ("police", "victim_support"))
    page = paul(api).text("/partner")
    assert f"R{police}" in page and "Waiting for your answer" in page
    assert "Please patrol Mill Lane" in page
    assert f"R{victims}" not in page and "Victim Support" not in page
    assert ">Referrals<" in page          # the navigation names the page
    assert audits(api, "partner.referrals_viewed")[-1].actor == "paul"


def test_a_referral_of_another_agency_is_404_and_the_attempt_audited(api):
    reference = new_case(api)
    _police, victims = refer(api, reference, ("police", "victim_support"))
    response = paul(api).get(f"/partner/referrals/{victims}")
    assert response.status_code == 404
    (refused,) = audits(api, "partner.refused")
    assert (refused.actor, refused.object_type, refused.object_id) == (
        "paul", "referral", str(victims))
    assert refused.case_reference == reference
    assert paul(api).get("/partner/referrals/999999").status_code == 404
    assert len(audits(api, "partner.refused")) == 2


def test_the_referral_shows_only_what_was_disclosed(api):
    reference = new_case(api)
    (only_incidents,) = refer(api, reference)
    page = paul(api).text(f"/partner/referrals/{only_incidents}")
    assert "Racist abuse shouted at my door" in page       # the incidents were shared
    assert "section 115 of the Crime and Disorder Act 1998" in page
    assert "Olivia Officer" in page and "01246 111222" in page
    for secret in ("Rita Reporter", "07700 900123", "rita@example.org", "12 Mill Lane"):
        assert secret not in page, secret
    viewed = audits(api, "partner.referral_viewed")[-1]
    assert viewed.summary["disclosed"] == ["incident_details"]
    (with_reporter,) = refer(api, new_case(api), disclose=WITH_REPORTER)
    page = paul(api).text(f"/partner/referrals/{with_reporter}")
    assert "Rita Reporter" in page and "rita@example.org" in page


def test_a_partner_reaches_no_case_dashboard_or_api_case_route(api):
    reference = new_case(api)
    refer(api, reference)
    client = paul(api)
    for path in (f"/cases/{reference}", f"/cases/{reference}/process", "/cases",
                 "/dashboard", "/reports/new", "/case-reviews"):
        assert client.get(path).status_code in (403, 404), path
    api_answer = api.get(f"/api/v1/cases/{reference}", "paul")
    assert api_answer.status_code == 404      # the API's refusals change nothing, not audited
    refused = audits(api, "partner.refused")
    assert len(refused) == 6
    assert {r.summary["route"] for r in refused} >= {"/cases/<reference>", "/dashboard"}
    assert all(r.actor == "paul" for r in refused)
    assert refused[0].case_reference == reference


def test_accept_record_an_action_and_the_outcome(api):
    reference = new_case(api)
    (police,) = refer(api, reference)
    client = paul(api)
    url = f"/partner/referrals/{police}"
    assert client.post(url, {"do": "accept"}).status_code == 302
    assert "You accepted the referral" in client.text(url)
    assert referral_row(api, police).status is ReferralStatus.ACCEPTED
    assert client.post(url, {"do": "action", "action": "Patrolled Mill Lane twice."}
                       ).status_code == 302
    assert client.post(url, {"do": "outcome", "outcome": "No further noise seen."}
                       ).status_code == 302
    row = referral_row(api, police)
    assert row.status is ReferralStatus.DONE and row.answered_by == "paul"
    assert "No further noise seen." in (row.answer_note or "")
    assert [a.actor for a in audits(api, "referral.accepted")] == ["paul"]
    assert [a.actor for a in audits(api, "referral.done")] == ["paul"]
    assert [a.actor for a in audits(api, "partner.action_taken")] == ["paul"]
    # Each one e-mailed to the case officer, and so on her case file's timeline.
    told = mails(api, "partner_update")
    assert [(m.recipient_role, m.to_address) for m in told] == [
        ("officer", "olivia@council.example.org")] * 3
    case_file = browser(api, "olivia").text(f"/cases/{reference}")
    for seen in (f"accepted referral R{police}", "recorded an action",
                 f"finished referral R{police}"):
        assert seen in case_file, seen
    page = client.text(url)
    assert "Patrolled Mill Lane twice." in page and "nothing more to answer" in page


def test_decline_needs_a_reason_and_a_refused_form_changes_nothing(api):
    reference = new_case(api)
    (police,) = refer(api, reference)
    client = paul(api)
    url = f"/partner/referrals/{police}"
    refused = client.post(url, {"do": "decline", "reason": "  "})
    assert refused.status_code == 400
    assert "There is a problem" in refused.get_data(as_text=True)
    assert referral_row(api, police).status is ReferralStatus.SENT
    assert audits(api, "referral.declined") == [] and mails(api, "partner_update") == []
    assert client.post(url, {"do": "outcome", "outcome": "Done"}).status_code == 400
    assert client.post(url, {"do": "nonsense"}).status_code == 400
    assert client.post(url, {"do": "decline"}, csrf=False).status_code == 400
    assert client.post(url, {"do": "decline", "reason": "Not a police matter."}
                       ).status_code == 302
    row = referral_row(api, police)
    assert (row.status, row.answer_note) == (ReferralStatus.DECLINED, "Not a police matter.")
    assert client.post(url, {"do": "accept"}).status_code == 400   # already answered


def test_a_message_to_the_officer_is_kept_on_the_case_and_sent_to_her(api):
    reference = new_case(api)
    (police,) = refer(api, reference)
    client = paul(api)
    url = f"/partner/referrals/{police}"
    assert client.post(url, {"do": "message", "message": ""}).status_code == 400
    assert client.post(url, {"do": "message", "message": "Can we meet on Monday?"}
                       ).status_code == 302
    with api.app.app_context(), unit() as session:
        notes = session.scalars(select(PartnerNote)).all()
        assert [(n.kind, n.body, n.by) for n in notes] == [
            (PartnerNoteKind.MESSAGE, "Can we meet on Monday?", "paul")]
    (told,) = mails(api, "partner_update")
    assert "Can we meet on Monday?" in told.body_text
    case_file = browser(api, "olivia").text(f"/cases/{reference}")
    assert "Message from Derbyshire Police" in case_file
    (entry,) = [li for li in case_file.split('<li class="council-timeline__item"')
                if 'data-kind="partner"' in li]
    assert "Can we meet on Monday?" in entry and "(paul)" in entry
    (audited,) = audits(api, "partner.message")
    assert audited.case_reference == reference and "Monday" not in str(audited.summary)
