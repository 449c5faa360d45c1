"""The court stages' parts: the statutory clock, the forms, the diagrams and the stage list.

The clock is tested on its own, thoroughly: clock hours are real elapsed hours (computed in
UTC, so changes of the clocks neither add nor lose one) and Christmas Day does not count.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from engine.forms import load_directory, validate
from tasks.legal_clock import (
    add_months,
    clock_hours_after,
    closure_hearing_deadline,
    closure_notice_ends,
    last_day_of_period,
    months_after,
    review_request_deadline,
    working_days_before,
)
from tasks.registry import handlers
from tasks.stages import STAGES
from tasks.wiring import DIAGRAM_GLOBALS, build_engine
from tests import test_diagrams as lifecycle_diagrams

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
FILES = {"asb_legal_injunction": "legal_injunction.bpmn", "asb_legal_closure": "legal_closure.bpmn",
         "asb_legal_possession": "legal_possession.bpmn"}
NS = lifecycle_diagrams.NS
BPMN = lifecycle_diagrams.BPMN


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# -- the clock ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("served", "deadline"), [
    # An ordinary week: 48 hours.
    ("2027-02-01T09:00:00+00:00", "2027-02-03T09:00:00+00:00"),
    # Christmas Eve: the hours of Christmas Day do not count.
    ("2026-12-24T10:00:00+00:00", "2026-12-27T10:00:00+00:00"),
    ("2026-12-24T14:00:00+00:00", "2026-12-27T14:00:00+00:00"),
    ("2026-12-23T12:00:00+00:00", "2026-12-26T12:00:00+00:00"),
    ("2026-12-23T23:30:00+00:00", "2026-12-26T23:30:00+00:00"),
    # Served on Christmas Day: the clock starts at midnight on the 26th.
    ("2026-12-25T00:00:00+00:00", "2026-12-28T00:00:00+00:00"),
    ("2026-12-25T15:00:00+00:00", "2026-12-28T00:00:00+00:00"),
    # Just clear of Christmas on either side.
    ("2026-12-22T09:00:00+00:00", "2026-12-24T09:00:00+00:00"),
    ("2026-12-26T00:00:00+00:00", "2026-12-28T00:00:00+00:00"),
    # Clocks go forward on Sun 28 March 2027: 48 real hours end at 13:00 BST.
    ("2027-03-27T12:00:00+00:00", "2027-03-29T12:00:00+00:00"),
    # Clocks go back on Sun 31 October 2027: 48 real hours end at 11:00 GMT.
    ("2027-10-30T12:00:00+01:00", "2027-11-01T11:00:00+00:00"),
    # A local time without an offset is London time.
    ("2027-07-01T10:00:00", "2027-07-03T09:00:00+00:00"),
])
def test_the_closure_hearing_deadline_is_48_clock_hours_without_christmas_day(served, deadline):
    assert closure_hearing_deadline(served) == deadline
    assert closure_hearing_deadline(datetime.fromisoformat(served).replace(
        tzinfo=datetime.fromisoformat(served).tzinfo or UTC)).endswith("+00:00")


def test_clock_hours_skip_every_christmas_on_the_way():
    start = utc(2026, 12, 24, 10)
    assert clock_hours_after(start, 400 * 24) == utc(2028, 1, 30, 10)     # two Christmases
    assert clock_hours_after(start, 400 * 24, disregard_christmas=False) == utc(2028, 1, 28, 10)
    assert clock_hours_after(start, 0) == start
    assert clock_hours_after(utc(2026, 12, 25, 9), 0) == utc(2026, 12, 26)
    with pytest.raises(ValueError, match="negative"):
        clock_hours_after(start, -1)


def test_a_24_hour_notice_counts_christmas_day_and_a_48_hour_one_does_not():
    served = utc(2026, 12, 24, 14)
    assert closure_notice_ends(served, 24) == utc(2026, 12, 25, 14)
    assert closure_notice_ends(served, 48) == utc(2026, 12, 27, 14)
    with pytest.raises(ValueError, match="24 or 48"):
        closure_notice_ends(served, 72)


def test_the_diagrams_can_call_the_deadline():
    assert DIAGRAM_GLOBALS["closure_hearing_deadline"] is closure_hearing_deadline
    engine = build_engine(audit=False)
    env = engine.script_engine.environment
    assert env.evaluate("closure_hearing_deadline(served)",
                        {"served": "2026-12-24T14:00:00+00:00"}) == "2026-12-27T14:00:00+00:00"


def test_months_days_and_working_days():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert months_after(utc(2026, 12, 27, 13, 30), 6) == utc(2027, 6, 27, 12, 30)   # BST
    assert last_day_of_period(date(2026, 3, 5), 12) == date(2027, 3, 4)
    assert last_day_of_period(date(2026, 11, 15), 3) == date(2027, 2, 14)
    assert review_request_deadline(date(2027, 3, 4)) == utc(2027, 3, 11)
    assert review_request_deadline(date(2027, 7, 1)) == utc(2027, 7, 7, 23)     # BST midnight
    # Back over Christmas and New Year 2026: 1 Jan, 28 and 25 December are holidays.
    assert working_days_before(utc(2027, 1, 5, 12), 3) == utc(2026, 12, 30, 12)
    assert working_days_before(utc(2027, 3, 27, 13, 30), 10) == utc(2027, 3, 12, 13, 30)


# -- the forms ---------------------------------------------------------------------------------

SAMPLES: dict[str, dict[str, Any]] = {
    "prepare_injunction": {"respondent_name": "Nigel Neighbour", "date_of_birth": "1990-05-01",
                           "court": "county_court", "grounds": "Music at night.",
                           "terms_sought": ["Not to play music after 11pm"],
                           "positive_requirements": [], "housing_related": True},
    "consult_yot": {"consulted_on": "2027-02-01", "yot_officer": "Yasmin",
                    "yot_view": "Supportive."},
    "prepare_injunction_bundle": {"documents": ["Diary"], "include_case_evidence": False},
    "take_witness_statements": {"witnesses": ["Wendy"], "reporter_is_witness": True,
                                "statements_taken_on": "2027-02-01"},
    "prepare_injunction_witness": {"witness": "Wendy", "support_offered": "Victim Support.",
                                   "special_measures": {"screens": True},
                                   "court_familiarisation": True, "told_what_to_expect": True},
    "apply_for_injunction": {"application_date": "2027-02-01", "court_name": "County Court",
                             "hearing_at": "2027-02-15T10:00:00+00:00", "without_notice": False},
    "record_injunction_hearing": {"outcome": "granted", "order_expires_on": "2028-02-14",
                                  "terms_granted": ["No music"], "power_of_arrest": True},
    "record_injunction_breach": {"breach_on": "2027-06-01", "what_happened": "Music.",
                                 "action_taken": "warning_given"},
    "prepare_closure_notice": {"premises_address": "14 Mill Lane", "premises_kind": "residential",
                               "notice_hours": "24_hours", "grounds": "Disorder.",
                               "consulted": "Police", "consultation_done": True,
                               "occupiers_informed": True},
    "serve_closure_notice": {"served_at": "2026-12-24T14:00:00+00:00", "served_how": "both"},
    "apply_closure_order": {"applied_at": "2026-12-24T15:00:00+00:00", "court_name": "Mags",
                            "hearing_at": "2026-12-27T10:00:00+00:00"},
    "record_closure_hearing": {"outcome": "order_made", "heard_at": "2026-12-27T10:00:00+00:00",
                               "order_months": 3},
    "extend_closure_order": {"extend": True, "extension_months": 3, "extended_on": "2027-03-12",
                             "reason": "Still needed."},
    "record_possession_trigger": {"tenant_name": "Nigel", "property_address": "14 Mill Lane",
                                  "trigger": "closure_order", "trigger_date": "2027-01-10",
                                  "details": "Closure order made."},
    "serve_possession_notice": {"served_on": "2027-03-04", "served_how": "by_post",
                                "proceedings_after": "2027-04-05"},
    "conduct_possession_review": {"reviewed_on": "2027-03-20", "decision": "upheld",
                                  "reasons": "Serious.", "tenant_notified_on": "2027-03-22",
                                  "reviewer_independent": True},
    "apply_for_possession": {"applied_on": "2027-04-06", "court_name": "County Court",
                             "hearing_at": "2027-05-10T10:00:00+01:00"},
    "record_possession_hearing": {"outcome": "possession_order", "possession_date": "2027-05-24"},
}
BAD: dict[str, tuple[dict[str, Any], str]] = {
    "prepare_injunction": ({"court": "magistrates"}, "court"),
    "consult_yot": ({"consulted_on": "yesterday"}, "consulted_on"),
    "prepare_injunction_bundle": ({"include_case_evidence": "yes"}, "include_case_evidence"),
    "take_witness_statements": ({"witnesses": "Wendy"}, "witnesses"),
    "prepare_injunction_witness": ({"told_what_to_expect": False}, "told_what_to_expect"),
    "apply_for_injunction": ({"hearing_at": "2027-02-15T10:00"}, "hearing_at"),
    "record_injunction_hearing": ({"outcome": "dismissed"}, "outcome"),
    "record_injunction_breach": ({"action_taken": "shrug"}, "action_taken"),
    "prepare_closure_notice": ({"notice_hours": "72_hours"}, "notice_hours"),
    "serve_closure_notice": ({"served_how": "email"}, "served_how"),
    "apply_closure_order": ({"court_name": ""}, "court_name"),
    "record_closure_hearing": ({"order_months": 0}, "order_months"),
    "extend_closure_order": ({"extension_months": "two"}, "extension_months"),
    "record_possession_trigger": ({"trigger": "rent_arrears"}, "trigger"),
    "serve_possession_notice": ({"served_on": "4 March"}, "served_on"),
    "conduct_possession_review": ({"reviewer_independent": False}, "reviewer_independent"),
    "apply_for_possession": ({"applied_on": ""}, "applied_on"),
    "record_possession_hearing": ({"outcome": "adjourned"}, "outcome"),
}
FORMS = load_directory(BPMN_DIR / "forms")


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_each_form_takes_its_sample_and_refuses_bad_data_on_the_field(key):
    schema = FORMS[key]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] and schema["description"] and schema["additionalProperties"] is False
    for prop in schema["properties"].values():
        assert prop["title"] and prop["description"]
    assert validate(schema, SAMPLES[key]) == {}
    change, field = BAD[key]
    assert field in validate(schema, {**SAMPLES[key], **change})
    assert validate(schema, {**SAMPLES[key], "surprise": 1}) == {
        "surprise": "this field is not part of the form"}
    missing = schema["required"][0]
    assert validate(schema, {k: v for k, v in SAMPLES[key].items() if k != missing}) == {
        missing: "this field is required"}


# -- the diagrams ------------------------------------------------------------------------------


def _root(process_id: str) -> etree._Element:
    return etree.parse(str(BPMN_DIR / FILES[process_id])).getroot()


def test_the_product_accepts_the_stages_and_every_operation_is_registered():
    engine = build_engine(audit=False)
    sources = {p.name: p.read_bytes() for p in [*BPMN_DIR.glob("*.bpmn"), *BPMN_DIR.glob("*.dmn")]}
    parsed = {p.process_id for p in engine.definitions.parse(sources, FORMS)}
    assert set(FILES) <= parsed
    for pid in FILES:
        for task in _root(pid).iter(f"{{{BPMN}}}serviceTask"):
            (operator,) = task.iterfind(".//spiffworkflow:serviceTaskOperator", NS)
            assert operator.get("id") in handlers.names()
            assert operator.get("resultVariable") == f"{task.get('id')}_result"


@pytest.mark.parametrize("pid", sorted(FILES))
def test_user_tasks_have_a_role_lane_a_form_and_an_assignee(pid):
    root = _root(pid)
    lanes = {ref.text: lane.get("name") for lane in root.iter(f"{{{BPMN}}}lane")
             for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    users = list(root.iter(f"{{{BPMN}}}userTask"))
    assert users
    for task in users:
        props = {p.get("name"): p.get("value")
                 for p in task.iterfind(".//spiffworkflow:property", NS)}
        assert lanes[task.get("id")] in lifecycle_diagrams.ROLES
        assert props["form"] == task.get("id") and task.get("id") in FORMS
        assert props["assignee"] in ("started_by", "case_officer", "team_leader")
    assert {t.get("id") for t in users} <= set(SAMPLES)
    for gateway in root.iter(f"{{{BPMN}}}exclusiveGateway"):
        outgoing = gateway.findall("bpmn:outgoing", NS)
        if len(outgoing) > 1:
            assert gateway.get("default"), gateway.get("id")
    for el in lifecycle_diagrams.flow_nodes(root):
        assert (el.get("name") or "").strip(), el.get("id")


@pytest.mark.parametrize("name", sorted(FILES.values()))
def test_the_layout_is_complete_and_tidy(name):
    layout = lifecycle_diagrams.Layout.read(BPMN_DIR / name)
    lifecycle_diagrams.test_every_element_has_a_shape_or_an_edge(layout)
    lifecycle_diagrams.test_shapes_sit_in_their_pool_lane_and_subprocess(layout)
    lifecycle_diagrams.test_shapes_do_not_overlap(layout)
    lifecycle_diagrams.test_edges_join_their_nodes_and_go_round_other_shapes(layout)
    lifecycle_diagrams.test_labels_do_not_cover_shapes_or_each_other(layout)


def test_the_files_are_what_the_description_generates():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bpmn_layout
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    rendered = bpmn_layout.render_all()
    for name in FILES.values():
        assert rendered[name] == (BPMN_DIR / name).read_bytes(), name


def test_the_stages_are_offered_on_the_case_file():
    titles = {pid: (STAGES[pid].title, STAGES[pid].group, STAGES[pid].single) for pid in FILES}
    assert titles == {
        "asb_legal_injunction": ("Apply for a civil injunction", "legal", True),
        "asb_legal_closure": ("Closure notice and order", "legal", True),
        "asb_legal_possession": ("Possession on the absolute ground", "legal", True)}
