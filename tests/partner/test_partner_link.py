"""An agency with no account: the referral e-mail's one-time link, spent once, for one referral."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cases.partner_access import MAX_LINK_FAILURES, PartnerLink, token_hash
from cases.referrals import ReferralStatus
from engine import clock
from tests.api.support import XMAS_EVE
from web.extensions import unit

from .conftest import (
    audits,
    link_browser,
    link_token,
    mails,
    new_case,
    paul,
    refer,
    referral_row,
)


def _links(api):
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(PartnerLink).order_by(PartnerLink.id)))
        session.expunge_all()
        return rows


def test_the_email_carries_only_the_disclosed_fields_and_a_link_stored_hashed(api):
    reference = new_case(api)
    police, victims = refer(api, reference, ("police", "victim_support"))
    by_agency = {m.to_address: m for m in mails(api, "partner_referral")}
    to_police = by_agency["asb@police.example.org"].body_text
    assert f"/partner/referrals/{police}" in to_police and "/partner/link/" not in to_police
    to_victims = by_agency["referrals@victims.example.org"].body_text
    token = link_token(api, victims)
    assert "Racist abuse shouted at my door" in to_victims
    assert "Rita Reporter" not in to_victims and "07700 900123" not in to_victims
    (link,) = _links(api)
    assert link.referral_id == victims and link.token_hash == token_hash(token)
    assert token not in repr(link.__dict__)
    assert link.expires_at == XMAS_EVE + timedelta(days=28)


def test_the_link_opens_one_referral_once_then_answers_and_records_the_outcome(api):
    reference = new_case(api)
    police, victims = refer(api, reference, ("police", "victim_support"))
    token = link_token(api, victims)
    holder, first = link_browser(api, token)
    assert first.status_code == 302
    assert first.headers["Location"] == f"/partner/referrals/{victims}"
    assert token not in first.headers["Location"]
    page = holder.text(f"/partner/referrals/{victims}")
    assert "one-time link" in page and "Racist abuse shouted at my door" in page
    assert "Message the case officer" not in page
    # Spent: another browser is refused, and the refusal is audited.
    _other, again = link_browser(api, token)
    assert again.status_code == 404
    assert "cannot be used" in again.get_data(as_text=True)
    (refused,) = audits(api, "partner.link_refused")
    assert refused.summary["reason"] == "used" and refused.case_reference == reference
    # Nothing else is reachable with it.
    assert holder.get(f"/partner/referrals/{police}").status_code == 404
    assert holder.post("/partner/actions/1", {"do": "done"}).status_code == 404
    assert holder.get(f"/cases/{reference}").status_code == 302     # to sign in
    assert holder.get("/partner").status_code == 302                # to its referral
    assert len(audits(api, "partner.refused")) == 2
    url = f"/partner/referrals/{victims}"
    assert holder.post(url, {"do": "message", "message": "Hello"}).status_code == 400
    # Accept: the officer is told, and a fresh link to record the outcome is e-mailed.
    assert holder.post(url, {"do": "accept"}).status_code == 302
    row = referral_row(api, victims)
    assert (row.status, row.answered_by) == (ReferralStatus.ACCEPTED, "link:victim_support")
    (fresh,) = mails(api, "partner_link")
    assert fresh.to_address == "referrals@victims.example.org"
    assert "Racist abuse" not in fresh.body_text
    assert holder.post(url, {"do": "outcome", "outcome": "Support offered and taken up."}
                       ).status_code == 302
    assert referral_row(api, victims).status is ReferralStatus.DONE
    assert [a.actor for a in audits(api, "referral.done")] == ["link:victim_support"]
    assert len(audits(api, "partner.link_used")) == 1


def test_the_fresh_link_works_once_later_from_another_browser(api):
    (victims,) = refer(api, new_case(api), ("victim_support",))
    holder, _first = link_browser(api, link_token(api, victims))
    holder.post(f"/partner/referrals/{victims}", {"do": "accept"})
    later, first = link_browser(api, link_token(api, victims, "partner_link"))
    assert first.status_code == 302
    assert later.post(f"/partner/referrals/{victims}", {"do": "outcome", "outcome": "Done."}
                      ).status_code == 302
    assert referral_row(api, victims).status is ReferralStatus.DONE


def test_an_expired_link_is_refused(api):
    (victims,) = refer(api, new_case(api), ("victim_support",))
    token = link_token(api, victims)
    clock.set_now(XMAS_EVE + timedelta(days=28, seconds=1))
    _holder, first = link_browser(api, token)
    assert first.status_code == 404
    assert audits(api, "partner.link_refused")[0].summary["reason"] == "expired"
    assert referral_row(api, victims).status is ReferralStatus.SENT


def test_guessing_links_locks_the_address_out(api):
    client = api.app.test_client()
    for n in range(MAX_LINK_FAILURES):
        assert client.get(f"/partner/link/guess-{n}").status_code == 404
    assert client.get("/partner/link/guess-last").status_code == 429
    assert len(audits(api, "partner.link_refused")) == MAX_LINK_FAILURES
    clock.set_now(XMAS_EVE + timedelta(minutes=16))
    assert client.get("/partner/link/guess-again").status_code == 404


def test_a_signed_in_partner_of_the_agency_answers_without_a_link(api):
    (police,) = refer(api, new_case(api))
    assert _links(api) == []
    assert paul(api).post(f"/partner/referrals/{police}", {"do": "accept"}).status_code == 302
    assert mails(api, "partner_link") == []
