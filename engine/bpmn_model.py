"""The BPMN reading model the diagram rules share: a file read once, and the code it holds.

``read_bpmn`` parses the bytes safely (or raises ``DiagramUnreadable``); ``Diagram`` indexes
the document once (elements by id, lanes, what is drawn) and ``Scope`` is one process or
subprocess with its flows and boundary events, answering what can be reached and which ends a
run can finish at without passing a step. ``expressions``, ``code_names`` and ``names_written``
find the code a diagram holds and the process data it reads and writes. ``Problem`` and
``ValidationContext`` are the values every rule exchanges; ``problem_at`` and ``suggestion``
word a problem on an element. Nothing here knows the product.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .handlers import OperatorParams

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MAX_BYTES = 5 * 1024 * 1024
Element = Any  # lxml ships no type information
ERROR, WARNING = "error", "warning"

EVENTS = ("start", "end", "intermediateThrow", "intermediateCatch", "boundary")
GATEWAYS = ("exclusive", "parallel", "inclusive", "eventBased", "complex")
TASKS = ("user", "service", "businessRule", "script", "manual", "send", "receive")
FLOW_NODES = frozenset(
    {f"{e}Event" for e in EVENTS} | {f"{g}Gateway" for g in GATEWAYS} | {f"{t}Task" for t in TASKS}
) | {"task", "callActivity", "subProcess", "transaction", "adHocSubProcess"}
SCOPE_TAGS = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})


@dataclass(frozen=True)
class Problem:
    """Something wrong with one element of a diagram, in words a process owner understands."""

    element_id: str
    element_type: str
    message: str
    rule: str
    severity: str = ERROR

    def as_dict(self) -> dict[str, str]:
        """The problem as the API and the editor show it."""
        return {
            "element_id": self.element_id,
            "element_type": self.element_type,
            "message": self.message,
            "rule": self.rule,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class ValidationContext:
    """What the system offers diagrams; ``None`` leaves the matching check out."""

    operators: Mapping[str, OperatorParams] | None = None
    forms: Mapping[str, Any] | None = None
    roles: frozenset[str] | None = None
    processes: frozenset[str] = frozenset()  # callable besides the file's own
    decisions: Mapping[str, frozenset[str]] | None = None  # decision id -> its output names
    dmn: Mapping[str, Element] = field(default_factory=dict)  # decision id -> DMN document
    helpers: frozenset[str] = frozenset()  # functions every expression may call
    data_names: frozenset[str] | None = None  # process data a diagram may read
    messages: frozenset[str] | None = None  # message names something sends


class DiagramUnreadable(ValueError):
    """The bytes are not a BPMN document at all; ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def local(el: Element) -> str:
    """The local name of an element's tag ('' for comments and processing instructions)."""
    tag = el.tag
    return tag[tag.rfind("}") + 1 :] if isinstance(tag, str) else ""


def kind(el: Element) -> str:
    """The element type as problems name it: ``UserTask``, ``SequenceFlow``, ``Lane``."""
    name = local(el)
    return name[:1].upper() + name[1:]


def label(el: Element) -> str:
    """How a message names an element: its name, else its id."""
    return f"'{(el.get('name') or el.get('id') or '').strip()}'"


def spiff_props(el: Element) -> dict[str, str]:
    """The ``spiffworkflow:properties`` of a task (form, due, assignee)."""
    return {
        p.get("name"): p.get("value", "")
        for p in el.iterfind(
            f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties/{{{SPIFF}}}property"
        )
    }


def spiff_text(el: Element, name: str) -> str | None:
    """The text of a ``spiffworkflow:<name>`` extension of an element, if any."""
    found = el.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}{name}")
    return (found.text or "").strip() if found is not None else None


def read_bpmn(xml: bytes) -> Element:
    """Parse BPMN bytes safely (no entities, no network, no DTD) or raise DiagramUnreadable."""
    if len(xml) > MAX_BYTES:
        raise DiagramUnreadable(Problem("file", "File", "The file is larger than 5 MB.", "parse"))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(xml, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise DiagramUnreadable(
            Problem(
                "file",
                "File",
                f"The file is not well-formed XML ({exc.msg}, line {exc.lineno}).",
                "parse",
            )
        ) from None
    if root.tag != f"{{{BPMN}}}definitions":
        raise DiagramUnreadable(
            Problem(
                "file",
                "File",
                "The file is not a BPMN diagram (its root must be BPMN 'definitions').",
                "parse",
            )
        )
    return root


class Scope:
    """A process or subprocess: its own flow nodes, sequence flows and boundary events."""

    def __init__(self, element: Element) -> None:
        self.element = element
        self.nodes = [c for c in element if local(c) in FLOW_NODES]
        self.flows = [c for c in element if local(c) == "sequenceFlow"]
        self.out: dict[str, list[Element]] = {}
        for flow in self.flows:
            self.out.setdefault(flow.get("sourceRef", ""), []).append(flow)
        self.attached: dict[str, list[Element]] = {}
        for node in self.nodes:
            if local(node) == "boundaryEvent":
                self.attached.setdefault(node.get("attachedToRef", ""), []).append(node)
        self.by_id = {n.get("id"): n for n in self.nodes}

    @property
    def event_triggered(self) -> bool:
        """True for an event subprocess."""
        return bool(self.element.get("triggeredByEvent") == "true")

    def starts(self) -> list[Element]:
        """The start events of this scope."""
        return [n for n in self.nodes if local(n) == "startEvent"]

    def entries(self) -> list[Element]:
        """Where tokens appear: start events and event subprocesses."""
        return self.starts() + [n for n in self.nodes if n.get("triggeredByEvent") == "true"]

    def next_nodes(
        self,
        node: Element,
        taken: Callable[[Element], bool] | None = None,
        side_branches: bool = True,
    ) -> Iterator[Element]:
        """Nodes a token may move to after ``node`` (by flows ``taken`` allows, or boundaries)."""
        for flow in self.out.get(node.get("id"), []):
            target = self.by_id.get(flow.get("targetRef"))
            if target is not None and (taken is None or taken(flow)):
                yield target
        for event in self.attached.get(node.get("id"), []):
            if side_branches or event.get("cancelActivity", "true") != "false":
                yield event

    def reachable(
        self,
        entries: Iterable[Element],
        taken: Callable[[Element], bool] | None = None,
        side_branches: bool = True,
    ) -> set[str]:
        """Ids of the nodes reachable from ``entries``."""
        todo = list(entries)
        seen = {n.get("id") for n in todo}
        while todo:
            for nxt in self.next_nodes(todo.pop(), taken, side_branches):
                if nxt.get("id") not in seen:
                    seen.add(nxt.get("id"))
                    todo.append(nxt)
        return seen

    def ends_without(
        self, passes: Callable[[Element], bool], taken: Callable[[Element], bool] | None = None
    ) -> list[Element]:
        """End events a run can finish at without passing a node for which ``passes`` is true.

        A token can only pass a parallel join with all its branches, so one covered branch
        covers the join. Branches of non-interrupting boundary events run beside the main
        path: they escape only by a terminate end event.
        """
        found: list[Element] = []
        for side in (False, True):
            covered = self._covered(passes, taken, side)
            for node_id, ok in covered.items():
                node = self.by_id[node_id]
                terminate = node.find(f"{{{BPMN}}}terminateEventDefinition") is not None
                if (
                    local(node) == "endEvent"
                    and not ok
                    and (terminate or not side)
                    and node not in found
                ):
                    found.append(node)
        return found

    def _covered(
        self, passes: Callable[[Element], bool], taken: Callable[[Element], bool] | None, side: bool
    ) -> dict[str, bool]:
        """For each reachable node: whether every token leaving it has passed ``passes``."""
        starts = self.starts()
        ids = self.reachable(starts, taken, side)
        before: dict[str, list[str]] = {i: [] for i in ids}
        for node_id in ids:
            for nxt in self.next_nodes(self.by_id[node_id], taken, side):
                before[nxt.get("id")].append(node_id)
        covered = {i: True for i in ids}
        changed = True
        while changed:
            changed = False
            for node_id in ids:
                node = self.by_id[node_id]
                sources = [covered[s] for s in before[node_id]]
                if node in starts or not sources:
                    value = False
                elif local(node) == "parallelGateway":
                    value = any(sources)
                else:
                    value = all(sources)
                value = value or passes(node)
                if value != covered[node_id]:
                    covered[node_id], changed = value, True
        return covered


class Diagram:
    """A BPMN document read once: elements by id, scopes, lanes and what is laid out."""

    def __init__(self, root: Element) -> None:
        self.root = root
        self.by_id: dict[str, Element] = {}
        self.order: dict[str, int] = {}
        self.duplicates: list[Element] = []
        for position, el in enumerate(root.iter()):
            el_id = (
                el.get("id")
                if isinstance(el.tag, str) and el.tag.startswith(f"{{{BPMN}}}")
                else None
            )
            if el_id and el_id in self.by_id:
                self.duplicates.append(el)
            elif el_id:
                self.by_id[el_id], self.order[el_id] = el, position
        self.processes = root.findall(f"{{{BPMN}}}process")
        self.scopes = [Scope(el) for el in root.iter(*(f"{{{BPMN}}}{t}" for t in SCOPE_TAGS))]
        self.scope_of = {n.get("id"): s for s in self.scopes for n in s.nodes}
        self.lane_of: dict[str, Element] = {}
        for lane in root.iter(f"{{{BPMN}}}lane"):
            for ref in lane.iterfind(f"{{{BPMN}}}flowNodeRef"):
                self.lane_of[(ref.text or "").strip()] = lane
        self.laid_out = {
            el.get("bpmnElement")
            for el in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge")
        }
        self.has_layout = root.find(f".//{{{BPMNDI}}}BPMNDiagram") is not None
        self.messages = {
            m.get("id"): m.get("name") or m.get("id") for m in root.iter(f"{{{BPMN}}}message")
        }

    def process_ids(self, executable_only: bool = False) -> list[str]:
        """Ids of the file's processes (only the executable ones, if asked)."""
        return [
            p.get("id")
            for p in self.processes
            if p.get("id") and (not executable_only or p.get("isExecutable", "").lower() == "true")
        ]

    def lane(self, node: Element) -> Element | None:
        """The lane a task runs in as the engine sees it: the outermost enclosing one wins."""
        chain = [node, *(a for a in node.iterancestors() if local(a) in SCOPE_TAGS - {"process"})]
        for el in reversed(chain):
            if el.get("id") in self.lane_of:
                return self.lane_of[el.get("id")]
        return None

    def flow_nodes(self, *tags: str) -> Iterator[Element]:
        """Every flow node of the file (of the given tags), nested ones included."""
        for scope in self.scopes:
            yield from (n for n in scope.nodes if not tags or local(n) in tags)


def condition_of(flow: Element) -> str | None:
    """The condition text of a sequence flow, or None."""
    cond = flow.find(f"{{{BPMN}}}conditionExpression")
    return None if cond is None else (cond.text or "").strip()


def problem_at(el: Element, message: str, rule: str, severity: str = ERROR) -> Problem:
    """A problem on ``el``, named by its id and element type."""
    return Problem(el.get("id") or "", kind(el), message, rule, severity)


def suggestion(name: str, known: Iterable[str]) -> str:
    """The words naming the closest known name (" Did you mean 'x'?"), or ''."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


Rule = Callable[["Diagram", ValidationContext], Iterator[Problem]]


# -- the code a diagram holds ------------------------------------------------------------------


def expressions(d: Diagram) -> Iterator[tuple[Element, str, str, str]]:
    """Yield (element, what it is, source, compile mode) for every piece of diagram code."""
    for flow in d.root.iter(f"{{{BPMN}}}sequenceFlow"):
        cond = condition_of(flow)
        if cond is not None:
            yield flow, "condition", cond, "eval"
    for el in d.flow_nodes():
        yield from ((el, what, source, "eval") for what, source in _node_expressions(el))
        yield from ((el, "script", source, "exec") for source in _node_scripts(el))


def _node_expressions(el: Element) -> Iterator[tuple[str, str]]:
    b, s = f"{{{BPMN}}}", f"{{{SPIFF}}}"
    found = [
        ("timer", t)
        for t in el.iterfind(f"{b}timerEventDefinition/*")
        if local(t) in ("timeDate", "timeDuration", "timeCycle")
    ]
    found += [("condition", c) for c in el.iterfind(f"{b}conditionalEventDefinition/{b}condition")]
    found += [
        ("loop expression", c)
        for c in el.iterfind(f"{b}*/{b}*")
        if local(c) in ("loopCardinality", "completionCondition", "loopCondition")
    ]
    yield from ((what, (node.text or "").strip()) for what, node in found)
    props = spiff_props(el)
    yield from (
        (f"'{k}' property", props[k]) for k in ("due", "assignee") if props.get(k, "").strip()
    )
    params = el.iterfind(f"{b}extensionElements/{s}serviceTaskOperator/{s}parameters/{s}parameter")
    yield from (
        (f"parameter '{p.get('id')}'", p.get("value")) for p in params if p.get("value") is not None
    )
    if spiff_text(el, "messagePayload"):
        yield "message payload", spiff_text(el, "messagePayload") or ""


def _node_scripts(el: Element) -> Iterator[str]:
    if local(el) == "scriptTask":
        script = el.find(f"{{{BPMN}}}script")
        yield (script.text or "") if script is not None else ""
    yield from (spiff_text(el, k) or "" for k in ("preScript", "postScript") if spiff_text(el, k))


def code_names(source: str, mode: str) -> tuple[set[str], set[str]]:
    """The names code reads without defining them, and the names it defines."""
    tree = ast.parse(source.lstrip(" \t") if mode == "eval" else source, mode=mode)
    read: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read - bound, bound


def names_written(d: Diagram, ctx: ValidationContext) -> set[str]:
    """Process data the diagram itself puts in place: form fields, results, script variables."""
    names: set[str] = set()
    for el in d.root.iter(f"{{{SPIFF}}}serviceTaskOperator"):
        names.add(el.get("resultVariable") or "")
    for el in d.root.iter(f"{{{SPIFF}}}messageVariable"):
        names.add((el.text or "").strip())
    for el in d.root.iter(f"{{{SPIFF}}}calledDecisionId"):
        names.update((ctx.decisions or {}).get((el.text or "").strip(), frozenset()))
    for el in d.root.iter(
        f"{{{BPMN}}}dataObject",
        f"{{{BPMN}}}dataObjectReference",
        f"{{{BPMN}}}inputDataItem",
        f"{{{BPMN}}}outputDataItem",
        f"{{{BPMN}}}dataInput",
        f"{{{BPMN}}}dataOutput",
    ):
        names.update(filter(None, (el.get("id"), el.get("name"))))
    for task in d.flow_nodes("userTask"):
        schema = (ctx.forms or {}).get(spiff_props(task).get("form", ""))
        if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
            names.update(schema["properties"])
    for _el, _what, source, mode in expressions(d):
        if mode == "exec":
            try:
                names.update(code_names(source, mode)[1])
            except (SyntaxError, ValueError, RecursionError):
                continue
    return names - {""}
