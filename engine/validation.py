"""Diagram validation: the rules a BPMN file must pass to run here, each problem on its element.

The XML is read once with lxml (engine/bpmn_model.py); the engine's parser (SpiffWorkflow) reads
that same tree and every rule walks it, so a check is quick enough to run while a diagram is
being edited. This module holds ``RULES``, the rules on processes, tasks, layout and references
(the rules on code are in engine/validation_rules_code.py, those on the flow in
engine/validation_rules_flow.py), ``RULE_FUNCTIONS`` and ``validate_bpmn``; it re-exports the
reading model so ``engine.validation`` stays the one import for its users. Nothing here knows
the product: forms, operations, roles, processes, decisions, helpers and data names come in a
``ValidationContext``. docs/diagram-rules.md explains each rule to process owners.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .bpmn_model import (
    BPMN,
    BPMNDI,
    ERROR,
    EVENTS,
    FLOW_NODES,
    GATEWAYS,
    MAX_BYTES,
    SCOPE_TAGS,
    SPIFF,
    TASKS,
    WARNING,
    Diagram,
    DiagramUnreadable,
    Element,
    Problem,
    Rule,
    Scope,
    ValidationContext,
    code_names,
    condition_of,
    expressions,
    kind,
    label,
    local,
    names_written,
    read_bpmn,
    spiff_props,
    spiff_text,
)
from .bpmn_model import problem_at as _p
from .bpmn_model import suggestion as _suggest
from .forms import check_schema
from .validation_rules_code import check_expressions, check_service_tasks
from .validation_rules_flow import check_gateways, check_paths, check_starts

__all__ = [  # the reading model is re-exported: engine.validation stays the one import
    "BPMN", "BPMNDI", "CATCHING", "ERROR", "EVENTS", "FLOW_NODES", "GATEWAYS", "HUMAN_TASKS",
    "MAX_BYTES", "PYTHON_LANGUAGES", "RULES", "RULE_FUNCTIONS", "SCOPE_TAGS", "SPIFF", "TASKS",
    "UNSUPPORTED", "WARNING", "WHOLE_FILE", "Diagram", "DiagramUnreadable", "Element", "Problem",
    "Rule", "Scope", "ValidationContext", "code_names", "condition_of", "decision_outputs",
    "expressions", "in_file_order", "kind", "label", "local", "names_written", "read_bpmn",
    "spiff_props", "spiff_text", "validate_bpmn", "validate_diagram",
]

RULES: dict[str, str] = {
    "parse": "the engine can read the file",
    "executable": "every process is marked executable",
    "unsupported": "nothing the engine cannot run",
    "user_task_form": "every user task has a form that exists",
    "user_task_lane": "every user task sits in a lane named after a role",
    "service_task_operator": "every service task names an operation the system provides",
    "service_task_parameters": "every service task passes the parameters its operation needs",
    "expression_code": "conditions, timers, scripts, deadlines and assignees are allowed code",
    "expression_names": "expressions use only process data and the helpers",
    "gateway_conditions": "every way out of a decision has a condition, or is the default",
    "layout": "every element, flow and lane has a place on the drawing",
    "message_exists": "message events and tasks name a message that is defined",
    "event_definition_exists": "signal, error and escalation events name one that is defined",
    "called_process_exists": "call activities call a process that exists",
    "decision_exists": "business rule tasks use a decision table that exists",
    "start_event": "every process and subprocess has its start event",
    "end_event": "an end event can be reached",
    "reachable": "every element can be reached from a start event",
}

HUMAN_TASKS = frozenset({"userTask", "manualTask"})
CATCHING = frozenset({"startEvent", "intermediateCatchEvent", "boundaryEvent", "receiveTask"})
UNSUPPORTED = {
    "complexGateway": "The engine cannot run a complex gateway: use an exclusive, inclusive "
    "or parallel gateway instead.",
    "adHocSubProcess": "The engine cannot run an ad-hoc subprocess: draw the order of its "
    "tasks instead.",
    "dataStore": "The engine cannot use a data store: keep the data in the process.",
    "dataStoreReference": "The engine cannot use a data store: keep the data in the process.",
    "compensateEventDefinition": "The engine cannot run compensation events.",
    "linkEventDefinition": "The engine cannot run link events: draw the sequence flow to "
    "where the link leads instead.",
}
PYTHON_LANGUAGES = ("python", "text/x-python")
WHOLE_FILE = "The engine cannot read this diagram: "


# -- the rules ---------------------------------------------------------------------------------


def _executable(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    for proc in d.processes:
        if proc.get("isExecutable", "").lower() != "true":
            yield _p(
                proc,
                "The process is not marked executable, so the engine will not run "
                "it: mark it executable.",
                "executable",
            )
    if not d.processes:
        yield Problem("file", "File", "The file defines no process.", "parse")
    for el in d.duplicates:
        yield _p(
            el, f"Another element already has the id '{el.get('id')}': ids must be unique.", "parse"
        )


def _unsupported(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    for el in d.root.iter(*(f"{{{BPMN}}}{t}" for t in UNSUPPORTED)):
        owner = el.getparent() if local(el).endswith("EventDefinition") else el
        yield _p(owner, UNSUPPORTED[local(el)], "unsupported")
    for el in d.flow_nodes():
        if el.get("isForCompensation") == "true":
            yield _p(el, UNSUPPORTED["compensateEventDefinition"], "unsupported")
        if local(el) == "task":
            yield _p(
                el,
                "This task does nothing when the process runs: make it a user, "
                "service, script or other kind of task.",
                "unsupported",
                WARNING,
            )
        fmt = (el.get("scriptFormat") or "python").lower()
        if local(el) == "scriptTask" and not fmt.startswith(PYTHON_LANGUAGES):
            yield _p(
                el,
                f"The script is written in '{el.get('scriptFormat')}', but the engine "
                "runs Python scripts only.",
                "unsupported",
            )
    for cond in d.root.iter(f"{{{BPMN}}}conditionExpression"):
        lang = cond.get("language")
        if lang and "python" not in lang.lower():
            yield _p(
                cond.getparent(),
                f"The condition is written in '{lang}', but the engine "
                "reads Python expressions only.",
                "unsupported",
            )


@functools.lru_cache(maxsize=512)
def _schema_problem(schema: str) -> str | None:
    """Why a form schema (as JSON text) is unusable, checked once per schema."""
    return check_schema(json.loads(schema))


def _user_tasks(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    bad_lanes: set[str] = set()
    for task in d.flow_nodes(*HUMAN_TASKS):
        key = spiff_props(task).get("form", "").strip()
        if local(task) == "userTask" and not key:
            yield _p(
                task,
                "This user task has no form: set its 'form' property to one of the task forms.",
                "user_task_form",
            )
        elif local(task) == "userTask" and ctx.forms is not None and key not in ctx.forms:
            yield _p(
                task,
                f"The task's form '{key}' does not exist.{_suggest(key, ctx.forms)}",
                "user_task_form",
            )
        elif local(task) == "userTask" and ctx.forms is not None:
            why = _schema_problem(json.dumps(ctx.forms[key], sort_keys=True))
            if why:
                yield _p(task, f"The task's form '{key}' cannot be used: {why}.", "user_task_form")
        lane = d.lane(task)
        roles = ", ".join(sorted(ctx.roles or ()))
        if lane is None:
            yield _p(
                task,
                "This task is in no lane, so nobody would be offered it: put it in "
                f"a lane named after a role{f' ({roles})' if roles else ''}.",
                "user_task_lane",
            )
        elif (
            ctx.roles is not None
            and (lane.get("name") or "") not in ctx.roles
            and lane.get("id") not in bad_lanes
        ):
            bad_lanes.add(lane.get("id"))
            yield _p(
                lane,
                f"The lane {label(lane)} holds tasks but is not a role, so nobody "
                f"would be offered them: name it after one of the roles ({roles}).",
                "user_task_lane",
            )


def _layout(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    if not d.has_layout:
        for proc in d.processes:
            yield _p(
                proc,
                "The file has no drawing (diagram layout), so the editor cannot show it.",
                "layout",
                WARNING,
            )
        return
    elements = [*d.flow_nodes(), *d.root.iter(f"{{{BPMN}}}sequenceFlow", f"{{{BPMN}}}lane")]
    for el in elements:
        if el.get("id") not in d.laid_out:
            yield _p(
                el,
                "This element has no place on the drawing, so the editor cannot show it.",
                "layout",
                WARNING,
            )


def _messages(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    for el in d.flow_nodes():
        is_task = local(el) in ("receiveTask", "sendTask")
        for definition in [el] if is_task else el.iterfind(f"{{{BPMN}}}messageEventDefinition"):
            ref = definition.get("messageRef")
            if not ref:
                yield _p(
                    el,
                    "The element does not say which message it waits for or sends: "
                    "choose a message.",
                    "message_exists",
                )
            elif ref not in d.messages:
                yield _p(el, f"The message '{ref}' is not defined in this file.", "message_exists")
            elif (
                ctx.messages is not None
                and local(el) in CATCHING
                and d.messages[ref] not in ctx.messages
            ):
                yield _p(
                    el,
                    f"Nothing in the system sends the message '{d.messages[ref]}', so "
                    "this would wait for ever.",
                    "message_exists",
                    WARNING,
                )
        for what in ("signal", "error", "escalation"):
            refs = (e.get(f"{what}Ref") for e in el.iterfind(f"{{{BPMN}}}{what}EventDefinition"))
            yield from (
                _p(
                    el,
                    f"The {what} '{ref}' is not defined in this file.",
                    "event_definition_exists",
                )
                for ref in refs
                if ref and local(d.by_id.get(ref, el)) != what
            )


def _calls(d: Diagram, ctx: ValidationContext) -> Iterator[Problem]:
    known = set(d.process_ids()) | ctx.processes
    for el in d.flow_nodes("callActivity"):
        called = (el.get("calledElement") or "").strip()
        if not called:
            yield _p(
                el,
                "The call activity does not say which process it calls.",
                "called_process_exists",
            )
        elif called not in known:
            yield _p(
                el,
                f"The call activity calls the process '{called}', which does not "
                f"exist here.{_suggest(called, known)}",
                "called_process_exists",
            )
    for el in d.flow_nodes("businessRuleTask"):
        decision = spiff_text(el, "calledDecisionId")
        if not decision:
            yield _p(el, "The task does not say which decision table it uses.", "decision_exists")
        elif ctx.decisions is not None and decision not in ctx.decisions:
            yield _p(
                el,
                f"The task uses the decision table '{decision}', which does not exist "
                f"here.{_suggest(decision, ctx.decisions)}",
                "decision_exists",
            )


RULE_FUNCTIONS: tuple[Rule, ...] = (
    _executable,
    _unsupported,
    _user_tasks,
    check_service_tasks,
    check_expressions,
    check_gateways,
    _layout,
    _messages,
    _calls,
    check_starts,
    check_paths,
)


def _engine_parse(d: Diagram, ctx: ValidationContext) -> list[Problem]:
    """What the engine's own parser refuses, as sentences on the elements."""
    parser = SpiffBpmnParser()
    first = d.process_ids()[0] if d.process_ids() else "file"
    wanted = {spiff_text(t, "calledDecisionId") for t in d.flow_nodes("businessRuleTask")}
    added: set[int] = set()
    problems: list[Problem] = []
    pid = first
    try:
        for decision, doc in ctx.dmn.items():
            if decision in wanted and id(doc) not in added:
                added.add(id(doc))
                parser.add_dmn_xml(doc, filename=f"{decision}.dmn")
        parser.add_bpmn_xml(d.root, filename="diagram.bpmn")
    except Exception as exc:  # noqa: BLE001 - the engine's parser fails in many ways
        return [Problem(first, "Process", f"{WHOLE_FILE}{_text(exc)}.", "parse")]
    try:
        for pid in d.process_ids(executable_only=True):
            try:
                parser.get_spec(pid)
            except ValidationException as exc:
                el = d.by_id.get(getattr(exc, "id", "") or pid)
                problems.append(
                    _p(el, f"The engine cannot read this element: {_text(exc)}.", "parse")
                    if el is not None
                    else Problem(pid, "Process", f"{WHOLE_FILE}{_text(exc)}.", "parse")
                )
    except Exception as exc:  # noqa: BLE001 - the engine's parser fails in many ways
        problems.append(Problem(pid, "Process", f"{WHOLE_FILE}{_text(exc)}.", "parse"))
    return problems


def _text(exc: BaseException) -> str:
    return str(exc.args[0] if exc.args else exc).strip().rstrip(".")


def validate_diagram(d: Diagram, ctx: ValidationContext) -> list[Problem]:
    """Every problem of a diagram already read, in the order of the file.

    The engine's parser stops at its first refusal, which is most often one a rule explains
    better: it is shown only when no rule found an error on the same element (or, for a
    refusal of the whole file, no error at all).
    """
    problems = [p for rule in RULE_FUNCTIONS for p in rule(d, ctx)]
    flagged = {p.element_id for p in problems if p.severity == ERROR}
    for refusal in _engine_parse(d, ctx):
        whole = refusal.message.startswith(WHOLE_FILE)
        if refusal.element_id not in flagged and not (whole and flagged):
            problems.append(refusal)
    return in_file_order(d, problems)


def in_file_order(d: Diagram, problems: Iterable[Problem]) -> list[Problem]:
    """Problems sorted by where their element is in the file (the file's own first)."""
    return sorted(problems, key=lambda p: d.order.get(p.element_id, -1))


def validate_bpmn(xml: bytes, ctx: ValidationContext) -> list[Problem]:
    """Every problem of a BPMN file (one on the file itself when it cannot be read at all)."""
    try:
        return validate_diagram(Diagram(read_bpmn(xml)), ctx)
    except DiagramUnreadable as exc:
        return [exc.problem]


def decision_outputs(dmn_root: Element) -> dict[str, frozenset[str]]:
    """The decisions a DMN document defines, each with the names of its outputs."""
    found: dict[str, frozenset[str]] = {}
    for decision in dmn_root.iter("{*}decision"):
        outputs = {o.get("name") for o in decision.iter("{*}output") if o.get("name")}
        found[decision.get("id") or ""] = frozenset(outputs)
    return found
