"""Multi-agency case conferences (promise 7): when, who came, and the actions agreed.

A conference is scheduled with the agencies invited and a venue; when it has been held the
officer records who attended, a summary and the actions, each with an owner (a partner agency
of the directory, or a council user) and a due date, so that each action can be followed to
done. Everything said at a conference is shared with the agencies present: each attending
agency gets a ``Disclosure`` row with the legal basis the officer gave. Importing this module
imports ``cases.referrals`` too, so one entry in the migration runner covers both.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Select, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.audit import AuditRecord, record
from cases.base import Base, Timestamp, str_enum
from cases.contact import record_disclosure
from cases.enums import CaseStatus, LegalBasis
from cases.people import Role, find_user
from cases.records import Case, CaseDataInvalid
from cases.referrals import MAX_NOTE, check_agencies

MAX_ACTIONS = 30
MAX_ACTION_TEXT = 300
MAX_SUMMARY = 4000


class ConferenceStatus(enum.StrEnum):
    """Whether a conference is still to come, took place, or did not."""

    SCHEDULED = "scheduled"
    HELD = "held"
    NOT_HELD = "not_held"


class ActionStatus(enum.StrEnum):
    """Where an agreed action stands."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class OwnerKind(enum.StrEnum):
    """Who owns an action: a partner agency or a council user."""

    AGENCY = "agency"
    USER = "user"




class CaseConference(Base):
    """One multi-agency case conference on a case."""

    __tablename__ = "case_conferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(Timestamp())
    venue: Mapped[str] = mapped_column(String(300))
    invited: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ConferenceStatus] = mapped_column(str_enum(ConferenceStatus,
                                                           "conference_status"))
    scheduled_at: Mapped[datetime] = mapped_column(Timestamp())
    scheduled_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime | None] = mapped_column(Timestamp())
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[LegalBasis | None] = mapped_column(str_enum(LegalBasis,
                                                                 "conference_legal_basis"))


class ConferenceAction(Base):
    """An action agreed at a conference, with its owner and due date."""

    __tablename__ = "conference_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("case_conferences.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(MAX_ACTION_TEXT))
    owner_kind: Mapped[OwnerKind] = mapped_column(str_enum(OwnerKind, "action_owner_kind"))
    owner: Mapped[str] = mapped_column(String(64))
    owner_name: Mapped[str] = mapped_column(String(128))
    owner_email: Mapped[str | None] = mapped_column(String(254))
    due_at: Mapped[datetime] = mapped_column(Timestamp())
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus, "action_status"),
                                                 index=True)
    done_at: Mapped[datetime | None] = mapped_column(Timestamp())
    done_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    chasers_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_chased_at: Mapped[datetime | None] = mapped_column(Timestamp())


def _audit(session: Session, case: Case, event: str, by: str, at: datetime,
           conference: CaseConference, **summary: Any) -> None:
    record(session, AuditRecord(at=at, actor=by, action=f"conference.{event}",
                                object_type="case_conference", object_id=str(conference.id),
                                case_reference=case.reference, summary=summary))


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    assert case is not None
    return case


def schedule_conference(session: Session, case: Case, *, starts_at: datetime, venue: Any,
                        agencies: Any, at: datetime, by: str) -> CaseConference:
    """Record a conference to come, with the directory agencies invited; refuse bad input."""
    errors: dict[str, str] = {}
    if case.status is not CaseStatus.OPEN:
        errors["case"] = f"case {case.reference} is closed: re-open it first"
    if starts_at <= at:
        errors["conference_at"] = "must be in the future"
    if not isinstance(venue, str) or not 1 <= len(venue.strip()) <= 300:
        errors["venue"] = "give the venue (or the call link) in at most 300 characters"
    try:
        invited = check_agencies(session, agencies, at)
    except CaseDataInvalid as exc:
        errors.update(exc.errors)
        invited = []
    if errors:
        raise CaseDataInvalid(errors)
    conference = CaseConference(
        case_id=case.id, starts_at=starts_at, venue=str(venue).strip(),
        invited=[a["code"] for a in invited], status=ConferenceStatus.SCHEDULED,
        scheduled_at=at, scheduled_by=by, attendees=[])
    session.add(conference)
    session.flush()
    _audit(session, case, "scheduled", by, at, conference, invited=conference.invited,
           starts_at=starts_at.isoformat())
    return conference


def record_not_held(session: Session, conference: CaseConference, *, by: str, at: datetime,
                    reason: Any) -> CaseConference:
    """The conference did not take place (it will be scheduled again)."""
    conference.status, conference.recorded_at, conference.recorded_by = (
        ConferenceStatus.NOT_HELD, at, by)
    conference.summary = _text(reason, "summary", MAX_SUMMARY)
    session.flush()
    _audit(session, _case(session, conference.case_id), "not_held", by, at, conference)
    return conference


def _text(value: Any, field: str, longest: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CaseDataInvalid(field, "is required")
    if len(value.strip()) > longest:
        raise CaseDataInvalid(field, f"must be at most {longest} characters")
    return value.strip()


def action_owner(session: Session, owner: str, at: datetime) -> tuple[OwnerKind, str, str | None]:
    """Resolve an owner written on a form: a directory agency code or a council user name."""
    try:
        (entry,) = check_agencies(session, [owner], at, field="owner", need_email=False)
    except CaseDataInvalid:
        entry = None
    if entry is not None:
        return OwnerKind.AGENCY, entry["name"], entry.get("email")
    user = find_user(session, owner)
    if user is None or not user.active or user.role is Role.PARTNER:
        raise CaseDataInvalid("owner", f"“{owner}” is neither an agency of the partner "
                                       "directory nor a council user")
    return OwnerKind.USER, user.display_name or user.name, user.email


def record_conference(session: Session, conference: CaseConference, *, by: str, at: datetime,
                      attendees: list[dict[str, Any]], summary: Any,
                      legal_basis: LegalBasis | str, actions: list[dict[str, Any]]
                      ) -> list[ConferenceAction]:
    """Record a held conference: attendance, summary, the disclosure to each agency, actions.

    ``attendees`` are directory entries; each action is ``{action, owner, owner_kind,
    owner_name, owner_email, due_at}`` as the handler resolved it.
    """
    case = _case(session, conference.case_id)
    try:
        basis = LegalBasis(legal_basis)
    except ValueError:
        raise CaseDataInvalid("legal_basis", "must be one of "
                              + ", ".join(b.value for b in LegalBasis)) from None
    conference.status, conference.recorded_at, conference.recorded_by = (
        ConferenceStatus.HELD, at, by)
    conference.attendees = [a["code"] for a in attendees]
    conference.summary = _text(summary, "summary", MAX_SUMMARY)
    conference.legal_basis = basis
    for agency in attendees:
        record_disclosure(session, case, at=at, by=by, recipient=agency["name"],
                          what="the case as discussed at the multi-agency case conference",
                          legal_basis=basis, note=f"case conference {conference.id}")
    rows = []
    for number, item in enumerate(actions, start=1):
        row = ConferenceAction(
            conference_id=conference.id, number=number, action=item["action"],
            owner_kind=item["owner_kind"], owner=item["owner"], owner_name=item["owner_name"],
            owner_email=item.get("owner_email"), due_at=item["due_at"],
            status=ActionStatus.OPEN, chasers_sent=0)
        session.add(row)
        rows.append(row)
    session.flush()
    _audit(session, case, "recorded", by, at, conference, attendees=conference.attendees,
           actions=len(rows), legal_basis=basis.value)
    return rows


def _action_case(session: Session, action: ConferenceAction) -> tuple[Case, CaseConference]:
    conference = session.get(CaseConference, action.conference_id)
    assert conference is not None
    return _case(session, conference.case_id), conference


def complete_conference_action(session: Session, action: ConferenceAction, *, by: str,
                               at: datetime, note: str | None = None) -> ConferenceAction:
    """Mark an open action done (by its owner, or the officer on their behalf)."""
    if action.status is not ActionStatus.OPEN:
        raise CaseDataInvalid("action", f"action {action.number} is already "
                                        f"{action.status.value}")
    action.status, action.done_at, action.done_by = ActionStatus.DONE, at, by
    if note is not None and note.strip():
        action.note = _text(note, "note", MAX_NOTE)
    session.flush()
    case, conference = _action_case(session, action)
    _audit(session, case, "action_done", by, at, conference, action=action.number)
    return action


def drop_conference_action(session: Session, action: ConferenceAction, *, by: str,
                           at: datetime, note: str) -> ConferenceAction:
    """Stop following an open action that will not be done, saying why."""
    if action.status is not ActionStatus.OPEN:
        raise CaseDataInvalid("action", f"action {action.number} is already "
                                        f"{action.status.value}")
    action.status, action.note = ActionStatus.DROPPED, _text(note, "note", MAX_NOTE)
    session.flush()
    case, conference = _action_case(session, action)
    _audit(session, case, "action_dropped", by, at, conference, action=action.number)
    return action


def record_action_chaser(session: Session, action: ConferenceAction, at: datetime,
                         *, sent: bool) -> ConferenceAction:
    """Count a reminder to an action's owner (``sent`` false: no address to send it to)."""
    action.chasers_sent = (action.chasers_sent or 0) + 1
    action.last_chased_at = at
    session.flush()
    case, conference = _action_case(session, action)
    _audit(session, case, "action_chased", "system", at, conference, action=action.number,
           chasers_sent=action.chasers_sent, emailed=sent)
    return action


def reset_action_reminders(session: Session, conference: CaseConference,
                           actions: list[ConferenceAction], *, by: str, at: datetime) -> None:
    """Start the reminders again for open actions the officer decided to keep following."""
    for action in actions:
        action.chasers_sent = 0
    session.flush()
    _audit(session, _case(session, conference.case_id), "reminders_restarted", by, at,
           conference, actions=[a.number for a in actions])


def conference_by_id(session: Session, conference_id: Any, case: Case) -> CaseConference:
    """Return the conference ``conference_id`` of ``case`` or refuse."""
    found = (session.get(CaseConference, int(conference_id))
             if str(conference_id).isdecimal() else None)
    if found is None or found.case_id != case.id:
        raise CaseDataInvalid("conference", f"no case conference {conference_id} on this case")
    return found


def conference_actions(conference: CaseConference) -> Select[tuple[ConferenceAction]]:
    """Select a conference's actions in the order they were agreed."""
    return (select(ConferenceAction).where(ConferenceAction.conference_id == conference.id)
            .order_by(ConferenceAction.number))


def conferences_for_case(case: Case) -> Select[tuple[CaseConference]]:
    """Select a case's conferences, oldest first."""
    return (select(CaseConference).where(CaseConference.case_id == case.id)
            .order_by(CaseConference.starts_at, CaseConference.id))
