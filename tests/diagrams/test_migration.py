"""Moving running cases onto a new version of a shipped process: dry run, one case, a batch.

The new versions are edits of bpmn/safeguarding.bpmn (and asb_case's called first contact)
published the way a process owner publishes them (DraftBook, or a changed bpmn/ directory).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from lxml import etree
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.operations import add_party
from engine import clock
from engine.migration import (
    InstanceMigration,
    MigrationInvalid,
    MigrationRefused,
    migrate_all_safe,
    migrate_instance,
    plan_migration,
)
from engine.models import DefinitionVersion, InstanceStatus, ProcessInstance
from tasks.stages import start_stage
from tests.lifecycle_support import BPMN, new_life
from web.api.drafts import DraftBook

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
EARLY = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # the shipped diagrams are published
MON = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # Monday 1 March 2027 (London is on GMT)
NIGEL = {"name": "Nigel Neighbour", "address": "14 Mill Lane, Chesterfield S40 1AB"}
REFERRAL = {
    "at_risk": "child",
    "agency": "children_safeguarding",
    "reference_number": "MASH-2027-0042",
    "referred_at": "2027-03-01T11:00:00+00:00",
    "disclose": {
        "reporter_contact_details": False,
        "incident_details": True,
        "risk_assessment": True,
        "reported_person_details": True,
    },
    "legal_basis": "safeguarding",
    "summary": "Told the duty social worker about the child at number 14.",
}
ASSESSMENT = {
    "harm": "medium",
    "community_impact": "low",
    "child_at_risk": False,
    "vulnerable_adult": False,
    "raise_priority": False,
    "vulnerability": {"personal": False, "situational": True, "incidental": False},
}
NEW_LABEL = "Make the safeguarding referral today"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# -- editing shipped diagrams as a process owner would ------------------------------------------


def q(tag: str) -> str:
    prefix, _, name = tag.partition(":")
    return f"{{{NS[prefix]}}}{name}"


def diagram(name: str = "safeguarding.bpmn") -> etree._Element:
    return etree.fromstring((BPMN / name).read_bytes(), PARSER)


def element(root: etree._Element, element_id: str) -> etree._Element:
    (found,) = root.xpath("//*[@id=$id]", id=element_id)
    return found


def rename(root: etree._Element, element_id: str, label: str) -> etree._Element:
    element(root, element_id).set("name", label)
    return root


def set_property(root: etree._Element, task_id: str, name: str, value: str) -> etree._Element:
    (prop,) = element(root, task_id).xpath(
        ".//spiffworkflow:property[@name=$n]", namespaces=NS, n=name
    )
    prop.set("value", value)
    return root


def add_step_after(root, after_id, new_id, label, form, *, assignee="case_officer", due=None):
    """Put a new user task (officer lane, with layout) between ``after_id`` and what followed."""
    after = element(root, after_id)
    process = after.getparent()
    (flow,) = [
        f for f in process.findall("bpmn:sequenceFlow", NS) if f.get("sourceRef") == after_id
    ]
    new_flow = f"Flow_{after_id}_{new_id}"
    for out in after.findall("bpmn:outgoing", NS):
        if out.text == flow.get("id"):
            out.text = new_flow
    flow.set("sourceRef", new_id)
    task = etree.SubElement(process, q("bpmn:userTask"), id=new_id, name=label)
    props = etree.SubElement(
        etree.SubElement(task, q("bpmn:extensionElements")), q("spiffworkflow:properties")
    )
    etree.SubElement(props, q("spiffworkflow:property"), name="form", value=form)
    etree.SubElement(props, q("spiffworkflow:property"), name="assignee", value=assignee)
    if due:
        etree.SubElement(props, q("spiffworkflow:property"), name="due", value=due)
    etree.SubElement(task, q("bpmn:incoming")).text = new_flow
    etree.SubElement(task, q("bpmn:outgoing")).text = flow.get("id")
    etree.SubElement(
        process, q("bpmn:sequenceFlow"), id=new_flow, sourceRef=after_id, targetRef=new_id
    )
    (lane,) = process.xpath(".//bpmn:lane[@name='officer']", namespaces=NS)
    etree.SubElement(lane, q("bpmn:flowNodeRef")).text = new_id
    plane = root.find(".//bpmndi:BPMNPlane", NS)
    shape = etree.SubElement(plane, q("bpmndi:BPMNShape"), id=f"{new_id}_di", bpmnElement=new_id)
    etree.SubElement(shape, q("dc:Bounds"), x="500", y="20", width="100", height="60")
    edge = etree.SubElement(plane, q("bpmndi:BPMNEdge"), id=f"{new_flow}_di", bpmnElement=new_flow)
    etree.SubElement(edge, q("di:waypoint"), x="475", y="120")
    etree.SubElement(edge, q("di:waypoint"), x="500", y="50")
    return root


def remove(root: etree._Element, ids: set[str]) -> etree._Element:
    """Remove elements, their layout and their lane references."""
    for node in list(root.iter()):
        if (
            node.get("id") in ids
            or node.get("bpmnElement") in ids
            or (node.tag == q("bpmn:flowNodeRef") and node.text in ids)
        ):
            node.getparent().remove(node)
    return root


def without_the_referral_step(root: etree._Element) -> etree._Element:
    """Version where the case goes straight to recording: the step cases wait at is gone."""
    element(root, "Flow_safeguarding_started_make_safeguarding_referral").set(
        "targetRef", "record_safeguarding_referral"
    )
    (incoming,) = element(root, "record_safeguarding_referral").findall("bpmn:incoming", NS)
    incoming.text = "Flow_safeguarding_started_make_safeguarding_referral"
    return remove(
        root,
        {
            "make_safeguarding_referral",
            "safeguarding_deadline",
            "safeguarding_overdue",
            "safeguarding_escalated",
            "Flow_make_safeguarding_referral_record_safeguarding_referral",
            "Flow_safeguarding_deadline_safeguarding_overdue",
            "Flow_safeguarding_overdue_safeguarding_escalated",
        },
    )


def with_a_check_after_the_referral(root: etree._Element) -> etree._Element:
    """The safe new version: a check after the referral step, which gets a clearer label."""
    add_step_after(
        root,
        "make_safeguarding_referral",
        "confirm_safeguarding_referral",
        "Confirm the service received the referral",
        "safeguarding_overdue",
    )
    return rename(root, "make_safeguarding_referral", NEW_LABEL)


def publish(life, root: etree._Element, at: datetime) -> DefinitionVersion:
    """Upload and publish an edited diagram through the draft book, as the API does."""
    clock.set_now(at)
    book = DraftBook(life.engine.definitions, BPMN)
    draft = book.upload(
        life.session, etree.tostring(root, xml_declaration=True, encoding="UTF-8"), "petra"
    )
    assert draft.problems == []
    published = book.publish(life.session, draft.rows[0])
    assert published.executable
    return draft.rows[0]


# -- cases -----------------------------------------------------------------------------------


@pytest.fixture
def life(db_session):
    clock.set_now(EARLY)
    return new_life(db_session)


def safeguarding_case(life, at: datetime = MON):
    case = life.open(at)
    add_party(life.session, case, "reported_person", NIGEL)
    row = start_stage(life.session, life.engine, case.reference, "asb_safeguarding", actor="olivia")
    return case, row


def tasks(life, case, process="asb_safeguarding"):
    return [t for t in life.open_tasks(case.reference) if t.process_id == process]


def task(life, case, name):
    (found,) = [t for t in tasks(life, case) if t.name == name]
    return found


def complete(life, case, name, data, actor="olivia"):
    return life.engine.complete(life.session, task(life, case, name).id, data, actor)


def snapshot(life, row: ProcessInstance) -> tuple:
    life.session.expire_all()
    fresh = life.session.get(ProcessInstance, row.id)
    return (
        fresh.definition_id,
        fresh.revision,
        fresh.state_json,
        fresh.next_timer_at,
        fresh.status,
    )


def audits(life, action):
    return list(life.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# -- the dry run -----------------------------------------------------------------------------


def test_a_dry_run_says_what_changes_for_the_case_and_changes_nothing(life):
    case, row = safeguarding_case(life)
    v2 = publish(life, with_a_check_after_the_referral(diagram()), utc(2027, 3, 1, 10, 30))
    before = snapshot(life, row)
    plan = plan_migration(life.session, life.engine, row.id, v2.id)
    assert plan.safe and plan.reasons == []
    assert (plan.from_version, plan.to_version) == (1, 2)
    assert [(a.element_id, a.label, a.kind) for a in plan.added] == [
        ("confirm_safeguarding_referral", "Confirm the service received the referral", "User Task")
    ]
    assert plan.removed == []
    changed = {c.element_id: c.changes for c in plan.changed}
    assert changed["make_safeguarding_referral"] == (
        "what follows it",
        f"label ‘Make the safeguarding referral’ → ‘{NEW_LABEL}’",
    )
    assert {(t.element_id, t.state, t.to_label) for t in plan.tasks} == {
        ("make_safeguarding_referral", "open", NEW_LABEL),
        ("safeguarding_deadline", "waiting", "Referral deadline passed"),
    }
    assert plan.as_dict()["safe"] is True
    assert snapshot(life, row) == before
    assert audits(life, "instance_migrated") == []


def _move_to_team_leaders(root):
    (ref,) = root.xpath("//bpmn:flowNodeRef[text()='make_safeguarding_referral']", namespaces=NS)
    ref.getparent().remove(ref)
    (lane,) = root.xpath("//bpmn:lane[@name='team_leader']", namespaces=NS)
    etree.SubElement(lane, q("bpmn:flowNodeRef")).text = "make_safeguarding_referral"
    return root


def _timer(root, expression):
    (date,) = element(root, "safeguarding_deadline").xpath(".//bpmn:timeDate", namespaces=NS)
    date.text = expression
    return root


UNSAFE_EDITS = {
    "the step removed": (
        without_the_referral_step,
        "The case is at ‘Make the safeguarding referral’ (open), which version 2 no longer has.",
    ),
    "the step in another lane": (
        _move_to_team_leaders,
        "lane ‘team_leader’ does in version 2 instead of ‘officer’",
    ),
    "another form on the open task": (
        lambda root: set_property(
            root, "make_safeguarding_referral", "form", "safeguarding_overdue"
        ),
        "whose settings (form) are different in version 2",
    ),
    "another deadline for the waiting timer": (
        lambda root: _timer(root, "due_after_working_days(now(), 2)"),
        "The case waits at ‘Referral deadline passed’ (waiting), and what it waits for",
    ),
    "a new step reading data this case lacks": (
        lambda root: add_step_after(
            root,
            "make_safeguarding_referral",
            "confirm_in_time",
            "Confirm the referral was in time",
            "safeguarding_overdue",
            due="due_after_working_days(received_at, 2)",
        ),
        "Version 2 uses ‘received_at’, which this case does not have",
    ),
}


@pytest.mark.parametrize("edit", list(UNSAFE_EDITS))
def test_an_unsafe_version_is_refused_with_the_reason_in_plain_words(life, edit):
    change, words = UNSAFE_EDITS[edit]
    case, row = safeguarding_case(life)
    target = publish(life, change(diagram()), utc(2027, 3, 1, 10, 30))
    before = snapshot(life, row)
    plan = plan_migration(life.session, life.engine, row.id, target.id)
    assert not plan.safe
    assert any(words in reason for reason in plan.reasons), plan.reasons
    with pytest.raises(MigrationRefused) as refused:
        migrate_instance(
            life.session, life.engine, row.id, target.id, actor="petra", reason="Tidy up"
        )
    assert refused.value.plan.reasons == plan.reasons
    assert snapshot(life, row) == before
    assert life.session.scalars(select(InstanceMigration)).all() == []


def test_a_bad_request_is_refused_on_its_field(life):
    case, row = safeguarding_case(life)
    other = life.engine.definitions.published(life.session, "asb_closure")
    with pytest.raises(MigrationInvalid) as wrong:
        plan_migration(life.session, life.engine, row.id, other.id)
    assert "not of asb_safeguarding" in wrong.value.errors["target"]
    with pytest.raises(MigrationInvalid) as same:
        plan_migration(life.session, life.engine, row.id, row.definition_id)
    assert same.value.errors == {"target": "It runs on version 1 already."}
    clock.set_now(utc(2027, 3, 1, 10, 30))
    draft = (
        DraftBook(life.engine.definitions, BPMN)
        .upload(life.session, etree.tostring(with_a_check_after_the_referral(diagram())), "petra")
        .rows[0]
    )
    with pytest.raises(MigrationInvalid) as unpublished:
        plan_migration(life.session, life.engine, row.id, draft.id)
    assert "published" in unpublished.value.errors["target"]
    with pytest.raises(MigrationInvalid) as why:
        migrate_instance(life.session, life.engine, row.id, draft.id, actor="petra", reason="  ")
    assert list(why.value.errors) == ["reason"]


def without_the_escalation(root: etree._Element) -> etree._Element:
    """Version where a late referral only ends the escalation branch: no team leader's task."""
    element(root, "Flow_safeguarding_deadline_safeguarding_overdue").set(
        "targetRef", "safeguarding_escalated"
    )
    (incoming,) = element(root, "safeguarding_escalated").findall("bpmn:incoming", NS)
    incoming.text = "Flow_safeguarding_deadline_safeguarding_overdue"
    return remove(
        root, {"safeguarding_overdue", "Flow_safeguarding_overdue_safeguarding_escalated"}
    )


def test_a_step_a_case_has_been_through_cannot_be_removed_under_it(life):
    escalated, escalated_row = safeguarding_case(life)
    life.at(utc(2027, 3, 2, 17, 1))
    complete(life, escalated, "safeguarding_overdue", {"action_taken": "Asked Olivia"}, "tara")
    in_time, in_time_row = safeguarding_case(life, at=utc(2027, 3, 2, 17, 30))
    v2 = publish(life, without_the_escalation(diagram()), utc(2027, 3, 2, 18, 0))
    results = migrate_all_safe(
        life.session, life.engine, in_time_row.definition_id, v2.id, actor="petra", reason="Less"
    )
    assert [(r.business_key, r.status, r.reasons) for r in results] == [
        (
            escalated.reference,
            "skipped",
            (
                "The case has already been through ‘Safeguarding referral is overdue’, which "
                "version 2 no longer has: its history would not fit.",
            ),
        ),
        (in_time.reference, "migrated", ()),
    ]
    # Late now, the moved case's deadline only ends the escalation branch: no new task.
    life.at(utc(2027, 3, 3, 17, 1))
    assert [t.name for t in tasks(life, in_time)] == ["make_safeguarding_referral"]


# -- moving one case -------------------------------------------------------------------------


def test_a_moved_case_keeps_its_task_and_deadline_then_runs_the_new_step(life):
    case, row = safeguarding_case(life)
    v2 = publish(life, with_a_check_after_the_referral(diagram()), utc(2027, 3, 1, 10, 30))
    (open_task,) = tasks(life, case)
    v1_id = row.definition_id
    assert (open_task.title, open_task.due_at, row.next_timer_at) == (
        "Make the safeguarding referral",
        utc(2027, 3, 2, 17, 0),
        utc(2027, 3, 2, 17, 0),
    )
    clock.set_now(utc(2027, 3, 2, 9, 0))  # a day later: "now()" would give a later deadline
    result = migrate_instance(
        life.session, life.engine, row.id, v2.id, actor="petra", reason="Officers confirm receipt"
    )
    assert (result.status, result.from_version, result.to_version) == ("migrated", 1, 2)
    life.session.expire_all()
    moved = life.session.get(ProcessInstance, row.id)
    assert moved.definition_id == v2.id
    assert moved.next_timer_at == utc(2027, 3, 2, 17, 0)  # the deadline it was given
    (same_task,) = tasks(life, case)
    assert (same_task.id, same_task.title, same_task.assignee, same_task.due_at) == (
        open_task.id,
        NEW_LABEL,
        "olivia",
        utc(2027, 3, 2, 17, 0),
    )
    (audit,) = audits(life, "instance_migrated")
    assert (
        audit.actor,
        audit.case_reference,
        audit.summary["reason"],
        audit.summary["from_version"],
        audit.summary["to_version"],
    ) == ("petra", case.reference, "Officers confirm receipt", 1, 2)
    (log,) = life.session.scalars(select(InstanceMigration)).all()
    assert (log.instance_id, log.from_definition_id, log.to_definition_id, log.actor) == (
        row.id,
        v1_id,
        v2.id,
        "petra",
    )
    # The case goes on on the new version: the added step comes after the referral.
    complete(life, case, "make_safeguarding_referral", REFERRAL)
    (check,) = tasks(life, case)
    assert (check.name, check.title, check.assignee) == (
        "confirm_safeguarding_referral",
        "Confirm the service received the referral",
        "olivia",
    )
    complete(life, case, "confirm_safeguarding_referral", {"action_taken": "Phoned MASH"})
    assert tasks(life, case) == []
    assert life.session.get(ProcessInstance, row.id).status is InstanceStatus.COMPLETED


def test_the_kept_deadline_still_escalates_on_the_new_version(life):
    case, row = safeguarding_case(life)
    v2 = publish(life, with_a_check_after_the_referral(diagram()), utc(2027, 3, 1, 10, 30))
    migrate_instance(life.session, life.engine, row.id, v2.id, actor="petra", reason="Check")
    life.at(utc(2027, 3, 2, 17, 1))
    overdue = task(life, case, "safeguarding_overdue")
    assert (overdue.role, overdue.assignee) == ("team_leader", "tara")


def test_a_case_moves_onto_a_new_called_process_with_its_main_process(life, tmp_path):
    case = life.open(MON)
    (row,) = life.engine.instances_for(life.session, case.reference)
    (open_task,) = life.open_tasks(case.reference)
    assert (open_task.name, open_task.process_id) == ("assess_risk", "asb_risk_assessment")
    shutil.copytree(BPMN, tmp_path / "bpmn")
    changed = rename(diagram("first_contact.bpmn"), "first_contact", "Phone the reporter today")
    (tmp_path / "bpmn" / "first_contact.bpmn").write_bytes(etree.tostring(changed))
    clock.set_now(utc(2027, 3, 1, 10, 30))
    new = {
        v.process_id: v
        for v in life.engine.definitions.sync_directory(
            life.session, tmp_path / "bpmn", actor="petra"
        )
    }
    v2 = new["asb_case"]
    assert v2.version == 2 and new["asb_first_contact"].version == 2
    plan = plan_migration(life.session, life.engine, row.id, v2.id)
    assert plan.safe, plan.reasons
    assert [(c.element_id, c.process_id) for c in plan.changed] == [
        ("first_contact", "asb_first_contact")
    ]
    assert {(t.element_id, t.state) for t in plan.tasks} == {
        ("call_risk_assessment", "in progress"),
        ("assess_risk", "open"),
    }
    migrate_instance(life.session, life.engine, row.id, v2.id, actor="petra", reason="Wording")
    assert [t.id for t in life.open_tasks(case.reference)] == [open_task.id]
    life.complete(case.reference, "assess_risk", ASSESSMENT)
    contact = life.task(case.reference, "first_contact")
    assert contact.title == "Phone the reporter today"


PLAN = {
    "actions": ["Send diary sheets"],
    "update_frequency": "weekly",
    "agreed_with_reporter": True,
}


def test_a_case_deep_in_its_work_moves_with_its_update_timer_and_messages(life):
    case = life.open(utc(2027, 3, 1, 10, 0))
    ref = case.reference
    life.complete(ref, "assess_risk", ASSESSMENT)
    life.complete(
        ref,
        "first_contact",
        {"contacted_at": "2027-03-01T11:00:00+00:00", "method": "phone", "summary": "Talked"},
    )
    life.at(utc(2027, 3, 2, 10, 0))  # Tuesday: the weekly update falls due on Tuesday 9 March
    life.complete(ref, "agree_action_plan", PLAN)
    (row,) = life.engine.instances_for(life.session, ref)
    assert row.next_timer_at == utc(2027, 3, 9, 17, 0)
    root = rename(diagram("asb_case.bpmn"), "work_case", "Carry out the agreed action plan")
    v2 = publish(
        life, rename(root, "update_reporter", "Send the reporter an update"), utc(2027, 3, 3, 10, 0)
    )
    plan = plan_migration(life.session, life.engine, row.id, v2.id)
    assert plan.safe and plan.notes == []
    assert {("work_case", "open"), ("wait_for_update", "waiting")} <= {
        (t.element_id, t.state) for t in plan.tasks
    }
    migrate_instance(life.session, life.engine, row.id, v2.id, actor="petra", reason="Wording")
    assert row.next_timer_at == utc(2027, 3, 9, 17, 0)
    life.at(utc(2027, 3, 9, 17, 1))
    assert [(t.name, t.title) for t in life.open_tasks(ref)] == [
        ("work_case", "Carry out the agreed action plan"),
        ("update_reporter", "Send the reporter an update"),
    ]
    from tasks import cases_service

    cases_service.send_event(
        life.session,
        life.engine,
        ref,
        "change_of_circumstances",
        {"note": "Moved house"},
        actor="api",
    )
    assert "review_risk" in [t.name for t in life.open_tasks(ref)]
    life.complete(ref, "update_reporter", {"method": "email", "summary": "Letter sent"})
    life.complete(ref, "work_case", {"outcome": "Quiet"})
    assert "close_case" in [t.name for t in life.open_tasks(ref)]


# -- many cases at once ----------------------------------------------------------------------


def test_the_batch_moves_the_safe_cases_and_says_why_it_skipped_the_others(life):
    late, late_row = safeguarding_case(life)
    done, done_row = safeguarding_case(life)
    life.at(utc(2027, 3, 1, 11, 30))
    complete(life, done, "make_safeguarding_referral", REFERRAL)
    life.at(utc(2027, 3, 2, 17, 1))  # the late one's referral is overdue: a team leader's task
    assert [t.name for t in tasks(life, late)] == [
        "make_safeguarding_referral",
        "safeguarding_overdue",
    ]
    fresh, fresh_row = safeguarding_case(life, at=utc(2027, 3, 2, 17, 30))
    # Version 2 also gives the overdue task another form: the late case cannot move.
    v2 = publish(
        life,
        set_property(
            with_a_check_after_the_referral(diagram()),
            "safeguarding_overdue",
            "form",
            "first_contact_overdue",
        ),
        utc(2027, 3, 2, 18, 0),
    )
    late_before = snapshot(life, late_row)
    results = migrate_all_safe(
        life.session,
        life.engine,
        fresh_row.definition_id,
        v2.id,
        actor="petra",
        reason="Officers confirm receipt",
    )
    by_case = {r.business_key: r for r in results}
    assert set(by_case) == {fresh.reference, late.reference}  # the finished one is not moved
    assert by_case[fresh.reference].status == "migrated"
    skipped = by_case[late.reference]
    assert skipped.status == "skipped"
    assert skipped.reasons == (
        "The case is at ‘Safeguarding referral is overdue’ (open), whose settings (form) are "
        "different in version 2.",
    )
    assert snapshot(life, late_row) == late_before
    assert life.session.get(ProcessInstance, fresh_row.id).definition_id == v2.id
    assert life.session.get(ProcessInstance, done_row.id).definition_id == done_row.definition_id
    assert [a.case_reference for a in audits(life, "instance_migrated")] == [fresh.reference]
    assert results[0].as_dict()["status"] in ("migrated", "skipped")


def test_a_failure_half_way_through_a_case_leaves_it_wholly_on_its_old_version(life, monkeypatch):
    first, first_row = safeguarding_case(life)
    second, second_row = safeguarding_case(life)
    v2 = publish(life, with_a_check_after_the_referral(diagram()), utc(2027, 3, 1, 10, 30))
    before = snapshot(life, first_row)
    import engine.migration as migration

    real = migration._retitle

    def broken(session, row, workflow):  # fails after the state and tasks were written
        if row.id == first_row.id:
            raise RuntimeError("disk full")
        real(session, row, workflow)

    monkeypatch.setattr(migration, "_retitle", broken)
    results = migrate_all_safe(
        life.session,
        life.engine,
        first_row.definition_id,
        v2.id,
        actor="petra",
        reason="Officers confirm receipt",
    )
    assert [(r.business_key, r.status, r.error) for r in results] == [
        (first.reference, "failed", "RuntimeError: disk full"),
        (second.reference, "migrated", None),
    ]
    assert snapshot(life, first_row) == before
    (first_task,) = tasks(life, first)
    assert first_task.title == "Make the safeguarding referral"
    assert [log.instance_id for log in life.session.scalars(select(InstanceMigration))] == [
        second_row.id
    ]
    assert [a.case_reference for a in audits(life, "instance_migrated")] == [second.reference]
    # The first case goes on as version 1 has it: straight from the referral to the record.
    life.at(utc(2027, 3, 1, 11, 30))
    complete(life, first, "make_safeguarding_referral", REFERRAL)
    assert tasks(life, first) == []
    assert life.session.get(ProcessInstance, first_row.id).status is InstanceStatus.COMPLETED
    complete(life, second, "make_safeguarding_referral", REFERRAL)
    assert [t.name for t in tasks(life, second)] == ["confirm_safeguarding_referral"]
