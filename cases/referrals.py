"""Referrals to partner agencies (promises 4, 5 and 7): who was asked, what was shared, why.

A referral names one agency of the council's partner directory (``partner_directory``, a
setting with effective dates), keeps a copy of the agency's name and e-mail as they were when
the referral went, lists the kinds of information disclosed and their legal basis (each
referral also writes a ``Disclosure`` row, so the case timeline shows it), and follows the
partner's answer: sent, then accepted or declined, then done. A safeguarding referral is a
referral of kind ``safeguarding`` made by the officer (usually by phone) with the reference
number the safeguarding service gave.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.audit import AuditRecord, record
from cases.base import Base, Timestamp, str_enum
from cases.config import get_setting
from cases.contact import record_disclosure
from cases.enums import CaseStatus, LegalBasis
from cases.people import ensure_agency
from cases.records import Case, CaseDataInvalid

# The kinds of information an officer may choose to share, as the referral and the
# disclosure record word them.
DISCLOSABLE: dict[str, str] = {
    "reporter_contact_details": "the reporter's name and contact details, with their safe "
                                "contact times",
    "incident_details": "the incidents reported (dates, places, descriptions)",
    "risk_assessment": "the latest risk assessment",
    "reported_person_details": "the names and addresses of the people reported",
}
MAX_NOTE = 2000


class ReferralKind(enum.StrEnum):
    """A referral for support or joint work, or a safeguarding referral."""

    PARTNER = "partner"
    SAFEGUARDING = "safeguarding"


class ReferralStatus(enum.StrEnum):
    """Where a referral stands with the partner."""

    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    DONE = "done"
    WITHDRAWN = "withdrawn"


class AtRisk(enum.StrEnum):
    """Who a safeguarding referral is about."""

    CHILD = "child"
    ADULT = "adult"


# The partner directory's kind that a safeguarding service must carry, by who is at risk.
SAFEGUARDING_KINDS = {AtRisk.CHILD: "safeguarding_children", AtRisk.ADULT: "safeguarding_adults"}
ANSWERED = (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.DONE)




class Referral(Base):
    """One referral of a case to one partner agency, and the partner's answer."""

    __tablename__ = "referrals"
    # The manager's dashboard: referrals made in a period, by agency and status (0008d).
    __table_args__ = (Index("ix_referrals_referred_figures", "referred_at", "agency_code",
                            "status", "agency_name", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("partner_agencies.id"), index=True)
    agency_code: Mapped[str] = mapped_column(String(32))
    agency_name: Mapped[str] = mapped_column(String(128))
    agency_email: Mapped[str | None] = mapped_column(String(254))
    kind: Mapped[ReferralKind] = mapped_column(str_enum(ReferralKind, "referral_kind"))
    status: Mapped[ReferralStatus] = mapped_column(str_enum(ReferralStatus, "referral_status"),
                                                   index=True)
    legal_basis: Mapped[LegalBasis] = mapped_column(str_enum(LegalBasis, "referral_legal_basis"))
    disclosed: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text)
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("disclosures.id"))
    at_risk: Mapped[AtRisk | None] = mapped_column(str_enum(AtRisk, "referral_at_risk"))
    external_reference: Mapped[str | None] = mapped_column(String(64))
    referred_at: Mapped[datetime] = mapped_column(Timestamp())
    referred_by: Mapped[str] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(Timestamp())
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answer_note: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(Timestamp())
    chasers_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_chased_at: Mapped[datetime | None] = mapped_column(Timestamp())
    next_step: Mapped[str | None] = mapped_column(String(32))
    next_step_note: Mapped[str | None] = mapped_column(Text)


# -- the partner directory -------------------------------------------------------------------


def partner_directory(session: Session, at: datetime) -> dict[str, dict[str, Any]]:
    """The council's partner agencies in force at ``at``, by code."""
    return {entry["code"]: entry for entry in get_setting(session, "partner_directory", at=at)}


def check_agencies(session: Session, codes: Any, at: datetime, *, field: str = "agencies",
                   need_email: bool = True, kind: str | None = None) -> list[dict[str, Any]]:
    """Return the directory entries named by ``codes``; refuse unknown ones field by field."""
    directory = partner_directory(session, at)
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(codes, list) or not codes:
        raise CaseDataInvalid(field, "choose at least one agency from the partner directory")
    errors: dict[str, str] = {}
    found: list[dict[str, Any]] = []
    known = ", ".join(sorted(directory))
    for i, code in enumerate(codes):
        path = f"{field}.{i}" if len(codes) > 1 or field == "agencies" else field
        entry = directory.get(code.strip()) if isinstance(code, str) else None
        if entry is None:
            errors[path] = f"“{code}” is not in the partner directory (known: {known})"
        elif entry in found:
            errors[path] = f"“{code}” is listed twice"
        elif need_email and not entry.get("email"):
            errors[path] = (f"{entry['name']} has no e-mail address in the partner directory: "
                            "ask a manager to add it, or refer by phone")
        elif kind is not None and kind not in entry.get("kinds", []):
            errors[path] = f"{entry['name']} is not listed as a {kind.replace('_', ' ')} service"
        else:
            found.append(entry)
    if errors:
        raise CaseDataInvalid(errors)
    return found


def disclosed_kinds(value: Any, field: str = "disclose") -> list[str]:
    """The ticked kinds of information from a checkbox object; at least one is needed."""
    if not isinstance(value, dict):
        raise CaseDataInvalid(field, "tick the information you will share")
    unknown = sorted(set(value) - set(DISCLOSABLE))
    if unknown:
        raise CaseDataInvalid(f"{field}.{unknown[0]}", "is not information that can be shared")
    ticked = [key for key in DISCLOSABLE if value.get(key) is True]
    if not ticked:
        raise CaseDataInvalid(field, "tick at least one kind of information to share")
    return ticked


# -- recording referrals and answers -----------------------------------------------------------


def _audit(session: Session, case: Case, referral: Referral, action: str, by: str,
           at: datetime, **summary: Any) -> None:
    record(session, AuditRecord(
        at=at, actor=by, action=f"referral.{action}", object_type="referral",
        object_id=str(referral.id), case_reference=case.reference,
        summary={"agency": referral.agency_code, "kind": str(referral.kind), **summary}))


def _clean(text: Any, field: str, *, required: bool) -> str | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        if required:
            raise CaseDataInvalid(field, "is required")
        return None
    if not isinstance(text, str) or len(text.strip()) > MAX_NOTE:
        raise CaseDataInvalid(field, f"must be text of at most {MAX_NOTE} characters")
    return text.strip()


def make_referral(session: Session, case: Case, agency: dict[str, Any], *, at: datetime,
                  by: str, disclosed: list[str], legal_basis: LegalBasis | str, reason: str,
                  kind: ReferralKind = ReferralKind.PARTNER, at_risk: AtRisk | str | None = None,
                  external_reference: str | None = None) -> Referral:
    """Record a referral of ``case`` to a directory ``agency`` and the disclosure it makes."""
    if case.status is not CaseStatus.OPEN:
        raise CaseDataInvalid("case", f"case {case.reference} is closed: re-open it first")
    try:
        basis = LegalBasis(legal_basis)
    except ValueError:
        raise CaseDataInvalid("legal_basis", "must be one of "
                              + ", ".join(b.value for b in LegalBasis)) from None
    if not disclosed or set(disclosed) - set(DISCLOSABLE):
        raise CaseDataInvalid("disclose", "tick at least one kind of information to share")
    why = _clean(reason, "reason", required=True) or ""
    row = ensure_agency(session, agency["code"], agency["name"])
    disclosure = record_disclosure(
        session, case, at=at, by=by, recipient=agency["name"],
        what="; ".join(DISCLOSABLE[k] for k in disclosed), legal_basis=basis,
        note=f"{kind.value} referral: {why}"[:MAX_NOTE])
    referral = Referral(
        case_id=case.id, agency_id=row.id, agency_code=agency["code"],
        agency_name=agency["name"], agency_email=agency.get("email"), kind=kind,
        status=ReferralStatus.SENT, legal_basis=basis, disclosed=list(disclosed), reason=why,
        disclosure_id=disclosure.id, at_risk=AtRisk(at_risk) if at_risk else None,
        external_reference=(external_reference or "").strip()[:64] or None, referred_at=at,
        referred_by=by, chasers_sent=0)
    session.add(referral)
    session.flush()
    _audit(session, case, referral, "made", by, at, legal_basis=basis.value,
           disclosed=list(disclosed))
    return referral


def _case(session: Session, referral: Referral) -> Case:
    case = session.get(Case, referral.case_id)
    assert case is not None
    return case


def respond_to_referral(session: Session, referral: Referral, answer: ReferralStatus | str, *,
                        by: str, at: datetime, note: str | None = None) -> Referral:
    """Record the partner's answer (accepted or declined) to a referral still waiting."""
    try:
        given = ReferralStatus(answer)
    except ValueError:
        given = None
    if given not in (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED):
        raise CaseDataInvalid("answer", "must be accepted or declined")
    if referral.status is not ReferralStatus.SENT:
        raise CaseDataInvalid("answer", f"the referral was already {referral.status.value}")
    why = _clean(note, "note", required=given is ReferralStatus.DECLINED)
    referral.status, referral.answered_at, referral.answered_by = given, at, by
    referral.answer_note = why
    session.flush()
    _audit(session, _case(session, referral), referral, given.value, by, at)
    return referral


def mark_referral_done(session: Session, referral: Referral, *, by: str, at: datetime,
                       note: str | None = None) -> Referral:
    """Record that the partner finished the work it accepted."""
    if referral.status is not ReferralStatus.ACCEPTED:
        raise CaseDataInvalid("status", "only an accepted referral can be marked done")
    referral.status, referral.done_at = ReferralStatus.DONE, at
    extra = _clean(note, "note", required=False)
    if extra:
        referral.answer_note = "\n\n".join(filter(None, [referral.answer_note, extra]))
    session.flush()
    _audit(session, _case(session, referral), referral, "done", by, at)
    return referral


def withdraw_referral(session: Session, referral: Referral, *, by: str, at: datetime,
                      note: str) -> Referral:
    """The council withdraws a referral the partner never answered."""
    if referral.status is not ReferralStatus.SENT:
        raise CaseDataInvalid("status", f"the referral was already {referral.status.value}")
    referral.status = ReferralStatus.WITHDRAWN
    referral.next_step, referral.next_step_note = "withdrawn", _clean(note, "note", required=True)
    session.flush()
    _audit(session, _case(session, referral), referral, "withdrawn", by, at)
    return referral


def record_referral_chaser(session: Session, referral: Referral, at: datetime) -> Referral:
    """Count a reminder sent to a partner that has not answered."""
    referral.chasers_sent = (referral.chasers_sent or 0) + 1
    referral.last_chased_at = at
    session.flush()
    _audit(session, _case(session, referral), referral, "chased", "system", at,
           chasers_sent=referral.chasers_sent)
    return referral


def record_next_step(session: Session, referral: Referral, step: str, *, by: str,
                     at: datetime, note: str) -> Referral:
    """Record what the officer decided after a decline or a partner that never answered."""
    if not isinstance(step, str) or not 1 <= len(step) <= 32:
        raise CaseDataInvalid("next_step", "choose what happens next")
    referral.next_step = step
    referral.next_step_note = _clean(note, "note", required=True)
    session.flush()
    _audit(session, _case(session, referral), referral, "next_step", by, at, next_step=step)
    return referral


def referral_by_id(session: Session, referral_id: Any, case: Case | None = None) -> Referral:
    """Return the referral ``referral_id`` (of ``case`` when given) or refuse."""
    found = session.get(Referral, int(referral_id)) if str(referral_id).isdecimal() else None
    if found is None or (case is not None and found.case_id != case.id):
        raise CaseDataInvalid("referral", f"no referral {referral_id} on this case")
    return found


def referrals_for_case(case: Case) -> Select[tuple[Referral]]:
    """Select a case's referrals, oldest first (the case file and reports read them)."""
    return (select(Referral).where(Referral.case_id == case.id)
            .order_by(Referral.referred_at, Referral.id))
