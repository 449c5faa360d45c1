"""The engine's diagram rules: one broken diagram per rule, each message on the right element."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from engine.handlers import HandlerRegistry, OperatorParams
from engine.validation import RULES, Problem, ValidationContext, validate_bpmn
from tasks.diagram_checks import POLICY_RULES, check_diagram
from web.cli import main

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "miwg-reference"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
SHIPPED = sorted(p.name for p in BPMN_DIR.glob("*.bpmn"))


def tag(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def one(root: etree._Element, xpath: str) -> etree._Element:
    found = root.xpath(xpath, namespaces=NS)
    assert len(found) == 1, (xpath, len(found))
    return found[0]


def edited(name: str, change: Callable[[etree._Element], object]) -> bytes:
    """A shipped diagram with one change made to its XML."""
    root = etree.fromstring((BPMN_DIR / name).read_bytes())
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def check(xml: bytes) -> list[Problem]:
    return check_diagram(None, xml, bpmn_dir=BPMN_DIR)


def problem(xml: bytes, rule: str) -> Problem:
    """The one problem of ``rule`` the diagram has."""
    found = [p for p in check(xml) if p.rule == rule]
    assert len(found) == 1, found
    return found[0]


def remove(root: etree._Element, xpath: str) -> None:
    el = one(root, xpath)
    el.getparent().remove(el)


def set_text(xpath: str, text: str) -> Callable[[etree._Element], None]:
    return lambda root: setattr(one(root, xpath), "text", text)


def set_attr(xpath: str, name: str, value: str) -> Callable[[etree._Element], None]:
    return lambda root: one(root, xpath).set(name, value)


# -- the shipped diagrams pass every rule ----------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_diagram_passes_every_rule_and_promise(name):
    assert check((BPMN_DIR / name).read_bytes()) == []


def test_every_rule_is_documented_for_process_owners():
    text = (ROOT / "docs" / "diagram-rules.md").read_text(encoding="utf-8")
    for rule in [*RULES, *POLICY_RULES]:
        assert f"| `{rule}` |" in text, rule


# -- one broken diagram per rule --------------------------------------------------------------


def test_a_file_that_is_not_xml_is_one_problem_on_the_file():
    [p] = check(b"<bpmn:definitions")
    assert (p.element_id, p.element_type, p.rule) == ("file", "File", "parse")
    assert "not well-formed XML" in p.message


def test_what_only_the_engine_refuses_is_a_sentence_on_its_element():
    xml = edited(
        "closure.bpmn",
        lambda r: one(r, "//bpmn:userTask[@id='close_case']").append(
            etree.Element(tag("bpmn:multiInstanceLoopCharacteristics"))
        ),
    )
    p = problem(xml, "parse")
    assert (p.element_id, p.element_type) == ("close_case", "UserTask")
    assert p.message.startswith("The engine cannot read this element: A multiinstance task")


def test_a_process_not_marked_executable():
    p = problem(
        edited("closure.bpmn", set_attr("//bpmn:process", "isExecutable", "false")), "executable"
    )
    assert (p.element_id, p.element_type) == ("asb_closure", "Process")
    assert "not marked executable" in p.message


def test_an_id_used_twice():
    xml = edited(
        "closure.bpmn",
        lambda r: etree.SubElement(
            one(r, "//bpmn:process"), tag("bpmn:textAnnotation"), id="record_closure"
        ),
    )
    p = problem(xml, "parse")
    assert (p.element_id, p.element_type) == ("record_closure", "TextAnnotation")
    assert p.message == "Another element already has the id 'record_closure': ids must be unique."


@pytest.mark.parametrize(
    ("change", "element", "words"),
    [
        (
            lambda r: setattr(
                one(r, "//bpmn:exclusiveGateway[@id='reopened_gateway']"),
                "tag",
                tag("bpmn:complexGateway"),
            ),
            "reopened_gateway",
            "complex gateway",
        ),
        (
            lambda r: one(r, "//bpmn:intermediateThrowEvent[@id='casework_done_thrown']").append(
                etree.Element(tag("bpmn:linkEventDefinition"))
            ),
            "casework_done_thrown",
            "link events",
        ),
        (
            lambda r: one(
                r,
                "//bpmn:sequenceFlow[@id='Flow_reopened_gateway_to_triage']"
                "/bpmn:conditionExpression",
            ).set("language", "FEEL"),
            "Flow_reopened_gateway_to_triage",
            "written in 'FEEL'",
        ),
    ],
)
def test_what_the_engine_cannot_run_is_reported_not_crashed_on(change, element, words):
    p = problem(edited("asb_case.bpmn", change), "unsupported")
    assert p.element_id == element and words in p.message and p.severity == "error"


def test_a_user_task_without_a_form():
    xml = edited(
        "closure.bpmn",
        lambda r: remove(
            r, "//bpmn:userTask[@id='close_case']//spiffworkflow:property[@name='form']"
        ),
    )
    p = problem(xml, "user_task_form")
    assert (p.element_id, p.element_type) == ("close_case", "UserTask")
    assert p.message.startswith("This user task has no form")


def test_a_user_task_naming_a_form_that_does_not_exist():
    xml = edited(
        "first_contact.bpmn",
        set_attr(
            "//bpmn:userTask[@id='first_contact']//spiffworkflow:property[@name='form']",
            "value",
            "first_contactt",
        ),
    )
    p = problem(xml, "user_task_form")
    assert p.element_id == "first_contact"
    assert p.message == (
        "The task's form 'first_contactt' does not exist. Did you mean 'first_contact'?"
    )


def test_a_user_task_in_no_lane():
    xml = edited("closure.bpmn", lambda r: remove(r, "//bpmn:flowNodeRef[text()='close_case']"))
    p = problem(xml, "user_task_lane")
    assert p.element_id == "close_case" and "in no lane" in p.message and "officer" in p.message


def test_a_lane_that_is_not_a_role():
    xml = edited("closure.bpmn", set_attr("//bpmn:lane", "name", "Officers"))
    p = problem(xml, "user_task_lane")
    assert (p.element_id, p.element_type) == ("Lane_closure_officer", "Lane")
    assert "'Officers' holds tasks but is not a role" in p.message


def test_a_service_task_calling_an_operation_nobody_provides():
    xml = edited(
        "closure.bpmn",
        set_attr(
            "//spiffworkflow:serviceTaskOperator[@id='notify.closure']", "id", "notify.closur"
        ),
    )
    p = problem(xml, "service_task_operator")
    assert (p.element_id, p.element_type) == ("notify_closure", "ServiceTask")
    assert p.message == (
        "The service task calls 'notify.closur', which the system does not "
        "provide. Did you mean 'notify.closure'?"
    )


def test_a_service_task_passing_a_parameter_its_operation_does_not_take():
    def add(root):
        params = one(
            root,
            "//spiffworkflow:serviceTaskOperator[@id='notify.closure']/spiffworkflow:parameters",
        )
        etree.SubElement(
            params, tag("spiffworkflow:parameter"), id="tone", type="str", value="'kind'"
        )

    p = problem(edited("closure.bpmn", add), "service_task_parameters")
    assert p.element_id == "notify_closure"
    assert p.message == "'notify.closure' takes no parameter 'tone' (it takes none)."


def test_a_service_task_missing_a_parameter_its_operation_needs():
    xml = (BPMN_DIR / "closure.bpmn").read_bytes()
    ctx = ValidationContext(
        operators={
            "notify.closure": OperatorParams(frozenset({"tone"})),
            "closure.close_case": OperatorParams(),
        }
    )
    [p] = [p for p in validate_bpmn(xml, ctx) if p.rule == "service_task_parameters"]
    assert p.element_id == "notify_closure"
    assert p.message == "'notify.closure' needs the parameter 'tone', which the task does not give."


def test_operations_declare_their_parameters_or_have_them_read_from_the_handler():
    registry = HandlerRegistry()
    registry.register("a.read", lambda ctx, label, urgent=False: None)
    registry.register("a.open", lambda ctx, **params: None)
    registry.register(
        "a.declared", lambda ctx, **params: None, params=["label"], optional=["urgent"]
    )
    ops = registry.operators()
    assert ops["a.read"] == OperatorParams(frozenset({"label"}), frozenset({"urgent"}))
    assert ops["a.open"].any_other and not ops["a.open"].required
    assert ops["a.declared"] == OperatorParams(frozenset({"label"}), frozenset({"urgent"}))


def test_code_the_sandbox_refuses():
    xml = edited("first_contact.bpmn", set_text("//bpmn:timeDate", "__import__('os')"))
    p = problem(xml, "expression_code")
    assert (p.element_id, p.element_type) == ("first_contact_deadline", "BoundaryEvent")
    assert p.message.startswith("The timer cannot be used: names starting with '_' are not allowed")


def test_a_condition_that_is_not_python():
    xml = edited(
        "asb_case.bpmn",
        set_text(
            "//bpmn:sequenceFlow[@id='Flow_reopened_gateway_to_triage']/bpmn:conditionExpression",
            "${reopened}",
        ),
    )
    p = problem(xml, "expression_code")
    assert p.element_id == "Flow_reopened_gateway_to_triage"
    assert "not valid Python" in p.message


def test_a_name_that_is_neither_process_data_nor_a_helper():
    xml = edited("first_contact.bpmn", set_text("//bpmn:timeDate", "first_contact_deu"))
    p = problem(xml, "expression_names")
    assert p.element_id == "first_contact_deadline"
    assert p.message.startswith(
        "The timer uses 'first_contact_deu', which is neither process "
        "data nor a helper the engine provides. Did you mean "
        "'first_contact_due'"
    )


def test_a_duration_without_quotes_gets_a_hint():
    xml = edited("asb_case.bpmn", set_text("//bpmn:timeDate", "P10D"))
    p = problem(xml, "expression_names")
    assert (
        p.element_id == "next_update_due" and 'Put a duration in quotes, e.g. "P10D"' in p.message
    )


def test_helpers_and_the_diagrams_own_data_are_allowed_names():
    xml = edited(
        "first_contact.bpmn",
        set_attr(
            "//bpmn:userTask[@id='first_contact']//spiffworkflow:property[@name='due']",
            "value",
            "min(first_contact_due, due_after_working_days(now(), 1)) if contacted_at else "
            "first_contact_due",
        ),
    )
    assert [p for p in check(xml) if p.rule == "expression_names"] == []


def test_a_gateway_way_out_without_condition_or_default():
    xml = edited(
        "asb_case.bpmn",
        lambda r: one(r, "//bpmn:exclusiveGateway[@id='reopened_gateway']").attrib.pop("default"),
    )
    p = problem(xml, "gateway_conditions")
    assert (p.element_id, p.element_type) == ("Flow_reopened_gateway_call_intake", "SequenceFlow")
    assert (
        "way out of the gateway 'Re-opened?' (towards 'Intake checks') has no condition"
        in p.message
    )


@pytest.mark.parametrize(
    ("element", "kind"),
    [
        ("close_case", "UserTask"),
        ("Flow_close_case_record_closure", "SequenceFlow"),
        ("Lane_closure_officer", "Lane"),
    ],
)
def test_an_element_without_a_place_on_the_drawing(element, kind):
    xml = edited("closure.bpmn", lambda r: remove(r, f"//*[@bpmnElement='{element}']"))
    p = problem(xml, "layout")
    assert (p.element_id, p.element_type, p.severity) == (element, kind, "warning")
    assert "no place on the drawing" in p.message


def test_a_message_that_is_not_defined():
    xml = edited(
        "asb_case.bpmn",
        set_attr("//bpmn:receiveTask[@id='wait_for_update']", "messageRef", "Message_update_snet"),
    )
    p = problem(xml, "message_exists")
    assert (p.element_id, p.severity) == ("wait_for_update", "error")
    assert p.message == "The message 'Message_update_snet' is not defined in this file."


def test_waiting_for_a_message_nothing_sends_is_a_warning():
    xml = edited(
        "asb_case.bpmn",
        set_attr("//bpmn:message[@id='Message_update_sent']", "name", "update_posted"),
    )
    p = problem(xml, "message_exists")
    assert (p.element_id, p.severity) == ("wait_for_update", "warning")
    assert "Nothing in the system sends the message 'update_posted'" in p.message


def test_a_signal_that_is_not_defined():
    xml = edited(
        "asb_case.bpmn",
        set_attr(
            "//bpmn:intermediateThrowEvent//bpmn:signalEventDefinition", "signalRef", "Signal_x"
        ),
    )
    p = problem(xml, "event_definition_exists")
    assert p.element_id == "casework_done_thrown"


def test_a_call_activity_calling_a_process_that_does_not_exist():
    xml = edited(
        "asb_case.bpmn",
        set_attr(
            "//bpmn:callActivity[@id='call_safeguarding']", "calledElement", "asb_safeguardng"
        ),
    )
    p = problem(xml, "called_process_exists")
    assert (p.element_id, p.element_type) == ("call_safeguarding", "CallActivity")
    assert p.message == (
        "The call activity calls the process 'asb_safeguardng', which does not "
        "exist here. Did you mean 'asb_safeguarding'?"
    )


def test_a_business_rule_task_using_a_decision_that_does_not_exist():
    xml = edited("triage.bpmn", set_text("//spiffworkflow:calledDecisionId", "triage_priorty"))
    p = problem(xml, "decision_exists")
    assert (p.element_id, p.element_type) == ("decide_priority", "BusinessRuleTask")
    assert p.message.endswith("Did you mean 'triage_priority'?")


def test_a_process_without_a_start_event():
    p = problem(edited("closure.bpmn", lambda r: remove(r, "//bpmn:startEvent")), "start_event")
    assert (p.element_id, p.message) == (
        "asb_closure",
        "The process has no start event, so it can never begin.",
    )


def test_a_process_whose_end_cannot_be_reached():
    def loop_back(root):
        one(root, "//bpmn:sequenceFlow[@id='Flow_notify_closure_closure_done']").set(
            "targetRef", "close_case"
        )

    found = [p for p in check(edited("closure.bpmn", loop_back)) if p.rule == "end_event"]
    assert [(p.element_id, p.severity) for p in found] == [("asb_closure", "error")]
    assert found[0].message == "No end event can be reached from the start, so this never finishes."


def test_an_element_nothing_leads_to():
    def orphan(root):
        flow = one(root, "//bpmn:sequenceFlow[@id='Flow_closure_started_close_case']")
        flow.set("targetRef", "record_closure")

    xml = edited("closure.bpmn", orphan)
    p = problem(xml, "reachable")
    assert (p.element_id, p.element_type) == ("close_case", "UserTask")
    assert p.message == "Nothing leads here from a start event, so this can never happen."


# -- any file, from any tool ------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CONFORMANCE.glob("*.bpmn")), ids=lambda p: p.name)
def test_every_conformance_file_gets_a_report_with_each_problem_on_one_of_its_elements(path):
    raw = path.read_bytes()
    ids = {el.get("id") for el in etree.fromstring(raw).iter() if isinstance(el.tag, str)}
    problems = check(raw)
    assert problems, "another tool's file should not run here unchanged"
    for p in problems:
        assert p.element_id in ids and p.rule in RULES and p.message.endswith((".", "?")), p


def test_the_engine_rules_run_without_any_product_knowledge():
    problems = validate_bpmn((BPMN_DIR / "asb_case.bpmn").read_bytes(), ValidationContext())
    assert {p.rule for p in problems} == {"called_process_exists"}  # nothing else is known
    assert problems[0].as_dict() == {
        "element_id": "call_intake",
        "element_type": "CallActivity",
        "message": problems[0].message,
        "rule": "called_process_exists",
        "severity": "error",
    }


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def no_database(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ASB_INSTANCE", str(tmp_path / "instance"))


def test_validate_prints_every_problem_as_file_element_type_message(tmp_path, no_database):
    broken = tmp_path / "closure.bpmn"
    broken.write_bytes(
        edited(
            "closure.bpmn",
            set_attr(
                "//spiffworkflow:serviceTaskOperator[@id='notify.closure']", "id", "notify.closur"
            ),
        )
    )
    result = CliRunner().invoke(main, ["diagrams", "validate", str(broken)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert (
        f"{broken}: notify_closure (ServiceTask): The service task calls 'notify.closur', "
        "which the system does not provide. Did you mean 'notify.closure'?" in lines
    )
    assert (
        f"{broken}: asb_closure (Process): The process never has the closure notice "
        "(notify.closure), but the service commitment promises to keep the reporter "
        "informed, closure included." in lines
    )
    assert not (tmp_path / "instance").exists()  # checking created no database


def test_validate_accepts_a_shipped_diagram_and_says_it_can_run(no_database):
    result = CliRunner().invoke(main, ["diagrams", "validate", str(BPMN_DIR / "triage.bpmn")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        line for line in result.stdout.splitlines() if ": can run (content " in line
    ]
    assert {line.split(":")[0] for line in result.stdout.splitlines()} == {
        "asb_triage",
        "asb_risk_assessment",
    }


def test_validate_prints_warnings_but_does_not_fail_on_them(tmp_path, no_database):
    drawn = tmp_path / "closure.bpmn"
    drawn.write_bytes(edited("closure.bpmn", lambda r: remove(r, "//*[@bpmnElement='close_case']")))
    result = CliRunner().invoke(main, ["diagrams", "validate", str(drawn)])
    assert result.exit_code == 0
    assert result.stderr == (
        f"{drawn}: close_case (UserTask): warning: This element has no "
        "place on the drawing, so the editor cannot show it.\n"
    )
    assert result.stdout.startswith("asb_closure: can run")
