"""The partner agencies' door (issue 8): what a referral page shows, and a partner's answers.

A partner sees a referral as the officer chose to share it: the ticked kinds of information
read from the case record now (``support_mail.disclosed_sections``, as the e-mail had them),
the reason, the legal basis and the officer's contact. Answers go through
``cases.referrals`` (``respond_to_referral``, ``mark_referral_done``), the very record the
tracking process reads, so chasers stop and a decline reaches the officer. Each answer,
message and action is audited and e-mailed to the case officer (template ``partner_update``),
so it shows on the case file's timeline.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.outbox import MessageChannel, enqueue
from cases.partner_access import (
    LINK_VALID_FOR,
    PartnerNoteKind,
    add_note,
    clean_text,
    issue_link,
    notes_of_referral,
)
from cases.people import Role, User
from cases.records import Case, CaseDataInvalid
from cases.referrals import (
    Referral,
    ReferralStatus,
    mark_referral_done,
    respond_to_referral,
)
from cases.support import (
    ActionStatus,
    CaseConference,
    ConferenceAction,
    complete_conference_action,
)
from engine.handlers import ServiceContext

from .common import setting
from .notify.letters import render
from .support_mail import LEGAL_BASIS_TEXT, disclosed_sections, send_to_partner, sender

STATUS_TEXT = {
    ReferralStatus.SENT: "Waiting for your answer",
    ReferralStatus.ACCEPTED: "Accepted",
    ReferralStatus.DECLINED: "Declined",
    ReferralStatus.DONE: "Done",
    ReferralStatus.WITHDRAWN: "Withdrawn by the council",
}


def _ctx(session: Session, case: Case, now: datetime, actor: str) -> ServiceContext:
    return ServiceContext(session=session, business_key=case.reference, instance_id=0,
                          task_name="partner_portal", data={}, now=now, actor=actor)


def _case(session: Session, referral: Referral) -> Case:
    case = session.get(Case, referral.case_id)
    assert case is not None
    return case


def case_reference_of(session: Session, referral: Referral) -> str:
    """The reference of the referral's case (for the audit trail)."""
    return _case(session, referral).reference


def case_references(session: Session, case_ids: list[int]) -> dict[int, str]:
    """The references of the cases with ``case_ids``, by id."""
    if not case_ids:
        return {}
    rows = session.execute(select(Case.id, Case.reference).where(Case.id.in_(set(case_ids))))
    return {case_id: reference for case_id, reference in rows}


def public_url(ctx: ServiceContext, path: str) -> str:
    """``path`` on the product's public address (``ASB_PUBLIC_URL``, else the council's site)."""
    base = os.environ.get("ASB_PUBLIC_URL", "").strip()
    if not base:
        base = str(setting(ctx, "council_details").get("website") or "")
    return base.rstrip("/") + path


def agency_has_accounts(session: Session, referral: Referral) -> bool:
    """Tell whether the referral's agency has an active partner user who can sign in."""
    return session.scalar(select(User.id).where(
        User.agency_id == referral.agency_id, User.role == Role.PARTNER,
        User.active.is_(True)).limit(1)) is not None


def answer_facts(ctx: ServiceContext, referral: Referral) -> dict[str, Any]:
    """What the referral e-mail says about answering: the partner pages, or a one-time link."""
    if agency_has_accounts(ctx.session, referral):
        return {"answer_url": public_url(ctx, f"/partner/referrals/{referral.id}"),
                "answer_by_sign_in": True}
    token = issue_link(ctx.session, referral, at=ctx.now)
    return {"answer_url": public_url(ctx, f"/partner/link/{token}"),
            "answer_by_sign_in": False, "link_expires": ctx.now + LINK_VALID_FOR}


# -- what a partner sees -----------------------------------------------------------------------


def referral_page(session: Session, referral: Referral, now: datetime) -> dict[str, Any]:
    """The referral as its partner may see it: only what was disclosed, read from the case now."""
    case = _case(session, referral)
    ctx = _ctx(session, case, now, "partner")
    return {
        "referral": referral, "case_reference": case.reference,
        "number": f"R{referral.id}", "status_text": STATUS_TEXT[referral.status],
        "sections": disclosed_sections(ctx, case, list(referral.disclosed or [])),
        "legal_basis_text": LEGAL_BASIS_TEXT[str(referral.legal_basis)],
        "officer": sender(ctx, case)["officer"],
        "notes": list(session.scalars(notes_of_referral(referral))),
    }


# -- what a partner does -----------------------------------------------------------------------


def _tell_officer(session: Session, case: Case, now: datetime, *, agency_name: str,
                  title: str, text: str | None = None, referral: Referral | None = None) -> None:
    ctx = _ctx(session, case, now, "partner")
    who = sender(ctx, case)
    values = {**who, "case_reference": case.reference, "date": now, "channel": "email",
              "recipient_name": who["officer"]["name"], "agency_name": agency_name,
              "update_title": title, "update_text": text or "",
              "referral_number": f"R{referral.id}" if referral else ""}
    letter = render("partner_update", values)
    enqueue(session, recipient_role="officer", channel=MessageChannel.EMAIL,
            to_address=who["officer"]["email"], subject=letter.subject, body_text=letter.text,
            body_html=letter.html, template="partner_update", created_at=now,
            case_reference=case.reference)


def accept(session: Session, referral: Referral, *, by: str, now: datetime,
           by_link: bool = False) -> Referral:
    """Accept the referral; a partner with no account gets a fresh link for the outcome."""
    respond_to_referral(session, referral, ReferralStatus.ACCEPTED, by=by, at=now)
    case = _case(session, referral)
    _tell_officer(session, case, now, agency_name=referral.agency_name, referral=referral,
                  title=f"{referral.agency_name} accepted referral R{referral.id}")
    if by_link and referral.agency_email:
        ctx = _ctx(session, case, now, by)
        facts = answer_facts(ctx, referral)
        send_to_partner(ctx, case, "partner_link", to_address=referral.agency_email,
                        recipient_name=referral.agency_name,
                        facts={"referral_number": f"R{referral.id}", **facts},
                        required=("answer_url",))
    return referral


def decline(session: Session, referral: Referral, reason: Any, *, by: str, now: datetime
            ) -> Referral:
    """Decline the referral with a reason; the tracking process asks the officer what next."""
    why = clean_text(reason, "reason")
    respond_to_referral(session, referral, ReferralStatus.DECLINED, by=by, at=now, note=why)
    _tell_officer(session, _case(session, referral), now, agency_name=referral.agency_name,
                  title=f"{referral.agency_name} declined referral R{referral.id}", text=why,
                  referral=referral)
    return referral


def _accepted(referral: Referral, field: str) -> None:
    if referral.status is not ReferralStatus.ACCEPTED:
        raise CaseDataInvalid(field, "Accept the referral first: it is "
                                     f"{STATUS_TEXT[referral.status].lower()}")


def record_action(session: Session, referral: Referral, text: Any, *, by: str,
                  now: datetime) -> None:
    """Record an action the partner took on an accepted referral."""
    _accepted(referral, "action")
    case = _case(session, referral)
    note = add_note(session, case, PartnerNoteKind.ACTION_TAKEN, text, at=now, by=by,
                    agency_code=referral.agency_code, referral=referral, field="action")
    _tell_officer(session, case, now, agency_name=referral.agency_name, referral=referral,
                  title=f"{referral.agency_name} recorded an action", text=note.body)


def record_outcome(session: Session, referral: Referral, outcome: Any, *, by: str,
                   now: datetime) -> Referral:
    """Record the outcome of an accepted referral: the work is done."""
    _accepted(referral, "outcome")
    text = clean_text(outcome, "outcome")
    mark_referral_done(session, referral, by=by, at=now, note=text)
    _tell_officer(session, _case(session, referral), now, agency_name=referral.agency_name,
                  title=f"{referral.agency_name} finished referral R{referral.id}", text=text,
                  referral=referral)
    return referral


def message_officer(session: Session, referral: Referral, text: Any, *, by: str,
                    now: datetime) -> None:
    """Keep a partner's message to the case officer on the case, and e-mail it to them."""
    case = _case(session, referral)
    note = add_note(session, case, PartnerNoteKind.MESSAGE, text, at=now, by=by,
                    agency_code=referral.agency_code, referral=referral, field="message")
    _tell_officer(session, case, now, agency_name=referral.agency_name, referral=referral,
                  title=f"Message from {referral.agency_name}", text=note.body)


def update_action(session: Session, action: ConferenceAction, agency_name: str, *, done: bool,
                  text: Any, by: str, now: datetime) -> None:
    """Mark a conference action the agency owns done, or record progress on it."""
    if action.status is not ActionStatus.OPEN:
        raise CaseDataInvalid("progress", f"Action {action.number} is already "
                                          f"{action.status.value}")
    conference = session.get(CaseConference, action.conference_id)
    assert conference is not None
    case = session.get(Case, conference.case_id)
    assert case is not None
    if done:
        note = clean_text(text, "progress", required=False)
        complete_conference_action(session, action, by=by, at=now, note=note)
        title = f"{agency_name} finished conference action {action.number}"
    else:
        note = add_note(session, case, PartnerNoteKind.PROGRESS, text, at=now, by=by,
                        agency_code=action.owner, action=action, field="progress").body
        title = f"{agency_name} reported progress on conference action {action.number}"
    _tell_officer(session, case, now, agency_name=agency_name, title=title, text=note)
