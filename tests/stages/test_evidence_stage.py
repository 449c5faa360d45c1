"""Evidence requests, diary entries and a raised priority moving the first-contact deadline,
driven through the real engine and the shipped diagrams with the product clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.evidence_requests import (
    DiaryEntry,
    EvidenceRequest,
    EvidenceReview,
    LapseDecision,
    RequestStatus,
    add_diary_entry,
    check_diary_entry,
    diary_of,
    requests_of,
)
from cases.operations import case_by_reference, close_case
from cases.records import CaseDataInvalid
from engine import clock
from engine.errors import FormInvalid
from engine.forms import load_directory
from engine.models import InstanceStatus, StoredMessage, TaskStatus
from tasks import cases_service
from tasks.evidence_requests import evidence_added, receive_diary_entry
from tasks.stages import STAGES, start_stage
from tasks.wiring import build_engine
from tests.stages.evidence_support import BPMN, EvidenceLife, diagram_dir
from web.officer.taskforms import check, fields_for

MINE = ("ask_for_evidence", "review_evidence_received", "evidence_not_received",
        "review_diary_entry")
MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)   # London is on UTC until 28 March 2027


def at(day: int, hour: int = 17, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def life(db_session, tmp_path):
    driver = EvidenceLife(db_session, diagram_dir(tmp_path, patched=False))
    driver.people()
    return driver


@pytest.fixture
def patched(db_session, tmp_path):
    """asb_case with move_deadlines and the diary_entry event subprocess inserted."""
    driver = EvidenceLife(db_session, diagram_dir(tmp_path, patched=True))
    driver.people()
    return driver


def tasks(life, ref):
    """The open tasks of this stage (the case's own tasks run alongside)."""
    return [t for t in life.open_tasks(ref) if t.name in MINE]


def request_of(life, ref) -> EvidenceRequest:
    (request,) = requests_of(life.session, case_by_reference(life.session, ref))
    return request


def test_the_stage_is_offered_on_the_case_file():
    info = STAGES["asb_evidence_request"]
    assert (info.title, info.group, info.single) == ("Ask for evidence", "evidence", False)


def test_evidence_sent_in_time_is_reviewed_and_the_reporter_thanked(life):
    ref = life.open(MONDAY).reference
    clock.set_now(at(1, 10))
    row = life.ask(ref, message="Please cover the weekend as well.")
    request = request_of(life, ref)
    assert (request.kinds, request.status, request.requested_by) == (
        ["diary_sheet", "photo"], RequestStatus.OPEN, "olivia")
    assert request.due_at == at(15)                       # 10 working days
    assert row.next_timer_at == at(8)                     # first reminder date: 5 working days
    letter = life.outbox(ref)[-1]
    assert letter.template == "evidence_request" and letter.channel == "email"
    for said in ("What we are asking for", "Why we need it", "Diary sheets", "Photographs",
                 "how late the music goes on",
                 "cover the weekend", "Monday 15 March 2027", "olivia@council.example.org"):
        assert said in letter.body_text
    life.at(at(3, 10))
    item = life.upload(ref)
    (review,) = tasks(life, ref)
    assert (review.name, review.role, review.assignee, review.due_at) == (
        "review_evidence_received", "officer", "olivia", at(5))
    life.complete(ref, "review_evidence_received", {"useful": True, "more_needed": False,
                                                    "notes": "Clear photo of the damage."})
    assert request.status is RequestStatus.RECEIVED and request.closed_at == at(3, 10)
    (reviewed,) = life.session.scalars(select(EvidenceReview)).all()
    assert (reviewed.item_id, reviewed.useful, reviewed.reviewed_by) == (item, True, "olivia")
    thanks = life.outbox(ref)[-1]
    assert thanks.template == "evidence_thanks"
    assert "do not need anything more" in thanks.body_text
    assert "Clear photo" not in thanks.body_text          # the officer's notes stay inside
    assert row.status is InstanceStatus.COMPLETED and row.next_timer_at is None
    assert tasks(life, ref) == []
    assert life.audit(ref, "evidence_request.") == [
        "evidence_request.opened", "evidence_request.reviewed", "evidence_request.received"]


def test_more_evidence_needed_waits_again_and_files_sent_meanwhile_are_not_lost(life):
    ref = life.open(MONDAY).reference
    clock.set_now(at(1, 10))
    row = life.ask(ref)
    life.at(at(2, 9))
    first = life.upload(ref)
    second = life.upload(ref)       # while the review is open: the message finds no wait
    undelivered = life.session.scalars(select(StoredMessage).where(
        StoredMessage.business_key == ref, StoredMessage.delivered_at.is_(None))).all()
    assert [m.name for m in undelivered] == ["evidence_received"]
    life.complete(ref, "review_evidence_received", {
        "useful": True, "more_needed": True,
        "what_more": "A recording of the noise after midnight, so we can hear its level."})
    thanks = life.outbox(ref)[-1]
    assert thanks.template == "evidence_thanks" and "after midnight" in thanks.body_text
    # Both files were covered by that review; nothing else is waiting, so the request waits.
    reviewed = life.session.scalars(select(EvidenceReview.item_id)).all()
    assert sorted(reviewed) == [first, second]
    assert tasks(life, ref) == [] and request_of(life, ref).status is RequestStatus.OPEN
    assert row.next_timer_at == at(9)                      # a fresh round of reminders
    life.at(at(4, 11))
    third = life.upload(ref, kind="audio")
    assert [t.name for t in tasks(life, ref)] == ["review_evidence_received"]
    life.complete(ref, "review_evidence_received", {"useful": True, "more_needed": False})
    assert request_of(life, ref).status is RequestStatus.RECEIVED
    assert life.session.scalars(select(EvidenceReview.item_id).where(
        EvidenceReview.item_id == third)).one() == third
    assert row.status is InstanceStatus.COMPLETED


def test_two_reminders_then_the_request_lapses_and_the_officer_decides(life):
    ref = life.open(MONDAY).reference
    clock.set_now(at(1, 10))
    row = life.ask(ref)
    life.at(at(8, 16, 59))
    assert [m.template for m in life.outbox(ref)].count("evidence_reminder") == 0
    life.at(at(8, 17, 1))
    first = life.outbox(ref)[-1]
    assert first.template == "evidence_reminder"
    assert "by Monday 15 March 2027" in first.body_text and "how late" in first.body_text
    assert "What we asked for" in first.body_text and "Diary sheets" in first.body_text
    assert request_of(life, ref).reminders_sent == 1 and row.next_timer_at == at(15)
    life.at(at(15, 17, 1))
    second = life.outbox(ref)[-1]
    assert second.template == "evidence_reminder"
    assert "It was due on Monday 15 March 2027" in second.body_text
    assert tasks(life, ref) == [] and row.next_timer_at == at(22)
    life.at(at(22, 17, 1))
    request = request_of(life, ref)
    assert (request.status, request.reminders_sent) == (RequestStatus.LAPSED, 2)
    assert [m.template for m in life.outbox(ref)].count("evidence_reminder") == 2
    (decide,) = tasks(life, ref)
    assert (decide.name, decide.title, decide.assignee, decide.due_at) == (
        "evidence_not_received", "Evidence not received: decide what next", "olivia", at(24))
    life.complete(ref, "evidence_not_received", {"next_step": "carry_on",
                                                 "notes": "Reporter too frightened to record."})
    assert request.decision is LapseDecision.CARRY_ON
    assert row.status is InstanceStatus.COMPLETED
    assert life.audit(ref, "evidence_request.") == [
        "evidence_request.opened", "evidence_request.reminded", "evidence_request.reminded",
        "evidence_request.lapsed", "evidence_request.decided"]


def test_a_lapsed_request_can_be_asked_again(life):
    ref = life.open(MONDAY).reference
    clock.set_now(at(1, 10))
    row = life.ask(ref)
    for day in (8, 15, 22):
        life.at(at(day, 17, 1))
    life.complete(ref, "evidence_not_received", {"next_step": "ask_again"})
    (ask,) = tasks(life, ref)
    assert (ask.name, ask.assignee) == ("ask_for_evidence", "olivia")
    life.complete(ref, "ask_for_evidence", {"kinds": {"video": True}, "due_working_days": 3,
                                            "reason": "A short video of the gathering."})
    old, new = requests_of(life.session, case_by_reference(life.session, ref))
    assert (old.status, new.status, new.kinds) == (
        RequestStatus.LAPSED, RequestStatus.OPEN, ["video"])
    assert new.due_at == at(25)                            # 3 working days from Mon 22
    assert row.status is InstanceStatus.WAITING


def test_a_closed_case_withdraws_the_request_at_the_next_check_without_a_reminder(life):
    ref = life.open(MONDAY).reference
    clock.set_now(at(1, 10))
    row = life.ask(ref)
    case = case_by_reference(life.session, ref)
    close_case(life.session, case, at=at(4, 12), reason="resolved", retention_years=6)
    life.at(at(8, 17, 1))
    request = request_of(life, ref)
    assert (request.status, request.reminders_sent) == (RequestStatus.WITHDRAWN, 0)
    assert "evidence_reminder" not in [m.template for m in life.outbox(ref)]
    assert row.status is InstanceStatus.COMPLETED


def test_a_case_closed_before_the_request_was_filled_in_asks_nothing(life):
    ref = life.open(MONDAY).reference
    row = start_stage(life.session, life.engine, ref, "asb_evidence_request", actor="olivia")
    close_case(life.session, case_by_reference(life.session, ref), at=at(1, 12),
               reason="resolved", retention_years=6)
    life.complete(ref, "ask_for_evidence", {"kinds": {"photo": True}, "reason": "Photos."})
    assert requests_of(life.session, case_by_reference(life.session, ref)) == []
    assert "evidence_request" not in [m.template for m in life.outbox(ref)]
    assert row.status is InstanceStatus.COMPLETED


def test_files_nobody_asked_for_send_no_message(life):
    ref = life.open(MONDAY).reference
    life.upload(ref)
    assert life.session.scalars(select(StoredMessage).where(
        StoredMessage.business_key == ref)).all() == []
    assert evidence_added(life.session, life.engine, ref, 1, actor="olivia") is False


def test_the_request_form_is_checked_on_completion(life):
    ref = life.open(MONDAY).reference
    start_stage(life.session, life.engine, ref, "asb_evidence_request", actor="olivia")
    task = life.task(ref, "ask_for_evidence")
    with pytest.raises(FormInvalid) as info:
        life.engine.complete(life.session, task.id, {"kinds": {"photo": False},
                                                     "reason": ""}, "olivia")
    assert {"kinds", "reason"} <= set(info.value.errors)
    assert life.task(ref, "ask_for_evidence").state is TaskStatus.OPEN
    assert requests_of(life.session, case_by_reference(life.session, ref)) == []


# -- forms and diagrams -------------------------------------------------------------------

SAMPLES = {
    "ask_for_evidence": {"kinds": {"diary_sheet": True, "photo": False}, "due_working_days": 10,
                         "reason": "To show the pattern of the noise.", "message": "Thanks."},
    "review_evidence_received": {"useful": True, "more_needed": True,
                                 "what_more": "Two more weeks of diary sheets.", "notes": "OK"},
    "evidence_not_received": {"next_step": "review_case", "notes": "No reply to calls."},
    "review_diary_entry": {"assessment": "Same pattern as before.", "action_needed": False},
}
BAD = {
    "ask_for_evidence": ({"kinds": {"photo": False}, "reason": "x"}, "kinds"),
    "review_evidence_received": ({"useful": True, "more_needed": True}, "what_more"),
    "evidence_not_received": ({"next_step": "give_up"}, "next_step"),
    "review_diary_entry": ({"assessment": "", "action_needed": True}, "assessment"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_form_takes_its_sample_and_refuses_bad_data_by_field(name):
    schema = json.loads((BPMN / "forms" / f"{name}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["additionalProperties"] is False and schema["required"]
    assert all(p.get("title") and p.get("description") for p in schema["properties"].values())
    fields = fields_for(schema)
    assert check(schema, fields, SAMPLES[name]) == {}
    bad, field = BAD[name]
    assert field in check(schema, fields, bad)   # the message the officer sees, by field


def test_the_diagrams_parse_with_the_product_and_every_operation_is_registered(tmp_path):
    directory = diagram_dir(tmp_path, patched=True)
    sources = {p.name: p.read_bytes() for p in directory.iterdir() if p.suffix in (
        ".bpmn", ".dmn")}
    parsed = build_engine(audit=False).definitions.parse(sources, load_directory(
        directory / "forms"))
    assert {"asb_evidence_request", "asb_move_first_contact_deadline",
            "asb_case"} <= {p.process_id for p in parsed}


# -- diary entries ------------------------------------------------------------------------

DIARY = {"occurred_at": "2027-03-02T23:40:00+00:00",
         "what_happened": "Bass through the wall until 1am again.",
         "effect": "Could not sleep; late for work."}


def test_a_diary_entry_sent_to_the_case_is_recorded_and_reviewed(patched):
    ref = patched.open(MONDAY).reference
    patched.at(at(3, 8))
    entry = receive_diary_entry(patched.session, patched.engine, ref, DIARY, actor="api")
    assert (entry.entered_by, entry.received_at) == ("reporter", at(3, 8))
    (review,) = tasks(patched, ref)
    assert (review.name, review.role, review.assignee, review.due_at) == (
        "review_diary_entry", "officer", "olivia", at(4))
    patched.complete(ref, "review_diary_entry", {"assessment": "Third night this week.",
                                                 "action_needed": True})
    assert (entry.reviewed_by, entry.action_needed) == ("olivia", True)
    assert entry.assessment == "Third night this week."
    (main,) = patched.instances(ref, "asb_case")
    assert "Bass through the wall" not in main.state_json   # only its id travelled
    assert tasks(patched, ref) == []
    assert "agree_action_plan" not in [t.name for t in patched.open_tasks(ref)]
    assert patched.task(ref, "assess_risk").state is TaskStatus.OPEN  # main path intact
    assert patched.audit(ref, "diary.") == ["diary.received", "diary.reviewed"]


def test_a_full_diary_payload_is_recorded_and_dropped_from_the_data(patched):
    life = patched
    ref = life.open(MONDAY).reference
    life.at(at(3, 8))
    stored = life.engine.send_message(life.session, ref, "diary_entry", DIARY, actor="api")
    row = life.engine.get(life.session, stored.instance_id)
    (entry,) = diary_of(life.session, case_by_reference(life.session, ref))
    assert (entry.what_happened, entry.occurred_at) == (DIARY["what_happened"], at(2, 23, 40))
    review = life.task(ref, "review_diary_entry")
    assert review.assignee == "olivia"   # looked up from the case record
    data = life.engine.load(row, life.session).get_task_from_id(UUID(review.id)).data
    assert "diary_entry" not in data and data["diary_entry_id"] == entry.id
    life.complete(ref, "review_diary_entry", SAMPLES["review_diary_entry"])
    assert entry.reviewed_at == at(3, 8) and entry.action_needed is False


def test_diary_entries_are_checked_field_by_field(life):
    case = life.open(MONDAY)
    with pytest.raises(CaseDataInvalid) as info:
        check_diary_entry({"occurred_at": "2027-03-09T10:00:00+00:00", "what_happened": " ",
                           "mood": "bad"}, now=at(3))
    assert set(info.value.errors) == {"occurred_at", "what_happened", "mood"}
    typed = add_diary_entry(life.session, case, occurred_at="2027-03-01T22:15", effect=None,
                            what_happened="Diary sheet handed in at the office.", by="olivia",
                            at=at(3, 10))
    assert typed.entered_by == "olivia" and typed.occurred_at == at(1, 22, 15)
    close_case(life.session, case, at=at(4), reason="resolved", retention_years=6)
    with pytest.raises(CaseDataInvalid):
        receive_diary_entry(life.session, life.engine, case.reference, DIARY, actor="api")
    assert life.session.scalars(select(DiaryEntry)).all() == [typed]


# -- a raised priority moves the first-contact deadline ----------------------------------

ASSESSMENT = {"harm": "medium", "community_impact": "low", "child_at_risk": False,
              "vulnerable_adult": False, "raise_priority": False}


def _raise_on_change_of_circumstances(life, ref, when):
    clock.set_now(when)
    cases_service.send_event(life.session, life.engine, ref, "change_of_circumstances",
                             {"note": "Threats made"}, actor="api")
    life.complete(ref, "review_risk", dict(ASSESSMENT, raise_priority=True))


def test_a_raised_priority_moves_the_open_first_contact_task_and_its_timer(patched):
    case = patched.open(MONDAY)
    ref = case.reference
    patched.complete(ref, "assess_risk", ASSESSMENT)
    (main,) = patched.instances(ref, "asb_case")
    assert patched.task(ref, "first_contact").due_at == at(8) and main.next_timer_at == at(8)
    clock.set_now(at(1, 10))
    stage = patched.ask(ref)                 # another running process of the case
    _raise_on_change_of_circumstances(patched, ref, at(1, 11))
    assert case.priority == 1 and case.first_contact_due_at == at(2)
    assert patched.task(ref, "first_contact").due_at == at(2)
    assert main.next_timer_at == at(2)
    (moved,) = patched.instances(ref, "asb_move_first_contact_deadline")
    assert moved.status is InstanceStatus.COMPLETED
    changed = patched.session.scalars(select(AuditEvent).where(
        AuditEvent.case_reference == ref, AuditEvent.action == "variables_changed")
        .order_by(AuditEvent.id)).all()
    assert [(c.object_id, c.summary["changed"]) for c in changed] == [
        (str(main.id), ["first_contact_due", "priority", "timer"]),
        (str(stage.id), ["priority"])]       # its priority follows; its reminder date stays
    assert stage.next_timer_at == at(8)
    patched.at(at(2, 17, 1))
    overdue = patched.task(ref, "first_contact_overdue")
    assert (overdue.assignee, overdue.role) == ("tara", "team_leader")
    assert case.first_contact_breached_at == at(2, 17, 1)


def test_a_raise_while_the_risk_assessment_is_open_reaches_first_contact(patched):
    case = patched.open(MONDAY)
    ref = case.reference
    _raise_on_change_of_circumstances(patched, ref, at(1, 11))
    assert patched.task(ref, "assess_risk").due_at == at(2)
    patched.complete(ref, "assess_risk", ASSESSMENT)     # the officer does not raise it
    assert patched.task(ref, "first_contact").due_at == at(2)
    (main,) = patched.instances(ref, "asb_case")
    assert main.next_timer_at == at(2)


def test_a_raise_past_the_priority_one_deadline_escalates_at_once(patched):
    case = patched.open(MONDAY)
    ref = case.reference
    patched.complete(ref, "assess_risk", ASSESSMENT)
    _raise_on_change_of_circumstances(patched, ref, at(3, 10))   # P1 deadline was Tue 17:00
    patched.at(at(3, 10, 1))
    assert "first_contact_overdue" in [t.name for t in patched.open_tasks(ref)]


def test_nothing_moves_when_first_contact_was_made_or_the_case_was_priority_one(patched):
    hate = {"occurred_at": "2027-02-28T23:30:00+00:00", "location": "14 Mill Lane",
            "description": "Abuse", "category": "personal", "hate_strands": ["race"]}
    case = patched.open(MONDAY, incident=hate)
    patched.complete(case.reference, "assess_risk", ASSESSMENT)
    _raise_on_change_of_circumstances(patched, case.reference, at(1, 11))
    assert patched.instances(case.reference, "asb_move_first_contact_deadline") == []
    assert patched.task(case.reference, "first_contact").due_at == at(2)   # P1 from the start
    other = patched.open(MONDAY)
    patched.complete(other.reference, "assess_risk", ASSESSMENT)
    patched.complete(other.reference, "first_contact", {
        "contacted_at": "2027-03-01T10:30:00+00:00", "method": "phone", "summary": "Spoke"})
    _raise_on_change_of_circumstances(patched, other.reference, at(1, 11))
    assert patched.instances(other.reference, "asb_move_first_contact_deadline") == []
    assert other.priority == 1 and other.first_contact_in_time is True


def test_without_the_follow_up_set_variables_moves_neither_due_date_nor_timer(life):
    """Why triage.move_deadlines re-arms the timer itself (docs/stages/evidence.md)."""
    case = life.open(MONDAY)
    life.complete(case.reference, "assess_risk", ASSESSMENT)
    life.engine.set_variables(life.session, case.reference, {"first_contact_due": at(2)
                                                             .isoformat()}, actor="tara")
    (main,) = life.instances(case.reference, "asb_case")
    assert life.task(case.reference, "first_contact").due_at == at(8)
    assert main.next_timer_at == at(8)


def test_the_councils_reminder_interval_is_the_one_in_force(life):
    """Reminders follow the setting evidence_reminder_working_days, not a constant."""
    from cases.config import set_setting

    set_setting(life.session, "evidence_reminder_working_days", 3, MONDAY, recorded_by="ada")
    ref = life.open(MONDAY).reference
    clock.set_now(at(1, 10))
    row = life.ask(ref, message="Please cover the weekend as well.")
    assert row.next_timer_at == at(4)                     # 3 working days, not the default 5
