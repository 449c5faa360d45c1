"""Support and partners through the shipped diagrams, driven by the product clock: referrals to
partner agencies (accepted, declined, unanswered and chased, many at once, unknown refused)
and the safeguarding referral (as a stage, late, and as a process another one calls).

What officers see (tasks, assignees, due dates), what the case record holds (referrals,
disclosures with their legal basis, audit rows), and what goes out (the partner e-mails with
only what was chosen, reminders without personal details, the reporter's letter naming the
agencies and nothing that was shared).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.config import set_setting
from cases.operations import add_party
from cases.records import CaseDataInvalid, Disclosure
from cases.referrals import (
    Referral,
    ReferralKind,
    ReferralStatus,
    check_agencies,
    mark_referral_done,
    referrals_for_case,
    respond_to_referral,
)
from engine.errors import FormInvalid
from engine.models import InstanceStatus, ProcessInstance, TaskStatus
from tasks.stages import STAGES, start_stage
from tests.lifecycle_support import BPMN, new_life

MON = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)    # Monday 1 March 2027 (London is on GMT)
NIGEL = {"name": "Nigel Neighbour", "address": "14 Mill Lane, Chesterfield S40 1AB"}
DISCLOSE_CONTACT = {"reporter_contact_details": True, "incident_details": False,
                    "risk_assessment": False, "reported_person_details": True}
REFERRAL = {"agencies": ["police", "victim_support"], "disclose": DISCLOSE_CONTACT,
            "legal_basis": "crime_and_disorder_act_s115",
            "reason": "Please offer support to the reporter and patrol Mill Lane at night.",
            "tell_reporter": True}
SAFEGUARDING = {"at_risk": "child", "agency": "children_safeguarding",
                "reference_number": "MASH-2027-0042", "referred_at": "2027-03-01T11:00:00+00:00",
                "disclose": {"reporter_contact_details": False, "incident_details": True,
                             "risk_assessment": True, "reported_person_details": True},
                "legal_basis": "safeguarding",
                "summary": "Told the duty social worker about the child at number 14."}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def open_case(life, at=MON):
    case = life.open(at)
    add_party(life.session, case, "reported_person", NIGEL)
    return case


def stage_tasks(life, case, process):
    return [t for t in life.open_tasks(case.reference) if t.process_id == process]


def only(life, case, process):
    (task,) = stage_tasks(life, case, process)
    return task


def complete(life, task, data, actor="olivia"):
    return life.engine.complete(life.session, task.id, data, actor)


def referrals(life, case) -> list[Referral]:
    return list(life.session.scalars(referrals_for_case(case)))


def partner_mail(life, case, template):
    return [m for m in life.outbox(case.reference) if m.template == template]


def refer(life, case, **changes):
    start_stage(life.session, life.engine, case.reference, "asb_referrals", actor="olivia")
    task = only(life, case, "asb_referrals")
    assert (task.name, task.role, task.assignee) == ("choose_referral_agencies", "officer",
                                                     "olivia")
    complete(life, task, {**REFERRAL, **changes})
    return referrals(life, case)


def trackers(life, case) -> list[ProcessInstance]:
    return list(life.session.scalars(select(ProcessInstance).where(
        ProcessInstance.business_key == case.reference,
        ProcessInstance.process_id == "asb_referral_tracking").order_by(ProcessInstance.id)))


# -- referrals ---------------------------------------------------------------------------------


def test_the_stages_are_offered_on_the_case_file(life):
    assert {pid: (s.title, s.group, s.single) for pid, s in STAGES.items()
            if s.group == "support"} == {
        "asb_referrals": ("Refer to partner agencies", "support", False),
        "asb_safeguarding": ("Make a safeguarding referral", "support", False),
        "asb_case_conference": ("Hold a multi-agency case conference", "support", False)}


def test_many_agencies_at_once_each_get_a_referral_a_disclosure_and_a_tracker(life):
    case = open_case(life)
    made = refer(life, case)
    assert [(r.agency_code, r.status, r.kind) for r in made] == [
        ("police", ReferralStatus.SENT, ReferralKind.PARTNER),
        ("victim_support", ReferralStatus.SENT, ReferralKind.PARTNER)]
    disclosures = life.session.scalars(select(Disclosure).where(
        Disclosure.case_id == case.id).order_by(Disclosure.id)).all()
    assert [(d.recipient, str(d.legal_basis)) for d in disclosures] == [
        ("Derbyshire Police", "crime_and_disorder_act_s115"),
        ("Victim Support", "crime_and_disorder_act_s115")]
    assert [r.disclosure_id for r in made] == [d.id for d in disclosures]
    assert "reporter's name and contact details" in disclosures[0].what
    assert "incidents" not in disclosures[0].what
    # One tracking instance per referral, each waiting for its first reminder date.
    tracking = trackers(life, case)
    assert len(tracking) == 2
    assert [t.next_timer_at for t in tracking] == [utc(2027, 3, 8, 17, 0)] * 2
    assert [t.status for t in tracking] == [InstanceStatus.WAITING] * 2
    # Each agency gets its e-mail with only what was chosen.
    mails = partner_mail(life, case, "partner_referral")
    assert [(m.to_address, m.recipient_role, str(m.channel)) for m in mails] == [
        ("asb@police.example.org", "partner", "email"),
        ("referrals@victims.example.org", "partner", "email")]
    body = mails[0].body_text
    for shared in ("Rita Reporter", "07700900123", "rita@example.org", "Nigel Neighbour",
                   "patrol Mill Lane", "section 115 of the Crime and Disorder Act 1998",
                   case.reference, f"R{made[0].id}", "Olivia Officer"):
        assert shared in body, shared
    assert "Loud music and shouting" not in body          # incident details were not chosen
    assert "Harm to the victim" not in body               # nor the risk assessment
    # The reporter hears which agencies will help, and nothing of what they were told.
    (letter,) = [m for m in life.outbox(case.reference) if m.template == "support_arranged"]
    assert letter.recipient_role == "reporter" and letter.to_address == "rita@example.org"
    assert "Derbyshire Police" in letter.body_text and "Victim Support" in letter.body_text
    for secret in ("Nigel Neighbour", "patrol Mill Lane", "section 115"):
        assert secret not in letter.body_text
    made_rows = life.session.scalars(select(AuditEvent).where(
        AuditEvent.case_reference == case.reference,
        AuditEvent.action == "referral.made")).all()
    assert len(made_rows) == 2
    assert made_rows[0].summary["legal_basis"] == "crime_and_disorder_act_s115"
    assert stage_tasks(life, case, "asb_referrals") == []


def test_the_reporter_is_not_told_when_the_officer_says_no(life):
    case = open_case(life)
    refer(life, case, agencies=["youth"], tell_reporter=False)
    assert [m.template for m in life.outbox(case.reference)] == [
        "acknowledgement", "partner_referral"]


def test_an_unknown_agency_is_refused_on_its_line_and_nothing_is_sent(life):
    case = open_case(life)
    start_stage(life.session, life.engine, case.reference, "asb_referrals", actor="olivia")
    task = only(life, case, "asb_referrals")
    with pytest.raises(FormInvalid) as info, life.session.begin_nested():
        complete(life, task, {**REFERRAL, "agencies": ["police", "ghostbusters"]})
    assert list(info.value.errors) == ["agencies.1"]
    assert "not in the partner directory" in info.value.errors["agencies.1"]
    assert referrals(life, case) == [] and partner_mail(life, case, "partner_referral") == []
    with pytest.raises(FormInvalid) as info, life.session.begin_nested():
        complete(life, task, {**REFERRAL, "disclose": {k: False for k in DISCLOSE_CONTACT}})
    assert list(info.value.errors) == ["disclose"]
    task = only(life, case, "asb_referrals")
    assert task.state is TaskStatus.OPEN
    complete(life, task, REFERRAL)          # corrected, it goes through
    assert len(referrals(life, case)) == 2


def test_an_accepted_referral_is_not_chased_and_ends_its_tracking(life):
    case = open_case(life)
    police, _support = refer(life, case)
    life.at(utc(2027, 3, 3, 9, 0))
    respond_to_referral(life.session, police, "accepted", by="pc.partner", at=utc(2027, 3, 3, 9))
    life.at(utc(2027, 3, 8, 17, 1))
    first, second = trackers(life, case)
    assert first.status is InstanceStatus.COMPLETED
    assert second.status is InstanceStatus.WAITING     # Victim Support has not answered
    reminders = partner_mail(life, case, "partner_reminder")
    assert [m.to_address for m in reminders] == ["referrals@victims.example.org"]
    mark_referral_done(life.session, police, by="pc.partner", at=utc(2027, 3, 20, 9),
                       note="Patrols done.")
    assert police.status is ReferralStatus.DONE and police.done_at == utc(2027, 3, 20, 9)


def test_a_declined_referral_asks_the_officer_what_next(life):
    case = open_case(life)
    (youth,) = refer(life, case, agencies=["youth"])
    respond_to_referral(life.session, youth, "declined", by="yo.partner",
                        at=utc(2027, 3, 2, 9), note="Outside our area.")
    life.at(utc(2027, 3, 8, 17, 1))
    task = only(life, case, "asb_referral_tracking")
    assert (task.name, task.title, task.assignee, task.due_at) == (
        "referral_declined", "Referral declined: decide what next", "olivia",
        utc(2027, 3, 9, 17, 0))
    complete(life, task, {"next_step": "refer_elsewhere", "note": "Will try the county team."})
    assert youth.next_step == "refer_elsewhere"
    (tracker,) = trackers(life, case)
    assert tracker.status is InstanceStatus.COMPLETED
    assert partner_mail(life, case, "partner_reminder") == []


def test_a_partner_that_does_not_answer_is_chased_twice_then_the_officer_is_asked(life):
    case = open_case(life)
    (fire,) = refer(life, case, agencies=["fire"], tell_reporter=False)
    life.at(utc(2027, 3, 8, 16, 59))
    assert partner_mail(life, case, "partner_reminder") == []
    life.at(utc(2027, 3, 8, 17, 1))       # 5 working days: the first reminder
    life.at(utc(2027, 3, 15, 17, 1))      # 5 more: the second
    reminders = partner_mail(life, case, "partner_reminder")
    assert [m.to_address for m in reminders] == ["asb@fire.example.org"] * 2
    assert fire.chasers_sent == 2 and fire.last_chased_at == utc(2027, 3, 15, 17, 1)
    assert "reminder 2" in reminders[1].body_text
    for private in ("Rita Reporter", "07700900123", "Nigel Neighbour", "patrol"):
        assert private not in reminders[1].body_text     # no details repeated in a reminder
    assert stage_tasks(life, case, "asb_referral_tracking") == []
    life.at(utc(2027, 3, 22, 17, 1))      # no answer after the second reminder
    task = only(life, case, "asb_referral_tracking")
    assert (task.name, task.title, task.role, task.assignee, task.due_at) == (
        "referral_unanswered", "Partner has not answered", "officer", "olivia",
        utc(2027, 3, 23, 17, 0))
    assert len(partner_mail(life, case, "partner_reminder")) == 2
    # "Chase again": one more reminder, then the officer is asked again.
    life.at(utc(2027, 3, 23, 10, 0))
    complete(life, task, {"outcome": "chase_again", "note": "Left a message with the desk."})
    assert fire.chasers_sent == 3
    (tracker,) = trackers(life, case)
    # 24, 25, 30, 31 March and 1 April (Good Friday and Easter Monday are bank holidays),
    # close of business in British Summer Time.
    assert tracker.next_timer_at == utc(2027, 4, 1, 16, 0)
    life.at(utc(2027, 4, 1, 16, 1))
    task = only(life, case, "asb_referral_tracking")
    complete(life, task, {"outcome": "withdrawn", "note": "Handled by the council instead."})
    assert fire.status is ReferralStatus.WITHDRAWN
    assert tracker.status is InstanceStatus.COMPLETED
    chased = life.session.scalars(select(AuditEvent).where(
        AuditEvent.case_reference == case.reference,
        AuditEvent.action == "referral.chased")).all()
    assert [e.summary["chasers_sent"] for e in chased] == [1, 2, 3]


def test_an_answer_given_by_phone_to_the_officer_is_recorded(life):
    case = open_case(life)
    (county,) = refer(life, case, agencies=["county"], tell_reporter=False)
    for moment in (utc(2027, 3, 8, 17, 1), utc(2027, 3, 15, 17, 1), utc(2027, 3, 22, 17, 1)):
        life.at(moment)
    complete(life, only(life, case, "asb_referral_tracking"),
             {"outcome": "accepted", "note": "Accepted on the phone by their ASB lead."})
    assert (county.status, county.answered_by) == (ReferralStatus.ACCEPTED, "olivia")
    assert trackers(life, case)[0].status is InstanceStatus.COMPLETED


def test_partner_answers_are_checked_on_the_record(life):
    case = open_case(life)
    (police,) = refer(life, case, agencies=["police"], tell_reporter=False)
    with pytest.raises(CaseDataInvalid):
        mark_referral_done(life.session, police, by="x", at=utc(2027, 3, 2))
    with pytest.raises(CaseDataInvalid) as info:
        respond_to_referral(life.session, police, "maybe", by="x", at=utc(2027, 3, 2))
    assert info.value.field == "answer"
    with pytest.raises(CaseDataInvalid) as info:
        respond_to_referral(life.session, police, "declined", by="x", at=utc(2027, 3, 2))
    assert info.value.field == "note"      # a decline says why
    respond_to_referral(life.session, police, "accepted", by="x", at=utc(2027, 3, 2))
    with pytest.raises(CaseDataInvalid):
        respond_to_referral(life.session, police, "declined", by="x", at=utc(2027, 3, 2),
                            note="Changed our mind")


def test_the_directory_in_force_decides_which_agencies_may_be_chosen(life):
    set_setting(life.session, "partner_directory", [
        {"code": "police", "name": "Derbyshire Police", "email": "asb@police.example.org"},
        {"code": "mediation", "name": "Community mediation"}], utc(2027, 1, 1))
    with pytest.raises(CaseDataInvalid) as info:
        check_agencies(life.session, ["mediation", "youth", "police", "police"], MON)
    assert info.value.errors == {
        "agencies.0": "Community mediation has no e-mail address in the partner directory: ask "
                      "a manager to add it, or refer by phone",
        "agencies.1": "“youth” is not in the partner directory (known: mediation, police)",
        "agencies.3": "“police” is listed twice"}
    assert [a["code"] for a in check_agencies(life.session, ["mediation"], MON,
                                              need_email=False)] == ["mediation"]


# -- safeguarding ------------------------------------------------------------------------------


def test_a_safeguarding_referral_is_recorded_with_its_disclosure(life):
    case = open_case(life)
    start_stage(life.session, life.engine, case.reference, "asb_safeguarding", actor="oscar")
    task = only(life, case, "asb_safeguarding")
    assert (task.name, task.title, task.role, task.assignee, task.due_at) == (
        "make_safeguarding_referral", "Make the safeguarding referral", "officer", "olivia",
        utc(2027, 3, 2, 17, 0))
    with pytest.raises(FormInvalid) as info, life.session.begin_nested():
        complete(life, task, {**SAFEGUARDING, "agency": "adult_safeguarding",
                              "referred_at": "2027-03-09T10:00:00+00:00"})
    assert set(info.value.errors) == {"agency", "referred_at"}
    assert "not listed as a safeguarding children service" in info.value.errors["agency"]
    life.at(utc(2027, 3, 1, 11, 30))
    complete(life, only(life, case, "asb_safeguarding"), SAFEGUARDING)
    (referral,) = referrals(life, case)
    assert (referral.kind, referral.at_risk, referral.agency_code, referral.external_reference,
            referral.referred_at) == (ReferralKind.SAFEGUARDING, "child", "children_safeguarding",
                                      "MASH-2027-0042", utc(2027, 3, 1, 11, 0))
    (disclosure,) = life.session.scalars(select(Disclosure).where(Disclosure.case_id == case.id))
    assert (disclosure.recipient, str(disclosure.legal_basis)) == (
        "Children's safeguarding", "safeguarding")
    assert case.safeguarding is True
    assert partner_mail(life, case, "partner_referral") == []   # made by phone, not e-mailed
    (instance,) = [i for i in life.session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_id == "asb_safeguarding"))]
    assert instance.status is InstanceStatus.COMPLETED


def test_a_late_safeguarding_referral_goes_to_the_team_leader_until_it_is_made(life):
    case = open_case(life)
    start_stage(life.session, life.engine, case.reference, "asb_safeguarding", actor="olivia")
    life.at(utc(2027, 3, 2, 16, 59))
    assert [t.name for t in stage_tasks(life, case, "asb_safeguarding")] == [
        "make_safeguarding_referral"]
    life.at(utc(2027, 3, 2, 17, 1))
    overdue = [t for t in stage_tasks(life, case, "asb_safeguarding")
               if t.name == "safeguarding_overdue"][0]
    assert (overdue.role, overdue.assignee, overdue.due_at) == (
        "team_leader", "tara", utc(2027, 3, 3, 17, 0))
    referral_task = [t for t in stage_tasks(life, case, "asb_safeguarding")
                     if t.name == "make_safeguarding_referral"][0]
    complete(life, referral_task, dict(SAFEGUARDING, referred_at="2027-03-02T17:00:00+00:00"))
    assert stage_tasks(life, case, "asb_safeguarding") == []
    assert overdue.state is TaskStatus.CANCELLED       # the referral made ends the escalation


PARENT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="http://asb.example/test">
  <bpmn:process id="test_calls_safeguarding" name="Calls safeguarding" isExecutable="true">
    <bpmn:startEvent id="s" name="Start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
    <bpmn:callActivity id="call" name="Safeguarding" calledElement="asb_safeguarding"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="after"/>
    <bpmn:userTask id="after" name="After the referral"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="e"/>
    <bpmn:endEvent id="e" name="End"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_safeguarding_works_as_a_called_process_and_hands_back_no_form_answers(life, tmp_path):
    from uuid import UUID

    shutil.copy(BPMN / "safeguarding.bpmn", tmp_path / "safeguarding.bpmn")
    shutil.copytree(BPMN / "forms", tmp_path / "forms")
    (tmp_path / "parent.bpmn").write_text(PARENT, encoding="utf-8")
    life.engine.definitions.sync_directory(life.session, tmp_path)
    case = open_case(life)
    row = life.engine.start(life.session, "test_calls_safeguarding", case.reference, {
        "case_reference": case.reference, "case_officer": "olivia", "team_leader": "tara",
        "safeguarding": True}, actor="api")
    (task,) = [t for t in life.open_tasks(case.reference) if t.instance_id == row.id]
    assert (task.name, task.assignee) == ("make_safeguarding_referral", "olivia")
    life.at(utc(2027, 3, 1, 11, 30))
    complete(life, task, SAFEGUARDING)
    (after,) = [t for t in life.open_tasks(case.reference) if t.instance_id == row.id]
    data = life.engine.load(row, life.session).get_task_from_id(UUID(after.id)).data
    assert data["safeguarding_referral_id"] == referrals(life, case)[0].id
    for answer in ("summary", "reference_number", "disclose", "legal_basis", "agency"):
        assert answer not in data


def test_the_case_cannot_pass_a_child_at_risk_without_the_safeguarding_referral(life):
    case = life.open(MON, vulnerability={"child_at_risk": True})
    assert case.safeguarding
    life.complete(case.reference, "assess_risk", {
        "harm": "high", "community_impact": "low", "child_at_risk": True})
    names = sorted(t.name for t in life.open_tasks(case.reference))
    assert names == ["first_contact", "make_safeguarding_referral"]
    life.at(utc(2027, 3, 1, 11, 30))
    life.complete(case.reference, "make_safeguarding_referral", SAFEGUARDING)
    (referral,) = referrals(life, case)
    assert (referral.kind, referral.external_reference) == (ReferralKind.SAFEGUARDING,
                                                            "MASH-2027-0042")
    (main,) = [r for r in life.engine.instances_for(life.session, case.reference)
               if r.process_id == "asb_case"]
    first_contact = life.task(case.reference, "first_contact")
    data = life.engine.load(main, life.session).get_task_from_id(
        __import__("uuid").UUID(first_contact.id)).data
    assert "reference_number" not in data and "summary" not in data
