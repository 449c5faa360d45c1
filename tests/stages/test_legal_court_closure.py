"""Closure notice then closure order through the shipped diagram, on the product clock.

The proof asked for: the closure order hearing deadline lands 48 clock hours after service,
skipping Christmas Day, as the task's due date in the real diagram. Also: the senior sign-off
of a 48-hour notice, the hearing within the deadline, an order of at most 3 months, extensions
to at most 6 in all, adjournments of at most 14 days, and every way the stage ends.
"""

from __future__ import annotations

import pytest

from cases.legal import LegalStatus, LegalTool
from engine.models import InstanceStatus
from tests.lifecycle_support import new_life
from tests.stages.legal_court_support import (
    CLOSURE,
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

XMAS_EVE = utc(2026, 12, 24, 10, 0)
NOTICE = {"premises_address": "14 Mill Lane, Chesterfield S40 1AB", "premises_kind": "residential",
          "notice_hours": "48_hours", "senior_sign_off_by": "Chris Chief (chief executive)",
          "grounds": "Drug dealing and disorder at the flat every night.",
          "consulted": "Derbyshire Police (Inspector Ives)", "consultation_done": True,
          "occupiers_informed": True, "exempted": "The tenant and the owner."}
SERVED = {"served_at": "2026-12-24T14:00:00+00:00", "served_how": "both"}
APPLY = {"applied_at": "2026-12-24T14:20:00+00:00", "court_name": "Chesterfield Magistrates",
         "hearing_at": "2026-12-27T14:00:00+00:00"}
HEARD = "2026-12-27T13:30:00+00:00"


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def served(life):
    """A case whose 48-hour closure notice was served on Christmas Eve at 2pm."""
    case = life.open(XMAS_EVE)
    start(life, case, CLOSURE)
    life.complete(case.reference, "prepare_closure_notice", NOTICE)
    life.at(utc(2026, 12, 24, 14, 30))
    life.complete(case.reference, "serve_closure_notice", SERVED)
    return case


def ordered(life, months=3):
    case = served(life)
    life.complete(case.reference, "apply_closure_order", APPLY)
    life.at(utc(2026, 12, 27, 16, 0))
    life.complete(case.reference, "record_closure_hearing",
                  {"outcome": "order_made", "heard_at": HEARD, "order_months": months})
    return case


def test_the_hearing_deadline_is_48_clock_hours_after_service_skipping_christmas_day(life):
    case = life.open(XMAS_EVE)
    start(life, case, CLOSURE)
    prepare = only_task(life, case, CLOSURE)
    assert (prepare.name, prepare.role, prepare.assignee) == (
        "prepare_closure_notice", "officer", "olivia")
    life.complete(case.reference, "prepare_closure_notice", NOTICE)
    closure = action(life, case)
    assert (closure.tool, closure.respondent, closure.details["notice_hours"]) == (
        LegalTool.CLOSURE, NOTICE["premises_address"], 48)
    life.at(utc(2026, 12, 24, 14, 30))
    life.complete(case.reference, "serve_closure_notice", SERVED)
    apply = only_task(life, case, CLOSURE)
    # Served Thu 24 Dec 14:00: 10 hours to midnight, Christmas Day not counted, then 38
    # hours from midnight on the 26th: Sunday 27 December at 2pm.
    assert (apply.name, apply.role, apply.assignee, apply.due_at) == (
        "apply_closure_order", "officer", "olivia", utc(2026, 12, 27, 14, 0))
    assert step_due(life, case, "notice_served") == utc(2026, 12, 27, 14, 0)
    (told,) = letters(life, case, "court_closure")
    assert "closed for now" in told.body_text
    assert "2pm on Sunday 27 December 2026" in told.body_text

    late = refused(life, case, "apply_closure_order",
                   dict(APPLY, hearing_at="2026-12-27T14:01:00+00:00"))
    assert "48 hours" in late["hearing_at"] and "Christmas Day" in late["hearing_at"]
    assert "2pm on Sunday 27 December 2026" in late["hearing_at"]
    life.complete(case.reference, "apply_closure_order", APPLY)   # at the deadline: in time
    hearing = only_task(life, case, CLOSURE)
    assert (hearing.name, hearing.due_at) == ("record_closure_hearing", utc(2026, 12, 29, 17))
    life.at(utc(2026, 12, 27, 16, 0))
    heard_late = refused(life, case, "record_closure_hearing",
                         {"outcome": "order_made", "heard_at": "2026-12-27T14:30:00+00:00",
                          "order_months": 3})
    assert "s80(3)-(4)" in heard_late["heard_at"]
    too_long = refused(life, case, "record_closure_hearing",
                       {"outcome": "order_made", "heard_at": HEARD, "order_months": 4})
    assert too_long == {"order_months": "A closure order can last at most 3 months (s80(6)); "
                                        "it can be extended later, up to 6 months in all (s82)."}
    life.complete(case.reference, "record_closure_hearing",
                  {"outcome": "order_made", "heard_at": HEARD, "order_months": 3})
    assert step_due(life, case, "order_made") == utc(2027, 3, 27, 13, 30)
    made = letters(life, case, "court_closure")[-1]
    assert "closure order" in made.body_text and "3 months" in made.body_text


def test_a_48_hour_notice_needs_the_senior_sign_off(life):
    case = life.open(XMAS_EVE)
    start(life, case, CLOSURE)
    unsigned = {k: v for k, v in NOTICE.items() if k != "senior_sign_off_by"}
    errors = refused(life, case, "prepare_closure_notice", unsigned)
    assert list(errors) == ["senior_sign_off_by"] and "s77(2)" in errors["senior_sign_off_by"]
    life.complete(case.reference, "prepare_closure_notice", dict(unsigned, notice_hours="24_hours"))
    assert action(life, case).details["senior_sign_off_by"] is None
    life.at(utc(2026, 12, 24, 14, 30))
    life.complete(case.reference, "serve_closure_notice", SERVED)
    # The hearing deadline skips Christmas whatever the notice's length; the 24-hour notice
    # itself does not (s77(3) speaks of the 48-hour period only).
    assert only_task(life, case, CLOSURE).due_at == utc(2026, 12, 27, 14, 0)
    assert "2pm on Friday 25 December 2026" in letters(life, case, "court_closure")[0].body_text


def test_the_order_is_extended_to_6_months_in_all_and_then_ends(life):
    case = ordered(life)
    ref = case.reference
    life.at(utc(2027, 3, 12, 13, 29))
    assert tasks_of(life, case, CLOSURE) == []
    life.at(utc(2027, 3, 12, 13, 31))      # 10 working days before Sat 27 March (Good
    # Friday, 26 March 2027, is no working day)
    extend = only_task(life, case, CLOSURE)
    assert (extend.name, extend.assignee, extend.due_at) == (
        "extend_closure_order", "olivia", utc(2027, 3, 27, 13, 30))
    one = {"extend": True, "extension_months": 2, "extended_on": "2027-03-12",
           "reason": "Disorder continues nearby."}
    assert "at most 3 months at a time" in refused(
        life, case, "extend_closure_order", dict(one, extension_months=4))["extension_months"]
    life.complete(ref, "extend_closure_order", one)                # 5 months in all
    assert step_due(life, case, "order_extended") == utc(2027, 5, 27, 12, 30)   # BST
    assert "extended" in letters(life, case, "court_closure")[-1].body_text
    life.at(utc(2027, 5, 13, 12, 31))      # 10 working days before Thu 27 May
    beyond = refused(life, case, "extend_closure_order",
                     dict(one, extension_months=2, extended_on="2027-05-13"))
    assert beyond == {"extension_months": "A closure order cannot last more than 6 months in all "
                      "(s82): it already runs for 5, so it can be extended by at most 1 more."}
    life.complete(ref, "extend_closure_order", dict(one, extension_months=1,
                                                    extended_on="2027-05-13"))
    assert tasks_of(life, case, CLOSURE) == []          # 6 months: nothing more to ask
    life.at(utc(2027, 6, 27, 12, 29))
    assert action(life, case).status is LegalStatus.OPEN
    life.at(utc(2027, 6, 27, 12, 31))
    closure = action(life, case)
    assert (closure.status, closure.outcome) == (LegalStatus.ENDED, "order_expired")
    assert status(life, case, CLOSURE) is InstanceStatus.COMPLETED
    assert steps(life, case) == ["notice_prepared", "notice_served", "order_applied",
                                 "order_made", "order_extended", "order_extended", "order_ended"]
    assert "has ended" in letters(life, case, "court_closure")[-1].body_text


def test_an_extension_not_sought_waits_for_the_end(life):
    case = ordered(life, months=1)     # ends Wed 27 January 2027 13:30
    life.at(utc(2027, 1, 13, 13, 31))
    life.complete(case.reference, "extend_closure_order",
                  {"extend": False, "reason": "Quiet since the order."})
    assert tasks_of(life, case, CLOSURE) == []
    life.at(utc(2027, 1, 27, 13, 31))
    assert action(life, case).outcome == "order_expired"


def test_an_extension_question_left_open_closes_when_the_order_ends(life):
    case = ordered(life, months=1)
    life.at(utc(2027, 1, 20, 9, 0))
    assert only_task(life, case, CLOSURE).name == "extend_closure_order"
    life.at(utc(2027, 1, 27, 13, 31))
    assert tasks_of(life, case, CLOSURE) == []
    assert action(life, case).outcome == "order_expired"
    assert status(life, case, CLOSURE) is InstanceStatus.COMPLETED


def test_an_adjourned_hearing_comes_back_within_14_days_then_may_be_refused(life):
    case = served(life)
    life.complete(case.reference, "apply_closure_order", APPLY)
    life.at(utc(2026, 12, 27, 16, 0))
    far = refused(life, case, "record_closure_hearing", {
        "outcome": "adjourned", "heard_at": HEARD, "adjourned_to": "2027-01-10T14:00:00+00:00"})
    assert "not more than 14 days (s81(3))" in far["adjourned_to"]
    life.complete(case.reference, "record_closure_hearing", {
        "outcome": "adjourned", "heard_at": HEARD, "adjourned_to": "2027-01-08T10:00:00+00:00"})
    again = only_task(life, case, CLOSURE)
    assert (again.name, again.due_at) == ("record_closure_hearing", utc(2027, 1, 11, 17))
    life.at(utc(2027, 1, 8, 12, 0))
    life.complete(case.reference, "record_closure_hearing",       # long after the 48 hours
                  {"outcome": "refused", "heard_at": "2027-01-08T10:00:00+00:00"})
    closure = action(life, case)
    assert (closure.status, closure.outcome) == (LegalStatus.ENDED, "refused")
    assert status(life, case, CLOSURE) is InstanceStatus.COMPLETED
    assert "has not made a closure order" in letters(life, case, "court_closure")[-1].body_text


def test_an_application_not_heard_in_time_is_withdrawn(life):
    case = served(life)
    life.complete(case.reference, "apply_closure_order", APPLY)
    life.at(utc(2026, 12, 28, 9, 0))
    life.complete(case.reference, "record_closure_hearing", {"outcome": "withdrawn"})
    assert action(life, case).outcome == "withdrawn"
    assert steps(life, case)[-1] == "withdrawn"
