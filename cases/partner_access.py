"""The partner agencies' door (issue 8): one-time links, and what partners tell the council.

A partner user belongs to one agency and sees only the referrals sent to it and the case
conference actions it owns. A partner without an account answers through a one-time link:
only the SHA-256 of its token is stored, it expires, and it is spent on first use. What a
partner writes (a message to the case officer, an action taken, progress on a conference
action) is kept as a ``PartnerNote`` on the case. Importing this module imports
``cases.support`` and ``cases.referrals``, so one migration-runner entry covers the tables.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Select, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.audit import AuditEvent, AuditRecord, record
from cases.base import Base, Timestamp, str_enum
from cases.people import PartnerAgency, Role, User
from cases.records import Case, CaseDataInvalid
from cases.referrals import Referral
from cases.support import CaseConference, ConferenceAction, OwnerKind

LINK_VALID_FOR = timedelta(days=28)
MAX_NOTE_TEXT = 2000
# Refused link attempts from one address before it is locked out for a while.
MAX_LINK_FAILURES = 10
LINK_LOCKOUT = timedelta(minutes=15)
LINK_REFUSED = "partner.link_refused"


class PartnerNoteKind(enum.StrEnum):
    """What a partner wrote: a message to the officer, an action taken, or progress."""

    MESSAGE = "message"
    ACTION_TAKEN = "action_taken"
    PROGRESS = "progress"


class LinkRefused(Exception):
    """A one-time link that is unknown, spent or expired; ``reason`` says which."""

    def __init__(self, reason: str, link: PartnerLink | None = None):
        super().__init__(reason)
        self.reason, self.link = reason, link


class PartnerLink(Base):
    """A one-time link to answer one referral, for an agency with no account."""

    __tablename__ = "partner_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"),
                                             index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(Timestamp())
    expires_at: Mapped[datetime] = mapped_column(Timestamp())
    used_at: Mapped[datetime | None] = mapped_column(Timestamp())


class PartnerNote(Base):
    """Something a partner told the council about a referral or a conference action."""

    __tablename__ = "partner_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    referral_id: Mapped[int | None] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("conference_actions.id", ondelete="CASCADE"), index=True)
    agency_code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[PartnerNoteKind] = mapped_column(str_enum(PartnerNoteKind, "partner_note_kind"))
    at: Mapped[datetime] = mapped_column(Timestamp())
    by: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)


def token_hash(token: str) -> str:
    """The stored form of a link token (a 256-bit random token needs no slow hash)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _audit(session: Session, action: str, *, at: datetime, by: str, object_type: str,
           object_id: str | None, case_reference: str | None = None, **summary: Any) -> None:
    record(session, AuditRecord(at=at, actor=by, action=action, object_type=object_type,
                                object_id=object_id, case_reference=case_reference,
                                summary=summary))


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    assert case is not None
    return case


# -- one-time links ----------------------------------------------------------------------------


def issue_link(session: Session, referral: Referral, *, at: datetime, purpose: str = "answer",
               valid_for: timedelta = LINK_VALID_FOR) -> str:
    """Store a new one-time link to ``referral`` (its hash only); return the token to send."""
    token = secrets.token_urlsafe(32)
    link = PartnerLink(referral_id=referral.id, token_hash=token_hash(token), purpose=purpose,
                       created_at=at, expires_at=at + valid_for)
    session.add(link)
    session.flush()
    _audit(session, "partner.link_issued", at=at, by="system", object_type="partner_link",
           object_id=str(link.id), case_reference=_case(session, referral.case_id).reference,
           referral=referral.id, purpose=purpose, expires_at=link.expires_at.isoformat())
    return token


def redeem_link(session: Session, token: str, *, at: datetime) -> PartnerLink:
    """Spend a one-time link on its first use; refuse one unknown, spent or expired."""
    link = session.scalar(select(PartnerLink).where(PartnerLink.token_hash == token_hash(token)))
    if link is None:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used", link)
    expires = link.expires_at
    if expires <= at:
        raise LinkRefused("expired", link)
    link.used_at = at
    session.flush()
    referral = session.get(Referral, link.referral_id)
    assert referral is not None
    _audit(session, "partner.link_used", at=at, by=f"link:{referral.agency_code}",
           object_type="partner_link", object_id=str(link.id),
           case_reference=_case(session, referral.case_id).reference, referral=referral.id)
    return link


def note_link_refused(session: Session, reason: str, ip: str | None, *, at: datetime,
                      link: PartnerLink | None = None) -> None:
    """Audit a refused link (the address in ``object_id`` counts towards its lockout)."""
    reference = None
    referral_id = None
    if link is not None:
        referral = session.get(Referral, link.referral_id)
        if referral is not None:
            reference = _case(session, referral.case_id).reference
            referral_id = referral.id
    _audit(session, LINK_REFUSED, at=at, by="anonymous", object_type="ip",
           object_id=(ip or "unknown")[:64], case_reference=reference, reason=reason,
           referral=referral_id)


def link_locked(session: Session, ip: str | None, *, at: datetime) -> bool:
    """Tell whether ``ip`` refused too many links lately (kept in the audit trail)."""
    failures = session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == LINK_REFUSED, AuditEvent.object_id == (ip or "unknown")[:64],
        AuditEvent.at > at - LINK_LOCKOUT)) or 0
    return failures >= MAX_LINK_FAILURES


# -- what a partner may see --------------------------------------------------------------------


def agency_of(user: User) -> PartnerAgency | None:
    """The agency of an active partner user, else None (nobody else sees partner pages)."""
    if not user.active or user.role is not Role.PARTNER:
        return None
    return user.agency


def referrals_of_agency(agency: PartnerAgency) -> Select[tuple[Referral]]:
    """Select the referrals sent to ``agency``, newest first."""
    return (select(Referral).where(Referral.agency_id == agency.id)
            .order_by(Referral.referred_at.desc(), Referral.id.desc()))


def referral_for_agency(session: Session, agency: PartnerAgency, referral_id: int
                        ) -> Referral | None:
    """The referral ``referral_id`` if it was sent to ``agency``, else None."""
    found = session.get(Referral, referral_id)
    return found if found is not None and found.agency_id == agency.id else None


def actions_of_agency(session: Session, agency: PartnerAgency
                      ) -> list[tuple[ConferenceAction, CaseConference, Case]]:
    """The case conference actions ``agency`` owns, with their conference and case."""
    rows = session.execute(
        select(ConferenceAction, CaseConference, Case)
        .join(CaseConference, ConferenceAction.conference_id == CaseConference.id)
        .join(Case, CaseConference.case_id == Case.id)
        .where(ConferenceAction.owner_kind == OwnerKind.AGENCY,
               ConferenceAction.owner == agency.code)
        .order_by(ConferenceAction.due_at, ConferenceAction.id))
    return [(a, c, k) for a, c, k in rows]


def action_for_agency(session: Session, agency: PartnerAgency, action_id: int
                      ) -> ConferenceAction | None:
    """The conference action ``action_id`` if ``agency`` owns it, else None."""
    found = session.get(ConferenceAction, action_id)
    if found is None or found.owner_kind is not OwnerKind.AGENCY or found.owner != agency.code:
        return None
    return found


# -- what a partner writes ---------------------------------------------------------------------


def clean_text(value: Any, field: str, *, required: bool = True) -> str | None:
    """Strip ``value``; refuse it when empty (if required) or longer than allowed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CaseDataInvalid(field, "Enter some text")
        return None
    if not isinstance(value, str) or len(value.strip()) > MAX_NOTE_TEXT:
        raise CaseDataInvalid(field, f"Use {MAX_NOTE_TEXT} characters or fewer")
    return value.strip()


def add_note(session: Session, case: Case, kind: PartnerNoteKind, body: Any, *, at: datetime,
             by: str, agency_code: str, referral: Referral | None = None,
             action: ConferenceAction | None = None, field: str = "text") -> PartnerNote:
    """Keep what a partner wrote on the case, audited (the text stays out of the audit)."""
    text = clean_text(body, field) or ""
    note = PartnerNote(case_id=case.id, referral_id=referral.id if referral else None,
                       action_id=action.id if action else None, agency_code=agency_code,
                       kind=kind, at=at, by=by, body=text)
    session.add(note)
    session.flush()
    _audit(session, f"partner.{kind.value}", at=at, by=by, object_type="partner_note",
           object_id=str(note.id), case_reference=case.reference, agency=agency_code,
           referral=note.referral_id, conference_action=note.action_id)
    return note


def notes_of_referral(referral: Referral) -> Select[tuple[PartnerNote]]:
    """Select what the partner wrote about ``referral``, oldest first."""
    return (select(PartnerNote).where(PartnerNote.referral_id == referral.id)
            .order_by(PartnerNote.at, PartnerNote.id))


def notes_of_case(case: Case) -> Select[tuple[PartnerNote]]:
    """Select what partners wrote about ``case``, oldest first (for the officer's case file)."""
    return (select(PartnerNote).where(PartnerNote.case_id == case.id)
            .order_by(PartnerNote.at, PartnerNote.id))


def note_refused(session: Session, *, at: datetime, by: str, what: str, object_id: str | None,
                 case_reference: str | None = None, **summary: Any) -> None:
    """Audit a partner's refused attempt to open or change something not theirs."""
    _audit(session, "partner.refused", at=at, by=by, object_type=what, object_id=object_id,
           case_reference=case_reference, **summary)
