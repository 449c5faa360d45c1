"""Read any BPMN 2.0 file safely, say in plain words what this engine can run of it, write it back.

``examine(raw)`` never raises: it lists the file's processes, collaborations and drawn elements
and reports what stops the engine running them: processes not marked executable, element kinds
and settings the engine does not run, code it cannot compile; missing layout and other tools'
settings are warnings. It asks SpiffWorkflow's own parser what it refuses, one refusal at a
time: after each, the offending element is swapped, in a private copy, for a plain one so the
rest of the file is still read. ``DefinitionsFile.export`` writes a parsed file back in its own
encoding and prolog with every element, attribute, comment and layout kept (``set_attribute``
edits one attribute that way). The words are in engine/interchange_words.py, the reading and
writing of the file in engine/interchange_file.py; both are re-exported here.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Iterator

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.data_spec import BpmnDataStoreSpecification
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from .definitions import Specs, check_specs
from .interchange_file import (
    BPMN,
    BPMNDI,
    MAX_BYTES,
    DefinitionsFile,
    NotBpmn,
    element_by_id,
    export_definitions,
    set_attribute,
    xml_parser,
)
from .interchange_words import (
    SAY,
    WORDING,
    WORDS,
    Element,
    Finding,
    ProcessSummary,
    Report,
    plain_words,
)
from .sandbox import UnsafeCode, check_code

__all__ = [  # the words and the file are re-exported: this stays the one import
    "ACTIVITIES", "BPMN", "BPMNDI", "CHOOSING", "DRAWN", "EVENTS", "FLOW_NODES", "GATEWAYS",
    "ISO_TIMER", "MAX_BYTES", "MAX_ROUNDS", "PYTHON", "SAY", "SPIFF", "STANDARD", "TASKS",
    "TIMERS", "WORDING", "WORDS", "DefinitionsFile", "Element", "Finding", "NotBpmn",
    "ProcessSummary", "Report", "examine", "export_definitions", "plain_words", "set_attribute",
    "xml_parser",
]

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MAX_ROUNDS = 50  # re-reads of the file after a refusal; each costs one full parse
PYTHON = ("python", "python3", "text/x-python", "text/python", "application/x-python")
# Namespaces of the standard (model, layout, colours, schema instance) and of our own engine.
STANDARD = {
    BPMN,
    BPMNDI,
    "http://www.w3.org/2001/XMLSchema-instance",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
    "http://www.w3.org/XML/1998/namespace",
    "http://www.omg.org/spec/BPMN/non-normative/color/1.0",
    "http://bpmn.io/schema/bpmn/biocolor/1.0",
    SPIFF,
}
GATEWAYS = {f"{g}Gateway" for g in ("exclusive", "inclusive", "parallel", "eventBased", "complex")}
EVENTS = {
    f"{e}Event" for e in ("start", "end", "boundary", "intermediateCatch", "intermediateThrow")
}
TASKS = {f"{t}Task" for t in ("user", "manual", "service", "script", "businessRule", "send")}
ACTIVITIES = {"task", "receiveTask", "callActivity", "subProcess", "adHocSubProcess", "transaction"}
FLOW_NODES = GATEWAYS | EVENTS | TASKS | ACTIVITIES
DRAWN = FLOW_NODES | {"sequenceFlow", "messageFlow", "association", "participant", "lane"}
DRAWN |= {"textAnnotation", "group", "dataObjectReference", "dataStoreReference"}
TIMERS = ("timeDate", "timeDuration", "timeCycle")
CHOOSING = ("exclusiveGateway", "inclusiveGateway")  # whose flows need conditions or a default
ISO_TIMER = re.compile(r"^(R\d*/)?(P(\d|T)[\dYMWDTHS.,]*|\d{4}-\d\d-\d\d(T[\d:.]+)?\S*)$")


# -- what the file holds ---------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _bpmn(root: etree._Element, name: str) -> Iterator[etree._Element]:
    yield from root.iter(f"{{{BPMN}}}{name}")


def _said(text: str | None, limit: int = 60) -> str:
    words = " ".join((text or "").split())
    return words if len(words) <= limit else words[: limit - 3] + "..."


def _some(names: list[str], most: int) -> str:
    return ", ".join(names[:most]) + (" ..." if len(names) > most else "")


def _finding(element: etree._Element, key: str, *args: object, severity: str = "error") -> Finding:
    kind = f"bpmn:{_local(element)}"
    return Finding(str(element.get("id", "")), kind, SAY[key].format(*args), severity, key)


def _inventory(root: etree._Element) -> list[Element]:
    shapes = root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge")
    drawn = {shape.get("bpmnElement") for shape in shapes}
    found = []
    for e in root.iter(f"{{{BPMN}}}*"):
        if e.get("id") and _local(e) in DRAWN:
            owners = e.iterancestors(f"{{{BPMN}}}process", f"{{{BPMN}}}collaboration")
            owner = next((str(o.get("id", "")) for o in owners), "")
            name = _said(e.get("name"), 200)
            found.append(Element(str(e.get("id")), _local(e), name, owner, e.get("id") in drawn))
    return found


def _vendor_findings(root: etree._Element) -> list[Finding]:
    """One warning per other tool's (or standard's) namespace used outside the layout."""
    used: dict[str, set[str]] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and not element.tag.startswith(f"{{{BPMNDI}}}"):
            for name in (element.tag, *map(str, element.attrib)):
                namespace = etree.QName(name).namespace
                if namespace and namespace not in STANDARD:
                    used.setdefault(namespace, set()).add(etree.QName(name).localname)
    return [
        _finding(root, "vendor", namespace, _some(sorted(names), 5), severity="warning")
        for namespace, names in sorted(used.items())
    ]


# -- what the engine cannot run ----------------------------------------------------------------


def _static_findings(root: etree._Element, elsewhere: set[str]) -> list[Finding]:
    """What SpiffWorkflow would accept silently (and run wrongly) or can only see later."""
    found: list[Finding] = []
    known = SpiffBpmnParser()._get_parser_class
    process_ids = {p.get("id") for p in _bpmn(root, "process")} | elsewhere
    choices = {g.get("id"): g for g in root.iter(*(f"{{{BPMN}}}{g}" for g in CHOOSING))}
    leaving = Counter(f.get("sourceRef") for f in _bpmn(root, "sequenceFlow"))
    for node in root.iter(f"{{{BPMN}}}*"):
        kind, text = _local(node), (node.text or "").strip()
        owner = node.getparent() if node.getparent() is not None else node
        if kind in FLOW_NODES and known(node.tag) == (None, None):
            found.append(_finding(node, "unsupported", kind))
        elif kind in ("compensateEventDefinition", "linkEventDefinition", "eventDefinitionRef"):
            found.append(_finding(owner, kind))
        elif (
            kind == "serviceTask"
            and next(node.iter(f"{{{SPIFF}}}serviceTaskOperator"), None) is None
        ):
            found.append(_finding(node, "operator"))
        elif (
            kind == "sequenceFlow"
            and leaving[node.get("sourceRef")] > 1
            and node.get("sourceRef") in choices
            and choices[node.get("sourceRef")].get("default") != node.get("id")
            and node.find(f"{{{BPMN}}}conditionExpression") is None
        ):
            found.append(_finding(node, "unconditioned"))
        elif kind == "callActivity" and node.get("calledElement") not in process_ids | {None}:
            found.append(_finding(node, "call", node.get("calledElement")))
        elif kind == "scriptTask" and (node.get("scriptFormat") or "python").lower() not in PYTHON:
            found.append(_finding(node, "script", node.get("scriptFormat")))
        elif kind in TIMERS and ISO_TIMER.match(text):
            events = (f"{{{BPMN}}}{e}" for e in EVENTS)
            found.append(_finding(next(node.iterancestors(*events), owner), "timer", text))
        elif kind == "dataStore":
            found.append(_finding(node, "store", _said(node.get("name")) or node.get("id")))
        elif kind == "conditionExpression" and _local(owner) == "sequenceFlow" and text:
            try:
                check_code(text, "eval")
            except UnsafeCode as exc:
                found.append(_finding(owner, "condition", _said(text), exc.message))
    return found


class _AnyDataStore(BpmnDataStoreSpecification):
    """Stands in for every data store while reading, so one missing store hides nothing else."""


class _Stores(dict[str, type]):
    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> type:
        return _AnyDataStore


class _Parser(SpiffBpmnParser):
    DATA_STORE_CLASSES = _Stores()


def _replace(element: etree._Element) -> bool:
    """Swap an element for a plain one the parser accepts; False when nothing is left to do."""
    kind, parent = _local(element), element.getparent()
    if parent is None or kind in ("process", "definitions"):
        return False
    if kind == "sequenceFlow":
        if element.find(f"{{{BPMN}}}conditionExpression") is not None:
            return False
        etree.SubElement(element, f"{{{BPMN}}}conditionExpression").text = "True"
        return True
    if kind == "boundaryEvent" or kind not in FLOW_NODES:
        parent.remove(element)
        return True
    flows = [c for c in element if _local(c) in ("incoming", "outgoing")]
    many = max(sum(_local(c) == side for c in flows) for side in ("incoming", "outgoing")) > 1
    plain = kind if kind in EVENTS else "parallelGateway" if many or kind in GATEWAYS else "task"
    if plain == kind and len(element) == len(flows):
        return False
    swap = etree.Element(f"{{{BPMN}}}{plain}", id=str(element.get("id")))
    swap.extend(flows)
    parent.replace(element, swap)
    return True


def _refusal(exc: Exception, pid: str, kinds: dict[str, str]) -> Finding:
    refused = getattr(exc, "id", "") if isinstance(exc, ValidationException) else ""
    element_id = str(refused or pid)
    if element_id not in kinds and pid:  # in a companion file, in a process this one calls
        words = plain_words(exc, "element")
        return Finding(pid, "bpmn:process", SAY["elsewhere"].format(element_id, words), rule="call")
    kind = kinds.get(element_id, "file")
    return Finding(element_id, kind, plain_words(exc, kind))


def _companions(root: etree._Element, others: list[etree._Element]) -> Iterator[_Parser]:
    """Fresh parsers, each already holding the companion files that read without a refusal."""
    own = {p.get("id") for p in _bpmn(root, "process")}
    usable = []
    for other in others:  # a companion defining one of the file's own processes is left out
        if not own & {p.get("id") for p in _bpmn(other, "process")}:
            try:
                _add(_Parser(), other)
            except Exception:  # noqa: S112 - a broken companion only resolves nothing # nosec B112
                continue
            usable.append(other)
    while True:
        parser = _Parser()
        for other in usable:
            _add(parser, other)
        yield parser


def _add(parser: _Parser, document: etree._Element) -> None:
    if etree.QName(document).namespace == BPMN:
        parser.add_bpmn_xml(document, filename=f"{document.get('id')}.bpmn")
    else:
        parser.add_dmn_xml(document, filename=f"{document.get('id')}.dmn")


def _spiff_findings(
    work: etree._Element, kinds: dict[str, str], seen: set[str], parsers: Iterator[_Parser]
) -> tuple[list[Finding], dict[str, Specs]]:
    """Ask SpiffWorkflow, again and again, what it refuses; return findings and parsed specs."""
    findings: list[Finding] = []
    failed: set[str] = set()
    process_ids = [str(p.get("id")) for p in _bpmn(work, "process") if p.get("id")]
    for process in _bpmn(work, "process"):
        process.set("isExecutable", "true")  # to say what else would stop the unmarked ones
    for _round in range(MAX_ROUNDS):
        parser, specs = next(parsers), {}
        try:
            parser.add_bpmn_xml(work, filename="upload.bpmn")
        except Exception as exc:  # any refusal is reported, never raised
            return [*findings, _refusal(exc, "", kinds)], {}
        refusal: tuple[str, Exception] | None = None
        for pid in (p for p in process_ids if p not in failed):
            try:
                spec = parser.get_spec(pid)
                subs = parser.get_subprocess_specs(pid, require_call_activity_specs=False)
            except Exception as refused:  # reported in words below
                refusal = (pid, refused)
                break
            specs[pid] = (spec, {k: v for k, v in subs.items() if v is not None})
        if refusal is None:
            return findings, specs
        pid, error = refusal
        finding = _refusal(error, pid, kinds)
        if finding.element_id not in seen:
            findings.append(finding)
            seen.add(finding.element_id)
        target = element_by_id(work, str(getattr(error, "id", "") or ""))
        if target is None or not _replace(target):
            failed.add(pid)
    stop = Finding(
        "", "file", f"Reading stopped after {MAX_ROUNDS} refusals: fix these first.", rule="file"
    )
    return [*findings, stop], {}


def _engine_findings(
    root: etree._Element, flagged: set[str], others: list[etree._Element]
) -> tuple[list[Finding], set[str]]:
    """SpiffWorkflow's refusals and the sandbox's verdict on the code; the processes it read."""
    kinds = {str(e.get("id")): f"bpmn:{_local(e)}" for e in root.iter() if e.get("id")}
    work = copy.deepcopy(root)
    for element in list(work.iter(f"{{{BPMN}}}*")):
        if element.get("id") in flagged and _local(element) in FLOW_NODES | {"sequenceFlow"}:
            _replace(element)
    try:
        found, specs = _spiff_findings(work, kinds, set(flagged), _companions(root, others))
        for pair in specs.values():
            for p in check_specs(pair):
                kind = kinds.get(p["element_id"], "file")
                if not kind.endswith("Gateway"):  # conditions are checked on their flows
                    words = SAY["code"].format(p["message"])
                    found.append(Finding(p["element_id"], kind, words, rule="code"))
    except Exception as exc:  # the report must always come back
        return [Finding("", "file", plain_words(exc, "file"), rule="file")], set()
    return found, set(specs)


def _process_findings(process: etree._Element, own: list[Element]) -> list[Finding]:
    found = []
    if process.get("isExecutable", "false").strip().lower() != "true":
        found.append(_finding(process, "not-executable"))
    bare = [e.id for e in own if not e.laid_out]
    if own and len(bare) == len(own):
        found.append(_finding(process, "no-layout", severity="warning"))
    elif bare:
        found.append(
            _finding(process, "some-layout", len(bare), _some(bare, 6), severity="warning")
        )
    return found


def examine(raw: bytes, companions: Iterable[bytes] = ()) -> Report:
    """Report what a BPMN file defines and what stops this engine running it; never raises.

    ``companions`` are other BPMN or DMN files it is imported with: the processes it calls and
    the decision tables it uses may be defined there.
    """
    try:
        root = DefinitionsFile.read(raw).root
    except NotBpmn as exc:
        unreadable = Finding("", "file", f"This is not a BPMN file: {exc}.", rule="file")
        return Report(False, findings=(unreadable,))
    others = []
    for other in companions:
        try:
            others.append(etree.fromstring(other, parser=xml_parser()))
        except etree.XMLSyntaxError:
            continue
    elsewhere = {str(p.get("id")) for other in others for p in _bpmn(other, "process")}
    elements = _inventory(root)
    findings = _static_findings(root, elsewhere)
    engine, parsed = _engine_findings(root, {f.element_id for f in findings}, others)
    findings.extend(engine)
    summaries = []
    for process in _bpmn(root, "process"):
        pid = str(process.get("id", ""))
        own = [e for e in elements if e.process_id == pid]
        findings.extend(_process_findings(process, own))
        inside = {e.id for e in own} | {pid}
        runs = pid in parsed and not any(
            f.severity == "error" and f.element_id in inside for f in findings
        )
        marked = process.get("isExecutable", "").strip().lower() == "true"
        bare = tuple(e.id for e in own if not e.laid_out)
        name = _said(process.get("name"), 200)
        summaries.append(ProcessSummary(pid, name, marked, len(own), bare, runs))
    collaborations = tuple(str(c.get("id", "")) for c in _bpmn(root, "collaboration"))
    if not summaries:
        only = "a collaboration" if collaborations else "other definitions"
        findings.append(_finding(root, "no-process", only))
    findings.extend(_vendor_findings(root))
    return Report(
        True, tuple(summaries), collaborations, tuple(elements), tuple(dict.fromkeys(findings))
    )
