"""Letters to the reported person, built from the case record without a word about the reporter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import config as council_config
from cases.operations import reporter_of
from cases.people import User
from cases.records import Case, CaseParty, PartyRole, Person

from .notify.letters import RenderedLetter, render, reported_person_context, to_pdf


@dataclass(frozen=True)
class WarningLetter:
    """A rendered warning letter and its PDF."""

    letter: RenderedLetter
    pdf: bytes


def reported_people(session: Session, case: Case) -> list[Person]:
    """The people a case reports, in the order they were added."""
    return list(session.scalars(
        select(Person).join(CaseParty, CaseParty.person_id == Person.id)
        .where(CaseParty.case_id == case.id, CaseParty.role == PartyRole.REPORTED_PERSON)
        .order_by(CaseParty.id)))


def warning_letter(session: Session, case: Case, person: Person, *, behaviours: list[str],
                   behaviour_summary: str, period: str, now: datetime) -> WarningLetter:
    """Render a warning to ``person``; the reporter's details are passed only to be kept out."""
    reporter, _party = reporter_of(session, case)
    officer = session.scalar(select(User).where(User.name == case.case_officer))
    facts: dict[str, Any] = {
        "case_reference": case.reference,
        "council": council_config.get_setting(session, "council_details", at=now),
        "officer": {"name": officer.display_name or officer.name, "phone": officer.phone,
                    "email": officer.email} if officer else {},
        "reported_person": {"name": person.name, "address": person.address},
        "behaviours": behaviours,
        "behaviour_summary": behaviour_summary,
        "period": period,
        "date": now,
        # Everything identifying about the reporter, so that the letter builder can refuse
        # officer wording that mentions any of it; none of it is copied into the letter.
        "reporter": {"name": reporter.name, "address": reporter.address,
                     "phone": reporter.phone, "email": reporter.email,
                     "postcode": reporter.postcode},
        "reporter_descriptions": [i.description for i in case.incidents],
    }
    letter = render("warning_to_reported_person", reported_person_context(facts))
    return WarningLetter(letter, to_pdf(letter.html))
