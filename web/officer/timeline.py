"""What a case file shows: the timeline of everything that happened, and where the case stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.evidence import EvidenceItem, evidence_of
from cases.outbox import MessageChannel, OutboxMessage, messages_for_case
from cases.partner_access import PartnerNote, PartnerNoteKind
from cases.people import PartnerAgency
from cases.records import (
    ActionPlan,
    Case,
    ContactLogEntry,
    Disclosure,
    RiskAssessment,
)
from cases.reporter_access import ReporterSubmission, SubmissionKind
from engine.models import HumanTask, ProcessInstance, TaskStatus

from .case_access import aware, london

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    """One line of the timeline."""

    at: datetime
    kind: str
    title: str
    detail: str = ""
    link: str | None = None
    link_text: str = ""


def task_path(task: HumanTask) -> str:
    """The task's page (built by the task forms, at ``/tasks/<id>``)."""
    return f"/tasks/{task.id}"


def _when(moment: datetime | None) -> datetime:
    return aware(moment) or _EPOCH


def assessments_of(session: Session, case: Case) -> list[RiskAssessment]:
    """A case's risk assessments, newest first."""
    return list(session.scalars(select(RiskAssessment).where(RiskAssessment.case_id == case.id)
                                .order_by(RiskAssessment.assessed_at.desc(),
                                          RiskAssessment.id.desc())))


def tasks_of(session: Session, case: Case) -> list[HumanTask]:
    """All of a case's tasks, oldest first."""
    return list(session.scalars(select(HumanTask).where(HumanTask.business_key == case.reference)
                                .order_by(HumanTask.created_at, HumanTask.id)))


def _incident_events(case: Case) -> list[Event]:
    return [Event(_when(i.reported_at), "incident", "Incident reported",
                  f"Happened {london(i.occurred_at)} at {i.location}: "
                  f"{i.description}") for i in case.incidents]


def _contact_events(session: Session, case: Case) -> list[Event]:
    rows = session.scalars(select(ContactLogEntry).where(ContactLogEntry.case_id == case.id))
    return [Event(_when(c.at), "contact",
                  f"Contact ({str(c.kind).replace('_', ' ')}, {str(c.method).replace('_', ' ')}"
                  f", {'from' if str(c.direction) == 'in' else 'to'} the reporter) by {c.by}",
                  c.summary) for c in rows]


def _task_events(tasks: list[HumanTask]) -> list[Event]:
    events = []
    for task in tasks:
        link = task_path(task)
        events.append(Event(_when(task.created_at), "task", f"Task opened: {task.title}",
                            f"For {task.assignee or task.role or 'anyone'}", link, "Open task"))
        if task.finished_at is not None:
            verb = "completed" if task.state is TaskStatus.COMPLETED else str(task.state)
            events.append(Event(_when(task.finished_at), "task", f"Task {verb}: {task.title}",
                                f"By {task.finished_by or 'the system'}"))
    return events


def _message_events(session: Session, case: Case) -> list[Event]:
    events = []
    for message in session.scalars(messages_for_case(case.reference)):
        what = "Letter" if message.channel is MessageChannel.LETTER else \
            str(message.channel).replace("_", " ").capitalize()
        link = url_for("casefile.letter", reference=case.reference, message_id=message.id)
        events.append(Event(_when(message.created_at), "message",
                            f"{what} to the {message.recipient_role}: {message.subject}",
                            f"Status: {message.status}", link, "View message"))
    return events


def _record_events(session: Session, case: Case, assessments: list[RiskAssessment]
                   ) -> list[Event]:
    events = [Event(_when(a.assessed_at), "assessment",
                    f"Risk assessment ({str(a.kind).replace('_', ' ')}) by {a.assessed_by}",
                    f"Priority {a.priority_before or '–'} → {a.priority_after or '–'}")
              for a in assessments]
    plans = session.scalars(select(ActionPlan).where(ActionPlan.case_id == case.id))
    events += [Event(_when(p.agreed_at), "plan", f"Action plan version {p.version} agreed",
                     f"By {p.agreed_by}; updates {p.update_frequency}") for p in plans]
    items = session.scalars(evidence_of(case))
    events += [Event(_when(e.uploaded_at), "evidence",
                     f"Evidence uploaded: {str(e.kind).replace('_', ' ')}",
                     f"{e.original_name} by {e.uploaded_by}",
                     url_for("casefile.evidence_download", reference=case.reference,
                             item_id=e.id), "Download") for e in items]
    disclosed = session.scalars(select(Disclosure).where(Disclosure.case_id == case.id))
    events += [Event(_when(d.at), "disclosure", f"Disclosed to {d.recipient}",
                     f"Legal basis: {str(d.legal_basis).replace('_', ' ')}; by {d.by}")
               for d in disclosed]
    return events


PARTNER_NOTE_TITLES = {PartnerNoteKind.MESSAGE: "Message from {agency}",
                       PartnerNoteKind.ACTION_TAKEN: "Action taken by {agency}",
                       PartnerNoteKind.PROGRESS: "Progress from {agency}"}
SUBMISSION_TITLES = {
    SubmissionKind.INCIDENT: "New incident", SubmissionKind.DIARY: "Diary entry",
    SubmissionKind.EVIDENCE: "Evidence file", SubmissionKind.CIRCUMSTANCES:
    "Change of circumstances", SubmissionKind.PREFERENCES: "Update preferences changed",
    SubmissionKind.CASE_REVIEW: "Case Review requested", SubmissionKind.COMPLAINT:
    "Complaint made"}
SHOWN_TEXT = 300  # characters of a partner's or reporter's words on the timeline


def _shown(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT - 1] + "…"


def _outside_events(session: Session, case: Case) -> list[Event]:
    """What partners wrote and what the reporter sent online, in their own words."""
    notes = session.execute(select(PartnerNote, PartnerAgency.name).outerjoin(
        PartnerAgency, PartnerAgency.code == PartnerNote.agency_code).where(
        PartnerNote.case_id == case.id)).all()
    events = [Event(_when(n.at), "partner",
                    PARTNER_NOTE_TITLES[n.kind].format(agency=name or n.agency_code),
                    f"{_shown(n.body)} ({n.by})") for n, name in notes]
    sent = session.scalars(select(ReporterSubmission).where(
        ReporterSubmission.case_id == case.id))
    events += [Event(_when(r.at), "reporter",
                     f"From the reporter online: {SUBMISSION_TITLES.get(r.kind, r.kind)}",
                     _shown(r.text)) for r in sent]
    return events


def timeline(session: Session, case: Case, tasks: list[HumanTask],
             assessments: list[RiskAssessment]) -> list[Event]:
    """Everything that happened on the case, newest first."""
    events = [*_incident_events(case), *_contact_events(session, case), *_task_events(tasks),
              *_message_events(session, case), *_record_events(session, case, assessments),
              *_outside_events(session, case)]
    return sorted(events, key=lambda e: e.at, reverse=True)


def process_position(session: Session, case: Case, tasks: list[HumanTask]
                     ) -> list[dict[str, Any]]:
    """The case's process instances, newest first, each with the steps open in it now."""
    instances = session.scalars(select(ProcessInstance)
                                .where(ProcessInstance.business_key == case.reference)
                                .order_by(ProcessInstance.created_at.desc(),
                                          ProcessInstance.id.desc()))
    return [{"process": instance.process_id, "status": str(instance.status),
             "started": aware(instance.created_at), "ended": aware(instance.ended_at),
             "open_steps": [t for t in tasks if t.instance_id == instance.id
                            and t.state is TaskStatus.OPEN]}
            for instance in instances]


def evidence_items(session: Session, case: Case) -> list[EvidenceItem]:
    """The case's evidence, newest first."""
    return list(session.scalars(evidence_of(case)))


def letter_of(session: Session, case: Case, message_id: int) -> OutboxMessage | None:
    """The case's message with ``message_id`` (None if it belongs to another case)."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.case_reference != case.reference:
        return None
    return message
