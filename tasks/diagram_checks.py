"""The product's diagram checks: the engine's rules with what this system offers, and its promises.

``check_diagram`` answers the editor, the API's drafts and ``asb diagrams validate``: the
engine's rules (engine/validation.py) given this product's operations, forms, roles, processes,
decisions, helpers and process data (read from the shipped folder into an ``Offer``), then the
policy checks. A policy check applies when the diagram defines one of the shipped processes that
carries a promise of the service commitment (DOMAIN.md): the promises are in
tasks/diagram_promises.py, the first-contact deadline against the council's policy in
tasks/diagram_deadlines.py, both re-exported here; docs/diagram-rules.md explains every rule and
policy to process owners.
"""

from __future__ import annotations

import ast
import functools
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.people import Role
from engine.forms import load_directory as load_forms
from engine.models import DefinitionVersion
from engine.validation import (
    Diagram,
    DiagramUnreadable,
    Element,
    Problem,
    ValidationContext,
    decision_outputs,
    expressions,
    in_file_order,
    local,
    names_written,
    read_bpmn,
    validate_diagram,
)

from .diagram_deadlines import (
    LONDON,
    SAMPLES,
    Sample,
    first_contact_deadlines,
    policy_deadlines,
)
from .diagram_promises import (
    CASE_REVIEW,
    CLOSURE,
    COMMITMENT,
    COMPLAINT,
    FIRST_CONTACT,
    OFFICER,
    PROMISES,
    SAFEGUARDING,
    Listens,
    OnEveryPath,
    Target,
    calls,
    contains,
    has_form,
    may_take,
    passing,
    read_names,
    runs,
)
from .handlers import load_all
from .registry import handlers
from .wiring import DIAGRAM_GLOBALS

__all__ = [  # the promises and deadlines are re-exported: this stays the one import
    "CASE_REVIEW", "CLOSURE", "COMMITMENT", "COMPLAINT", "FIRST_CONTACT", "LONDON", "OFFICER",
    "POLICY_RULES", "PROMISES", "ROLES", "SAFEGUARDING", "SAFE_XML", "SAMPLES", "Listens", "Offer",
    "OnEveryPath", "Sample", "Target", "calls", "check_diagram", "contains",
    "first_contact_deadlines", "handler_data_names", "has_form", "may_take", "passing",
    "policy_deadlines", "policy_problems", "published_processes", "runs", "shipped_offer",
    "validation_context",
]

POLICY_RULES: dict[str, str] = {
    "first_contact_deadline": "first contact is made by a deadline no later than the council's "
    "policy, and a missed deadline is escalated",
    "safeguarding_referral": "a case with the safeguarding flag set always gets its "
    "safeguarding referral",
    "officer_named": "the reporter is told who their case officer is",
    "told_at_closure": "the reporter is told when the case is closed",
    "case_review_available": "the reporter can apply for an ASB Case Review and is told the "
    "decision",
    "complaint_available": "the reporter can make a complaint while the case is open",
}
ROLES = frozenset(role.value for role in Role)
SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(frozen=True)
class Offer:
    """What the shipped folder offers diagrams; read again only when a file there changes."""

    processes: frozenset[str]
    forms: Mapping[str, Any]
    decisions: Mapping[str, frozenset[str]]
    dmn: Mapping[str, Element]
    data_names: frozenset[str]
    messages: frozenset[str]


_offers: dict[Path, tuple[tuple[Any, ...], Offer]] = {}
_lock = threading.Lock()


def _signature(bpmn_dir: Path) -> tuple[Any, ...]:
    found = sorted(p for p in bpmn_dir.rglob("*") if p.suffix in (".bpmn", ".dmn", ".json"))
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in found)


def shipped_offer(bpmn_dir: Path) -> Offer:
    """The processes, forms, decisions, data names and messages of the shipped diagrams."""
    key, signature = bpmn_dir.resolve(), _signature(bpmn_dir)
    with _lock:
        hit = _offers.get(key)
    if hit is not None and hit[0] == signature:
        return hit[1]
    offer = _read_offer(bpmn_dir)
    with _lock:
        _offers[key] = (signature, offer)
    return offer


def _read_offer(bpmn_dir: Path) -> Offer:
    forms = load_forms(bpmn_dir / "forms")
    decisions: dict[str, frozenset[str]] = {}
    dmn: dict[str, Element] = {}
    names: set[str] = set()
    for path in sorted(bpmn_dir.rglob("*.dmn")):
        try:
            root = etree.fromstring(path.read_bytes(), parser=SAFE_XML)
        except etree.XMLSyntaxError:
            continue
        for decision, outputs in decision_outputs(root).items():
            decisions[decision], dmn[decision] = outputs, root
            names |= outputs
        for text in root.iter("{*}inputExpression"):
            names |= read_names("".join(text.itertext()).strip(), "eval")
    base = ValidationContext(forms=forms, decisions=decisions)
    processes: set[str] = set()
    messages: set[str] = set()
    for path in sorted(bpmn_dir.rglob("*.bpmn")):
        try:
            diagram = Diagram(read_bpmn(path.read_bytes()))
        except DiagramUnreadable:
            continue
        processes.update(diagram.process_ids())
        messages.update(diagram.messages.values())
        names |= names_written(diagram, base)
        for _el, _what, source, mode in expressions(diagram):
            names |= read_names(source, mode)
    for schema in forms.values():
        names.update(schema.get("properties", {}) if isinstance(schema, dict) else {})
    return Offer(
        frozenset(processes),
        forms,
        decisions,
        dmn,
        frozenset(names | handler_data_names()),
        frozenset(messages),
    )


def _is_data(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "data"


def _keys(node: ast.AST | None) -> set[str]:
    if isinstance(node, ast.Dict):
        return {
            k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
        }
    return {node.value} if isinstance(node, ast.Constant) and isinstance(node.value, str) else set()


@functools.cache
def handler_data_names() -> frozenset[str]:
    """Process data the handlers read or write (``ctx.data[...]``) or processes start with."""
    names: set[str] = set()
    for path in Path(__file__).parent.rglob("*.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and _is_data(node.value):
                names |= _keys(node.slice)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and _is_data(node.func.value)
            ):
                names |= _keys(node.args[0] if node.args else None)
                names.update(k.arg for k in node.keywords if k.arg)
            elif isinstance(node, ast.FunctionDef) and "start_data" in node.name:
                names.update(*(_keys(sub) for sub in ast.walk(node) if isinstance(sub, ast.Dict)))
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in (
                "start",
                "start_process",
            ):
                names |= {k for arg in node.args for k in _keys(arg) if isinstance(arg, ast.Dict)}
    return frozenset(names)


def published_processes(session: Session | None) -> frozenset[str]:
    """Ids of processes with a published version in the database."""
    if session is None:
        return frozenset()
    return frozenset(
        session.scalars(
            select(DefinitionVersion.process_id)
            .where(DefinitionVersion.published.is_(True))
            .distinct()
        )
    )


def validation_context(
    session: Session | None,
    bpmn_dir: Path,
    *,
    forms: Mapping[str, Any] | None = None,
    others: Mapping[str, bytes] | None = None,
) -> ValidationContext:
    """The engine's rules' view of this product (``others``: files checked together)."""
    load_all()
    offer = shipped_offer(bpmn_dir)
    processes = set(offer.processes | published_processes(session))
    decisions, dmn = dict(offer.decisions), dict(offer.dmn)
    for raw in (others or {}).values():
        try:
            root = etree.fromstring(raw, parser=SAFE_XML)
        except etree.XMLSyntaxError:
            continue
        processes.update(p.get("id") for p in root.iter("{*}process") if p.get("id"))
        decisions.update(decision_outputs(root))
        dmn.update(dict.fromkeys(decision_outputs(root), root))
    return ValidationContext(
        operators=handlers.operators(),
        forms={**offer.forms, **(forms or {})},
        roles=ROLES,
        processes=frozenset(processes),
        decisions=decisions,
        dmn=dmn,
        helpers=frozenset(DIAGRAM_GLOBALS),
        data_names=offer.data_names,
        messages=offer.messages,
    )


def check_diagram(
    session: Session | None,
    xml: bytes,
    *,
    bpmn_dir: Path,
    forms: Mapping[str, Any] | None = None,
    others: Mapping[str, bytes] | None = None,
) -> list[Problem]:
    """Every problem of a BPMN file here: the engine's rules, then the promises it must keep."""
    try:
        diagram = Diagram(read_bpmn(xml))
    except DiagramUnreadable as exc:
        return [exc.problem]
    ctx = validation_context(session, bpmn_dir, forms=forms, others=others)
    found = validate_diagram(diagram, ctx) + policy_problems(session, diagram)
    return in_file_order(diagram, found)


def policy_problems(session: Session | None, diagram: Diagram | bytes) -> list[Problem]:
    """The promises a diagram breaks, for each shipped process with a promise it defines."""
    d = diagram if isinstance(diagram, Diagram) else Diagram(read_bpmn(diagram))
    problems: list[Problem] = []
    for scope in d.scopes:
        pid = scope.element.get("id")
        if local(scope.element) != "process" or pid not in PROMISES:
            continue
        for promise in PROMISES[pid]:
            problems.extend(promise.check(d, scope))
        if pid == "asb_first_contact":
            problems.extend(first_contact_deadlines(session, d, scope, has_form("first_contact")))
    return problems
