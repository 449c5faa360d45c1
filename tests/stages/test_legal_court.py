"""The civil injunction through the shipped diagram, driven by the product clock.

Every path (adult and under-18 routes, witnesses prepared one by one, adjourned, granted with
breaches until it ends, refused), the law it carries (aged 10 or over, the youth court and the
youth offending team for under-18s, at most 12 months for them), and what the reporter is told.
The proof asked for: an injunction against a 15-year-old cannot proceed without the youth
offending team, neither through the diagram nor past the handler that records the application.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select

from cases.audit import AuditEvent
from cases.legal import LegalStatus, LegalStep, LegalTool, steps_of
from cases.legal_court import LegalWitness, witnesses_of
from engine.errors import FormInvalid
from engine.handlers import ServiceContext
from engine.models import InstanceStatus
from tasks import legal_court_injunction
from tests.lifecycle_support import new_life
from tests.stages.legal_court_support import (
    INJUNCTION,
    action,
    letters,
    only_task,
    refused,
    start,
    status,
    step_due,
    steps,
    tasks_of,
    utc,
)

MON = utc(2027, 2, 1, 10, 0)        # Monday 1 February 2027 (GMT)
ADULT = {"respondent_name": "Nigel Neighbour", "date_of_birth": "1990-05-01",
         "court": "county_court", "grounds": "Amplified music every night since January.",
         "terms_sought": ["Not to play amplified music at 14 Mill Lane after 11pm"],
         "housing_related": True}
FIFTEEN = dict(ADULT, respondent_name="Kyle Youngster", date_of_birth="2011-06-01",
               court="youth_court")
YOT = {"consulted_on": "2027-02-01", "yot_officer": "Yasmin Youth",
       "yot_view": "Supports the application with a positive requirement."}
BUNDLE = {"documents": ["Diary sheets January 2027", "Police log 2027/123"],
          "include_case_evidence": True}
STATEMENTS = {"witnesses": ["Wendy Witness"], "reporter_is_witness": True,
              "statements_taken_on": "2027-02-01"}
SUPPORT = {"support_offered": "Referred to Victim Support; an officer will sit with them.",
           "special_measures": {"screens": True, "video_link": False},
           "court_familiarisation": True, "told_what_to_expect": True}
APPLY = {"application_date": "2027-02-01", "court_name": "Chesterfield County Court",
         "hearing_at": "2027-02-15T10:00:00+00:00"}
GRANTED = {"outcome": "granted", "order_expires_on": "2028-02-14",
           "terms_granted": ["Not to play amplified music at 14 Mill Lane after 11pm"],
           "power_of_arrest": True}


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def prepared(life, respondent=ADULT):
    """A case with the injunction prepared for ``respondent``."""
    life.at(MON)
    case = life.open(MON)
    start(life, case, INJUNCTION)
    life.complete(case.reference, "prepare_injunction", respondent)
    return case


def ready_to_apply(life, case, under_18=False):
    if under_18:
        life.complete(case.reference, "consult_yot", YOT)
    life.complete(case.reference, "prepare_injunction_bundle", BUNDLE)
    life.complete(case.reference, "take_witness_statements", STATEMENTS)
    for witness in ("the reporter", "Wendy Witness"):
        life.complete(case.reference, "prepare_injunction_witness", dict(SUPPORT, witness=witness))


def test_an_adult_injunction_is_prepared_applied_for_adjourned_granted_breached_and_ends(life):
    case = prepared(life)
    ref = case.reference
    injunction = action(life, case)
    assert (injunction.tool, injunction.status, injunction.respondent) == (
        LegalTool.CIVIL_INJUNCTION, LegalStatus.OPEN, "Nigel Neighbour")
    assert injunction.details["date_of_birth"] == "1990-05-01"
    bundle = only_task(life, case, INJUNCTION)   # no youth offending team for an adult
    assert (bundle.name, bundle.role, bundle.assignee) == (
        "prepare_injunction_bundle", "officer", "olivia")
    life.complete(ref, "prepare_injunction_bundle", BUNDLE)
    life.complete(ref, "take_witness_statements", STATEMENTS)
    witness = only_task(life, case, INJUNCTION)
    assert (witness.name, witness.due_at) == ("prepare_injunction_witness", utc(2027, 2, 8, 17))
    errors = refused(life, case, "prepare_injunction_witness", dict(SUPPORT, witness="Nobody"))
    assert errors == {"witness": "not a witness still to prepare; those are: the reporter; "
                                 "Wendy Witness"}
    life.complete(ref, "prepare_injunction_witness", dict(SUPPORT, witness="the reporter"))
    (told,) = letters(life, case, "court_witness")
    assert told.recipient_role == "reporter" and "Being a witness" in told.body_text
    for promised in ("a screen", "see the court", "Victim Support", "Olivia Officer"):
        assert promised in told.body_text
    assert "Nigel" not in told.body_text
    life.complete(ref, "prepare_injunction_witness", dict(SUPPORT, witness="wendy  witness"))
    assert all(w.prepared_at is not None for w in witnesses_of(life.session, injunction))

    apply = only_task(life, case, INJUNCTION)
    assert apply.name == "apply_for_injunction"
    life.complete(ref, "apply_for_injunction", APPLY)
    assert tasks_of(life, case, INJUNCTION) == []          # waiting for the hearing day
    (applied,) = letters(life, case, "court_injunction")
    assert "10am on Monday 15 February 2027" in applied.body_text
    assert step_due(life, case, "applied") == utc(2027, 2, 15, 10)

    life.at(utc(2027, 2, 15, 9, 59))
    assert tasks_of(life, case, INJUNCTION) == []
    life.at(utc(2027, 2, 15, 10, 1))
    hearing = only_task(life, case, INJUNCTION)
    assert (hearing.name, hearing.due_at) == ("record_injunction_hearing", utc(2027, 2, 16, 17))
    life.complete(ref, "record_injunction_hearing",
                  {"outcome": "adjourned", "new_hearing_at": "2027-02-22T14:00:00+00:00"})
    assert tasks_of(life, case, INJUNCTION) == []
    assert "2pm on Monday 22 February 2027" in letters(life, case, "court_injunction")[-1].body_text
    life.at(utc(2027, 2, 22, 14, 1))
    life.complete(ref, "record_injunction_hearing", GRANTED)
    granted = letters(life, case, "court_injunction")[-1]
    assert "The court has granted an injunction" in granted.body_text
    for said in ("Monday 14 February 2028", "Not to play amplified music", "power of arrest"):
        assert said in granted.body_text
    assert step_due(life, case, "order_granted") == utc(2028, 2, 15, 0, 0)

    life.at(utc(2027, 6, 1, 22, 0))
    delivered = life.engine.send_message(life.session, ref, "injunction_breach",
                                         {"summary": "Police log 2027/456: music at 2am"})
    assert delivered.delivered_at is not None
    breach = only_task(life, case, INJUNCTION)
    assert (breach.name, breach.due_at) == ("record_injunction_breach", utc(2027, 6, 2, 16))
    life.complete(ref, "record_injunction_breach", {
        "breach_on": "2027-06-01", "what_happened": "Music until 3am.",
        "action_taken": "committal_application", "action_details": "Hearing in July."})
    breach_step = steps_of(life.session, injunction)[-1]
    assert breach_step.step == "breach" and "music at 2am" in breach_step.summary
    assert "asking the court to deal with the breach" in letters(
        life, case, "court_injunction")[-1].body_text
    assert tasks_of(life, case, INJUNCTION) == []          # watching again
    life.engine.send_message(life.session, ref, "injunction_breach", {})
    life.complete(ref, "record_injunction_breach", {
        "breach_on": "2027-06-01", "what_happened": "Shouting.", "action_taken": "warning_given"})

    life.at(utc(2028, 2, 14, 23, 59))
    assert injunction.status is LegalStatus.OPEN
    life.at(utc(2028, 2, 15, 0, 1))
    assert (injunction.status, injunction.outcome) == (LegalStatus.ENDED, "granted_expired")
    assert status(life, case, INJUNCTION) is InstanceStatus.COMPLETED
    assert steps(life, case) == [
        "case_prepared", "evidence_bundle", "statements_taken", "witness_prepared",
        "witness_prepared", "applied", "adjourned", "order_granted", "breach", "breach",
        "order_expired"]
    assert "The injunction has" in letters(life, case, "court_injunction")[-1].body_text
    audit = life.session.scalars(select(AuditEvent.action).where(
        AuditEvent.case_reference == ref, AuditEvent.action.like("legal.%"))).all()
    assert audit.count("legal.witness_prepared") == 2 and "legal.ended" in audit


def test_an_injunction_against_a_15_year_old_waits_for_the_youth_offending_team(life):
    case = prepared(life, FIFTEEN)
    ref = case.reference
    consult = only_task(life, case, INJUNCTION)
    assert (consult.name, consult.role, consult.assignee, consult.due_at) == (
        "consult_yot", "officer", "olivia", utc(2027, 2, 15, 17))
    assert "apply_for_injunction" not in [t.name for t in life.open_tasks(ref)]
    assert refused(life, case, "consult_yot", dict(YOT, consulted_on="2027-03-01")) == {
        "consulted_on": "cannot be in the future: record this once it has happened"}
    ready_to_apply(life, case, under_18=True)
    assert steps(life, case)[:2] == ["case_prepared", "yot_consulted"]

    # Defence in depth: without the consultation on the record, the application is refused
    # even though the diagram reached it (an edited diagram, a lost record).
    life.session.execute(delete(LegalStep).where(LegalStep.step == "yot_consulted"))
    life.session.expire_all()
    errors = refused(life, case, "apply_for_injunction", APPLY)
    assert "youth offending team must be consulted" in errors["application_date"]
    assert "s14(1)" in errors["application_date"]
    assert "applied" not in steps(life, case)


def test_the_application_handler_refuses_an_under_18_without_consultation(life):
    life.at(MON)
    case = life.open(MON)
    ctx = ServiceContext(session=life.session, business_key=case.reference, instance_id=0,
                         task_name="record_injunction_case", data=dict(FIFTEEN), now=MON,
                         actor="olivia")
    legal_court_injunction.record_case(ctx)
    assert ctx.data["respondent_under_18"] is True and "respondent_name" not in ctx.data
    ctx.data.update(APPLY)
    with pytest.raises(FormInvalid) as info:
        legal_court_injunction.record_application(ctx)
    assert list(info.value.errors) == ["application_date"]
    ctx.data.update(YOT)
    legal_court_injunction.record_yot_consultation(ctx)
    legal_court_injunction.record_application(ctx)   # consulted: it goes ahead
    assert ctx.data["hearing_at"] == "2027-02-15T10:00:00+00:00"


def test_age_alone_routes_a_17_year_old_and_limits_the_order_to_12_months(life):
    seventeen = dict(ADULT, date_of_birth=None, age=17, court="youth_court")
    del seventeen["date_of_birth"]
    case = prepared(life, seventeen)
    assert only_task(life, case, INJUNCTION).name == "consult_yot"
    ready_to_apply(life, case, under_18=True)
    life.complete(case.reference, "apply_for_injunction", APPLY)
    life.at(utc(2027, 2, 15, 12, 0))
    errors = refused(life, case, "record_injunction_hearing",
                     dict(GRANTED, order_expires_on="2028-02-16"))
    assert errors == {"order_expires_on": "An injunction against someone under 18 can last at "
                      "most 12 months (s1(6)): until Tuesday 15 February 2028 at the latest."}
    life.complete(case.reference, "record_injunction_hearing",
                  dict(GRANTED, order_expires_on="2028-02-15"))
    assert "order_granted" in steps(life, case)


def test_the_respondent_must_be_10_or_over_and_in_the_right_court(life):
    life.at(MON)
    case = life.open(MON)
    start(life, case, INJUNCTION)
    nine = refused(life, case, "prepare_injunction", dict(FIFTEEN, date_of_birth="2017-03-01"))
    assert "aged 10 or over" in nine["date_of_birth"] and "s1(1)" in nine["date_of_birth"]
    aged = refused(life, case, "prepare_injunction",
                   {k: v for k, v in dict(ADULT, age=9).items() if k != "date_of_birth"})
    assert "the respondent is 9" in aged["age"]
    assert "youth court" in refused(life, case, "prepare_injunction",
                                    dict(FIFTEEN, court="county_court"))["court"]
    assert "under 18 only" in refused(life, case, "prepare_injunction",
                                      dict(ADULT, court="youth_court"))["court"]
    unknown = {k: v for k, v in ADULT.items() if k != "date_of_birth"}
    assert "date of birth" in refused(life, case, "prepare_injunction", unknown)["date_of_birth"]
    supervised = refused(life, case, "prepare_injunction",
                         dict(ADULT, positive_requirements=["Attend an anger course"]))
    assert "s3(1)" in supervised["requirement_supervisor"]
    assert only_task(life, case, INJUNCTION).name == "prepare_injunction"   # nothing recorded
    life.complete(case.reference, "prepare_injunction", dict(
        FIFTEEN, date_of_birth="2017-01-31"))   # 10 today
    assert only_task(life, case, INJUNCTION).name == "consult_yot"


def test_the_bundle_and_statements_cannot_be_empty(life):
    case = prepared(life)
    ref = case.reference
    assert "no evidence has been uploaded" in refused(
        life, case, "prepare_injunction_bundle", {"include_case_evidence": True})["documents"]
    life.complete(ref, "prepare_injunction_bundle", BUNDLE)
    assert refused(life, case, "take_witness_statements", {
        "reporter_is_witness": False, "statements_taken_on": "2027-02-01"}) == {
        "witnesses": "name at least one witness whose statement was taken"}
    assert refused(life, case, "take_witness_statements", dict(
        STATEMENTS, witnesses=["Wendy Witness", "wendy witness"]))["witnesses"].startswith(
        "each witness")
    life.complete(ref, "take_witness_statements",
                  {"witnesses": ["PC Pat"], "reporter_is_witness": False,
                   "statements_taken_on": "2027-02-01"})
    (only,) = life.session.scalars(select(LegalWitness)).all()
    assert (only.name, only.is_reporter) == ("PC Pat", False)
    life.complete(ref, "prepare_injunction_witness", dict(SUPPORT, witness="PC Pat"))
    assert letters(life, case, "court_witness") == []   # the reporter is no witness here
    assert only_task(life, case, INJUNCTION).name == "apply_for_injunction"


@pytest.mark.parametrize("outcome", ["refused", "withdrawn"])
def test_a_refused_or_withdrawn_application_ends_the_action_and_tells_the_reporter(life, outcome):
    case = prepared(life)
    ready_to_apply(life, case)
    life.complete(case.reference, "apply_for_injunction", APPLY)
    life.at(utc(2027, 2, 15, 16, 0))
    life.complete(case.reference, "record_injunction_hearing",
                  {"outcome": outcome, "notes": "Not enough evidence of the conduct."})
    injunction = action(life, case)
    assert (injunction.status, injunction.outcome) == (LegalStatus.ENDED, outcome)
    assert status(life, case, INJUNCTION) is InstanceStatus.COMPLETED
    told = letters(life, case, "court_injunction")[-1]
    assert "The court has not granted an injunction" in told.body_text
    assert "talk about what we do next" in told.body_text


def test_a_granted_order_needs_its_end_and_terms(life):
    case = prepared(life)
    ready_to_apply(life, case)
    life.complete(case.reference, "apply_for_injunction", APPLY)
    life.at(utc(2027, 2, 15, 16, 0))
    assert refused(life, case, "record_injunction_hearing", {"outcome": "granted"}) == {
        "order_expires_on": "this field is required"}
    assert "List the terms" in refused(life, case, "record_injunction_hearing", dict(
        GRANTED, terms_granted=[]))["terms_granted"]
    assert "after the day" in refused(life, case, "record_injunction_hearing", dict(
        GRANTED, order_expires_on="2027-02-15"))["order_expires_on"]
    assert "after the one adjourned" in refused(life, case, "record_injunction_hearing", {
        "outcome": "adjourned", "new_hearing_at": "2027-02-15T09:00:00+00:00"})["new_hearing_at"]


def test_a_breach_message_outside_an_order_is_kept_not_lost(life):
    case = prepared(life)
    stored = life.engine.send_message(life.session, case.reference, "injunction_breach", {})
    assert stored.delivered_at is None and stored.note
    assert date.fromisoformat(action(life, case).details["date_of_birth"]).year == 1990
