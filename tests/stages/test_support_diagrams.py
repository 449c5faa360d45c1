"""bpmn/support.bpmn, bpmn/safeguarding.bpmn and their forms: generated from
scripts/stages/support.py, valid against the BPMN and SpiffWorkflow schemas, accepted by the
product with its real operations, laid out cleanly (the part 1 layout checks), and every form
checks what an officer enters."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.forms import load_directory, validate
from tasks.registry import handlers
from tasks.wiring import build_engine
from tests import test_diagrams as part1

ROOT = Path(__file__).resolve().parents[2]
FILES = {"support.bpmn": ROOT / "bpmn" / "support.bpmn",
         "safeguarding.bpmn": ROOT / "bpmn" / "safeguarding.bpmn"}
FORMS = ROOT / "bpmn" / "forms"
NS = part1.NS
PROCESSES = {"asb_referrals", "asb_referral_tracking", "asb_safeguarding",
             "asb_case_conference"}
NEXT_WORKING_DAY = "due_after_working_days(now(), 1)"
# user task: (lane, assignee, due), as docs/stages/support.md says
USER_TASKS: dict[str, tuple[str, str, str | None]] = {
    "choose_referral_agencies": ("officer", "started_by", None),
    "referral_declined": ("officer", "case_officer", NEXT_WORKING_DAY),
    "referral_unanswered": ("officer", "case_officer", NEXT_WORKING_DAY),
    "make_safeguarding_referral": ("officer", "case_officer", NEXT_WORKING_DAY),
    "safeguarding_overdue": ("team_leader", "team_leader", NEXT_WORKING_DAY),
    "schedule_conference": ("officer", "started_by", None),
    "record_conference": ("officer", "case_officer",
                          "due_after_working_days(conference_at, 2)"),
    "conference_actions_overdue": ("officer", "case_officer", NEXT_WORKING_DAY),
}
OPERATIONS = {
    "referrals.make_referrals", "referrals.tell_reporter", "referrals.check_answer",
    "referrals.send_chaser", "referrals.record_next_step", "referrals.record_no_answer",
    "safeguarding.record_referral", "conference.schedule", "conference.send_invitations",
    "conference.record", "conference.check_actions", "conference.record_review",
}
NO_DISCLOSURE = {"reporter_contact_details": False, "incident_details": False,
                 "risk_assessment": False, "reported_person_details": False}
SAMPLES: dict[str, dict[str, Any]] = {
    "choose_referral_agencies": {
        "agencies": ["police", "victim_support"], "legal_basis": "consent",
        "disclose": {**NO_DISCLOSURE, "reporter_contact_details": True},
        "reason": "Support for the reporter.", "tell_reporter": True},
    "referral_declined": {"next_step": "handle_in_house", "note": "We will visit ourselves."},
    "referral_unanswered": {"outcome": "chase_again", "note": "Left a message."},
    "make_safeguarding_referral": {
        "at_risk": "adult", "agency": "adult_safeguarding", "reference_number": "ASC-1",
        "referred_at": "2027-03-01T11:00:00+00:00", "legal_basis": "safeguarding",
        "disclose": {**NO_DISCLOSURE, "incident_details": True}, "summary": "Phoned the team."},
    "safeguarding_overdue": {"action_taken": "Made the referral with the officer."},
    "schedule_conference": {"conference_at": "2027-03-10T10:00:00+00:00",
                            "agencies": ["police"], "venue": "Town Hall"},
    "record_conference": {"held": True, "attendees": ["police"], "summary": "Agreed patrols.",
                          "legal_basis": "crime_and_disorder_act_s115",
                          "actions": ["Patrol | police | 2027-03-19"]},
    "conference_actions_overdue": {"done_actions": ["1"], "decision": "keep_chasing",
                                   "note": "Chased by phone."},
}
# One bad answer per form, and the field the refusal must name.
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "choose_referral_agencies": ({"agencies": []}, "agencies"),
    "referral_declined": ({"next_step": "shrug"}, "next_step"),
    "referral_unanswered": ({"outcome": "ignore"}, "outcome"),
    "make_safeguarding_referral": ({"referred_at": "yesterday"}, "referred_at"),
    "safeguarding_overdue": ({"action_taken": ""}, "action_taken"),
    "schedule_conference": ({"agencies": ["not a code!"]}, "agencies.0"),
    "record_conference": ({"actions": ["x"]}, "actions.0"),
    "conference_actions_overdue": ({"done_actions": ["one"]}, "done_actions.0"),
}


def roots() -> list[etree._Element]:
    return [etree.parse(str(path)).getroot() for path in FILES.values()]


def test_the_files_are_what_the_stage_description_generates():
    scripts = str(ROOT / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    import bpmn_layout

    rendered = bpmn_layout.render_all()
    for name, path in FILES.items():
        assert rendered[name] == path.read_bytes(), name


def test_the_files_are_schema_valid_and_the_product_accepts_them_with_its_operations():
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, doc in zip(FILES, roots(), strict=True):
        parser.add_bpmn_xml(doc, filename=name)
    engine = build_engine()
    parsed = engine.definitions.parse({n: p.read_bytes() for n, p in FILES.items()},
                                      load_directory(FORMS))
    assert {p.process_id for p in parsed} == PROCESSES
    used = set()
    for task in (t for doc in roots() for t in doc.iter(f"{{{part1.BPMN}}}serviceTask")):
        (operator,) = task.iterfind(".//spiffworkflow:serviceTaskOperator", NS)
        assert operator.get("resultVariable") == f"{task.get('id')}_result"
        used.add(operator.get("id"))
    assert used == OPERATIONS
    assert handlers.names() >= OPERATIONS


def test_user_tasks_have_their_lane_assignee_due_date_and_form():
    parser = SpiffBpmnParser()
    for name, doc in zip(FILES, roots(), strict=True):
        parser.add_bpmn_xml(doc, filename=name)
    found = {}
    for pid in PROCESSES:
        for ts in parser.get_spec(pid).task_specs.values():
            if type(ts).__name__ == "UserTask":
                found[ts.bpmn_id] = ts
    assert set(found) == set(USER_TASKS)
    for task_id, (lane, assignee, due) in USER_TASKS.items():
        props = found[task_id].extensions.get("properties", {})
        assert (found[task_id].lane, props.get("assignee"), props.get("due"),
                props.get("form")) == (lane, assignee, due, task_id)


@pytest.mark.parametrize("doc", roots(), ids=list(FILES))
def test_every_element_is_named_and_every_gateway_has_a_default(doc):
    for el in [*part1.flow_nodes(doc), *doc.iter(f"{{{part1.BPMN}}}lane"),
               *doc.iter(f"{{{part1.BPMN}}}participant")]:
        assert (el.get("name") or "").strip() not in ("", el.get("id")), el.get("id")
    for gateway in doc.iter(f"{{{part1.BPMN}}}exclusiveGateway"):
        outgoing = [f for f in doc.iter(f"{{{part1.BPMN}}}sequenceFlow")
                    if f.get("sourceRef") == gateway.get("id")]
        default = gateway.get("default")
        assert default in {f.get("id") for f in outgoing}, gateway.get("id")
        for flow in outgoing:
            has_condition = flow.find("bpmn:conditionExpression", NS) is not None
            assert has_condition == (flow.get("id") != default), flow.get("id")


@pytest.mark.parametrize("check", [
    part1.test_every_element_has_a_shape_or_an_edge,
    part1.test_shapes_sit_in_their_pool_lane_and_subprocess,
    part1.test_shapes_do_not_overlap,
    part1.test_edges_join_their_nodes_and_go_round_other_shapes,
    part1.test_labels_do_not_cover_shapes_or_each_other,
], ids=lambda f: f.__name__.removeprefix("test_"))
@pytest.mark.parametrize("name", list(FILES))
def test_the_layout_passes_the_part_one_checks(check, name):
    check(part1.Layout.read(FILES[name]))


@pytest.mark.parametrize("task_id", sorted(USER_TASKS))
def test_each_form_takes_its_sample_and_refuses_bad_answers_by_field(task_id):
    schema = json.loads((FORMS / f"{task_id}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == part1.SCHEMA_2020_12
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["title"] and schema["required"]
    for name, prop in schema["properties"].items():
        assert prop.get("title") and prop.get("description"), f"{task_id}.{name}"
    assert validate(schema, SAMPLES[task_id]) == {}
    for field in schema["required"]:
        missing = {k: v for k, v in SAMPLES[task_id].items() if k != field}
        assert field in validate(schema, missing)
    bad, field = BAD[task_id]
    assert field in validate(schema, {**SAMPLES[task_id], **bad})
    assert "surprise" in validate(schema, {**SAMPLES[task_id], "surprise": 1})


def test_legal_bases_offered_are_the_ones_the_record_accepts():
    from cases.enums import LegalBasis

    for task_id in ("choose_referral_agencies", "make_safeguarding_referral",
                    "record_conference"):
        schema = json.loads((FORMS / f"{task_id}.json").read_text(encoding="utf-8"))
        assert set(schema["properties"]["legal_basis"]["enum"]) == {b.value for b in LegalBasis}
