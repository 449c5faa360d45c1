"""The reporters' door: reports from the public form, their access, and what they send later.

Everything a reporter does reaches the running case through the services officers use
(``cases_service``, ``evidence_requests``); their own words are kept on the case record
(``cases.reporter_access.ReporterSubmission``), out of the workflow's data. Every success and
failure is audited with the actor ``reporter`` and never with the code or link.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import operations as ops
from cases.audit import AuditRecord, record
from cases.config import get_setting
from cases.outbox import MessageChannel, OutboxMessage, enqueue
from cases.people import User
from cases.records import Case, CaseDataInvalid, validate_contact_preferences
from cases.reporter_access import (
    IssuedAccess,
    SubmissionKind,
    add_submission,
    display_code,
    issue_access,
)
from engine import clock
from engine.runtime import CaseEngine

from . import cases_service
from .case_review import apply_for_case_review
from .complaints import make_complaint
from .evidence_requests import evidence_added, receive_diary_entry
from .notify.letters import render
from .notify.preferences import next_safe_time

ACTOR = "reporter"
ANONYMOUS_NAME = "Anonymous reporter"
ANONYMOUS_ADDRESS = "Not given: anonymous online report"
ACCESS_TEMPLATE = "reporter_access"
PHONE_PROCESS = "asb_phone_call"
# Nothing written may reach an anonymous reporter: they follow the case online.
ANONYMOUS_PREFERENCES = {"channels": [], "unsafe_channels": ["email", "sms", "phone", "letter"],
                         "no_voicemail": True, "confidential": True}


@dataclass(frozen=True)
class NewReport:
    """A case opened from the public form, with the access shown once on the confirmation."""

    case: Case
    issued: IssuedAccess
    emailed: bool

    @property
    def code(self) -> str:
        """The follow-up code as the reporter reads it."""
        return display_code(self.issued.code)


def audit(session: Session, action: str, case: Case | None, *, at: datetime | None = None,
          **summary: Any) -> None:
    """One audit row for the reporters' door (never the code, the link or the reporter's words)."""
    record(session, AuditRecord(
        at=at or clock.now(), actor=ACTOR, action=action, object_type="case",
        object_id=str(case.id) if case is not None else None,
        case_reference=case.reference if case is not None else None,
        summary={"via": "reporter", **summary}))


def anonymous_reporter() -> dict[str, Any]:
    """The reporter section of an anonymous report (no name, no way to write to them).

    The case record needs a name and one of phone, e-mail or address; an anonymous report
    gets a placeholder address unique to it, so it never matches another report's reporter.
    """
    return {"name": ANONYMOUS_NAME,
            "address": f"{ANONYMOUS_ADDRESS} {secrets.token_hex(3).upper()}",
            "contact_preferences": dict(ANONYMOUS_PREFERENCES)}


def is_anonymous(session: Session, case: Case) -> bool:
    """Tell whether the case's reporter reported anonymously from the public form."""
    person, _party = ops.reporter_of(session, case)
    return (person.name == ANONYMOUS_NAME and not person.phone and not person.email
            and (person.address or "").startswith(ANONYMOUS_ADDRESS))


def open_public_report(session: Session, engine: CaseEngine, report: Mapping[str, Any], *,
                       link_for: Any, valid: int, ip_hint: str | None = None) -> NewReport:
    """Open a case from the public form, as an officer's intake does, and issue its access.

    ``link_for(token)`` makes the private link; an e-mail with it and the code goes to the
    reporter when they gave an address and did not mark e-mail unsafe.
    """
    now = clock.now()
    case = cases_service.open_case(session, engine, {**report, "channel": "online"},
                                   actor=ACTOR, received_at=now)
    issued = issue_access(session, case, by=ACTOR, at=now, valid_days=valid)
    emailed = send_access(session, case, issued, link_for(issued.token), now=now)
    audit(session, "reporter.case_opened", case, at=now, anonymous=is_anonymous(session, case),
          emailed=emailed, priority=case.priority)
    return NewReport(case, issued, emailed)


def _officer(session: Session, case: Case, now: datetime) -> dict[str, str]:
    """The case officer as the reporter may know them, else the team's contact details."""
    council = get_setting(session, "council_details", at=now)
    user = session.scalar(select(User).where(User.name == case.case_officer)
                          ) if case.case_officer else None
    if user is None:
        return {"name": "The anti-social behaviour team", "phone": council["phone"],
                "email": council["email"]}
    return {"name": user.display_name or user.name, "phone": user.phone or council["phone"],
            "email": user.email or council["email"]}


def officer_of(session: Session, case: Case) -> dict[str, str]:
    """The reporter's named contact: case officer's name, phone and e-mail."""
    return _officer(session, case, clock.now())


def send_access(session: Session, case: Case, issued: IssuedAccess, link: str, *,
                now: datetime) -> bool:
    """E-mail the reference, the private link and the code if e-mail is known and safe."""
    person, party = ops.reporter_of(session, case)
    prefs = party.contact_preferences or {}
    if not person.email or "email" in (prefs.get("unsafe_channels") or []):
        return False
    values = {"council": get_setting(session, "council_details", at=now),
              "officer": _officer(session, case, now), "recipient_name": person.name,
              "case_reference": case.reference, "date": now, "channel": "email",
              "confidential": bool(prefs.get("confidential")), "link": link,
              "code": display_code(issued.code), "valid_days": issued.access.valid_days}
    rendered = render(ACCESS_TEMPLATE, values)
    subject = rendered.subject
    if values["confidential"]:
        subject = f"A message from {values['council']['name']} ({case.reference})"
    enqueue(session, recipient_role="reporter", channel=MessageChannel.EMAIL,
            to_address=person.email, subject=subject, body_text=rendered.text,
            body_html=rendered.html, template=ACCESS_TEMPLATE, created_at=now,
            case_reference=case.reference, not_before=next_safe_time(prefs, now))
    return True


def updates_for_reporter(session: Session, case: Case) -> list[OutboxMessage]:
    """Messages addressed to the reporter on this case, newest first (never the access e-mail,
    which carries the secret link)."""
    return list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.case_reference == case.reference,
        OutboxMessage.recipient_role == "reporter",
        OutboxMessage.template != ACCESS_TEMPLATE,
        OutboxMessage.channel != MessageChannel.PHONE_TASK)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())))


# --- what the reporter sends -------------------------------------------------------------


def report_incident(session: Session, engine: CaseEngine, case: Case,
                    incident: Mapping[str, Any]) -> cases_service.IncidentOutcome:
    """A new incident: to the open case, a re-opened one, or a new linked case."""
    outcome = cases_service.receive_incident(session, engine, case.reference, incident,
                                             actor=ACTOR)
    add_submission(session, case, SubmissionKind.INCIDENT, at=clock.now(),
                   text=str(incident.get("description") or "")[:2000],
                   object_ref=outcome.case.reference)
    audit(session, "reporter.incident_added", case, how=outcome.how,
          new_reference=outcome.case.reference)
    return outcome


def add_diary(session: Session, engine: CaseEngine, case: Case, entry: Mapping[str, Any]) -> int:
    """A diary entry for the officer's review (``CaseDataInvalid`` field by field)."""
    row = receive_diary_entry(session, engine, case.reference, dict(entry), actor=ACTOR)
    add_submission(session, case, SubmissionKind.DIARY, at=clock.now(), object_ref=str(row.id))
    audit(session, "reporter.diary_added", case, diary_entry_id=row.id)
    return row.id


def evidence_sent(session: Session, engine: CaseEngine, case: Case, item_id: int) -> None:
    """A file of evidence the reporter uploaded: wakes an evidence request waiting for it."""
    evidence_added(session, engine, case.reference, item_id, actor=ACTOR)
    add_submission(session, case, SubmissionKind.EVIDENCE, at=clock.now(),
                   object_ref=str(item_id))
    audit(session, "reporter.evidence_added", case, item_id=item_id)


def _must_be_open(case: Case, field: str) -> None:
    if str(case.status) != "open":
        raise CaseDataInvalid(field, "your case is closed: report a new incident instead")


def change_circumstances(session: Session, engine: CaseEngine, case: Case, text: str) -> None:
    """A change of circumstances: the officer reviews the risk assessment again."""
    _must_be_open(case, "details")
    row = add_submission(session, case, SubmissionKind.CIRCUMSTANCES, at=clock.now(), text=text)
    cases_service.send_event(session, engine, case.reference, "change_of_circumstances",
                             {"note": "Sent by the reporter online: see the case file",
                              "submission_id": row.id}, actor=ACTOR)
    audit(session, "reporter.circumstances_changed", case, submission_id=row.id)


def change_preferences(session: Session, engine: CaseEngine, case: Case,
                       prefs: Mapping[str, Any], frequency: str | None) -> bool:
    """New contact preferences apply to every message from now on; a different update
    frequency is agreed by the officer (a "phone the reporter" task). Returns whether asked."""
    _must_be_open(case, "pref_channels")
    _person, party = ops.reporter_of(session, case)
    old = party.contact_preferences or {}
    clean = validate_contact_preferences({**prefs, "confidential": bool(old.get(
        "confidential", True))}, "contact_preferences")
    party.contact_preferences = clean
    choices = get_setting(session, "update_cadence_choices", at=clock.now())
    if frequency is not None and frequency not in choices:
        raise CaseDataInvalid("frequency", "is not one of the choices")
    asked = bool(frequency) and frequency != case.update_frequency
    row = add_submission(session, case, SubmissionKind.PREFERENCES, at=clock.now(),
                         text=f"Updates wanted: {frequency}" if asked else None)
    if asked:
        engine.start(session, PHONE_PROCESS, case.reference, {
            "case_officer": case.case_officer, "template": "update",
            "case_reference": case.reference,
            "reason": (f"The reporter asked online for {frequency} updates instead of "
                       f"{case.update_frequency or 'the agreed frequency'}: agree it with them "
                       "and change the action plan.")}, actor=ACTOR)
    session.flush()
    audit(session, "reporter.preferences_changed", case, submission_id=row.id,
          frequency_asked=frequency if asked else None, channels=clean.get("channels"))
    return asked


def _reporter_details(session: Session, case: Case) -> dict[str, Any]:
    person, party = ops.reporter_of(session, case)
    given = {"name": person.name, "phone": person.phone, "email": person.email,
             "address": person.address, "contact_preferences": party.contact_preferences or {}}
    return {k: v for k, v in given.items() if v is not None}


def ask_case_review(session: Session, engine: CaseEngine, case: Case, text: str) -> None:
    """An application for an ASB Case Review about this case: a message to the running case,
    or (once the case has closed) an application linked to it."""
    row = add_submission(session, case, SubmissionKind.CASE_REVIEW, at=clock.now(), text=text)
    if str(case.status) == "open":
        cases_service.send_event(session, engine, case.reference, "case_review_application",
                                 {"description": text}, actor=ACTOR)
    else:
        apply_for_case_review(session, engine, applicant=_reporter_details(session, case),
                              description=text, case_reference=case.reference, actor=ACTOR)
    audit(session, "reporter.case_review_asked", case, submission_id=row.id)


def complain(session: Session, engine: CaseEngine, case: Case, about: str,
             outcome_sought: str | None) -> None:
    """A complaint about the service on this case: a message to the running case, or (once
    the case has closed) a complaint linked to it."""
    row = add_submission(session, case, SubmissionKind.COMPLAINT, at=clock.now(), text=about)
    if str(case.status) == "open":
        cases_service.send_event(session, engine, case.reference, "complaint",
                                 {"about": about, "outcome_sought": outcome_sought},
                                 actor=ACTOR)
    else:
        make_complaint(session, engine, complainant=_reporter_details(session, case),
                       about=about, outcome_sought=outcome_sought,
                       case_reference=case.reference, actor=ACTOR)
    audit(session, "reporter.complaint_made", case, submission_id=row.id)
