"""The demo's part-2 stages: referrals, conferences, evidence requests, legal tools, Case
Reviews, complaints and diary entries, started on open demo cases and worked like the rest.

``build_demo`` (``tasks/demo_cases.py``) calls ``StageStarter.day`` once per working day and
asks ``form_for_task`` for the answers to any task its own forms do not know. Everything goes
through the real entry points (``start_stage``, ``apply_for_case_review``, ``make_complaint``,
``receive_diary_entry``) and the real handlers, which may refuse an answer (a notice before
the time to comply has passed, say): the task then stays open and is tried another day.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.enums import PartyRole
from cases.legal import LegalAction, LegalStatus, LegalStep, LegalTool
from cases.operations import add_party
from cases.records import Case, CaseDataInvalid, CaseParty, CaseStatus, Person
from engine.errors import EngineError
from engine.models import HumanTask
from engine.runtime import CaseEngine

from .stages import start_stage

LONDON = ZoneInfo("Europe/London")

# What the demo starts, in turn: stage processes, then the reporter's own routes.
STAGE_PROCESSES = (
    "asb_referrals", "asb_case_conference", "asb_evidence_request", "asb_legal_warning",
    "asb_legal_aba", "asb_legal_community_protection", "asb_legal_injunction",
    "asb_legal_closure", "asb_legal_possession")
EVENTS = ("case_review", "complaint", "diary_entry")
ROTATION = STAGE_PROCESSES + EVENTS
LEGAL = {p for p in STAGE_PROCESSES if p.startswith("asb_legal_")}

RESPONDENTS = ("Nigel Neighbour", "Kevin Carter", "Dean Marsh", "Lisa Knowles", "Gary Pike",
               "Tanya Booth")

# How likely an open stage task is done on a given working day.
PACE = {
    "choose_referral_agencies": 0.7, "referral_declined": 0.6, "referral_unanswered": 0.6,
    "schedule_conference": 0.6, "record_conference": 0.7, "conference_actions_overdue": 0.6,
    "ask_for_evidence": 0.7, "review_evidence_received": 0.6, "evidence_not_received": 0.6,
    "prepare_warning_letter": 0.6, "approve_warning_letter": 0.7, "review_warning": 0.6,
    "draft_aba": 0.6, "record_aba_signed": 0.6, "review_aba": 0.6,
    "prepare_cpw": 0.6, "check_cpw_compliance": 0.6, "issue_cpn": 0.6,
    "record_cpn_appeal": 0.6, "record_cpn_compliance": 0.6,
    "prepare_injunction": 0.6, "consult_yot": 0.7, "prepare_injunction_bundle": 0.7,
    "take_witness_statements": 0.7, "prepare_injunction_witness": 0.7,
    "apply_for_injunction": 0.7, "record_injunction_hearing": 0.8,
    "record_injunction_breach": 0.7,
    "prepare_closure_notice": 0.8, "serve_closure_notice": 1.0, "apply_closure_order": 1.0,
    "record_closure_hearing": 1.0, "extend_closure_order": 0.8,
    "record_possession_trigger": 0.8, "serve_possession_notice": 0.8,
    "conduct_possession_review": 0.7, "apply_for_possession": 0.7,
    "record_possession_hearing": 0.8,
    "decide_case_review": 0.6, "hold_panel": 0.6, "record_recommendations": 0.6,
    "chase_recommendations": 0.6, "acknowledge_complaint": 0.7, "respond_to_complaint": 0.5,
    "acknowledge_stage_two": 0.7, "respond_stage_two": 0.5,
}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _day(moment: datetime, days: int = 0) -> str:
    return (moment.astimezone(LONDON).date() + timedelta(days=days)).isoformat()


def _at(moment: datetime, days: int, hour: int) -> str:
    when = moment.astimezone(LONDON).date() + timedelta(days=days)
    while when.weekday() >= 5:
        when += timedelta(days=1)
    return datetime(when.year, when.month, when.day, hour, 0, tzinfo=LONDON).isoformat()


def stage_form(rng: random.Random, name: str, now: datetime,
               respondent: str = "Nigel Neighbour",
               address: str = "14 Mill Lane, Chesterfield S40 1AB") -> dict[str, Any] | None:
    """Plausible answers to the stage task ``name`` at ``now``; ``None`` for a task it does not
    know (the demo then leaves the task open)."""
    disclose = {"reporter_contact_details": False, "incident_details": True,
                "risk_assessment": True, "reported_person_details": rng.random() < 0.5}
    forms: dict[str, Callable[[], dict[str, Any]]] = {
        # Referrals and case conferences
        "choose_referral_agencies": lambda: {
            "agencies": rng.choice((["police"], ["victim_support"], ["police", "victim_support"])),
            "disclose": disclose, "legal_basis": "crime_and_disorder_act_s115",
            "reason": "Please offer support to the reporter and patrol the street at night.",
            "tell_reporter": rng.random() < 0.7},
        "referral_declined": lambda: {"next_step": "handle_in_house",
                                      "note": "We will carry on with our own visits."},
        "referral_unanswered": lambda: {"outcome": rng.choice(("accepted", "withdrawn")),
                                        "note": "Spoke to the partner by phone."},
        "schedule_conference": lambda: {"conference_at": _at(now, 7, 10),
                                        "agencies": ["police", "youth"],
                                        "venue": "Room 2, Town Hall"},
        "record_conference": lambda: {
            "held": True, "attendees": ["police", "youth"],
            "legal_basis": "crime_and_disorder_act_s115",
            "summary": "Agreed joint visits and patrols.",
            "actions": [f"Patrol the street on Friday nights | police | {_day(now, 14)}"]},
        "conference_actions_overdue": lambda: {"done_actions": ["1"],
                                               "decision": "stop_tracking",
                                               "note": "Patrols done; confirmed by phone."},
        # Evidence requests
        "ask_for_evidence": lambda: {
            "kinds": {"diary_sheet": True, "photo": rng.random() < 0.5, "audio": False},
            "reason": "To show how late the noise goes on and how often."},
        "review_evidence_received": lambda: {"useful": True, "more_needed": False,
                                             "notes": "Shows the pattern clearly."},
        "evidence_not_received": lambda: {"next_step": "carry_on",
                                          "notes": "The reporter will call if it happens again."},
        # Warning letter, acceptable behaviour agreement, Community Protection
        "prepare_warning_letter": lambda: {
            "respondent": respondent, "behaviours": {"noise": True, "graffiti": False},
            "behaviour_to_stop": "Playing loud music after 11pm must stop.",
            "consequences": "If it continues we will consider a Community Protection Warning.",
            "period": "late at night over recent weeks"},
        "approve_warning_letter": lambda: {"decision": "approve"},
        "review_warning": lambda: rng.choice((
            {"behaviour_since": "stopped", "notes": "No reports for four weeks."},
            {"behaviour_since": "continued", "notes": "Two new diary entries."})),
        "draft_aba": lambda: {"respondent": respondent, "respondent_age": rng.randint(19, 50),
                              "terms": ["No loud music after 10pm",
                                        "No gathering outside the flats"]},
        "record_aba_signed": lambda: {"signed": True, "signed_on": _day(now),
                                      "parties_present": {"respondent": True,
                                                          "council_officer": True}},
        "review_aba": lambda: {"complying": True, "notes": "Kept to the terms."},
        "prepare_cpw": lambda: {
            "respondent": respondent, "respondent_16_or_body": True,
            "behaviour": "Loud amplified music at night, every week.",
            "requirements": ["Stop playing amplified music between 11pm and 7am"],
            "time_to_comply_days": 14},
        "check_cpw_compliance": lambda: {"warning_complied": False,
                                         "evidence": "Music again on two nights."},
        "issue_cpn": lambda: {
            "requirements": ["Do not play amplified music between 11pm and 7am"],
            "authorised_officer": "Olivia Officer", "warning_precondition_met": True},
        "record_cpn_appeal": lambda: {"appealed": False},
        "record_cpn_compliance": lambda: {"notice_complied": True,
                                          "evidence": "No reports since the notice."},
        # Injunction
        "prepare_injunction": lambda: {
            "respondent_name": respondent, "date_of_birth": "1988-05-01",
            "court": "county_court", "grounds": "Amplified music every night for months.",
            "terms_sought": [f"Not to play amplified music at {address} after 11pm"],
            "housing_related": True},
        "consult_yot": lambda: {"consulted_on": _day(now), "yot_officer": "Yasmin Youth",
                                "yot_view": "Supports the application."},
        "prepare_injunction_bundle": lambda: {
            "documents": ["Diary sheets", "Police log"], "include_case_evidence": True},
        "take_witness_statements": lambda: {"witnesses": ["Wendy Witness"],
                                            "reporter_is_witness": False,
                                            "statements_taken_on": _day(now)},
        "prepare_injunction_witness": lambda: {
            "witness": "Wendy Witness",
            "support_offered": "Referred to Victim Support; an officer will sit with them.",
            "special_measures": {"screens": True, "video_link": False},
            "court_familiarisation": True, "told_what_to_expect": True},
        "apply_for_injunction": lambda: {"application_date": _day(now),
                                         "court_name": "Chesterfield County Court",
                                         "hearing_at": _at(now, 14, 10),
                                         "without_notice": False},
        "record_injunction_hearing": lambda: {
            "outcome": "granted", "order_expires_on": _day(now, 365),
            "terms_granted": [f"Not to play amplified music at {address} after 11pm"],
            "power_of_arrest": True},
        "record_injunction_breach": lambda: {"breach_on": _day(now), "what_happened":
                                             "Music late at night again.",
                                             "action_taken": "warning_given"},
        # Closure order
        "prepare_closure_notice": lambda: {
            "premises_address": address, "premises_kind": "residential",
            "notice_hours": "24_hours", "grounds": "Disorder at the flat every night.",
            "consulted": "Derbyshire Police", "consultation_done": True,
            "occupiers_informed": True},
        "serve_closure_notice": lambda: {"served_at": _iso(now - timedelta(hours=1)),
                                         "served_how": "both"},
        "apply_closure_order": lambda: {"applied_at": _iso(now - timedelta(minutes=30)),
                                        "court_name": "Chesterfield Magistrates",
                                        "hearing_at": _iso(now + timedelta(hours=18))},
        "record_closure_hearing": lambda: {"outcome": "order_made",
                                           "heard_at": _iso(now - timedelta(hours=3)),
                                           "order_months": 3},
        "extend_closure_order": lambda: {"extend": False,
                                         "reason": "The disorder has stopped."},
        # Possession
        "record_possession_trigger": lambda: {
            "tenant_name": respondent, "property_address": address,
            "trigger": "closure_order", "trigger_date": _day(now, -7),
            "details": "Closure order made at the property."},
        "serve_possession_notice": lambda: {"served_on": _day(now), "served_how": "by_post",
                                            "proceedings_after": _day(now, 29)},
        "conduct_possession_review": lambda: {
            "reviewed_on": _day(now), "decision": "upheld",
            "reasons": "The closure order was for serious disorder at the property.",
            "tenant_notified_on": _day(now), "reviewer_independent": True},
        "apply_for_possession": lambda: {"applied_on": _day(now),
                                         "court_name": "Chesterfield County Court",
                                         "hearing_at": _at(now, 28, 10)},
        "record_possession_hearing": lambda: {"outcome": "possession_order",
                                              "possession_date": _day(now, 14)},
        # Case Review and complaints
        "decide_case_review": lambda: rng.choice((
            {"persistent": True, "harm": "high", "response_adequate": False,
             "hold_review": True, "reasons": "Persistent and harmful; the response fell short."},
            {"persistent": False, "harm": "low", "response_adequate": True,
             "hold_review": False, "reasons": "The noise stopped after the warning letter."})),
        "hold_panel": lambda: {"meeting_at": _iso(now - timedelta(hours=1)),
                               "agencies": ["Derbyshire Police", "Environmental services"]},
        "record_recommendations": lambda: {
            "findings": "Reports were not linked.",
            "recommendations": [f"Link the cases; ASB team; {_day(now, 30)}"]},
        "chase_recommendations": lambda: {"done": ["1"], "chased": "Phoned the team."},
        "acknowledge_complaint": lambda: {"understanding": "You were not called back."},
        "respond_to_complaint": lambda: {"outcome": "upheld", "response": "We failed to call.",
                                         "remedy": "An apology and a named officer."},
        "acknowledge_stage_two": lambda: {"understanding": "Still no call back."},
        "respond_stage_two": lambda: {"outcome": "not_upheld",
                                      "response": "Stage 1 put it right."},
    }
    maker = forms.get(name)
    return maker() if maker else None


def _reported_person(session: Session, reference: str) -> Person | None:
    return session.scalars(select(Person).join(CaseParty, CaseParty.person_id == Person.id)
                           .join(Case, Case.id == CaseParty.case_id)
                           .where(Case.reference == reference,
                                  CaseParty.role == PartyRole.REPORTED_PERSON)
                           .order_by(CaseParty.id)).first()


def _open_action(session: Session, reference: str, tool: LegalTool) -> LegalAction | None:
    return session.scalars(select(LegalAction).join(Case, Case.id == LegalAction.case_id)
                           .where(Case.reference == reference, LegalAction.tool == tool,
                                  LegalAction.status == LegalStatus.OPEN)
                           .order_by(LegalAction.id.desc())).first()


def _hearing_deadline(session: Session, action: LegalAction) -> datetime | None:
    """The closure notice's 48-hour limit for the hearing (the ``notice_served`` step)."""
    return session.scalars(select(LegalStep.due_at).where(
        LegalStep.action_id == action.id, LegalStep.step == "notice_served")
        .order_by(LegalStep.id.desc())).first()


def form_for_task(session: Session, rng: random.Random, task: HumanTask,
                  now: datetime) -> dict[str, Any] | None:
    """``stage_form`` for an open task, naming the case's reported person where asked and
    keeping to the court timetable the case's legal action has already set."""
    person = _reported_person(session, task.business_key)
    if person is None:
        data = stage_form(rng, task.name, now)
    else:
        data = stage_form(rng, task.name, now, person.name,
                          person.address or "14 Mill Lane, Chesterfield S40 1AB")
    if data is None:
        return None
    if task.name in ("apply_closure_order", "record_closure_hearing"):
        closure = _open_action(session, task.business_key, LegalTool.CLOSURE)
        deadline = _hearing_deadline(session, closure) if closure else None
        if deadline is not None:   # heard within the 48 hours, as the court is asked to
            heard = deadline - timedelta(hours=1)
            if task.name == "apply_closure_order":
                data["hearing_at"] = _iso(heard)
            else:
                data["heard_at"] = _iso(min(heard, now - timedelta(minutes=5)))
    if task.name == "apply_for_possession":
        possession = _open_action(session, task.business_key, LegalTool.POSSESSION)
        after = (possession.details or {}).get("proceedings_after") if possession else None
        if after and after >= data["applied_on"]:
            return None   # too early to claim: the officer waits for the date in the notice
    return data


class StageStarter:
    """Starts one stage (or Case Review, complaint, diary entry) a working day, in turn, on
    an open case with an officer; after the first round, only some days."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not security # nosec B311
        self.turn = 0
        self.started: dict[str, int] = {}

    def day(self, session: Session, engine: CaseEngine, now: datetime) -> None:
        if self.turn >= len(ROTATION) and self.rng.random() > 0.3:
            return
        what = ROTATION[self.turn % len(ROTATION)]
        cutoff = now - timedelta(days=3)
        candidates = list(session.scalars(select(Case).where(
            Case.status == CaseStatus.OPEN, Case.case_officer.is_not(None),
            Case.received_at <= cutoff).order_by(Case.id)))
        if not candidates:
            return
        case = self.rng.choice(candidates)
        try:
            with session.begin_nested():
                self._start(session, engine, case, what, now)
        except (EngineError, CaseDataInvalid):
            return  # not possible on this case today: try again tomorrow
        self.started[what] = self.started.get(what, 0) + 1
        self.turn += 1

    def _start(self, session: Session, engine: CaseEngine, case: Case, what: str,
               now: datetime) -> None:
        if what in LEGAL and _reported_person(session, case.reference) is None:
            number = self.rng.randint(1, 120)
            add_party(session, case, "reported_person", {
                "name": self.rng.choice(RESPONDENTS),
                "address": f"{number} Mill Lane, Chesterfield S40 1AB"})
        if what in STAGE_PROCESSES:
            start_stage(session, engine, case.reference, what, actor=str(case.case_officer))
        elif what == "case_review":
            from .case_review import apply_for_case_review

            apply_for_case_review(
                session, engine, applicant=_reporter(case),
                description="The noise has gone on for months and nothing has changed.",
                location="Outside my home", case_reference=case.reference,
                received_at=now, actor="demo")
        elif what == "complaint":
            from .complaints import make_complaint

            make_complaint(session, engine, complainant=_reporter(case),
                           about="Nobody called me back when I was promised.",
                           case_reference=case.reference, received_at=now, actor="demo")
        else:
            from .evidence_requests import receive_diary_entry

            receive_diary_entry(session, engine, case.reference, {
                "occurred_at": (now - timedelta(hours=20)).isoformat(),
                "what_happened": "Music again from 11pm until 2am.",
                "effect": "Could not sleep before work."}, actor="demo")


def _reporter(case: Case) -> dict[str, Any]:
    reporter = next((p.person for p in case.parties if p.role == PartyRole.REPORTER), None)
    if reporter is None:
        return {"name": "Rita Reporter", "email": "rita@example.org",
                "address": "12 Mill Lane, Chesterfield S40 1AB"}
    found = {"name": reporter.name, "email": reporter.email, "phone": reporter.phone,
             "address": reporter.address}
    return {k: v for k, v in found.items() if v}

