"""Every dashboard figure against cases built by driving the shipped processes (known answers).

Each test builds the few cases its figure needs with the product clock, runs the figure's
query, and checks the exact numbers and the exact list of cases behind each number; on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from cases.challenge import CaseReviewStatus
from cases.challenge_counts import case_review_figures as published_figures
from cases.config import set_setting
from cases.figures import (
    Filters,
    FiltersInvalid,
    first_contact_by_month,
    first_contact_now,
    open_by_officer,
    open_snapshot,
    read_filters,
    updates_overdue,
)
from cases.figures_cases import FigureInvalid, cases_behind, reviews_behind
from cases.figures_period import (
    case_review_figures,
    hate_by_strand,
    homes_count,
    legal_by_tool,
    nm01_counts,
    per_thousand_homes,
    referrals_by_agency,
)
from cases.legal import LegalStatus, LegalTool
from cases.operations import add_party
from cases.referrals import ReferralStatus, referrals_for_case, respond_to_referral
from engine import clock
from tasks.case_review import apply_for_case_review
from tasks.stages import start_stage
from tests.lifecycle_support import new_life
from tests.manager import (
    NOW,
    incident,
    january,
    names,
    open_case,
    promise_two,
    references,
    refs,
    utc,
)
from web.manager.task_figures import cases_with_tasks, officer_tasks, overdue_tasks


@pytest.fixture
def life(db_session):
    return new_life(db_session)


@pytest.fixture
def world(life):
    return promise_two(life)


def behind(life, figure, f=None, **params):
    return refs(life.session, cases_behind(figure, params, f or january()))


def rows(life, query):
    return [tuple(row) for row in life.session.execute(query)]


# -- promise 2 ---------------------------------------------------------------------------------

def test_promise_2_counts_on_time_late_and_not_yet_due_by_month_and_priority(life, world):
    found = {(r.month, r.priority): (r.received, r.contacted, r.met, r.overdue)
             for r in life.session.execute(first_contact_by_month(january()))}
    # P1: B contacted late, C not contacted and past its deadline, E not yet due.
    # P2: A on time, D not yet due.
    assert found == {("2027-01", 1): (3, 1, 0, 1), ("2027-01", 2): (2, 1, 1, 0)}
    assert names(world, behind(life, "first_contact", outcome="met")) == {"A"}
    assert names(world, behind(life, "first_contact", outcome="missed")) == {"B", "C"}
    assert names(world, behind(life, "first_contact", outcome="pending")) == {"D", "E"}
    assert names(world, behind(life, "first_contact", month="2027-01", priority="1",
                               outcome="missed")) == {"B", "C"}
    assert behind(life, "first_contact", priority="2", outcome="missed") == []
    assert behind(life, "first_contact") == references(life.session, "DECBA", world)


def test_breaching_now_and_due_later_today(life, world):
    assert rows(life, first_contact_now(january())) == [(1, 1, 1)]   # P1: C, and E at 17:00
    assert names(world, behind(life, "first_contact_now", when="breaching")) == {"C"}
    assert names(world, behind(life, "first_contact_now", when="due_today")) == {"E"}
    assert behind(life, "first_contact_now", when="due_today", priority="2") == []
    evening = january(now=utc(2027, 1, 6, 17, 1))       # E's deadline has passed too
    assert rows(life, first_contact_now(evening)) == [(1, 2, 0)]
    assert names(world, behind(life, "first_contact_now", evening, when="breaching")) == {
        "C", "E"}


def test_a_report_at_half_past_midnight_in_summer_time_counts_in_the_london_month(life):
    # 23:30 UTC on Wednesday 31 March 2027 is 00:30 on 1 April in London (BST).
    late = open_case(life, utc(2027, 3, 31, 23, 30), 1)
    spring = Filters(date(2027, 3, 1), date(2027, 4, 1), utc(2027, 4, 20, 12))
    months = {(r.month, r.priority) for r in life.session.execute(first_contact_by_month(spring))}
    assert months == {("2027-04", 2)}
    assert behind(life, "first_contact", spring, month="2027-04") == [late.reference]
    assert behind(life, "first_contact", spring, month="2027-03") == []
    march = Filters(date(2027, 3, 1), date(2027, 3, 1), utc(2027, 4, 20, 12))
    assert rows(life, first_contact_by_month(march)) == []


# -- open cases now ----------------------------------------------------------------------------

def _rollup(life, f, dimension):
    totals: dict = {}
    for row in life.session.execute(open_snapshot(f)):
        key = getattr(row, dimension)
        totals[key] = totals.get(key, 0) + row.cases
    return {str(getattr(k, "value", k)): v for k, v in totals.items()}


def test_open_cases_by_priority_stage_category_area_and_officer(life, world):
    elsewhere = open_case(life, NOW, 9, incident=incident(
        "personal", location="2 High Street, Chesterfield S41 7AA"))       # Brimington
    life.complete(world["A"].reference, "agree_action_plan", {
        "actions": ["Diary sheets"], "update_frequency": "weekly", "agreed_with_reporter": True})
    life.complete(world["A"].reference, "work_case", {"outcome": "Quiet now"})
    life.complete(world["A"].reference, "close_case", {
        "closure_reason": "resolved", "reporter_told": True, "summary": "Quiet now"})
    f = january()
    assert _rollup(life, f, "priority") == {"1": 3, "2": 2}         # B, C, E; D and elsewhere
    assert _rollup(life, f, "stage") == {"contact": 1, "triage": 4}  # B contacted
    assert _rollup(life, f, "category") == {"nuisance": 4, "personal": 1}
    assert _rollup(life, f, "area") == {"Brimington": 1, "St Helen's": 4}
    assert rows(life, open_by_officer(f)) == [("olivia", 4, 3), (elsewhere.case_officer, 1, 0)]
    assert rows(life, open_by_officer(f, 1)) == [("olivia", 4, 3)]
    assert names(world, behind(life, "open", by="stage", value="contact")) == {"B"}
    assert behind(life, "open", by="category", value="personal") == [elsewhere.reference]
    assert names(world, behind(life, "open", by="officer", value="olivia", priority="1")) == {
        "B", "C", "E"}
    assert behind(life, "open", by="area", value="Brimington") == [elsewhere.reference]
    # The area filter: only Brimington's case counts, in every figure.
    there = january(area="Brimington")
    assert _rollup(life, there, "priority") == {"2": 1}
    assert rows(life, first_contact_by_month(there)) == [("2027-01", 2, 1, 0, 0, 0)]
    assert behind(life, "open", there, by="priority", value="2") == [elsewhere.reference]
    assert behind(life, "first_contact_now", there, when="breaching") == []


def test_repeat_and_vulnerable_victims(life):
    first = open_case(life, utc(2027, 1, 4, 10), 1)
    again = open_case(life, utc(2027, 1, 5, 10), 1)              # the same reporter: repeat
    child = open_case(life, utc(2027, 1, 5, 11), 2, vulnerability={"child_at_risk": True})
    both = open_case(life, utc(2027, 1, 6, 10), 1, vulnerability={"vulnerable_adult": True})
    found = {"first": first, "again": again, "child": child, "both": both}
    totals = {"repeat": 0, "vulnerable": 0, "both": 0}
    for row in life.session.execute(open_snapshot(january())):
        for key in totals:
            totals[key] += getattr(row, key)
    assert totals == {"repeat": 2, "vulnerable": 2, "both": 1}
    assert names(found, behind(life, "victims", kind="repeat")) == {"again", "both"}
    assert names(found, behind(life, "victims", kind="vulnerable")) == {"child", "both"}
    assert names(found, behind(life, "victims", kind="both")) == {"both"}


def test_updates_overdue_against_the_agreed_frequency(life, world):
    plan = {"actions": ["Diary sheets"], "agreed_with_reporter": True}
    life.complete(world["A"].reference, "agree_action_plan", {**plan, "update_frequency": "weekly"})
    life.complete(world["B"].reference, "agree_action_plan",
                  {**plan, "update_frequency": "monthly"})
    # Weekly from Wed 6 Jan: 5 working days -> Wed 13 Jan 17:00; monthly: 20 -> 3 February.
    assert world["A"].next_update_due_at == utc(2027, 1, 13, 17)
    later = utc(2027, 1, 14, 9)
    life.at(later)
    found = rows(life, updates_overdue(january(now=later)))
    assert found == [("weekly", 1, utc(2027, 1, 13, 17))]
    assert behind(life, "updates_overdue", january(now=later)) == [world["A"].reference]
    assert behind(life, "updates_overdue", january(now=later), frequency="monthly") == []


# -- tasks -------------------------------------------------------------------------------------

def test_overdue_tasks_and_each_officers_open_tasks(life, world):
    f = january()
    # At noon on the 6th only C's first contact (due 5 Jan 17:00) is overdue.
    assert rows(life, overdue_tasks(f)) == [
        ("first_contact", "Make first contact", 1, 1, utc(2027, 1, 5, 17))]
    # olivia: A's and B's plans, C's, D's and E's first contact; tara: C's escalation.
    assert sorted(rows(life, officer_tasks(f))) == [("olivia", 5, 1), ("tara", 1, 0)]
    query = cases_with_tasks("overdue_tasks", {"task": "first_contact"}, f)
    assert names(world, refs(life.session, query)) == {"C"}
    query = cases_with_tasks("workload", {"officer": "tara"}, f)
    assert names(world, refs(life.session, query)) == {"C"}
    query = cases_with_tasks("workload", {"officer": "olivia", "overdue": "yes"}, f)
    assert names(world, refs(life.session, query)) == {"C"}
    evening = january(now=utc(2027, 1, 6, 17, 1))
    assert sorted(rows(life, officer_tasks(evening))) == [("olivia", 5, 2), ("tara", 1, 1)]
    assert rows(life, officer_tasks(evening, ["tara"])) == [("tara", 1, 1)]
    north = january(team="North", area="St Helen's")
    assert rows(life, overdue_tasks(north)) == rows(life, overdue_tasks(f))
    assert rows(life, overdue_tasks(january(team="South"))) == []


# -- the period: hate, legal action, referrals -------------------------------------------------

def test_hate_cases_by_strand_in_the_period(life):
    both = open_case(life, utc(2027, 1, 4, 10), 1,
                     incident=incident("personal", ("race", "religion")))
    race = open_case(life, utc(2027, 1, 5, 10), 2, incident=incident("personal", ("race",)))
    open_case(life, utc(2027, 1, 5, 11), 3)                                   # not hate
    open_case(life, utc(2026, 12, 30, 10), 4, incident=incident("personal", ("race",)))
    row = life.session.execute(hate_by_strand(january())).one()
    assert (row.cases, row.race, row.religion, row.disability, row.sexual_orientation,
            row.transgender) == (2, 2, 1, 0, 0, 0)
    assert behind(life, "hate", strand="race") == [race.reference, both.reference]
    assert behind(life, "hate", strand="religion") == [both.reference]
    assert behind(life, "hate", strand="disability") == []
    assert (both.priority, race.priority) == (1, 1)          # hate is always priority 1


def _warning_drafted(life, case):
    add_party(life.session, case, "reported_person",
              {"name": "Nigel Neighbour", "address": "14 Mill Lane, Chesterfield S40 1AB"})
    start_stage(life.session, life.engine, case.reference, "asb_legal_warning", actor="olivia")
    life.complete(case.reference, "prepare_warning_letter", {
        "respondent": "Nigel Neighbour", "behaviours": {"noise": True},
        "behaviour_to_stop": "Playing loud music after 11pm must stop.",
        "consequences": "If it continues we will consider a Community Protection Warning.",
        "period": "late at night since December 2026"})


def test_legal_actions_by_type_and_outcome(life):
    stopped = open_case(life, utc(2027, 1, 4, 10), 1)
    waiting = open_case(life, utc(2027, 1, 4, 11), 2)
    _warning_drafted(life, stopped)
    life.complete(stopped.reference, "approve_warning_letter",
                  {"decision": "do_not_send", "reason": "Mediation first."}, "tara")
    _warning_drafted(life, waiting)
    assert rows(life, legal_by_tool(january())) == [
        (LegalTool.WARNING_LETTER, LegalStatus.ENDED, "not_sent", 1),
        (LegalTool.WARNING_LETTER, LegalStatus.OPEN, None, 1)]
    assert behind(life, "legal", tool="warning_letter", outcome="not_sent") == [
        stopped.reference]
    assert behind(life, "legal", tool="warning_letter", outcome="open") == [waiting.reference]
    assert behind(life, "legal", tool="civil_injunction") == []
    assert len(rows(life, legal_by_tool(january(area="St Helen's", team="North")))) == 2
    assert rows(life, legal_by_tool(january(area="Brimington"))) == []
    february = Filters(date(2027, 2, 1), date(2027, 2, 1), utc(2027, 2, 10))
    assert rows(life, legal_by_tool(february)) == []


def test_referrals_by_agency_and_outcome(life):
    case = open_case(life, utc(2027, 1, 4, 10), 1)
    start_stage(life.session, life.engine, case.reference, "asb_referrals", actor="olivia")
    life.complete(case.reference, "choose_referral_agencies", {
        "agencies": ["police", "victim_support"],
        "disclose": {"reporter_contact_details": True, "incident_details": True,
                     "risk_assessment": False, "reported_person_details": False},
        "legal_basis": "crime_and_disorder_act_s115",
        "reason": "Please patrol Mill Lane at night.", "tell_reporter": False})
    police = next(r for r in life.session.scalars(referrals_for_case(case))
                  if r.agency_code == "police")
    life.at(utc(2027, 1, 5, 9))
    respond_to_referral(life.session, police, "accepted", by="pc.partner", at=utc(2027, 1, 5, 9))
    found = {(r.agency_code, r.status): r.referrals
             for r in life.session.execute(referrals_by_agency(january()))}
    assert found == {("police", ReferralStatus.ACCEPTED): 1,
                     ("victim_support", ReferralStatus.SENT): 1}
    assert behind(life, "referrals", agency="police", status="accepted") == [case.reference]
    assert behind(life, "referrals", agency="police", status="sent") == []
    assert behind(life, "referrals", agency="victim_support") == [case.reference]
    assert len(rows(life, referrals_by_agency(january(team="North")))) == 2
    assert rows(life, referrals_by_agency(january(team="South"))) == []


# -- for publication ---------------------------------------------------------------------------

DECIDE = {"persistent": False, "harm": "low", "response_adequate": True, "hold_review": False,
          "reasons": "The noise stopped after the warning letter."}
APPLICANT = {"name": "Alice Applicant", "email": "alice@example.org",
             "address": "3 Mill Lane, Chesterfield S40 1AB"}


def _apply(life, at):
    clock.set_now(at)
    return apply_for_case_review(life.session, life.engine, applicant=APPLICANT,
                                 description="Loud music every night for months.",
                                 location="14 Mill Lane, Chesterfield S40 1AB", actor="api")


def test_case_review_figures_for_publication(life):
    _apply(life, utc(2026, 12, 30, 10))                        # before the period
    refused = _apply(life, utc(2027, 1, 4, 10))
    held = _apply(life, utc(2027, 1, 5, 10))
    _apply(life, utc(2027, 1, 6, 10))                          # still awaiting a decision
    life.at(utc(2027, 1, 11, 9))
    life.complete(refused.reference, "decide_case_review", DECIDE, actor="tara")
    life.complete(held.reference, "decide_case_review", dict(
        DECIDE, persistent=True, harm="high", response_adequate=False, hold_review=True,
        reasons="Persistent and harmful."), actor="tara")
    life.at(utc(2027, 1, 20, 16))
    life.complete(held.reference, "hold_panel", {"meeting_at": "2027-01-20T10:00:00+00:00",
                                                 "agencies": ["Derbyshire Police"]},
                  actor="tara")
    life.complete(held.reference, "record_recommendations", {
        "findings": "Reports were handled apart.",
        "recommendations": ["Link the Mill Lane reports; ASB team; 2027-02-26"]}, actor="tara")
    assert refused.status is CaseReviewStatus.THRESHOLD_NOT_MET
    f = january(now=utc(2027, 1, 20, 16))
    row = life.session.execute(case_review_figures(f)).one()
    assert tuple(row) == (3, 1, 1, 1)
    published = published_figures(life.session, f.start, f.end)
    assert tuple(row) == (published["applications"], published["threshold_not_met"],
                          published["reviews_held"], published["reviews_with_recommendations"])
    listed = [r.reference for r in life.session.scalars(
        reviews_behind({"measure": "threshold_not_met"}, f))]
    assert listed == [refused.reference]
    listed = [r.reference for r in life.session.scalars(
        reviews_behind({"measure": "with_recommendations"}, f))]
    assert listed == [held.reference]
    assert len(list(life.session.scalars(reviews_behind({"measure": "applications"}, f)))) == 3


def test_nm01_cases_and_hate_cases_per_thousand_homes(life):
    f = january()
    assert homes_count(life.session, f) == 0                  # the default: no homes
    assert per_thousand_homes(3, 0) is None
    set_setting(life.session, "homes_count", 2000, date(2027, 1, 1), recorded_by="test")
    open_case(life, utc(2027, 1, 4, 10), 1)
    hate = open_case(life, utc(2027, 1, 4, 11), 2, incident=incident("personal", ("race",)))
    open_case(life, utc(2027, 1, 5, 10), 3, incident=incident(location=(
        "2 High Street, Chesterfield S41 7AA")))              # another area: NM01 is council-wide
    open_case(life, utc(2026, 12, 31, 10), 4)                  # the month before
    assert homes_count(life.session, f) == 2000
    row = life.session.execute(nm01_counts(january(area="Brimington"))).one()
    assert (row.cases, row.hate) == (3, 1)
    assert (per_thousand_homes(row.cases, 2000), per_thousand_homes(row.hate, 2000)) == (
        Decimal("1.50"), Decimal("0.50"))
    assert behind(life, "nm01", measure="2") == [hate.reference]
    assert len(behind(life, "nm01", january(area="Brimington"), measure="1")) == 3


# -- refusals ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "field"), [
    ({"from": "2027-13"}, "from"), ({"to": "27-01"}, "to"), ({"from": "1999-12"}, "from"),
    ({"from": "2027-05", "to": "2027-04"}, "to"), ({"from": "2020-01", "to": "2027-01"}, "from"),
    ({"area": "Atlantis"}, "area"), ({"team": "Nobody"}, "team")])
def test_bad_filters_are_refused_by_name(args, field):
    with pytest.raises(FiltersInvalid) as info:
        read_filters(args, NOW, areas=["St Helen's"], teams=["North"])
    assert set(info.value.errors) == {field}


def test_the_default_period_is_the_twelve_months_to_this_one():
    f = read_filters({}, utc(2027, 1, 31, 23, 30), areas=[], teams=[])
    assert (f.first, f.last, f.area, f.team) == (date(2026, 2, 1), date(2027, 1, 1), None, None)
    assert f.start == utc(2026, 2, 1) and f.end == utc(2027, 2, 1)
    summer = read_filters({"from": "2027-04", "to": "2027-06", "area": "St Helen's"},
                          NOW, areas=["St Helen's"], teams=[])
    assert summer.start == utc(2027, 3, 31, 23) and summer.end == utc(2027, 6, 30, 23)
    assert summer.args() == {"from": "2027-04", "to": "2027-06", "area": "St Helen's"}
    assert summer.today_ends - timedelta(days=1) == utc(2027, 1, 6)


@pytest.mark.parametrize(("figure", "params", "field"), [
    ("nothing", {}, "figure"), ("open", {"by": "colour", "value": "red"}, "by"),
    ("open", {"by": "priority", "value": "3"}, "value"), ("open", {"by": "stage"}, "value"),
    ("first_contact", {"month": "2026-01"}, "month"), ("first_contact", {"prio": "1"}, "prio"),
    ("first_contact_now", {}, "when"), ("hate", {"strand": "height"}, "strand"),
    ("nm01", {"measure": "3"}, "measure"), ("referrals", {"status": "lost"}, "status"),
    ("open", {"by": "area", "value": "x" * 200}, "value")])
def test_bad_figure_parameters_are_refused_by_name(figure, params, field):
    with pytest.raises(FigureInvalid) as info:
        cases_behind(figure, params, january())
    assert set(info.value.errors) == {field}
