"""Shared by the support stages: their settings, partner e-mails, what a referral carries.

A referral carries only the kinds of information the officer ticked; each kind is read here
from the case record and nothing else about the case is put in the e-mail. Partner e-mails
are queued in the outbox with ``recipient_role`` "partner", in the same transaction as the
record they belong to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cases.config import ConfigInvalid
from cases.enums import PartyRole
from cases.outbox import MessageChannel, OutboxMessage, enqueue
from cases.people import User
from cases.records import Case, CaseParty, RiskAssessment
from engine.handlers import ServiceContext

from .common import setting
from .notify.letters import LetterContextInvalid, long_datetime, render

# Council settings (cases/config_values.py); these are the fallbacks should a key ever be
# withdrawn from the configuration, so follow-up never stops for want of a number.
SUPPORT_DEFAULTS: dict[str, int] = {
    "referral_chaser_working_days": 5,    # reminder when a partner has not answered
    "referral_max_chasers": 2,            # reminders before the officer is asked
    "conference_chaser_working_days": 5,  # between reminders about an overdue action
    "conference_max_chasers": 2,          # reminders before the officer is asked
}
LEGAL_BASIS_TEXT = {
    "consent": "the consent of the person concerned",
    "crime_and_disorder_act_s115": "section 115 of the Crime and Disorder Act 1998 (sharing "
                                   "with a relevant authority to reduce crime and disorder)",
    "safeguarding": "safeguarding a child or a vulnerable adult at risk of harm",
    "crime_committed": "the prevention or detection of crime (a crime has been committed)",
    "legal_obligation": "a legal obligation to share it",
}
SECTION_TITLES = {
    "reporter_contact_details": "The reporter and how to contact them safely",
    "incident_details": "The incidents reported",
    "risk_assessment": "Our latest risk assessment",
    "reported_person_details": "The people reported",
}
_SAFE_DAYS = {"mon-fri": "Monday to Friday", "sat-sun": "weekends", "any": "any day"}


def support_setting(ctx: ServiceContext, key: str, at: datetime | None = None) -> int:
    """The council's value for ``key`` in force at ``at``, else the default above."""
    try:
        return int(setting(ctx, key, at))
    except ConfigInvalid:
        return SUPPORT_DEFAULTS[key]


def sender(ctx: ServiceContext, case: Case) -> dict[str, Any]:
    """The council and the case officer, as a partner e-mail is signed."""
    council = setting(ctx, "council_details")
    officer = ctx.session.scalar(select(User).where(User.name == case.case_officer)) \
        if case.case_officer else None
    if officer is None:
        who = {"name": "The anti-social behaviour team", "phone": council["phone"],
               "email": council["email"]}
    else:
        who = {"name": officer.display_name or officer.name,
               "phone": officer.phone or council["phone"],
               "email": officer.email or council["email"]}
    return {"council": council, "officer": who}


def send_to_partner(ctx: ServiceContext, case: Case, template: str, *, to_address: str,
                    recipient_name: str, facts: dict[str, Any],
                    required: Iterable[str] = ()) -> OutboxMessage:
    """Render ``template`` for a partner and queue it by e-mail; refuse missing facts."""
    missing = [key for key in required if facts.get(key) in (None, "", [])]
    if missing:
        raise LetterContextInvalid(f"{template}: missing {', '.join(missing)}")
    values = {**sender(ctx, case), "case_reference": case.reference, "date": ctx.now,
              "recipient_name": recipient_name, "channel": "email", "confidential": True,
              **facts}
    letter = render(template, values)
    return enqueue(ctx.session, recipient_role="partner", channel=MessageChannel.EMAIL,
                   to_address=to_address, subject=letter.subject, body_text=letter.text,
                   body_html=letter.html, template=template, created_at=ctx.now,
                   case_reference=case.reference)


def _people(ctx: ServiceContext, case: Case, role: PartyRole) -> list[CaseParty]:
    return list(ctx.session.scalars(select(CaseParty).where(
        CaseParty.case_id == case.id, CaseParty.role == role).order_by(CaseParty.id)))


def _reporter_lines(ctx: ServiceContext, case: Case) -> list[str]:
    lines = []
    for party in _people(ctx, case, PartyRole.REPORTER):
        person = party.person
        lines.append(f"Name: {person.name}")
        lines += [f"{label}: {value}" for label, value in (
            ("Phone", person.phone), ("E-mail", person.email), ("Address", person.address))
            if value]
        prefs = party.contact_preferences or {}
        for window in prefs.get("safe_times") or []:
            days = _SAFE_DAYS.get(window.get("days", "any"), "any day")
            lines.append(f"Safe to contact: {days}, {window['from']} to {window['to']}")
        if prefs.get("unsafe_channels"):
            lines.append("Never contact by: " + ", ".join(prefs["unsafe_channels"]))
        if prefs.get("no_voicemail"):
            lines.append("Do not leave voicemail or messages")
    return lines


def _incident_lines(case: Case) -> list[str]:
    return [f"{long_datetime(i.occurred_at)}, {i.location}: {i.description}"
            for i in case.incidents]


def _risk_lines(ctx: ServiceContext, case: Case) -> list[str]:
    latest = ctx.session.scalars(select(RiskAssessment).where(
        RiskAssessment.case_id == case.id).order_by(RiskAssessment.assessed_at.desc(),
                                                    RiskAssessment.id.desc()).limit(1)).first()
    lines = [f"Priority: {case.priority or 2} (1 is the most urgent)"]
    if latest is None:
        return lines
    if latest.harm:
        lines.append(f"Harm to the victim: {latest.harm}")
    if latest.community_impact:
        lines.append(f"Impact on the community: {latest.community_impact}")
    ticked = [k for k, v in (latest.vulnerability or {}).items() if v]
    if ticked:
        lines.append("Vulnerability: " + ", ".join(ticked))
    lines += [text for flag, text in (
        (latest.child_at_risk, "A child is at risk"),
        (latest.vulnerable_adult, "A vulnerable adult is at risk"),
        (latest.threat_of_violence, "There is a threat of violence"),
        (latest.repeat_victim, "The victim is a repeat victim")) if flag]
    if latest.notes:
        lines.append(f"Notes: {latest.notes}")
    return lines


def _reported_lines(ctx: ServiceContext, case: Case) -> list[str]:
    return [", ".join(filter(None, [party.person.name, party.person.address]))
            for party in _people(ctx, case, PartyRole.REPORTED_PERSON)]


def disclosed_sections(ctx: ServiceContext, case: Case, kinds: list[str]
                       ) -> list[dict[str, Any]]:
    """The e-mail's sections for the ticked kinds of information, read from the case record."""
    readers = {
        "reporter_contact_details": lambda: _reporter_lines(ctx, case),
        "incident_details": lambda: _incident_lines(case),
        "risk_assessment": lambda: _risk_lines(ctx, case),
        "reported_person_details": lambda: _reported_lines(ctx, case),
    }
    return [{"title": SECTION_TITLES[kind], "lines": readers[kind]() or ["None recorded"]}
            for kind in kinds]
