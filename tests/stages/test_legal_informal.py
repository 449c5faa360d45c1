"""Early legal action through the shipped diagrams, driven by the product clock: the warning
letter, the acceptable behaviour agreement and the Community Protection Warning then Notice.

Every path of each diagram; what officers see (tasks, due dates), what the legal record and
the audit trail hold, and what goes out (the letter to the reported person, the reporter's
updates), with nothing about one in anything addressed to the other.

Timers are checked a minute after they fall due: at the very instant, the worker's query
(``next_timer_at <= now``) wakes the instance but SpiffWorkflow fires only once ``now`` is past
the time, so a frozen clock on that instant would wake it for ever.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.legal import LegalStatus, LegalTool, actions_of, steps_of
from cases.operations import add_party
from cases.people import create_user
from engine import clock
from engine.errors import FormInvalid
from engine.forms import validate
from engine.handlers import ServiceContext
from engine.models import HumanTask, InstanceStatus, TaskStatus
from tasks import legal_cpn, stages
from tasks.stages import start_stage
from tests.lifecycle_support import new_life

ROOT = Path(__file__).resolve().parents[2]
FORMS = ROOT / "bpmn" / "forms"
MON = datetime(2027, 2, 1, 10, 0, tzinfo=UTC)          # Monday 1 February 2027, GMT
NIGEL = {"name": "Nigel Neighbour", "address": "14 Mill Lane, Chesterfield S40 1AB"}
WARNING = "asb_legal_warning"
ABA = "asb_legal_aba"
CP = "asb_legal_community_protection"
DRAFT = {"respondent": "Nigel Neighbour", "behaviours": {"noise": True, "graffiti": False},
         "behaviour_to_stop": "Playing loud music after 11pm must stop.",
         "consequences": "If it continues we will consider a Community Protection Warning.",
         "period": "late at night since January 2027"}
CPW = {"respondent": "Nigel Neighbour", "respondent_16_or_body": True,
       "behaviour": "Loud amplified music at night, every week since January.",
       "requirements": ["Stop playing amplified music between 11pm and 7am"],
       "time_to_comply_days": 14}
NOTICE = {"requirements": ["Do not play amplified music between 11pm and 7am"],
          "authorised_officer": "Olivia Officer", "warning_precondition_met": True}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def open_case(life, at=MON, **person):
    case = life.open(at)
    add_party(life.session, case, "reported_person", {**NIGEL, **person})
    return case


def tasks_of(life, case, process) -> list[HumanTask]:
    return [t for t in life.open_tasks(case.reference) if t.process_id == process]


def only_task(life, case, process) -> HumanTask:
    (task,) = tasks_of(life, case, process)
    return task


def action(life, case):
    (found,) = actions_of(life.session, case)
    return found


def step_names(life, case) -> list[str]:
    return [s.step for s in steps_of(life.session, action(life, case))]


def sent(life, case, template):
    return [m for m in life.outbox(case.reference) if m.template == template]


def refused(life, case, name, data, actor="olivia") -> dict[str, str]:
    """Complete a task expecting a refusal; roll back as the web app does."""
    nested = life.session.begin_nested()
    with pytest.raises(FormInvalid) as info:
        life.complete(case.reference, name, data, actor)
    nested.rollback()
    return info.value.errors


def stage_status(life, case, process) -> InstanceStatus:
    rows = life.engine.instances_for(life.session, case.reference, active_only=False)
    return next(r for r in rows if r.process_id == process).status


# -- the warning letter ----------------------------------------------------------------------


def _drafted(life, case, actor="olivia", **changes):
    start_stage(life.session, life.engine, case.reference, WARNING, actor=actor)
    life.complete(case.reference, "prepare_warning_letter", {**DRAFT, **changes}, actor)


def test_a_warning_is_approved_sent_without_the_reporter_and_reviewed(life):
    case = open_case(life)
    start_stage(life.session, life.engine, case.reference, WARNING, actor="olivia")
    prepare = only_task(life, case, WARNING)
    assert (prepare.name, prepare.role, prepare.assignee, prepare.due_at) == (
        "prepare_warning_letter", "officer", "olivia", utc(2027, 2, 8, 17, 0))
    life.complete(case.reference, "prepare_warning_letter",
                  {**DRAFT, "reporter_note": "You may get a visit from our officer."})
    approve = only_task(life, case, WARNING)
    assert (approve.name, approve.role, approve.assignee, approve.due_at) == (
        "approve_warning_letter", "team_leader", "tara", utc(2027, 2, 3, 17, 0))
    assert step_names(life, case) == ["drafted"] and not sent(life, case, "legal_warning_sent")
    life.complete(case.reference, "approve_warning_letter", {"decision": "approve"}, "tara")

    (letter,) = sent(life, case, "warning_to_reported_person")
    assert (letter.recipient_role, str(letter.channel)) == ("reported_person", "letter")
    assert letter.to_address == NIGEL["address"] and letter.pdf
    assert "Nigel Neighbour" in letter.body_text and "after 11pm" in letter.body_text
    assert "Community Protection Warning" in letter.body_text
    for secret in ("Rita", "12 Mill Lane", "07700 900123", "rita@example.org",
                   "Loud music and shouting every night"):
        assert secret not in letter.body_text and secret not in (letter.body_html or "")
    (told,) = sent(life, case, "legal_warning_sent")
    assert told.recipient_role == "reporter" and "Nigel" not in told.body_text
    assert "You may get a visit from our officer." in told.body_text
    assert "Monday 1 March 2027" in told.body_text   # the review date: 20 working days on
    warning = action(life, case)
    assert (warning.tool, warning.status, warning.respondent) == (
        LegalTool.WARNING_LETTER, LegalStatus.OPEN, "Nigel Neighbour")
    steps = steps_of(life.session, warning)
    assert [(s.step, s.by) for s in steps] == [("drafted", "olivia"), ("approved", "tara"),
                                               ("sent", "tara")]
    assert steps[-1].due_at == utc(2027, 3, 1, 17, 0)

    life.at(utc(2027, 3, 1, 16, 59))
    assert tasks_of(life, case, WARNING) == []
    life.at(utc(2027, 3, 1, 17, 1))
    review = only_task(life, case, WARNING)
    assert (review.name, review.assignee, review.due_at) == (
        "review_warning", "olivia", utc(2027, 3, 8, 17, 0))
    life.complete(case.reference, "review_warning",
                  {"behaviour_since": "stopped", "notes": "No reports for four weeks."})
    assert (warning.status, warning.outcome) == (LegalStatus.ENDED, "stopped")
    (review_told,) = sent(life, case, "legal_warning_reviewed")
    assert "the behaviour has stopped" in review_told.body_text
    assert stage_status(life, case, WARNING) is InstanceStatus.COMPLETED
    audit = life.session.scalars(select(AuditEvent.action).where(
        AuditEvent.case_reference == case.reference, AuditEvent.action.like("legal.%"))
        .order_by(AuditEvent.id)).all()
    assert audit == ["legal.opened", "legal.step", "legal.step", "legal.step", "legal.step",
                     "legal.ended"]


def test_a_returned_warning_goes_back_to_the_officer_with_the_reason(life):
    case = open_case(life)
    _drafted(life, case)
    assert refused(life, case, "approve_warning_letter", {"decision": "return_for_changes"},
                   "tara") == {"reason": "this field is required"}
    life.complete(case.reference, "approve_warning_letter",
                  {"decision": "return_for_changes", "reason": "Name the hours, not days."},
                  "tara")
    again = only_task(life, case, WARNING)
    assert (again.name, again.assignee) == ("prepare_warning_letter", "olivia")
    returned = steps_of(life.session, action(life, case))[-1]
    assert (returned.step, returned.summary, returned.by) == (
        "returned", "Name the hours, not days.", "tara")
    assert sent(life, case, "warning_to_reported_person") == []
    life.complete(case.reference, "prepare_warning_letter",
                  dict(DRAFT, behaviour_to_stop="Music after 11pm and before 7am must stop."))
    life.complete(case.reference, "approve_warning_letter", {"decision": "approve"}, "tara")
    assert step_names(life, case) == ["drafted", "returned", "redrafted", "approved", "sent"]
    (letter,) = sent(life, case, "warning_to_reported_person")
    assert "before 7am" in letter.body_text
    assert len(actions_of(life.session, case)) == 1


def test_a_warning_the_team_leader_stops_is_never_sent(life):
    case = open_case(life)
    _drafted(life, case)
    life.complete(case.reference, "approve_warning_letter",
                  {"decision": "do_not_send", "reason": "Mediation first."}, "tara")
    warning = action(life, case)
    assert (warning.status, warning.outcome) == (LegalStatus.ENDED, "not_sent")
    assert step_names(life, case) == ["drafted", "not_sent"]
    assert [m.template for m in life.outbox(case.reference)] == ["acknowledgement"]
    assert stage_status(life, case, WARNING) is InstanceStatus.COMPLETED


def test_a_continued_behaviour_ends_the_warning_and_suggests_the_next_tool(life):
    case = open_case(life)
    _drafted(life, case)
    life.complete(case.reference, "approve_warning_letter", {"decision": "approve"}, "tara")
    life.at(utc(2027, 3, 1, 17, 1))
    life.complete(case.reference, "review_warning", {"behaviour_since": "continued",
                                                     "notes": "Three new diary entries."})
    assert action(life, case).outcome == "continued"
    (told,) = sent(life, case, "legal_warning_reviewed")
    assert "considering further action" in told.body_text
    assert life.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "legal.ended")).one().summary["outcome"] == "continued"


def test_a_draft_naming_the_reporter_or_nobody_on_the_case_is_refused(life):
    case = open_case(life)
    start_stage(life.session, life.engine, case.reference, WARNING, actor="olivia")
    errors = refused(life, case, "prepare_warning_letter", dict(
        DRAFT, respondent="Someone Else", behaviours={"noise": False},
        behaviour_to_stop="Rita Reporter at number 12 Mill Lane hears it every night."))
    assert set(errors) == {"respondent"}   # the person is checked first
    assert "Nigel Neighbour" in errors["respondent"]
    errors = refused(life, case, "prepare_warning_letter", dict(
        DRAFT, behaviours={"noise": False},
        behaviour_to_stop="Rita Reporter at number 12 Mill Lane hears it every night."))
    assert set(errors) == {"behaviours", "behaviour_to_stop"}
    assert "reporter" in errors["behaviour_to_stop"]
    assert actions_of(life.session, case) == []   # nothing recorded
    assert only_task(life, case, WARNING).name == "prepare_warning_letter"


def test_a_team_leader_cannot_approve_their_own_warning(life):
    create_user(life.session, "tom", "team_leader", team="North", display_name="Tom Leader")
    case = open_case(life)
    _drafted(life, case, actor="tara")
    approve = only_task(life, case, WARNING)
    assert (approve.role, approve.assignee) == ("team_leader", None)   # any team leader
    assert "another team leader" in refused(
        life, case, "approve_warning_letter", {"decision": "approve"}, "tara")["decision"]
    assert sent(life, case, "warning_to_reported_person") == []
    life.complete(case.reference, "approve_warning_letter", {"decision": "approve"}, "tom")
    assert len(sent(life, case, "warning_to_reported_person")) == 1


# -- the acceptable behaviour agreement ------------------------------------------------------

AGREEMENT = {"respondent": "Nigel Neighbour", "respondent_age": 15,
             "terms": ["No loud music after 10pm", "No gathering outside number 12"]}
SIGNED = {"signed": True, "signed_on": "2027-02-03",
          "parties_present": {"respondent": True, "parent_or_guardian": True,
                              "council_officer": True}}


def _signed(life, case):
    start_stage(life.session, life.engine, case.reference, ABA, actor="olivia")
    life.complete(case.reference, "draft_aba", AGREEMENT)
    life.at(utc(2027, 2, 3, 12, 0))
    life.complete(case.reference, "record_aba_signed", SIGNED)


def test_an_agreement_is_reviewed_every_28_days_until_it_ends(life):
    case = open_case(life)
    start_stage(life.session, life.engine, case.reference, ABA, actor="olivia")
    life.complete(case.reference, "draft_aba", AGREEMENT)
    sign = only_task(life, case, ABA)
    assert (sign.name, sign.assignee, sign.due_at) == (
        "record_aba_signed", "olivia", utc(2027, 2, 15, 17, 0))
    life.at(utc(2027, 2, 3, 12, 0))
    errors = refused(life, case, "record_aba_signed", dict(
        SIGNED, signed_on="2027-02-04", parties_present={"respondent": True}))
    assert set(errors) == {"signed_on", "parties_present"}
    assert "under 18" in errors["parties_present"]
    assert refused(life, case, "record_aba_signed", {"signed": True}) == {
        "signed_on": "this field is required"}
    life.complete(case.reference, "record_aba_signed", SIGNED)
    agreement = action(life, case)
    signed = steps_of(life.session, agreement)[-1]
    assert (signed.step, signed.due_at) == ("signed", utc(2027, 8, 3, 8, 0))  # 9am BST
    (told,) = sent(life, case, "legal_aba_signed")
    assert "every 4 weeks" in told.body_text and "Tuesday 3 August 2027" in told.body_text
    assert "Nigel" not in told.body_text and "loud music" not in told.body_text.lower()

    reviews = []
    for _ in range(10):
        waiting = next(r for r in life.engine.instances_for(life.session, case.reference)
                       if r.process_id == ABA)
        due = waiting.next_timer_at
        life.at(due - timedelta(minutes=1))
        assert tasks_of(life, case, ABA) == []
        life.at(due + timedelta(minutes=1))
        review = only_task(life, case, ABA)
        assert (review.name, review.assignee) == ("review_aba", "olivia")
        reviews.append(due)
        life.at(due + timedelta(days=2))   # the officer gets to it two days later
        life.complete(case.reference, "review_aba", {"complying": True, "notes": "Kept."})
        if agreement.status is LegalStatus.ENDED:
            break
    assert reviews == [utc(2027, 3, 3, 9, 0), utc(2027, 3, 31, 8, 0), utc(2027, 4, 28, 8, 0),
                       utc(2027, 5, 26, 8, 0), utc(2027, 6, 23, 8, 0), utc(2027, 7, 21, 8, 0),
                       utc(2027, 8, 3, 8, 0)]   # every 28 days at 9am London, then the end
    assert agreement.outcome == "completed"
    (ended,) = sent(life, case, "legal_aba_ended")
    assert "it was kept" in ended.body_text
    assert stage_status(life, case, ABA) is InstanceStatus.COMPLETED


def test_a_broken_agreement_ends_at_its_review(life):
    case = open_case(life)
    _signed(life, case)
    life.at(utc(2027, 3, 3, 9, 1))
    life.complete(case.reference, "review_aba", {
        "complying": False, "notes": "Two breaches reported.",
        "reporter_note": "We are now looking at a Community Protection Warning."})
    agreement = action(life, case)
    assert (agreement.outcome, step_names(life, case)[-1]) == ("breached", "breached")
    (ended,) = sent(life, case, "legal_aba_ended")
    assert "has been broken" in ended.body_text
    assert "Community Protection Warning" in ended.body_text
    assert stage_status(life, case, ABA) is InstanceStatus.COMPLETED


def test_an_agreement_that_is_not_signed_ends_and_the_reporter_is_told(life):
    case = open_case(life)
    start_stage(life.session, life.engine, case.reference, ABA, actor="olivia")
    life.complete(case.reference, "draft_aba", dict(AGREEMENT, respondent_age=34,
                                                    length_months=3))
    assert action(life, case).details["months"] == 3
    life.complete(case.reference, "record_aba_signed", {"signed": False,
                                                        "notes": "Refused to sign."})
    assert (action(life, case).outcome, step_names(life, case)) == (
        "not_signed", ["drafted", "not_signed"])
    (ended,) = sent(life, case, "legal_aba_ended")
    assert "was not signed" in ended.body_text
    assert stage_status(life, case, ABA) is InstanceStatus.COMPLETED


# -- Community Protection Warning, then Notice -----------------------------------------------


def _served(life, case):
    start_stage(life.session, life.engine, case.reference, CP, actor="olivia")
    life.complete(case.reference, "prepare_cpw", CPW)


def _not_complied(life, case):
    _served(life, case)
    life.at(utc(2027, 2, 16, 0, 1))
    life.complete(case.reference, "check_cpw_compliance", {
        "warning_complied": False, "evidence": "Music on 10 and 13 February."})


def test_a_warning_to_someone_under_16_is_refused(life):
    case = open_case(life, date_of_birth="2012-05-01")
    start_stage(life.session, life.engine, case.reference, CP, actor="olivia")
    errors = refused(life, case, "prepare_cpw", dict(CPW, respondent_16_or_body=False))
    assert "aged 16 or over" in errors["respondent_16_or_body"]
    errors = refused(life, case, "prepare_cpw", CPW)
    assert "under 16" in errors["respondent_16_or_body"]
    assert actions_of(life.session, case) == []


def test_the_notice_waits_for_the_time_to_comply_and_is_refused_before_it(life):
    case = open_case(life)
    _served(life, case)
    served = steps_of(life.session, action(life, case))[-1]
    assert (served.step, served.due_at) == ("cpw_served", utc(2027, 2, 16, 0, 0))
    (told,) = sent(life, case, "legal_cpw_served")
    assert "Monday 15 February 2027" in told.body_text and "Nigel" not in told.body_text
    life.at(utc(2027, 2, 15, 23, 59))
    assert tasks_of(life, case, CP) == []   # the diagram offers no notice before the time
    life.at(utc(2027, 2, 16, 0, 1))
    check = only_task(life, case, CP)
    assert (check.name, check.assignee, check.due_at) == (
        "check_cpw_compliance", "olivia", utc(2027, 2, 23, 17, 0))
    life.complete(case.reference, "check_cpw_compliance",
                  {"warning_complied": False, "evidence": "Music on 10 and 13 February."})
    assert only_task(life, case, CP).name == "issue_cpn"

    # The clock reads earlier than the time to comply (a wrong clock, a re-drawn diagram):
    # completing the task is refused on the form, and nothing changes.
    before = len(life.outbox(case.reference))
    clock.set_now(utc(2027, 2, 15, 12, 0))
    errors = refused(life, case, "issue_cpn", NOTICE)
    assert list(errors) == ["warning_precondition_met"]
    assert "end of Monday 15 February 2027" in errors["warning_precondition_met"]
    assert step_names(life, case) == ["cpw_served", "cpw_not_complied"]
    assert len(life.outbox(case.reference)) == before
    assert only_task(life, case, CP).state is TaskStatus.OPEN

    life.at(utc(2027, 2, 16, 10, 0))
    life.complete(case.reference, "issue_cpn", NOTICE)
    issued = steps_of(life.session, action(life, case))[-1]
    assert (issued.step, issued.due_at) == ("cpn_issued", utc(2027, 3, 9, 0, 0))  # 21 days
    (notice_told,) = sent(life, case, "legal_cpn_issued")
    assert "Monday 8 March 2027" in notice_told.body_text
    assert "Nigel" not in notice_told.body_text


def test_the_notice_handler_itself_refuses_without_a_served_warning_or_before_its_time(life):
    case = open_case(life)

    def run(data, now):
        ctx = ServiceContext(session=life.session, business_key=case.reference, instance_id=0,
                             task_name="issue_cpn_notice", data=dict(NOTICE, **data), now=now,
                             actor="olivia")
        with pytest.raises(FormInvalid) as info:
            legal_cpn.issue_notice(ctx)
        return info.value.errors["warning_precondition_met"]

    assert "no open Community Protection Warning" in run({}, utc(2027, 6, 1, 9, 0))
    _served(life, case)
    served = action(life, case)
    early = run({"legal_action_id": served.id}, utc(2027, 2, 15, 23, 59))
    assert "cannot be issued before" in early
    late = run({"legal_action_id": served.id}, utc(2027, 2, 16, 0, 0))
    assert "not complied with" in late   # the check comes first (s43(5)(b))
    assert step_names(life, case) == ["cpw_served"]


def test_a_warning_complied_with_ends_without_a_notice(life):
    case = open_case(life)
    _served(life, case)
    life.at(utc(2027, 2, 16, 9, 0))
    life.complete(case.reference, "check_cpw_compliance",
                  {"warning_complied": True, "evidence": "Quiet for two weeks."})
    assert action(life, case).outcome == "complied_with_warning"
    (told,) = sent(life, case, "legal_cpn_ended")
    assert "no notice was needed" in told.body_text
    assert stage_status(life, case, CP) is InstanceStatus.COMPLETED


def test_an_unappealed_notice_is_monitored_to_its_outcome(life):
    case = open_case(life)
    _not_complied(life, case)
    life.at(utc(2027, 2, 16, 10, 0))
    life.complete(case.reference, "issue_cpn", NOTICE)
    life.at(utc(2027, 3, 8, 23, 59))
    assert tasks_of(life, case, CP) == []   # the 21 days to appeal are still running
    life.at(utc(2027, 3, 9, 0, 1))
    assert only_task(life, case, CP).name == "record_cpn_appeal"
    life.complete(case.reference, "record_cpn_appeal", {"appealed": False})
    monitor = only_task(life, case, CP)
    assert (monitor.name, monitor.due_at) == ("record_cpn_compliance", utc(2027, 4, 8, 16, 0))
    life.complete(case.reference, "record_cpn_compliance",
                  {"notice_complied": True, "evidence": "No reports since the notice."})
    assert action(life, case).outcome == "complied"
    assert step_names(life, case) == ["cpw_served", "cpw_not_complied", "cpn_issued",
                                      "no_appeal", "cpn_complied"]
    assert "is being kept" in sent(life, case, "legal_cpn_ended")[0].body_text


def test_an_upheld_notice_that_is_broken_ends_with_the_action_taken(life):
    case = open_case(life)
    _not_complied(life, case)
    life.complete(case.reference, "issue_cpn", NOTICE)
    life.at(utc(2027, 3, 9, 0, 1))
    assert refused(life, case, "record_cpn_appeal", {"appealed": True}) == {
        "appeal_outcome": "this field is required"}
    life.complete(case.reference, "record_cpn_appeal", {"appealed": True,
                                                        "appeal_outcome": "upheld"})
    assert refused(life, case, "record_cpn_compliance", {
        "notice_complied": False, "evidence": "Music again."}) == {
        "breach_action": "this field is required"}
    life.complete(case.reference, "record_cpn_compliance", {
        "notice_complied": False, "breach_action": "fixed_penalty", "evidence": "Music again."})
    assert action(life, case).outcome == "breached_fixed_penalty"
    assert step_names(life, case)[-2:] == ["appeal_upheld", "cpn_breached"]
    assert "fixed penalty notice" in sent(life, case, "legal_cpn_ended")[0].body_text
    assert stage_status(life, case, CP) is InstanceStatus.COMPLETED


def test_a_notice_quashed_on_appeal_ends_the_action(life):
    case = open_case(life)
    _not_complied(life, case)
    life.complete(case.reference, "issue_cpn", NOTICE)
    life.at(utc(2027, 3, 9, 0, 1))
    life.complete(case.reference, "record_cpn_appeal", {"appealed": True,
                                                        "appeal_outcome": "quashed"})
    assert action(life, case).outcome == "quashed_on_appeal"
    assert tasks_of(life, case, CP) == []
    assert "cancelled the Community Protection Notice" in sent(
        life, case, "legal_cpn_ended")[0].body_text
    assert stage_status(life, case, CP) is InstanceStatus.COMPLETED


# -- registration, forms and diagrams --------------------------------------------------------


def test_the_three_tools_are_single_legal_stages(life):
    for process in (WARNING, ABA, CP):
        info = stages.STAGES[process]
        assert (info.group, info.single) == ("legal", True)
    case = open_case(life)
    _served(life, case)
    from cases.records import CaseDataInvalid

    with pytest.raises(CaseDataInvalid):
        start_stage(life.session, life.engine, case.reference, CP, actor="olivia")


SAMPLES = {
    "prepare_warning_letter": (DRAFT, dict(DRAFT, behaviours="noise"), "behaviours"),
    "approve_warning_letter": ({"decision": "do_not_send", "reason": "Mediate first."},
                               {"decision": "maybe", "reason": "x"}, "decision"),
    "review_warning": ({"behaviour_since": "stopped", "notes": "Quiet."},
                       {"behaviour_since": "stopped"}, "notes"),
    "draft_aba": (AGREEMENT, dict(AGREEMENT, respondent_age="15"), "respondent_age"),
    "record_aba_signed": (SIGNED, dict(SIGNED, signed_on="3 Feb"), "signed_on"),
    "review_aba": ({"complying": True, "notes": "Kept."}, {"complying": "yes", "notes": "x"},
                   "complying"),
    "prepare_cpw": (CPW, dict(CPW, time_to_comply_days=0), "time_to_comply_days"),
    "check_cpw_compliance": ({"warning_complied": False, "evidence": "x"},
                             {"warning_complied": False}, "evidence"),
    "issue_cpn": (NOTICE, dict(NOTICE, warning_precondition_met=False),
                  "warning_precondition_met"),
    "record_cpn_appeal": ({"appealed": False}, {"appealed": False, "extra": 1}, "extra"),
    "record_cpn_compliance": ({"notice_complied": True, "evidence": "x"},
                              {"notice_complied": False, "evidence": "x"}, "breach_action"),
}


@pytest.mark.parametrize("form", sorted(SAMPLES))
def test_each_form_takes_its_sample_and_refuses_bad_data_field_by_field(form):
    schema = json.loads((FORMS / f"{form}.json").read_text(encoding="utf-8"))
    good, bad, field = SAMPLES[form]
    assert validate(schema, good) == {}
    assert list(validate(schema, bad)) == [field]
    assert schema["title"] and all(p.get("title") and p.get("description")
                                   for p in schema["properties"].values())


def test_the_diagrams_parse_with_the_product_and_every_task_has_its_lane_and_form():
    from lxml import etree

    from engine.forms import load_directory
    from tasks.wiring import build_engine

    files = ("legal_warning.bpmn", "legal_aba.bpmn", "legal_community_protection.bpmn")
    sources = {name: (ROOT / "bpmn" / name).read_bytes() for name in files}
    parsed = build_engine(audit=False).definitions.parse(sources, load_directory(FORMS))
    assert {p.process_id for p in parsed} == {WARNING, ABA, CP}
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
    users = set()
    for name in files:
        root = etree.fromstring(sources[name])
        lanes = {ref.text: lane.get("name") for lane in root.iterfind(".//bpmn:lane", ns)
                 for ref in lane.iterfind("bpmn:flowNodeRef", ns)}
        for task in root.iterfind(".//bpmn:userTask", ns):
            props = {p.get("name"): p.get("value")
                     for p in task.iterfind(".//spiffworkflow:property", ns)}
            assert props["form"] == task.get("id") and props["assignee"]
            assert lanes[task.get("id")] in ("officer", "team_leader")
            users.add(task.get("id"))
        for task in root.iterfind(".//bpmn:serviceTask", ns):
            (op,) = task.iterfind(".//spiffworkflow:serviceTaskOperator", ns)
            assert op.get("resultVariable") == f"{task.get('id')}_result"
        for gateway in root.iterfind(".//bpmn:exclusiveGateway", ns):
            assert gateway.get("default")
    assert users == set(SAMPLES)
