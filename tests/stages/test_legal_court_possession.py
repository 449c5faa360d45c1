"""Possession on the absolute ground through the shipped diagram, on the product clock.

The notice within 12 months of the trigger (3 for a closure order, from an appeal when there
was one), refused after that; the tenant's 7 days to ask for a review, then straight to court;
the review by someone independent, upheld or overturned; proceedings not before the date in
the notice; and the time running out with no notice served.
"""

from __future__ import annotations

import pytest

from cases.legal import LegalStatus, LegalTool
from engine.models import InstanceStatus
from tests.lifecycle_support import new_life
from tests.stages.legal_court_support import (
    POSSESSION,
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

MON = utc(2027, 3, 1, 10, 0)       # Monday 1 March 2027 (GMT)
TRIGGER = {"tenant_name": "Nigel Neighbour", "property_address": "14 Mill Lane, Chesterfield",
           "trigger": "serious_offence_conviction", "trigger_date": "2026-03-05",
           "details": "Convicted at Derby Crown Court of an offence in Schedule 2A."}
NOTICE = {"served_on": "2027-03-04", "served_how": "by_hand", "proceedings_after": "2027-04-05"}
CLAIM = {"applied_on": "2027-04-06", "court_name": "Chesterfield County Court",
         "hearing_at": "2027-05-10T10:00:00+01:00"}
REVIEW = {"reviewed_on": "2027-03-20", "decision": "upheld",
          "reasons": "The conviction is for a serious offence at the property.",
          "tenant_notified_on": "2027-03-22", "reviewer_independent": True}


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def triggered(life, **changes):
    case = life.open(MON)
    start(life, case, POSSESSION)
    life.complete(case.reference, "record_possession_trigger", dict(TRIGGER, **changes))
    return case


def noticed(life):
    case = triggered(life)
    life.at(utc(2027, 3, 4, 16, 0))
    life.complete(case.reference, "serve_possession_notice", NOTICE)
    return case


def test_no_review_in_7_days_goes_straight_to_court_and_the_court_decides(life):
    case = triggered(life)
    ref = case.reference
    possession = action(life, case)
    assert (possession.tool, possession.respondent, possession.details["notice_last_day"]) == (
        LegalTool.POSSESSION, "Nigel Neighbour", "2027-03-04")
    serve = only_task(life, case, POSSESSION)
    assert (serve.name, serve.role, serve.assignee, serve.due_at) == (
        "serve_possession_notice", "officer", "olivia", utc(2027, 3, 5, 0, 0))
    life.at(utc(2027, 3, 5, 9, 0))
    late = refused(life, case, "serve_possession_notice", dict(NOTICE, served_on="2027-03-05"))
    assert late["served_on"].startswith("Too late")
    assert "within 12 months beginning with the day of the conviction (Thursday 5 March 2026)"\
        in late["served_on"] and "by Thursday 4 March 2027" in late["served_on"]
    life.complete(ref, "serve_possession_notice", NOTICE)
    # 7 days beginning with Thursday 4 March: a request may come until the end of the 10th.
    assert step_due(life, case, "notice_served") == utc(2027, 3, 11, 0, 0)
    assert "started action to take back the property" in letters(
        life, case, "court_possession")[0].body_text
    life.at(utc(2027, 3, 10, 23, 59))
    assert tasks_of(life, case, POSSESSION) == []
    life.at(utc(2027, 3, 11, 0, 1))
    apply = only_task(life, case, POSSESSION)
    assert (apply.name, apply.assignee) == ("apply_for_possession", "olivia")
    late_request = life.engine.send_message(life.session, ref, "possession_review_requested", {})
    assert late_request.delivered_at is None   # the 7 days cannot be extended

    life.at(utc(2027, 4, 6, 9, 0))
    early = refused(life, case, "apply_for_possession", dict(CLAIM, applied_on="2027-04-05"))
    assert early == {"applied_on": "Proceedings may begin only after Monday 5 April 2027, the "
                     "date given in the notice seeking possession (Housing Act 1985, s83ZA)."}
    life.complete(ref, "apply_for_possession", CLAIM)
    assert "10am on Monday 10 May 2027" in letters(life, case, "court_possession")[-1].body_text
    hearing = only_task(life, case, POSSESSION)
    assert (hearing.name, hearing.due_at) == ("record_possession_hearing", utc(2027, 5, 11, 16))
    life.at(utc(2027, 5, 10, 15, 0))
    life.complete(ref, "record_possession_hearing",
                  {"outcome": "possession_order", "possession_date": "2027-05-24"})
    possession = action(life, case)
    assert (possession.status, possession.outcome) == (LegalStatus.ENDED, "possession_order")
    assert status(life, case, POSSESSION) is InstanceStatus.COMPLETED
    assert steps(life, case) == ["trigger_recorded", "notice_served", "possession_claimed",
                                 "possession_order"]
    assert "made a possession order" in letters(life, case, "court_possession")[-1].body_text


def test_a_review_requested_in_time_is_decided_by_someone_independent(life):
    case = noticed(life)
    ref = case.reference
    life.at(utc(2027, 3, 10, 18, 0))
    delivered = life.engine.send_message(life.session, ref, "possession_review_requested",
                                         {"summary": "I was not living there.",
                                          "oral_hearing": True})
    assert delivered.delivered_at is not None
    review = only_task(life, case, POSSESSION)
    assert (review.name, review.role, review.assignee, review.due_at) == (
        "conduct_possession_review", "team_leader", "tara", utc(2027, 4, 4, 23, 0))
    assert steps(life, case)[-1] == "review_requested"
    life.at(utc(2027, 3, 22, 12, 0))
    mine = refused(life, case, "conduct_possession_review", REVIEW, actor="olivia")
    assert "took no part" in mine["reviewer_independent"]
    life.complete(ref, "conduct_possession_review", REVIEW, actor="tara")
    assert only_task(life, case, POSSESSION).name == "apply_for_possession"
    assert steps(life, case)[-2:] == ["review_requested", "review_upheld"]


def test_an_overturned_review_ends_the_action(life):
    case = noticed(life)
    life.at(utc(2027, 3, 5, 9, 0))
    life.engine.send_message(life.session, case.reference, "possession_review_requested", {})
    life.at(utc(2027, 3, 22, 12, 0))
    life.complete(case.reference, "conduct_possession_review",
                  dict(REVIEW, decision="overturned"), actor="tara")
    possession = action(life, case)
    assert (possession.status, possession.outcome) == (LegalStatus.ENDED, "review_overturned")
    assert status(life, case, POSSESSION) is InstanceStatus.COMPLETED
    assert "decided not to go ahead" in letters(life, case, "court_possession")[-1].body_text


def test_an_upheld_review_must_reach_the_tenant_before_the_date_in_the_notice(life):
    case = noticed(life)
    life.engine.send_message(life.session, case.reference, "possession_review_requested", {})
    life.at(utc(2027, 4, 6, 12, 0))
    late = refused(life, case, "conduct_possession_review",
                   dict(REVIEW, tenant_notified_on="2027-04-05"), actor="tara")
    assert "s85ZA" in late["tenant_notified_on"]


def test_a_trigger_out_of_time_is_refused_in_plain_words(life):
    case = life.open(MON)
    start(life, case, POSSESSION)
    old = refused(life, case, "record_possession_trigger", dict(TRIGGER, trigger_date="2026-02-27"))
    assert old == {"trigger_date": "Too late for the absolute ground: the notice seeking "
                   "possession had to be served within 12 months beginning with the day of the "
                   "conviction (Friday 27 February 2026), so by Friday 26 February 2027 at the "
                   "latest (Housing Act 1985, s83ZA). Consider the other grounds for possession."}
    closure = refused(life, case, "record_possession_trigger",
                      dict(TRIGGER, trigger="closure_order", trigger_date="2026-11-15"))
    assert "within 3 months" in closure["trigger_date"]
    life.complete(case.reference, "record_possession_trigger",
                  dict(TRIGGER, trigger="closure_order", trigger_date="2026-11-15",
                       appeal_determined_on="2026-12-10"))
    assert action(life, case).details["notice_last_day"] == "2027-03-09"


def test_the_time_to_serve_runs_out(life):
    case = triggered(life)
    life.at(utc(2027, 3, 12, 16, 59))      # 5 working days' grace to record a notice served
    assert only_task(life, case, POSSESSION).name == "serve_possession_notice"
    life.at(utc(2027, 3, 12, 17, 1))
    assert tasks_of(life, case, POSSESSION) == []
    possession = action(life, case)
    assert (possession.status, possession.outcome) == (LegalStatus.ENDED, "notice_out_of_time")
    assert "that time has passed" in letters(life, case, "court_possession")[-1].body_text


def test_a_dismissed_claim_ends_the_action_and_the_reporter_hears_what_next(life):
    case = noticed(life)
    life.at(utc(2027, 4, 6, 9, 0))
    life.complete(case.reference, "apply_for_possession", CLAIM)
    life.at(utc(2027, 5, 10, 15, 0))
    life.complete(case.reference, "record_possession_hearing",
                  {"outcome": "dismissed", "notes": "Proportionality defence succeeded."})
    possession = action(life, case)
    assert (possession.status, possession.outcome) == (LegalStatus.ENDED, "dismissed")
    assert "has not made a possession order" in letters(
        life, case, "court_possession")[-1].body_text
