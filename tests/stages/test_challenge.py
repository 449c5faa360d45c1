"""Promise 8, the right to challenge, through the shipped diagrams and the product clock.

ASB Case Review (bpmn/case_review.bpmn, decision case_review_threshold): the threshold count
across cases and reporters, the council's lower threshold (never above 3), the partners'
decision either way, the panel, the outcome letter and the recommendations chased until done;
the reporter told about the Case Review on a second report within 6 months. Complaints
(bpmn/complaint.bpmn): stage 1, the extension, the window to escalate, stage 2 and the final
letter with the Ombudsman route. What people see: tasks (role, assignee, due), the records,
the letters in the outbox and the audit trail.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.challenge import (
    CaseReviewStatus,
    ComplaintStatus,
    complaint_by_reference,
    review_by_reference,
)
from cases.challenge_counts import add_months, case_review_figures
from cases.config import ConfigInvalid, CouncilSetting, set_setting
from cases.outbox import OutboxMessage
from cases.records import CaseDataInvalid
from engine import calendar, clock
from engine.errors import FormInvalid
from engine.forms import load_directory as load_forms
from engine.forms import validate
from engine.models import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from tasks import case_review as cr
from tasks import complaints as cmp
from tasks.registry import handlers
from tests.lifecycle_support import Lifecycle

ROOT = Path(__file__).resolve().parents[2]
BPMN = ROOT / "bpmn"
OURS = ("case_review.bpmn", "case_review_threshold.dmn", "complaint.bpmn")
LIFECYCLE = ("asb_case.bpmn", "intake.bpmn", "triage.bpmn", "triage_priority.dmn",
             "assignment.bpmn", "first_contact.bpmn", "action_plan.bpmn", "closure.bpmn",
             "phone_call.bpmn")
MON = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)      # Monday 1 February 2027 (GMT)
MILL = "14 Mill Lane, Chesterfield S40 1AB"
APPLICANT = {"name": "Alice Applicant", "email": "alice@example.org",
             "address": "3 Mill Lane, Chesterfield S40 1AB"}
DECIDE_NO = {"persistent": False, "harm": "low", "response_adequate": True,
             "hold_review": False, "reasons": "The noise stopped after the warning letter."}
DECIDE_YES = dict(DECIDE_NO, persistent=True, harm="high", response_adequate=False,
                  hold_review=True, reasons="Persistent and harmful; the response fell short.")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def hooks():
    """Test-only processes that call the handlers the lead will wire into the case diagrams."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import bpmn_layout as bl

    def one(pid: str, *ops: str):
        steps = [bl.Node(f"{pid}_start", "start", "Start", (0, 0)),
                 *(bl.service(f"{pid}_{i}", "Step", op, (i + 1, 0))
                   for i, op in enumerate(ops)),
                 bl.Node(f"{pid}_end", "end", "End", (len(ops) + 1, 0))]
        return bl.straight_process(pid, pid, "test hook", steps)

    doc = bl.Document("test_challenge_hooks.bpmn", [
        one("test_inform_second_report", "case_review.inform_on_second_report"),
        one("test_apply_from_case", "case_review.apply_from_case",
            "complaints.apply_from_case")])
    return bl.serialise(bl.Writer(doc).write())


def needed_sources() -> dict[str, bytes]:
    """The lifecycle's and our files, plus whatever files the processes they call live in
    (not all of bpmn/: other stages' files are not this test's business)."""
    from lxml import etree

    model = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
    home: dict[str, str] = {}
    for path in sorted(BPMN.glob("*.bpmn")):
        try:
            root = etree.parse(str(path)).getroot()
        except etree.XMLSyntaxError:
            continue
        home.update({p.get("id"): path.name for p in root.iter(f"{model}process")})
    names, todo = set(LIFECYCLE) | set(OURS), list(LIFECYCLE) + list(OURS)
    while todo:
        name = todo.pop()
        if not name.endswith(".bpmn"):
            continue
        for call in etree.parse(str(BPMN / name)).getroot().iter(f"{model}callActivity"):
            found = home.get(call.get("calledElement"))
            if found and found not in names:
                names.add(found)
                todo.append(found)
    return {name: (BPMN / name).read_bytes() for name in sorted(names)}


class Challenge(Lifecycle):
    """The lifecycle driver, with only the diagrams these tests need (not all of bpmn/)."""

    def __init__(self, session):
        from tasks.wiring import build_engine

        self.session = session
        self.engine = build_engine()
        sources = needed_sources()
        sources["test_challenge_hooks.bpmn"] = hooks()
        store = self.engine.definitions
        for proc in store.parse(sources, load_forms(BPMN / "forms")):
            store.store(session, proc, sources, publish=True, actor="test")

    def report(self, at, *, name="Rita Reporter", email="rita@example.org",
               address="12 Mill Lane, Chesterfield S40 1AB", location=MILL, occurred=None):
        return self.open(at, reporter={"name": name, "email": email, "address": address,
                                       "contact_preferences": {"channels": ["email"]}},
                         incident={"occurred_at": (occurred or at - timedelta(days=1))
                                   .isoformat(), "location": location,
                                   "description": "Loud music at night",
                                   "category": "nuisance", "hate_strands": []})

    def apply(self, at=MON, **extra):
        clock.set_now(at)
        fields = {"applicant": APPLICANT, "description": "Loud music every night for months.",
                  "location": MILL, "actor": "api", **extra}
        return cr.apply_for_case_review(self.session, self.engine, **fields)

    def complain(self, at=MON, **extra):
        clock.set_now(at)
        fields = {"complainant": APPLICANT, "about": "Nobody called me back.",
                  "actor": "api", **extra}
        return cmp.make_complaint(self.session, self.engine, **fields)

    def letters(self, reference, template=None):
        return [m for m in self.outbox(reference) if template in (None, m.template)]

    def audit(self, reference):
        return [e.action for e in self.session.scalars(select(AuditEvent).where(
            AuditEvent.case_reference == reference).order_by(AuditEvent.id))]

    def instance(self, reference, process):
        return self.session.scalars(select(ProcessInstance).where(
            ProcessInstance.business_key == reference,
            ProcessInstance.process_id == process)).one()


@pytest.fixture
def life(db_session):
    driver = Challenge(db_session)
    driver.people()
    return driver


def qualifying_history(life, count=3):
    """Reports about 14 Mill Lane from different neighbours: ``count`` qualify; one came too
    long after the behaviour and one is older than the 6-month window."""
    for i in range(count):
        life.report(MON - timedelta(days=20 * (i + 1)), name=f"Neighbour {i}",
                    email=f"n{i}@example.org", address=f"{20 + i} Mill Lane, Chesterfield")
    late = MON - timedelta(days=10)
    life.report(late, name="Late Reporter", email="late@example.org", address="Elm Road",
                occurred=late - timedelta(days=40))                      # 40 days after
    old = add_months(MON, -6) - timedelta(days=2)
    life.report(old, name="Old Reporter", email="old@example.org", address="Oak Road")


# -- the diagrams and forms -----------------------------------------------------------------------

USER_TASKS = {   # task: (process, role, assignee, due)
    "decide_case_review": ("asb_case_review", "team_leader", "team_leader", "decision_due"),
    "hold_panel": ("asb_case_review", "team_leader", "team_leader", "outcome_due"),
    "record_recommendations": ("asb_case_review", "team_leader", "team_leader", "outcome_due"),
    "chase_recommendations": ("asb_case_review", "team_leader", "team_leader", "chase_due"),
    "acknowledge_complaint": ("asb_complaint", "team_leader", "team_leader", "acknowledge_due"),
    "respond_to_complaint": ("asb_complaint", "team_leader", "team_leader", "response_due"),
    "acknowledge_stage_two": ("asb_complaint", "manager", None, "acknowledge_due"),
    "respond_stage_two": ("asb_complaint", "manager", None, "response_due"),
}
OPERATIONS = {
    "case_review.count_qualifying", "case_review.acknowledge", "case_review.review_agreed",
    "case_review.threshold_not_met", "case_review.record_panel", "case_review.send_outcome",
    "case_review.check_recommendations", "case_review.record_chase", "complaints.open_stage",
    "complaints.acknowledge", "complaints.extend", "complaints.respond", "complaints.close",
    "complaints.final_response",
}
SAMPLES = {
    "decide_case_review": DECIDE_YES,
    "hold_panel": {"meeting_at": "2027-02-15T10:00:00+00:00",
                   "agencies": ["Derbyshire Police", "Environmental services"]},
    "record_recommendations": {"findings": "Reports were not linked.",
                               "recommendations": ["Link the cases; ASB team; 2027-03-31"]},
    "chase_recommendations": {"done": ["1"], "chased": "Phoned the inspector."},
    "acknowledge_complaint": {"understanding": "You were not called back."},
    "acknowledge_stage_two": {"understanding": "Still no call back."},
    "respond_to_complaint": {"outcome": "upheld", "response": "We failed to call.",
                             "remedy": "An apology and a named officer."},
    "respond_stage_two": {"outcome": "not_upheld", "response": "Stage 1 put it right."},
}
BAD = {
    "decide_case_review": ({**DECIDE_YES, "harm": "huge"}, "harm"),
    "hold_panel": ({"meeting_at": "yesterday", "agencies": ["Police"]}, "meeting_at"),
    "record_recommendations": ({"findings": "x", "recommendations": ["Do more"]},
                               "recommendations.0"),
    "chase_recommendations": ({"done": ["one"], "chased": "x"}, "done.0"),
    "acknowledge_complaint": ({}, "understanding"),
    "acknowledge_stage_two": ({"understanding": ""}, "understanding"),
    "respond_to_complaint": ({"outcome": "maybe", "response": "x"}, "outcome"),
    "respond_stage_two": ({"outcome": "upheld"}, "response"),
}


def test_the_diagrams_parse_with_the_product_and_every_operation_is_registered(life):
    used = set()
    for pid in ("asb_case_review", "asb_complaint"):
        version = life.engine.definitions.published(life.session, pid)
        spec, subs = life.engine.definitions.specs(version)
        for ts in (t for s in (spec, *subs.values()) for t in s.task_specs.values()):
            if type(ts).__name__ == "ServiceTask":
                used.add(ts.operation_name)
            props = (getattr(ts, "extensions", None) or {}).get("properties")
            if props and type(ts).__name__ == "UserTask":
                process, role, assignee, due = USER_TASKS[ts.bpmn_id]
                assert (pid, ts.lane, props.get("assignee"), props.get("due"),
                        props["form"]) == (process, role, assignee, due, ts.bpmn_id)
    assert used == OPERATIONS
    assert OPERATIONS | {"case_review.apply_from_case", "complaints.apply_from_case",
                         "case_review.inform_on_second_report"} <= handlers.names()


@pytest.mark.parametrize("form", sorted(USER_TASKS))
def test_each_form_takes_its_sample_and_refuses_bad_data_by_field(form):
    schema = json.loads((BPMN / "forms" / f"{form}.json").read_text(encoding="utf-8"))
    assert schema["title"] and all(p.get("title") and p.get("description")
                                   for p in schema["properties"].values())
    assert validate(schema, SAMPLES[form]) == {}
    bad, field = BAD[form]
    assert field in validate(schema, bad)


# -- the threshold --------------------------------------------------------------------------------

def test_third_qualifying_complaint_in_six_months_meets_the_threshold(life):
    qualifying_history(life, count=2)
    two = life.apply()
    assert (two.qualifying_complaints, two.threshold) == (2, 3)
    assert [t.name for t in life.open_tasks(two.reference)] == ["decide_case_review"]
    life.report(MON - timedelta(days=5), name="Third Neighbour", email="t@example.org",
                address="30 Mill Lane, Chesterfield")
    three = life.apply(MON + timedelta(hours=1))
    assert three.reference == "CR-2027-0002" and two.reference == "CR-2027-0001"
    assert (three.qualifying_complaints, three.threshold_met, three.route) == (3, True,
                                                                              "automatic")
    assert three.status is CaseReviewStatus.REVIEW_TO_BE_HELD
    (panel,) = life.open_tasks(three.reference)
    # 25 working days from Monday 1 February 2027: Monday 8 March, 5pm.
    assert (panel.name, panel.role, panel.due_at) == ("hold_panel", "team_leader",
                                                      utc(2027, 3, 8, 17))
    (ack,) = life.letters(three.reference)
    assert ack.template == "case_review_acknowledgement" and ack.to_address == APPLICANT["email"]
    assert "A review will take place" in ack.body_text and "found 3 reports" in ack.body_text
    assert "Monday 8 March 2027" in ack.body_text
    assert life.audit(three.reference)[:3] == ["case_review.applied", "instance_started",
                                               "case_review.counted"]


def test_the_count_follows_the_same_problem_by_reported_person_and_linked_case(life):
    qualifying_history(life, count=1)
    other = life.report(MON - timedelta(days=3), name="Ned", email="ned@example.org",
                        address="Far Lane", location="Play park, Spital Lane, Chesterfield")
    review = life.apply(location=None, case_reference=other.reference)
    assert review.case_id == other.id and review.qualifying_complaints == 1  # the park only
    review = life.apply(location="Somewhere else entirely", postcode="S41 7AA")
    assert review.qualifying_complaints == 0 and review.route == "partner_decision"


def test_a_council_may_lower_the_threshold_but_never_raise_it_above_three(life):
    qualifying_history(life, count=2)
    set_setting(life.session, "case_review_threshold", 2, date(2027, 1, 1))
    review = life.apply()
    assert (review.threshold, review.threshold_met) == (2, True)
    assert [t.name for t in life.open_tasks(review.reference)] == ["hold_panel"]
    with pytest.raises(ConfigInvalid):
        set_setting(life.session, "case_review_threshold", 4, date(2027, 1, 20))
    # A value above 3 that reached the table some other way is still read as 3.
    life.session.add(CouncilSetting(key="case_review_threshold", value=5,
                                    effective_from=utc(2027, 1, 25), recorded_at=MON))
    life.session.flush()
    review = life.apply()
    assert (review.threshold, review.route, review.status) == (
        3, "partner_decision", CaseReviewStatus.AWAITING_DECISION)
    life.report(MON - timedelta(days=4), name="Third Neighbour", email="t@example.org",
                address="30 Mill Lane, Chesterfield")
    review = life.apply(MON + timedelta(minutes=5))
    assert (review.qualifying_complaints, review.threshold, review.threshold_met) == (3, 3, True)


def test_reports_to_the_police_or_a_landlord_count_when_made_within_a_month(life):
    qualifying_history(life, count=1)
    police = [{"made_to": "police", "occurred_at": "2027-01-10T22:00:00+00:00",
               "reported_at": "2027-01-11T09:00:00+00:00"},
              {"made_to": "social_landlord", "occurred_at": "2026-12-01T22:00:00+00:00",
               "reported_at": "2027-01-15T09:00:00+00:00"}]          # too long after
    review = life.apply(other_reports=police)
    assert review.qualifying_complaints == 2


def test_applications_are_refused_with_field_errors(life):
    clock.set_now(MON)
    with pytest.raises(CaseDataInvalid) as info:
        cr.apply_for_case_review(life.session, life.engine, applicant={"name": "No Contact"},
                                 description="", relationship="cousin", location=None,
                                 other_reports=[{"made_to": "vicar"}], actor="api")
    assert {"applicant.phone", "description", "relationship", "location",
            "other_reports.0.made_to"} <= set(info.value.errors)
    with pytest.raises(CaseDataInvalid) as info:
        life.apply(case_reference="ASB-2027-999999")
    assert set(info.value.errors) == {"case_reference"}


# -- the partners' decision -----------------------------------------------------------------------

def test_partners_decide_no_review_and_the_applicant_gets_reasons_and_the_ombudsman(life):
    review = life.apply()
    ref = review.reference
    decide = life.task(ref, "decide_case_review")
    # 15 working days from Monday 1 February: Monday 22 February, 5pm.
    assert (decide.role, decide.assignee, decide.due_at) == ("team_leader", None,
                                                             utc(2027, 2, 22, 17))
    ack = life.letters(ref)[0]
    assert "decide together whether a review should take place" in ack.body_text
    assert "Monday 22 February 2027" in ack.body_text
    life.at(utc(2027, 2, 10, 9))
    life.complete(ref, "decide_case_review", DECIDE_NO, actor="tara")
    assert review.status is CaseReviewStatus.THRESHOLD_NOT_MET
    assert (review.threshold_met, review.decided_by) == (False, "tara")
    assert review.decision == {"persistent": False, "harm": "low", "response_adequate": True}
    assert life.instance(ref, "asb_case_review").status is InstanceStatus.COMPLETED
    letter = life.letters(ref, "case_review_not_met")[0]
    for said in ("The noise stopped after the warning letter.", "formal complaint",
                 "Local Government and Social Care Ombudsman", "0300 061 0614",
                 "Housing Ombudsman", "Tara Leader"):
        assert said in letter.body_text
    assert review.decision_reasons == DECIDE_NO["reasons"]
    figures = case_review_figures(life.session, utc(2027, 1, 1), utc(2028, 1, 1))
    assert figures == {"applications": 1, "threshold_not_met": 1,
                       "threshold_met_automatically": 0, "reviews_held": 0,
                       "reviews_with_recommendations": 0}


RECOMMEND = {"findings": "The reports were handled as separate cases.",
             "recommendations": ["Link all Mill Lane reports; ASB team; 2027-03-12",
                                 "Fit lighting in the alley; Environmental services; "
                                 "2027-03-26"]}


def _held_review(life, automatic=False):
    if automatic:
        qualifying_history(life, count=1)
        set_setting(life.session, "case_review_threshold", 1, date(2027, 1, 1))
    review = life.apply()
    ref = review.reference
    if not automatic:
        life.at(utc(2027, 2, 10, 9))
        life.complete(ref, "decide_case_review", DECIDE_YES, actor="tara")
        decision = life.letters(ref, "case_review_decision")[0]
        assert "will take place" in decision.body_text
        assert "Monday 8 March 2027" in decision.body_text
    assert review.status is CaseReviewStatus.REVIEW_TO_BE_HELD and review.threshold_met
    life.at(utc(2027, 2, 24, 16))
    with pytest.raises(FormInvalid) as info:   # a meeting cannot be in the future
        life.complete(ref, "hold_panel", {"meeting_at": "2027-03-01T10:00:00+00:00",
                                          "agencies": ["Derbyshire Police"]}, actor="tara")
    assert "meeting_at" in info.value.errors
    life.complete(ref, "hold_panel", {"meeting_at": "2027-02-24T10:00:00+00:00",
                                      "agencies": ["Derbyshire Police", "ASB team"]},
                  actor="tara")
    assert review.review_held and review.agencies == ["Derbyshire Police", "ASB team"]
    return review


def test_a_review_is_held_and_recommendations_are_chased_until_done(life):
    review = _held_review(life)
    ref = review.reference
    record = life.task(ref, "record_recommendations")
    assert record.due_at == utc(2027, 3, 8, 17)
    with pytest.raises(FormInvalid) as info:
        life.complete(ref, "record_recommendations",
                      {"findings": "x", "recommendations": ["Old; Police; 2027-01-01"]})
    assert "recommendations.0" in info.value.errors
    life.complete(ref, "record_recommendations", RECOMMEND, actor="tara")
    assert [(r.number, r.owner, r.due_at) for r in review.recommendations] == [
        (1, "ASB team", utc(2027, 3, 12, 17)), (2, "Environmental services", utc(2027, 3, 26, 17))]
    outcome = life.letters(ref, "case_review_outcome")[0]
    for said in ("handled as separate cases", "Link all Mill Lane reports",
                 "Environmental services", "Friday 26 March 2027", "Ombudsman"):
        assert said in outcome.body_text
    assert review.status is CaseReviewStatus.TRACKING and not life.open_tasks(ref)
    life.at(utc(2027, 3, 12, 16, 59))
    assert not life.open_tasks(ref)
    life.at(utc(2027, 3, 12, 17, 1))                  # recommendation 1 now overdue
    chase = life.task(ref, "chase_recommendations")
    assert (chase.role, chase.due_at) == ("team_leader", utc(2027, 3, 19, 17))
    life.complete(ref, "chase_recommendations", {"done": [], "chased": "Rang the ASB team."},
                  actor="tara")
    assert review.recommendations[0].times_chased == 1 and not life.open_tasks(ref)
    life.at(utc(2027, 3, 19, 17, 1))                  # chased again 5 working days later
    life.complete(ref, "chase_recommendations", {"done": ["1"], "chased": "Linked now."},
                  actor="tara")
    assert review.recommendations[0].done_at is not None
    cr.record_recommendation_done(life.session, ref, 2, note="Lights fitted", actor="tara")
    life.at(utc(2027, 3, 26, 17, 1))                  # the next check finds all done
    assert review.status is CaseReviewStatus.COMPLETED
    assert life.instance(ref, "asb_case_review").status is InstanceStatus.COMPLETED
    assert "case_review.recommendations_chased" in life.audit(ref)
    figures = case_review_figures(life.session, utc(2027, 1, 1), utc(2028, 1, 1))
    assert (figures["reviews_held"], figures["reviews_with_recommendations"]) == (1, 1)


def test_a_review_without_recommendations_ends_with_the_outcome_letter(life):
    review = _held_review(life, automatic=True)        # the threshold met by the count
    assert review.route == "automatic" and not life.letters(review.reference,
                                                            "case_review_decision")
    life.complete(review.reference, "record_recommendations", {"findings": "All was done."},
                  actor="tara")
    assert review.status is CaseReviewStatus.COMPLETED
    assert "made no recommendations" in life.letters(review.reference,
                                                     "case_review_outcome")[0].body_text
    with pytest.raises(CaseDataInvalid):
        cr.record_recommendation_done(life.session, review.reference, 1, note=None, actor="x")


def test_an_applicant_with_no_safe_written_channel_is_phoned(life):
    review = life.apply(applicant={"name": "Phone Only", "phone": "07700 900555",
                                   "contact_preferences": {"channels": ["phone"]}})
    assert not life.letters(review.reference)
    tasks = {t.name: t for t in life.open_tasks(review.reference)}
    assert set(tasks) == {"decide_case_review", "phone_reporter"}
    assert tasks["phone_reporter"].role == "officer"   # any officer: no case, no case officer


# -- from a case, and the second report -----------------------------------------------------------

def test_an_application_or_complaint_sent_to_a_case_comes_from_its_reporter(life):
    case = life.report(MON - timedelta(days=3))
    clock.set_now(MON)
    life.engine.start(life.session, "test_apply_from_case", case.reference, {
        "case_review_application": {"description": "Nothing has changed."},
        "complaint": {"about": "My calls are not returned.", "council_home": True}},
        actor="olivia")
    review = review_by_reference(life.session, "CR-2027-0001")
    assert review.case_id == case.id and review.applicant.name == "Rita Reporter"
    assert review.relationship_to_victim == "victim" and review.location == MILL
    assert [t.name for t in life.open_tasks(review.reference)] == ["decide_case_review"]
    assert review.qualifying_complaints == 1
    complaint = complaint_by_reference(life.session, "CMP-2027-0001")
    assert (complaint.case_id, complaint.council_home) == (case.id, True)
    ack = life.task(complaint.reference, "acknowledge_complaint")
    assert ack.assignee == "tara"       # the team leader of the case's officer
    assert life.instance(case.reference, "test_apply_from_case").status \
        is InstanceStatus.COMPLETED


def _inform(life, case, at):
    clock.set_now(at)
    life.engine.start(life.session, "test_inform_second_report", case.reference, {},
                      actor="api")
    return life.letters(case.reference, "case_review_information")


def test_a_second_report_within_six_months_brings_the_case_review_information_once(life):
    first = life.report(utc(2026, 11, 2, 10))
    assert _inform(life, first, utc(2026, 11, 2, 10)) == []       # a first report
    second = life.report(utc(2027, 2, 1, 10))
    (told,) = _inform(life, second, utc(2027, 2, 1, 10))
    assert told.to_address == "rita@example.org"
    for said in ("2 times in the last six months", "ASB Case Review", "3 or more reports",
                 "asb-case-review"):
        assert said in told.body_text
    assert _inform(life, second, utc(2027, 2, 1, 11)) == [told]   # once, not again
    third = life.report(utc(2027, 3, 1, 10))
    assert _inform(life, third, utc(2027, 3, 1, 10)) == []        # told within 6 months
    stranger = life.report(utc(2027, 3, 2, 10), name="Sam Stranger", email="sam@example.org",
                           address="1 Far Road, Chesterfield")
    assert _inform(life, stranger, utc(2027, 3, 2, 10)) == []


def test_a_second_report_more_than_six_months_later_is_a_first_again(life):
    life.report(utc(2026, 6, 1, 10))
    later = life.report(utc(2027, 1, 4, 10))
    assert _inform(life, later, utc(2027, 1, 4, 10)) == []


# -- complaints -----------------------------------------------------------------------------------

def _acknowledged(life, **extra):
    complaint = life.complain(**extra)
    ref = complaint.reference
    ack = life.task(ref, "acknowledge_complaint")
    assert (ack.role, ack.due_at) == ("team_leader", utc(2027, 2, 8, 17))   # 5 working days
    life.at(utc(2027, 2, 3, 10))                                           # Wednesday
    life.complete(ref, "acknowledge_complaint", {"understanding": "No call back in March."},
                  actor="tara")
    return complaint


def test_stage_one_is_answered_and_closes_when_stage_two_is_not_asked_for(life):
    complaint = _acknowledged(life)
    ref = complaint.reference
    assert ref == "CMP-2027-0001"
    letter = life.letters(ref, "complaint_acknowledgement")[0]
    assert "No call back in March." in letter.body_text
    assert "Wednesday 17 February 2027" in letter.body_text      # 10 working days on
    respond = life.task(ref, "respond_to_complaint")
    assert (respond.assignee, respond.due_at) == (None, utc(2027, 2, 17, 17))
    life.at(utc(2027, 2, 25, 10))                                           # Thursday
    life.complete(ref, "respond_to_complaint", SAMPLES["respond_to_complaint"], actor="tara")
    answer = life.letters(ref, "complaint_response")[0]
    for said in ("upheld", "We failed to call.", "An apology", "stage 2",
                 "Thursday 25 March 2027"):                                 # 20 working days
        assert said in answer.body_text
    assert complaint.status is ComplaintStatus.AWAITING_ESCALATION
    life.at(utc(2027, 3, 25, 17, 1))
    assert (complaint.status, complaint.closed_after_stage) == (ComplaintStatus.CLOSED, 1)
    assert life.instance(ref, "asb_complaint").status is InstanceStatus.COMPLETED
    with pytest.raises(CaseDataInvalid):
        cmp.escalate_complaint(life.session, life.engine, ref, reason="Late", actor="api")
    assert life.audit(ref)[-2:] == ["complaint.closed", "instance_ended"]


def test_an_extension_moves_the_answer_date_once_and_gives_the_reason(life):
    complaint = life.complain()
    ref = complaint.reference
    with pytest.raises(CaseDataInvalid, match="acknowledge"):
        cmp.extend_complaint(life.session, life.engine, ref, days=5, reason="x", actor="tara")
    life.at(utc(2027, 2, 3, 10))
    life.complete(ref, "acknowledge_complaint", {"understanding": "No call back."},
                  actor="tara")
    with pytest.raises(CaseDataInvalid) as info:
        cmp.extend_complaint(life.session, life.engine, ref, days=11, reason="", actor="tara")
    assert set(info.value.errors) == {"days", "reason"}
    life.at(utc(2027, 2, 15, 9))
    cmp.extend_complaint(life.session, life.engine, ref, days=10,
                         reason="The officer involved is on leave until 22 February.",
                         actor="tara")
    moved = utc(2027, 3, 3, 17)         # 10 working days after Wednesday 17 February
    stage = complaint.current
    assert (stage.extended_days, stage.response_due_at) == (10, moved)
    assert life.task(ref, "respond_to_complaint").due_at == moved
    told = life.letters(ref, "complaint_extension")[0]
    assert "on leave until 22 February" in told.body_text
    assert "Wednesday 3 March 2027" in told.body_text and "Ombudsman" in told.body_text
    with pytest.raises(CaseDataInvalid, match="already been extended"):
        cmp.extend_complaint(life.session, life.engine, ref, days=2, reason="More",
                             actor="tara")
    assert [t.name for t in life.open_tasks(ref)] == ["respond_to_complaint"]
    assert "complaint.extended" in life.audit(ref)


def test_stage_two_on_request_and_the_final_letter_names_the_ombudsman(life):
    case = life.report(MON - timedelta(days=10))
    complaint = _acknowledged(life, case_reference=case.reference, council_home=True)
    ref = complaint.reference
    life.at(utc(2027, 2, 10, 10))
    life.complete(ref, "respond_to_complaint", SAMPLES["respond_to_complaint"], actor="tara")
    life.at(utc(2027, 3, 8, 10))                                            # Monday
    cmp.escalate_complaint(life.session, life.engine, ref,
                           reason="The named officer never called.", actor="api")
    assert complaint.status is ComplaintStatus.STAGE_TWO
    ack = life.task(ref, "acknowledge_stage_two")
    assert (ack.role, ack.assignee, ack.due_at) == ("manager", None, utc(2027, 3, 15, 17))
    life.at(utc(2027, 3, 9, 10))
    life.complete(ref, "acknowledge_stage_two", SAMPLES["acknowledge_stage_two"],
                  actor="tara")
    due = calendar.due_after_working_days(utc(2027, 3, 9, 10), 20)   # Easter falls inside
    assert due == utc(2027, 4, 8, 16)                                 # 5pm BST
    respond = life.task(ref, "respond_stage_two")
    assert respond.due_at == due
    assert "Your complaint at stage 2" in life.letters(
        ref, "complaint_acknowledgement")[-1].body_text
    cmp.extend_complaint(life.session, life.engine, ref, days=3, reason="Police records.",
                         actor="tara")
    assert life.task(ref, "respond_stage_two").due_at == calendar.due_after_working_days(
        due, 3)
    life.at(utc(2027, 4, 1, 10))
    life.complete(ref, "respond_stage_two", SAMPLES["respond_stage_two"], actor="tara")
    assert (complaint.status, complaint.closed_after_stage) == (ComplaintStatus.CLOSED, 2)
    final = life.letters(ref, "complaint_final")[0]
    for said in ("final answer", "not upheld", "Stage 1 put it right.",
                 "Housing Ombudsman Service", "0300 111 3000", "info@housing-ombudsman.org.uk",
                 "(this is the Ombudsman for your complaint)",
                 "Local Government and Social Care Ombudsman", "www.lgo.org.uk"):
        assert said in final.body_text
    assert life.instance(ref, "asb_complaint").status is InstanceStatus.COMPLETED
    assert [s.stage for s in complaint.stages] == [1, 2]
    assert complaint.current.response == "Stage 1 put it right."


def test_complaints_are_refused_with_field_errors(life):
    clock.set_now(MON)
    with pytest.raises(CaseDataInvalid) as info:
        cmp.make_complaint(life.session, life.engine, complainant={"name": ""}, about=" ",
                           council_home="yes", actor="api")
    assert {"complainant.name", "about", "council_home"} <= set(info.value.errors)
    assert life.session.scalars(select(OutboxMessage)).all() == []
    assert life.session.scalars(select(HumanTask).where(
        HumanTask.state == TaskStatus.OPEN)).all() == []
