"""A reporter's private access to their case: a code and a link, stored only as hashes.

Each case has at most one live access; issuing a new one revokes the old at once. The code
(ten letters and digits, read out on the phone or written down) is hashed together with the
case reference, so a code only ever opens the case it was made for; the link's token is long
and random and hashed on its own. Failed attempts are kept per IP address (hashed) and per
reference, so guessing is locked out across every web process.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, Timestamp
from .records import Case, CaseStatus

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: easy to read out
CODE_LENGTH = 10
DEFAULT_VALID_DAYS = 180
MAX_VALID_DAYS = 730


class AccessRefused(LookupError):
    """No live access matches what was given (unknown, revoked, expired or another case)."""


class SubmissionKind(enum.StrEnum):
    """What a reporter sent from their case page."""

    INCIDENT = "incident"
    DIARY = "diary"
    EVIDENCE = "evidence"
    CIRCUMSTANCES = "circumstances"
    PREFERENCES = "preferences"
    CASE_REVIEW = "case_review"
    COMPLAINT = "complaint"


class ReporterAccess(Base):
    """One code and link that let the reporter follow one case."""

    __tablename__ = "reporter_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(Timestamp())
    issued_by: Mapped[str] = mapped_column(String(100))
    valid_days: Mapped[int] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(Timestamp())
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp())
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp())


class ReporterAttempt(Base):
    """One failed attempt to open a case, counted against an IP address or a reference."""

    __tablename__ = "reporter_attempts"
    __table_args__ = (Index("ix_reporter_attempts_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # "ip" or "reference"
    key: Mapped[str] = mapped_column(String(64))    # hashed IP address, or the reference
    at: Mapped[datetime] = mapped_column(Timestamp())


class ReporterSubmission(Base):
    """Something the reporter sent from their case page, in their own words."""

    __tablename__ = "reporter_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(Timestamp())
    text: Mapped[str | None] = mapped_column(Text)
    object_ref: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True)
class IssuedAccess:
    """A new access and its secrets, which are shown or sent once and never stored."""

    access: ReporterAccess
    code: str
    token: str


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """The code as typed, without spaces or dashes, in capitals."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(reference: str, code: str) -> str:
    """The stored hash of ``code`` for the case ``reference`` (a code opens one case only)."""
    return _sha(f"reporter-code:{reference.upper()}:{normalise_code(code)}")


def token_hash(token: str) -> str:
    """The stored hash of a link's token."""
    return _sha(f"reporter-token:{token}")


def ip_key(address: str | None) -> str:
    """An IP address as it is stored for throttling: hashed, never in clear."""
    return _sha(f"reporter-ip:{address or 'unknown'}")


def display_code(code: str) -> str:
    """The code in two groups of five, as people read it: ``ABCDE-23456``."""
    return f"{code[:5]}-{code[5:]}"


def issue_access(session: Session, case: Case, *, by: str, at: datetime,
                 valid_days: int = DEFAULT_VALID_DAYS) -> IssuedAccess:
    """Revoke any live access to ``case`` and make a new code and link; flushed."""
    revoke_access(session, case, by=by, at=at)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    token = secrets.token_urlsafe(32)
    row = ReporterAccess(case_id=case.id, code_hash=code_hash(case.reference, code),
                         token_hash=token_hash(token), issued_at=at, issued_by=by,
                         valid_days=valid_days,
                         expires_at=at + timedelta(days=max(valid_days, MAX_VALID_DAYS)))
    session.add(row)
    session.flush()
    return IssuedAccess(row, code, token)


def revoke_access(session: Session, case: Case, *, by: str, at: datetime) -> int:
    """Revoke every live access to ``case``; return how many there were."""
    rows = session.scalars(select(ReporterAccess).where(
        ReporterAccess.case_id == case.id, ReporterAccess.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at, row.revoked_by = at, by
    session.flush()
    return len(rows)


def current_access(session: Session, case: Case) -> ReporterAccess | None:
    """The newest access to ``case``, live or not (None if none was ever issued)."""
    return session.scalars(select(ReporterAccess).where(ReporterAccess.case_id == case.id)
                           .order_by(ReporterAccess.id.desc()).limit(1)).first()


def access_ends_at(access: ReporterAccess, case: Case) -> datetime:
    """When ``access`` stops working: ``valid_days`` after the case closes (or after it was
    issued, if later), and never later than its fixed expiry."""
    if case.status is CaseStatus.OPEN or case.closed_at is None:
        return access.expires_at
    start = max(case.closed_at, access.issued_at)
    return min(access.expires_at, start + timedelta(days=access.valid_days))


def is_live(access: ReporterAccess, case: Case, at: datetime) -> bool:
    """Tell whether ``access`` still opens ``case`` at ``at``."""
    return (access.case_id == case.id and access.revoked_at is None
            and at < access_ends_at(access, case))


def access_by_token(session: Session, token: str, at: datetime) -> tuple[ReporterAccess, Case]:
    """The live access a link's token belongs to, and its case; else ``AccessRefused``."""
    row = session.scalars(select(ReporterAccess).where(
        ReporterAccess.token_hash == token_hash(token))).first()
    case = session.get(Case, row.case_id) if row is not None else None
    if row is None or case is None or not is_live(row, case, at):
        raise AccessRefused("link")
    return row, case


def access_by_code(session: Session, reference: str, code: str, at: datetime
                   ) -> tuple[ReporterAccess, Case]:
    """The live access for ``reference`` that ``code`` opens; else ``AccessRefused``."""
    case = session.scalars(select(Case).where(Case.reference == reference.upper())).first()
    if case is None:
        raise AccessRefused("reference")
    row = current_access(session, case)
    if (row is None or not secrets.compare_digest(row.code_hash, code_hash(case.reference, code))
            or not is_live(row, case, at)):
        raise AccessRefused("code")
    return row, case


def live_access(session: Session, access_id: int, case_reference: str, at: datetime
                ) -> tuple[ReporterAccess, Case]:
    """The access a reporter's session holds, if it still opens that case; else refused."""
    row = session.get(ReporterAccess, access_id)
    case = session.get(Case, row.case_id) if row is not None else None
    if row is None or case is None or case.reference != case_reference or not is_live(
            row, case, at):
        raise AccessRefused("session")
    return row, case


def record_failure(session: Session, *, ip: str | None, reference: str | None, at: datetime
                   ) -> None:
    """Count one failed attempt against the IP address and, if given, the reference."""
    session.add(ReporterAttempt(scope="ip", key=ip_key(ip), at=at))
    if reference:
        session.add(ReporterAttempt(scope="reference", key=reference.upper()[:64], at=at))
    session.flush()


def failures(session: Session, scope: str, key: str, since: datetime) -> int:
    """Failed attempts for ``scope``/``key`` since ``since``."""
    return session.scalar(select(func.count()).select_from(ReporterAttempt).where(
        ReporterAttempt.scope == scope, ReporterAttempt.key == key,
        ReporterAttempt.at >= since)) or 0


def clear_failures(session: Session, reference: str) -> None:
    """Forget a reference's failed attempts after it was opened with the right code."""
    session.execute(delete(ReporterAttempt).where(ReporterAttempt.scope == "reference",
                                                  ReporterAttempt.key == reference.upper()))


def add_submission(session: Session, case: Case, kind: SubmissionKind, *, at: datetime,
                   text: str | None = None, object_ref: str | None = None
                   ) -> ReporterSubmission:
    """Keep what the reporter sent (their words stay here, out of the workflow's data)."""
    row = ReporterSubmission(case_id=case.id, kind=str(kind), at=at, text=text,
                             object_ref=object_ref)
    session.add(row)
    session.flush()
    return row


def submissions_of(session: Session, case: Case) -> list[ReporterSubmission]:
    """What the reporter sent from their case page, newest first."""
    return list(session.scalars(select(ReporterSubmission).where(
        ReporterSubmission.case_id == case.id).order_by(ReporterSubmission.at.desc(),
                                                         ReporterSubmission.id.desc())))
