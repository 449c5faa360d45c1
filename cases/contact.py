"""Contact with the reporter, action plans, stage moves and disclosures on a case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.checks import Errors, _aware, _choice, _text
from cases.common import _audit, _must_be_open, _touch
from cases.config import get_setting
from cases.enums import ContactKind, ContactMethod, Direction, LegalBasis, Stage
from cases.records import ActionPlan, Case, CaseDataInvalid, ContactLogEntry, Disclosure

__all__ = ["current_plan", "record_breach", "record_contact", "record_disclosure",
           "record_plan", "set_next_update", "set_stage"]

_EARLY_STAGES = (Stage.INTAKE, Stage.TRIAGE, Stage.CONTACT)


def record_contact(session: Session, case: Case, *, at: datetime, by: str,
                   method: ContactMethod | str, kind: ContactKind | str, summary: str,
                   direction: Direction | str = Direction.OUTBOUND) -> ContactLogEntry:
    """Log a contact with the reporter; the first ``first_contact`` sets the first contact time."""
    moment = _aware("at", at)
    errors: Errors = {}
    entry = ContactLogEntry(
        case_id=case.id, at=moment, by=_text(by, "by", errors, 64),
        method=_choice(method, ContactMethod, "method", errors),
        kind=_choice(kind, ContactKind, "kind", errors),
        direction=_choice(direction, Direction, "direction", errors),
        summary=_text(summary, "summary", errors, 2000))
    if moment < case.received_at:
        errors["at"] = "must not be before the report was received"
    if errors:
        raise CaseDataInvalid(errors)
    session.add(entry)
    if entry.kind is ContactKind.FIRST_CONTACT and case.first_contact_at is None:
        case.first_contact_at = moment
        if case.stage in (Stage.INTAKE, Stage.TRIAGE):
            case.stage = Stage.CONTACT
    _touch(case, moment)
    session.flush()
    return entry


def record_breach(session: Session, case: Case, at: datetime) -> bool:
    """Note that first contact missed its deadline at ``at``; tell whether it was new."""
    moment = _aware("at", at)
    if case.first_contact_breached_at is not None:
        return False
    case.first_contact_breached_at = moment
    _touch(case, moment)
    session.flush()
    return True


def record_plan(session: Session, case: Case, *, at: datetime, by: str, actions: list[str],
                update_frequency: str, agreed_with_reporter: bool,
                update_cadence_days: int | None = None) -> ActionPlan:
    """Add a new version of the action plan and the agreed update frequency."""
    moment = _aware("at", at)
    errors: Errors = {}
    choices: dict[str, int] = get_setting(session, "update_cadence_choices", moment)
    if not isinstance(actions, list) or not 1 <= len(actions) <= 20:
        errors["actions"] = "must be a list of 1 to 20 actions"
        actions = []
    cleaned = [_text(a, f"actions.{i}", errors, 300) for i, a in enumerate(actions)]
    if not isinstance(update_frequency, str) or update_frequency not in choices:
        errors["update_frequency"] = f"must be one of {', '.join(choices)}"
    days = update_cadence_days if update_cadence_days is not None \
        else choices.get(str(update_frequency))
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or not 1 <= days <= 60):
        errors["update_cadence_days"] = "must be a whole number of working days from 1 to 60"
    if not isinstance(agreed_with_reporter, bool):
        errors["agreed_with_reporter"] = "must be true or false"
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    latest = session.scalar(select(func.max(ActionPlan.version))
                            .where(ActionPlan.case_id == case.id))
    plan = ActionPlan(case_id=case.id, version=(latest or 0) + 1, agreed_at=moment,
                      agreed_by=by, actions=cleaned, update_frequency=update_frequency,
                      update_cadence_days=days, agreed_with_reporter=agreed_with_reporter)
    session.add(plan)
    case.update_frequency, case.update_cadence_days = update_frequency, days
    if case.stage in _EARLY_STAGES:
        case.stage = Stage.SUPPORT
    _touch(case, moment)
    session.flush()
    return plan


def current_plan(session: Session, case: Case) -> ActionPlan | None:
    """Return the newest version of the case's action plan, or None."""
    return session.scalars(select(ActionPlan).where(ActionPlan.case_id == case.id)
                           .order_by(ActionPlan.version.desc()).limit(1)).first()


def set_next_update(session: Session, case: Case, due_at: datetime) -> Case:
    """Record when the reporter's next update is due."""
    case.next_update_due_at = _aware("due_at", due_at)
    session.flush()
    return case


def set_stage(session: Session, case: Case, stage: Stage | str, *,
              at: datetime | None = None) -> Case:
    """Move an open case to ``stage``."""
    errors: Errors = {}
    where = _choice(stage, Stage, "stage", errors)
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    case.stage = where
    _touch(case, at)
    session.flush()
    return case


def record_disclosure(session: Session, case: Case, *, at: datetime, by: str, recipient: str,
                      what: str, legal_basis: LegalBasis | str, note: str | None = None
                      ) -> Disclosure:
    """Record information shared outside the council and the legal basis for sharing it."""
    moment = _aware("at", at)
    errors: Errors = {}
    row = Disclosure(case_id=case.id, at=moment, by=_text(by, "by", errors, 64),
                     recipient=_text(recipient, "recipient", errors, 200),
                     what=_text(what, "what", errors, 2000),
                     legal_basis=_choice(legal_basis, LegalBasis, "legal_basis", errors),
                     note=_text(note, "note", errors, 2000, required=False))
    if errors:
        raise CaseDataInvalid(errors)
    session.add(row)
    _audit(session, case, "disclosed", moment, row.by, recipient=row.recipient,
           legal_basis=row.legal_basis.value)
    session.flush()
    return row
