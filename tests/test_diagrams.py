"""The lifecycle diagrams of docs/lifecycle.md: they parse, pass the product's checks, carry
complete diagram layout and forms, decide the API's priority, and run end to end."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import select

from engine import clock
from engine.errors import DiagramInvalid
from engine.forms import load_directory as load_forms
from engine.handlers import HandlerRegistry, ServiceContext
from engine.models import HumanTask, InstanceStatus, TaskStatus
from tasks.wiring import build_engine, due_after_working_days

ROOT = Path(__file__).resolve().parent.parent
BPMN_DIR = ROOT / "bpmn"
FORMS_DIR = BPMN_DIR / "forms"
CONTRACT = ROOT / "docs" / "lifecycle.md"

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN, "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI",
      "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
      "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
      "dmndi": "https://www.omg.org/spec/DMN/20191111/DMNDI/"}
SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"

PROCESSES = {
    "asb_case": "asb_case.bpmn", "asb_intake": "intake.bpmn", "asb_triage": "triage.bpmn",
    "asb_risk_assessment": "triage.bpmn", "asb_assignment": "assignment.bpmn",
    "asb_first_contact": "first_contact.bpmn", "asb_action_plan": "action_plan.bpmn",
    "asb_closure": "closure.bpmn", "asb_phone_call": "phone_call.bpmn",
    "asb_safeguarding": "safeguarding.bpmn",
}
ROLES = {"officer", "team_leader", "process_owner", "manager", "admin", "partner"}
OPERATIONS = {
    "intake.link_related_cases", "intake.check_repeat_victim", "triage.set_deadline",
    "triage.record_assessment", "assignment.assign_officer", "assignment.current_officer",
    "notify.acknowledge", "first_contact.record_breach", "first_contact.record_contact",
    "plan.record_plan", "updates.schedule_next", "updates.record_update",
    "incidents.record_incident", "notify.major_development", "closure.close_case",
    "notify.closure", "case_review.inform_on_second_report", "triage.move_deadlines",
    "diary.record_entry", "diary.record_review", "case_review.apply_from_case",
    "complaints.apply_from_case", "safeguarding.record_referral",
}
MESSAGES = {"new_incident", "change_of_circumstances", "case_review_application", "complaint",
            "major_development", "update_sent", "diary_entry"}
SIGNALS = {"casework_done"}
NEXT_WORKING_DAY = "due_after_working_days(now(), 1)"
# user task: (lane, assignee, due) as the contract says
USER_TASKS: dict[str, tuple[str, str | None, str | None]] = {
    "assess_risk": ("officer", "case_officer", "first_contact_due"),
    "first_contact": ("officer", "case_officer", "first_contact_due"),
    "first_contact_overdue": ("team_leader", "team_leader", NEXT_WORKING_DAY),
    "agree_action_plan": ("officer", "case_officer", None),
    "work_case": ("officer", "case_officer", None),
    "update_reporter": ("officer", "case_officer", "next_update_due"),
    "review_incident": ("officer", "case_officer", NEXT_WORKING_DAY),
    "review_risk": ("officer", "case_officer", None),
    "close_case": ("officer", "case_officer", None),
    "review_diary_entry": ("officer", "case_officer", NEXT_WORKING_DAY),
    "make_safeguarding_referral": ("officer", "case_officer", NEXT_WORKING_DAY),
    "safeguarding_overdue": ("team_leader", "team_leader", NEXT_WORKING_DAY),
    "phone_reporter": ("officer", "case_officer", NEXT_WORKING_DAY),
}
# Form data an officer might send: valid against each schema, used by the run below.
SAMPLE_FORMS: dict[str, dict[str, Any]] = {
    "assess_risk": {"harm": "high", "community_impact": "medium",
                    "vulnerability": {"personal": True, "situational": False},
                    "child_at_risk": False, "vulnerable_adult": False,
                    "raise_priority": False, "notes": "Targeted, repeated abuse."},
    "review_risk": {"harm": "medium", "community_impact": "low"},
    "first_contact": {"contacted_at": "2027-03-02T18:30:00+00:00", "method": "phone",
                      "summary": "Agreed to meet on Thursday."},
    "first_contact_overdue": {"action_taken": "Phoned the reporter myself."},
    "agree_action_plan": {"actions": ["Warning letter", "Noise diary"],
                          "update_frequency": "weekly", "agreed_with_reporter": True},
    "update_reporter": {"method": "email", "summary": "Warning letter sent."},
    "work_case": {"outcome": "Behaviour stopped after the warning."},
    "review_incident": {"assessment": "Same pattern; no change in risk.",
                        "risk_changed": False},
    "close_case": {"closure_reason": "resolved", "reporter_told": True,
                   "satisfaction_asked": True, "summary": "Resolved by warning letter."},
    "review_diary_entry": {"assessment": "Matches the pattern; no change.",
                           "action_needed": False},
    "make_safeguarding_referral": {
        "at_risk": "child", "agency": "children_safeguarding", "reference_number": "CS-1234",
        "referred_at": "2027-03-01T11:00:00+00:00",
        "disclose": {"incident_details": True, "risk_assessment": True},
        "legal_basis": "safeguarding", "summary": "Referred by phone; a social worker calls."},
    "safeguarding_overdue": {"action_taken": "Made the referral myself this morning."},
    "phone_reporter": {"spoke_to_reporter": True, "summary": "Gave the update by phone."},
}

FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent",
    "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway", "userTask", "serviceTask", "businessRuleTask", "scriptTask",
    "manualTask", "sendTask", "receiveTask", "task", "callActivity", "subProcess",
}


DECISIONS = "triage_priority.dmn"


def bpmn_files() -> list[Path]:
    """The lifecycle's files (bpmn/ may hold other diagrams too)."""
    return [BPMN_DIR / name for name in sorted(set(PROCESSES.values()))]


def sources() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in [*bpmn_files(), BPMN_DIR / DECISIONS]}


def local(el: etree._Element) -> str:
    return etree.QName(el).localname


def flow_nodes(root: etree._Element) -> Iterator[etree._Element]:
    for el in root.iter(f"{{{BPMN}}}*"):
        if local(el) in FLOW_NODE_TAGS:
            yield el


def contract_operations() -> set[str]:
    """The operation names of the contract's 'Service operations' table."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text.split("## Service operations", 1)[1]
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", section, flags=re.M))


def parse_all(validator: Any = None) -> SpiffBpmnParser:
    parser = SpiffBpmnParser(validator=validator)
    for name, content in sources().items():
        root = etree.fromstring(content)
        if name.endswith(".dmn"):
            parser.add_dmn_xml(root, filename=name)
        else:
            parser.add_bpmn_xml(root, filename=name)
    return parser


def all_task_specs(parser: SpiffBpmnParser) -> dict[str, Any]:
    """Every task spec of every process and subprocess, by BPMN id."""
    found: dict[str, Any] = {}
    for pid in PROCESSES:
        for spec in (parser.get_spec(pid), *parser.get_subprocess_specs(pid).values()):
            for ts in spec.task_specs.values():
                if getattr(ts, "bpmn_id", None):
                    found[ts.bpmn_id] = ts
    return found


def dummy_registry(names: set[str]) -> HandlerRegistry:
    registry = HandlerRegistry()
    for name in names:
        registry.register(name, lambda ctx, **params: None)
    return registry


# -- parsing and the product's validation ---------------------------------------------------


def test_every_file_is_schema_valid_and_the_processes_parse_together():
    parser = parse_all(validator=VALIDATOR)   # BPMN, DMN and SpiffWorkflow XSDs
    executable = set()
    for path in bpmn_files():
        for proc in etree.parse(str(path)).getroot().iterfind("bpmn:process", NS):
            assert proc.get("isExecutable") == "true", proc.get("id")
            assert PROCESSES[proc.get("id")] == path.name
            executable.add(proc.get("id"))
    assert executable == set(PROCESSES)
    for pid in PROCESSES:
        spec, subs = parser.get_spec(pid), parser.get_subprocess_specs(pid)
        called = {getattr(ts, "spec", None) for s in (spec, *subs.values())
                  for ts in s.task_specs.values() if type(ts).__name__ == "CallActivity"}
        assert called <= set(PROCESSES) and called <= set(subs)
    # Every stage is called by asb_case; the phone call is started apart, by a handler.
    assert {ts.spec for ts in parser.get_spec("asb_case").task_specs.values()
            if type(ts).__name__ == "CallActivity"} == set(PROCESSES) - {
                "asb_case", "asb_phone_call"}


def test_the_product_accepts_every_process():
    forms = load_forms(FORMS_DIR)
    engine = build_engine(dummy_registry(OPERATIONS), audit=False)
    parsed = engine.definitions.parse(sources(), forms)
    assert {p.process_id for p in parsed} == set(PROCESSES)
    # The operation check is live: a product without one operation refuses its element.
    engine = build_engine(dummy_registry(OPERATIONS - {"notify.closure"}), audit=False)
    with pytest.raises(DiagramInvalid) as info:
        engine.definitions.parse(sources(), forms)
    assert {p["element_id"] for p in info.value.problems} == {"notify_closure"}


def test_operations_are_exactly_the_contracts_with_result_variables():
    assert contract_operations() == OPERATIONS
    used = set()
    for path in bpmn_files():
        for task in etree.parse(str(path)).getroot().iter(f"{{{BPMN}}}serviceTask"):
            (operator,) = task.iterfind(".//spiffworkflow:serviceTaskOperator", NS)
            used.add(operator.get("id"))
            assert operator.get("resultVariable") == f"{task.get('id')}_result"
    assert used == OPERATIONS


def test_messages_and_signals_are_the_contracts():
    messages, signals = set(), set()
    for path in bpmn_files():
        root = etree.parse(str(path)).getroot()
        messages |= {m.get("name") for m in root.iterfind("bpmn:message", NS)}
        signals |= {s.get("name") for s in root.iterfind("bpmn:signal", NS)}
    assert (messages, signals) == (MESSAGES, SIGNALS)
    # Each event subprocess starts without interrupting and keeps the message payload
    # under the message's name (SpiffWorkflow drops it otherwise).
    root = etree.parse(str(BPMN_DIR / "asb_case.bpmn")).getroot()
    started = set()
    for sub in root.iterfind(".//bpmn:subProcess[@triggeredByEvent='true']", NS):
        (start,) = sub.iterfind("bpmn:startEvent", NS)
        assert start.get("isInterrupting") == "false"
        (definition,) = start.iterfind("bpmn:messageEventDefinition", NS)
        name = definition.get("messageRef").removeprefix("Message_")
        assert definition.findtext(".//spiffworkflow:messageVariable", namespaces=NS) == name
        started.add(name)
    assert started == MESSAGES - {"update_sent"}


def test_every_element_has_a_human_readable_name():
    for path in bpmn_files():
        root = etree.parse(str(path)).getroot()
        named = [*flow_nodes(root), *root.iter(f"{{{BPMN}}}lane"),
                 *root.iter(f"{{{BPMN}}}participant"), *root.iter(f"{{{BPMN}}}process")]
        for el in named:
            name = (el.get("name") or "").strip()
            assert name and name != el.get("id"), f"{path.name}: {el.get('id')} has no name"


# -- user tasks and forms ---------------------------------------------------------------------


def test_user_tasks_have_a_role_lane_a_form_and_the_contracts_properties():
    specs = all_task_specs(parse_all())
    users = {k: ts for k, ts in specs.items() if type(ts).__name__ == "UserTask"}
    assert set(users) == set(USER_TASKS)
    for task_id, (lane, assignee, due) in USER_TASKS.items():
        ts = users[task_id]
        props = ts.extensions.get("properties", {})
        assert ts.lane in ROLES and ts.lane == lane, task_id
        assert props.get("form") == task_id
        assert props.get("assignee") == assignee, task_id
        assert props.get("due") == due, task_id
        assert ts.bpmn_name


@pytest.mark.parametrize("task_id", sorted(USER_TASKS))
def test_form_schema_is_valid_json_schema_2020_12(task_id):
    schema = json.loads((FORMS_DIR / f"{task_id}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == SCHEMA_2020_12
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["title"] and schema["required"]
    assert set(schema["required"]) <= set(schema["properties"])
    for name, prop in schema["properties"].items():
        assert prop.get("title") and prop.get("description"), f"{task_id}.{name}"
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(SAMPLE_FORMS[task_id])) == []
    assert not validator.is_valid({**SAMPLE_FORMS[task_id], "unexpected": 1})
    for field_name in schema["required"]:
        assert not validator.is_valid(
            {k: v for k, v in SAMPLE_FORMS[task_id].items() if k != field_name})


def test_every_user_task_has_its_form_file():
    assert set(USER_TASKS) <= {p.stem for p in FORMS_DIR.glob("*.json")}


def test_forms_say_what_the_contract_says():
    def form(name: str) -> dict[str, Any]:
        return json.loads((FORMS_DIR / f"{name}.json").read_text(encoding="utf-8"))

    risk = form("assess_risk")
    assert form("review_risk")["properties"] == {
        **risk["properties"], "notes": form("review_risk")["properties"]["notes"]}
    assert risk["properties"]["harm"]["enum"] == ["low", "medium", "high"]
    assert set(risk["properties"]["vulnerability"]["properties"]) == {
        "personal", "situational", "incidental"}
    assert risk["properties"]["notes"]["maxLength"] == 2000
    assert risk["required"] == ["harm", "community_impact"]
    assert form("first_contact")["properties"]["contacted_at"]["format"] == "date-time"
    assert form("first_contact")["properties"]["method"]["enum"] == [
        "phone", "face_to_face", "email", "letter"]
    plan = form("agree_action_plan")["properties"]
    assert (plan["actions"]["minItems"], plan["actions"]["maxItems"]) == (1, 20)
    assert plan["actions"]["items"]["maxLength"] == 300
    assert plan["agreed_with_reporter"]["const"] is True
    close = form("close_case")
    assert close["properties"]["reporter_told"]["const"] is True
    assert set(close["required"]) == set(close["properties"]) - {"satisfaction_asked"}
    assert close["properties"]["closure_reason"]["enum"] == [
        "resolved", "no_further_action", "insufficient_evidence", "reporter_withdrew",
        "referred_elsewhere"]
    assert form("review_incident")["required"] == ["assessment"]


# -- diagram interchange ----------------------------------------------------------------------

Box = tuple[float, float, float, float]


def _bounds(el: etree._Element) -> Box:
    b = el.find("dc:Bounds", NS)
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


def _inside(inner: Box, outer: Box, slack: float = 0.5) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
            and inner[0] + inner[2] <= outer[0] + outer[2] + slack
            and inner[1] + inner[3] <= outer[1] + outer[3] + slack)


def _overlap(a: Box, b: Box) -> bool:
    return (a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
            and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


def _on_border(point: tuple[float, float], b: Box, tolerance: float = 1.5) -> bool:
    x, y = point
    within_x = b[0] - tolerance <= x <= b[0] + b[2] + tolerance
    within_y = b[1] - tolerance <= y <= b[1] + b[3] + tolerance
    on_vertical = min(abs(x - b[0]), abs(x - b[0] - b[2])) <= tolerance and within_y
    on_horizontal = min(abs(y - b[1]), abs(y - b[1] - b[3])) <= tolerance and within_x
    return on_vertical or on_horizontal


def _crosses(p: tuple[float, float], q: tuple[float, float], b: Box, inset: float = 2) -> bool:
    """Whether an orthogonal segment passes through the inside of a box."""
    x0, y0, x1, y1 = b[0] + inset, b[1] + inset, b[0] + b[2] - inset, b[1] + b[3] - inset
    lo_x, hi_x, lo_y, hi_y = min(p[0], q[0]), max(p[0], q[0]), min(p[1], q[1]), max(p[1], q[1])
    return lo_x < x1 and hi_x > x0 and lo_y < y1 and hi_y > y0


@dataclass
class Layout:
    """A BPMN file's elements with their diagram shapes and edges."""

    root: etree._Element
    shapes: dict[str, etree._Element] = field(default_factory=dict)
    edges: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    labels: dict[str, Box] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Layout:
        layout = cls(etree.parse(str(path)).getroot())
        for shape in layout.root.iterfind(".//bpmndi:BPMNShape", NS):
            layout.shapes[shape.get("bpmnElement")] = shape
            label = shape.find("bpmndi:BPMNLabel", NS)
            if label is not None:
                layout.labels[shape.get("bpmnElement")] = _bounds(label)
        for edge in layout.root.iterfind(".//bpmndi:BPMNEdge", NS):
            layout.edges[edge.get("bpmnElement")] = [
                (float(w.get("x")), float(w.get("y"))) for w in edge.iterfind("di:waypoint", NS)]
            label = edge.find("bpmndi:BPMNLabel", NS)
            if label is not None:
                layout.labels[edge.get("bpmnElement")] = _bounds(label)
        return layout

    def box(self, element_id: str) -> Box:
        return _bounds(self.shapes[element_id])


@pytest.fixture(params=[p.name for p in bpmn_files()])
def layout(request) -> Layout:
    return Layout.read(BPMN_DIR / request.param)


def test_every_element_has_a_shape_or_an_edge(layout):
    root = layout.root
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    expected_shapes = ({el.get("id") for el in flow_nodes(root)}
                       | {el.get("id") for el in root.iter(f"{{{BPMN}}}lane")}
                       | {el.get("id") for el in root.iter(f"{{{BPMN}}}participant")})
    flows = {el.get("id") for el in root.iter(f"{{{BPMN}}}sequenceFlow")}
    assert set(layout.shapes) == expected_shapes
    assert set(layout.edges) == flows
    assert (set(layout.shapes) | set(layout.edges)) <= ids
    for flow_id, points in layout.edges.items():
        assert len(points) >= 2, flow_id
        for p, q in itertools.pairwise(points):
            assert p[0] == q[0] or p[1] == q[1], f"{flow_id} has a slanted segment"
    for el in root.iter(f"{{{BPMN}}}subProcess"):
        assert layout.shapes[el.get("id")].get("isExpanded") == "true"
    for el in [*root.iter(f"{{{BPMN}}}participant"), *root.iter(f"{{{BPMN}}}lane")]:
        assert layout.shapes[el.get("id")].get("isHorizontal") == "true"


def test_shapes_sit_in_their_pool_lane_and_subprocess(layout):
    root = layout.root
    pools = {p.get("processRef"): layout.box(p.get("id"))
             for p in root.iter(f"{{{BPMN}}}participant")}
    lanes = {}
    for lane in root.iter(f"{{{BPMN}}}lane"):
        assert _inside(layout.box(lane.get("id")), pools[lane.getparent().getparent().get("id")])
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[ref.text] = layout.box(lane.get("id"))
    for el in flow_nodes(root):
        parent, box = el.getparent(), layout.box(el.get("id"))
        if local(el) == "boundaryEvent":
            host = layout.box(el.get("attachedToRef"))
            centre = (box[0] + box[2] / 2, box[1] + box[3] / 2)
            assert _on_border(centre, host), f"{el.get('id')} is off its host's border"
        elif local(parent) != "process":
            assert _inside(box, layout.box(parent.get("id"))), f"{el.get('id')} leaves its box"
        if local(parent) == "process":
            assert _inside(box, pools[parent.get("id")]), el.get("id")
            if parent.find("bpmn:laneSet", NS) is not None:
                assert el.get("id") in lanes, f"{el.get('id')} is in no lane"
                assert _inside(box, lanes[el.get("id")]), f"{el.get('id')} leaves its lane"


def test_shapes_do_not_overlap(layout):
    siblings: dict[str, list[etree._Element]] = {}
    for el in flow_nodes(layout.root):
        siblings.setdefault(el.getparent().get("id"), []).append(el)
    for members in siblings.values():
        for a, b in itertools.combinations(members, 2):
            if el_id(b) in (a.get("attachedToRef"),) or el_id(a) in (b.get("attachedToRef"),):
                continue   # a boundary event sits on its host
            assert not _overlap(layout.box(el_id(a)), layout.box(el_id(b))), (
                f"{el_id(a)} overlaps {el_id(b)}")


def el_id(el: etree._Element) -> str:
    return str(el.get("id"))


def test_edges_join_their_nodes_and_go_round_other_shapes(layout):
    root = layout.root
    elements = {el.get("id"): el for el in flow_nodes(root)}
    for flow in root.iter(f"{{{BPMN}}}sequenceFlow"):
        points = layout.edges[flow.get("id")]
        src, tgt = flow.get("sourceRef"), flow.get("targetRef")
        assert _on_border(points[0], layout.box(src)), f"{flow.get('id')} leaves {src} inside"
        assert _on_border(points[-1], layout.box(tgt)), f"{flow.get('id')} ends inside {tgt}"
        ancestors = {a.get("id") for a in flow.iterancestors()}
        for other_id in elements:
            if other_id in (src, tgt) or other_id in ancestors:
                continue
            for p, q in itertools.pairwise(points):
                assert not _crosses(p, q, layout.box(other_id)), (
                    f"{flow.get('id')} runs through {other_id}")


def test_labels_do_not_cover_shapes_or_each_other(layout):
    solid = {el.get("id"): layout.box(el.get("id")) for el in flow_nodes(layout.root)
             if local(el) != "subProcess"}
    for owner, label in layout.labels.items():
        for other, box in solid.items():
            assert not _overlap(label, box), f"the label of {owner} covers {other}"
    for (a, la), (b, lb) in itertools.combinations(layout.labels.items(), 2):
        assert not _overlap(la, lb), f"the labels of {a} and {b} overlap"


# -- the decision table -----------------------------------------------------------------------

DECIDE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">
  <bpmn:process id="decide_only" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="decide"/>
    <bpmn:businessRuleTask id="decide">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>triage_priority</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="b" sourceRef="decide" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>"""
PRIORITY_FLAGS = ("hate", "child_at_risk", "vulnerable_adult", "threat_of_violence",
                  "high_risk", "repeat_victim")


def test_triage_priority_decides_the_api_priority_for_every_combination():
    dmn = etree.parse(str(BPMN_DIR / DECISIONS)).getroot()
    (table,) = dmn.iterfind(".//dmn:decision[@id='triage_priority']/dmn:decisionTable", NS)
    assert table.get("hitPolicy") == "FIRST"
    assert dmn.find(".//dmndi:DMNShape[@dmnElementRef='triage_priority']", NS) is not None
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_dmn_xml(dmn, filename="triage_priority.dmn")
    parser.add_bpmn_xml(etree.fromstring(DECIDE.encode()), filename="decide.bpmn")
    spec = parser.get_spec("decide_only")
    script_engine = build_engine(HandlerRegistry(), audit=False).script_engine  # the sandbox
    for values in itertools.product((False, True), repeat=len(PRIORITY_FLAGS)):
        flags = dict(zip(PRIORITY_FLAGS, values, strict=True))
        workflow = BpmnWorkflow(spec, script_engine=script_engine)
        workflow.get_next_task(spec_name="Start").data.update(flags)
        workflow.do_engine_steps()
        assert workflow.is_completed()
        decided = workflow.last_task.data
        expected = 1 if any(values) else 2
        assert (decided["priority"], decided["suggested_cadence_days"]) == (expected, 10), flags


# -- the lifecycle, end to end, with dummy handlers ---------------------------------------------

CADENCE = {"weekly": 5, "fortnightly": 10, "monthly": 20}
FIRST_CONTACT_DAYS = {1: 1, 2: 5}
OFFICER, OTHER_OFFICER, LEADER = "olivia.officer", "oscar.officer", "tara.leader"


@dataclass
class Handlers:
    """Dummy handlers with the contract's effects on ``ctx.data``; ``cases`` stands in for
    the case record (who the officer is), ``calls`` lists (operation, task id)."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    cases: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    incidents: list[dict[str, Any]] = field(default_factory=list)

    def registry(self) -> HandlerRegistry:
        registry = HandlerRegistry()
        for name in OPERATIONS:
            registry.register(name, self._handler(name))
        return registry

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]

    def _handler(self, name: str) -> Callable[..., Any]:
        effect = getattr(self, name.replace(".", "_"), None)

        def handler(ctx: ServiceContext, **params: Any) -> Any:
            self.calls.append((name, ctx.task_name))
            if effect is not None:
                effect(ctx)
            return {"operation": name}

        return handler

    @staticmethod
    def _deadline(ctx: ServiceContext) -> None:
        days = FIRST_CONTACT_DAYS[ctx.data["priority"]]
        ctx.data["first_contact_due"] = due_after_working_days(ctx.data["received_at"], days)

    def intake_link_related_cases(self, ctx: ServiceContext) -> None:
        ctx.data["linked_cases"] = []

    def triage_set_deadline(self, ctx: ServiceContext) -> None:
        self._deadline(ctx)
        ctx.data["safeguarding"] = bool(ctx.data["child_at_risk"] or ctx.data["vulnerable_adult"])

    def triage_record_assessment(self, ctx: ServiceContext) -> None:
        at_risk = ctx.data.get("child_at_risk") or ctx.data.get("vulnerable_adult")
        if ctx.data.get("raise_priority") or at_risk:
            ctx.data["priority"] = 1
            self._deadline(ctx)
        ctx.data["safeguarding"] = bool(at_risk or ctx.data.get("safeguarding"))

    def assignment_assign_officer(self, ctx: ServiceContext) -> None:
        ctx.data["case_officer"], ctx.data["team_leader"] = OFFICER, LEADER
        self.cases[ctx.business_key] = (OFFICER, LEADER)

    def assignment_current_officer(self, ctx: ServiceContext) -> None:
        ctx.data["case_officer"], ctx.data["team_leader"] = self.cases[ctx.business_key]

    def plan_record_plan(self, ctx: ServiceContext) -> None:
        ctx.data["update_cadence_days"] = CADENCE[ctx.data["update_frequency"]]

    def updates_schedule_next(self, ctx: ServiceContext) -> None:
        ctx.data["next_update_due"] = due_after_working_days(
            ctx.now, ctx.data["update_cadence_days"])

    def incidents_record_incident(self, ctx: ServiceContext) -> None:
        self.incidents.append(ctx.data.pop("new_incident"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def case_data(**changes: Any) -> dict[str, Any]:
    data = {"case_reference": "ASB-2027-000001", "received_at": "2027-03-01T09:00:00+00:00",
            "channel": "phone", "hate": False, "child_at_risk": False,
            "vulnerable_adult": False, "threat_of_violence": False, "high_risk": False,
            "repeat_victim": False, "reopened": False, "area": "North"}
    return {**data, **changes}


class Lifecycle:
    """Drive one case through the real engine, as the web layer and the worker would."""

    def __init__(self, session: Any, tmp_path: Path, handlers: Handlers):
        self.session, self.handlers = session, handlers
        self.engine = build_engine(handlers.registry())
        for path in [*bpmn_files(), BPMN_DIR / DECISIONS]:
            shutil.copy(path, tmp_path / path.name)
        shutil.copytree(FORMS_DIR, tmp_path / "forms")
        self.engine.definitions.sync_directory(session, tmp_path)
        self.row: Any = None

    def start(self, key: str, data: dict[str, Any]) -> None:
        self.key = key
        self.row = self.engine.start(self.session, "asb_case", key, data, actor="api")

    def open(self) -> dict[str, HumanTask]:
        rows = self.session.scalars(select(HumanTask).where(
            HumanTask.business_key == self.key, HumanTask.state == TaskStatus.OPEN))
        return {r.name: r for r in rows}

    def count_open(self, name: str) -> int:
        return len(self.session.scalars(select(HumanTask.id).where(
            HumanTask.business_key == self.key, HumanTask.name == name,
            HumanTask.state == TaskStatus.OPEN)).all())

    def task(self, name: str) -> HumanTask:
        return self.session.scalars(select(HumanTask).where(
            HumanTask.business_key == self.key, HumanTask.name == name)
            .order_by(HumanTask.created_at.desc(), HumanTask.id)).first()

    def complete(self, name: str, actor: str = OFFICER, **changes: Any) -> list[str]:
        data = {**SAMPLE_FORMS[name], **changes}
        schema = json.loads((FORMS_DIR / f"{name}.json").read_text(encoding="utf-8"))
        Draft202012Validator(schema).validate(data)
        done = self.engine.complete(self.session, self.open()[name].id, data, actor=actor)
        return sorted(t.name for t in done.next_tasks)

    def at(self, moment: str) -> None:
        clock.set_now(at(moment))
        self.engine.wake(self.session, self.row.id)

    def send(self, message: str, payload: dict[str, Any] | None = None) -> None:
        stored = self.engine.send_message(self.session, self.key, message, payload or {})
        assert stored.delivered_at is not None, f"{message} was not delivered"

    def data_of(self, name: str) -> dict[str, Any]:
        workflow = self.engine.load(self.row, self.session)
        return workflow.get_task_from_id(UUID(self.open()[name].id)).data


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


@pytest.fixture
def lifecycle(db_session, tmp_path, handlers) -> Lifecycle:
    clock.set_now(at("2027-03-01T09:05:00+00:00"))   # Monday; London is on UTC in March
    return Lifecycle(db_session, tmp_path, handlers)


def test_a_case_runs_from_report_to_closure(lifecycle, handlers):
    case = lifecycle
    # Start: intake, triage (priority 1 for hate) and assignment run in the opening request.
    case.start("ASB-2027-000001", case_data(hate=True))
    assert handlers.ops() == ["intake.link_related_cases", "intake.check_repeat_victim",
                              "case_review.inform_on_second_report", "triage.set_deadline",
                              "assignment.assign_officer", "notify.acknowledge"]
    assert list(case.open()) == ["assess_risk"]
    assess = case.open()["assess_risk"]
    assert (assess.title, assess.role, assess.assignee, assess.form_key) == (
        "Assess the risk", "officer", OFFICER, "assess_risk")
    assert assess.due_at == at("2027-03-02T17:00:00+00:00")    # one working day
    data = case.data_of("assess_risk")
    assert (data["priority"], data["suggested_cadence_days"]) == (1, 10)

    # Risk assessment, then first contact is due by the same deadline, with a timer on it.
    assert case.complete("assess_risk") == ["first_contact"]
    assert handlers.calls[-1] == ("triage.record_assessment", "record_assessment")
    contact = case.open()["first_contact"]
    assert (contact.role, contact.assignee, contact.due_at) == (
        "officer", OFFICER, at("2027-03-02T17:00:00+00:00"))
    assert case.row.next_timer_at == at("2027-03-02T17:00:00+00:00")

    # The deadline passes with first contact still open: the team leader is told.
    case.at("2027-03-02T16:59:00+00:00")
    assert list(case.open()) == ["first_contact"]
    case.at("2027-03-02T17:01:00+00:00")
    assert sorted(case.open()) == ["first_contact", "first_contact_overdue"]
    overdue = case.open()["first_contact_overdue"]
    assert (overdue.role, overdue.assignee, overdue.due_at) == (
        "team_leader", LEADER, at("2027-03-03T17:00:00+00:00"))
    assert handlers.ops().count("first_contact.record_breach") == 1

    # First contact made: the terminate end event closes the escalation branch too.
    clock.set_now(at("2027-03-02T18:30:00+00:00"))
    assert case.complete("first_contact") == ["agree_action_plan"]
    assert case.task("first_contact_overdue").state is TaskStatus.CANCELLED
    assert "first_contact.record_contact" in handlers.ops()
    assert case.row.next_timer_at is None

    # The plan sets a weekly cadence: casework starts and the first update is scheduled.
    clock.set_now(at("2027-03-03T10:00:00+00:00"))
    assert case.complete("agree_action_plan") == ["work_case"]
    assert case.open()["work_case"].assignee == OFFICER
    assert handlers.ops()[-2:] == ["plan.record_plan", "updates.schedule_next"]
    assert case.row.next_timer_at == at("2027-03-10T17:00:00+00:00")   # 5 working days

    # An update logged from the case file moves the next due date.
    clock.set_now(at("2027-03-05T12:00:00+00:00"))
    case.send("update_sent", {"summary": "phoned the reporter"})
    assert handlers.ops()[-1] == "updates.schedule_next"
    assert case.row.next_timer_at == at("2027-03-12T17:00:00+00:00")
    case.at("2027-03-10T17:01:00+00:00")
    assert list(case.open()) == ["work_case"]

    # The update falls due: "Update the reporter" opens, and recurs at the cadence.
    case.at("2027-03-12T17:01:00+00:00")
    assert sorted(case.open()) == ["update_reporter", "work_case"]
    update = case.open()["update_reporter"]
    assert (update.role, update.assignee, update.due_at) == (
        "officer", OFFICER, at("2027-03-12T17:00:00+00:00"))
    clock.set_now(at("2027-03-15T09:00:00+00:00"))
    assert case.complete("update_reporter") == []
    assert handlers.ops()[-2:] == ["updates.record_update", "updates.schedule_next"]
    assert case.row.next_timer_at == at("2027-03-22T17:00:00+00:00")
    case.at("2027-03-22T17:01:00+00:00")
    assert sorted(case.open()) == ["update_reporter", "work_case"]
    assert case.open()["update_reporter"].due_at == at("2027-03-22T17:00:00+00:00")

    # Each message opens its event subprocess's work and leaves the main path alone.
    clock.set_now(at("2027-03-23T10:00:00+00:00"))
    main_path = {name: row.id for name, row in case.open().items()}
    expected = {
        "new_incident": ("review_incident", "officer", OFFICER, "2027-03-24T17:00:00+00:00"),
        "change_of_circumstances": ("review_risk", "officer", OFFICER, None),
        "diary_entry": ("review_diary_entry", "officer", OFFICER, "2027-03-24T17:00:00+00:00"),
    }
    for message, (task_name, role, assignee, due) in expected.items():
        case.send(message, {"description": f"{message} from the API"})
        opened = case.open()[task_name]
        assert (opened.role, opened.assignee) == (role, assignee), message
        assert opened.due_at == (at(due) if due else None), message
        assert {n: r.id for n, r in case.open().items() if n in main_path} == main_path
    # A Case Review application or a complaint starts its own process (under its own
    # reference) through its handler; the case itself gets no task.
    for message, operation in (("case_review_application", "case_review.apply_from_case"),
                               ("complaint", "complaints.apply_from_case")):
        case.send(message, {"description": f"{message} from the API"})
        assert handlers.ops()[-1] == operation
        assert {n: r.id for n, r in case.open().items() if n in main_path} == main_path
    assert handlers.incidents == [{"description": "new_incident from the API"}]
    case.send("new_incident", {"description": "a second incident"})   # another instance
    assert case.count_open("review_incident") == 2
    case.send("major_development", {"what": "injunction granted"})
    assert handlers.calls[-1] == ("notify.major_development", "notify_major_development")
    assert set(case.open()) == set(main_path) | {
        "review_incident", "review_risk", "review_diary_entry"}
    assert case.complete("review_risk") == []
    assert handlers.ops()[-2:] == ["triage.record_assessment", "triage.move_deadlines"]
    assert case.complete("review_diary_entry") == []
    assert handlers.ops()[-1] == "diary.record_review"
    for name, actor in (("review_incident", OFFICER), ("review_incident", OFFICER)):
        assert case.complete(name, actor=actor) == []

    # The work is done: the signal stops the updates and the case goes to closure.
    assert case.complete("work_case") == ["close_case"]
    assert case.task("update_reporter").state is TaskStatus.CANCELLED
    assert case.row.next_timer_at is None
    case.at("2027-04-30T12:00:00+00:00")
    assert list(case.open()) == ["close_case"]
    assert case.complete("close_case") == []
    assert handlers.ops()[-2:] == ["closure.close_case", "notify.closure"]
    assert case.row.status is InstanceStatus.COMPLETED


def test_a_reopened_case_skips_intake_and_assignment(lifecycle, handlers):
    case = lifecycle
    handlers.cases["ASB-2027-000002"] = (OTHER_OFFICER, LEADER)
    case.start("ASB-2027-000002", case_data(
        case_reference="ASB-2027-000002", reopened=True, case_officer=OTHER_OFFICER,
        team_leader=LEADER))
    assert handlers.ops() == ["triage.set_deadline"]
    assess = case.open()["assess_risk"]
    assert assess.assignee == OTHER_OFFICER
    assert assess.due_at == at("2027-03-08T17:00:00+00:00")   # priority 2: 5 working days
    # The officer raises the priority: the deadline is recomputed from received_at.
    assert case.complete("assess_risk", actor=OTHER_OFFICER, raise_priority=True) == [
        "first_contact"]
    contact = case.open()["first_contact"]
    assert (contact.assignee, contact.due_at) == (OTHER_OFFICER,
                                                  at("2027-03-02T17:00:00+00:00"))
    # Contact in time: no escalation.
    clock.set_now(at("2027-03-01T15:00:00+00:00"))
    assert case.complete("first_contact", actor=OTHER_OFFICER) == ["agree_action_plan"]
    case.at("2027-03-05T12:00:00+00:00")
    assert list(case.open()) == ["agree_action_plan"]
    assert "first_contact.record_breach" not in handlers.ops()
