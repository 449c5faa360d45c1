"""Compare two versions of a process and read the data names their code uses.

``diff_bundles`` lines two parsed spec bundles up with SpiffWorkflow's ``SpecDiff`` (attribute
by attribute, as Spiff's serializer sees them) and lists the elements the newer one adds,
removes and changes, in words a process owner understands (``change_words``, ``spec_label``).
``data_names`` reads every piece of diagram code (``expressions``: scripts, conditions, timers,
service parameters, deadlines and assignees) for the names it reads and the names the steps
set; moving a running case checks the target against them (engine/migration_rules.py). The
names stay importable from ``engine.definitions``, where they used to live.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

if TYPE_CHECKING:
    from .definitions import Specs

__all__ = [
    "CHANGE_WORDS", "SPEC_REGISTRY", "ElementChange", "change_words", "data_names",
    "diff_bundles", "event_data", "expressions", "spec_label",
]


def expressions(spec: BpmnProcessSpec) -> Iterable[tuple[str, str, str, str]]:
    """Yield (element id, element type, source, mode) for every piece of diagram code."""
    for ts in spec.task_specs.values():
        bpmn_id = getattr(ts, "bpmn_id", None) or ts.name
        kind = type(ts).__name__
        script = getattr(ts, "script", None)
        if script:
            yield bpmn_id, kind, script, "exec"
        for attr in ("prescript", "postscript"):
            if getattr(ts, attr, None):
                yield bpmn_id, kind, getattr(ts, attr), "exec"
        for cond, _target in getattr(ts, "cond_task_specs", None) or []:
            text = cond.args[0] if cond is not None and getattr(cond, "args", None) else cond
            if text:
                yield bpmn_id, kind, str(text), "eval"
        event_def = getattr(ts, "event_definition", None)
        if isinstance(event_def, TimerEventDefinition) and event_def.expression:
            yield bpmn_id, kind, event_def.expression, "eval"
        for param in (getattr(ts, "operation_params", None) or {}).values():
            yield bpmn_id, kind, str(param.get("value", "")), "eval"
        props = (getattr(ts, "extensions", None) or {}).get("properties", {})
        for key in ("due", "assignee"):
            if props.get(key):
                yield bpmn_id, kind, props[key], "eval"


# -- comparing two versions ------------------------------------------------------------------

# Compares task specs attribute by attribute (``SpecDiff``), as Spiff's serializer sees them.
SPEC_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
CHANGE_WORDS = {
    "bpmn_name": "label", "documentation": "notes", "outputs": "what follows it",
    "inputs": "what leads to it", "lane": "lane (who does it)", "typename": "kind of step",
    "description": "kind of step", "extensions": "settings (form, deadline, assignee, service)",
    "event_definition": "timer or message", "cond_task_specs": "conditions",
    "default_task_spec": "default path", "script": "script", "prescript": "script before it",
    "postscript": "script after it", "spec": "called process",
    "io_specification": "inputs and outputs", "data_input_associations": "data it reads",
    "data_output_associations": "data it writes",
}


def change_words(key: str) -> str:
    """A changed attribute of a step in words a process owner understands."""
    return CHANGE_WORDS.get(key, key.replace("_", " "))


def spec_label(ts: Any) -> str:
    """What a step is called on the diagram (a helper spec such as a boundary split: its owner)."""
    if getattr(ts, "bpmn_id", None) is None and "." in ts.name:
        owner = ts._wf_spec.task_specs.get(ts.name.rsplit(".", 1)[0])
        if owner is not None and owner is not ts:
            return spec_label(owner)
    return str(getattr(ts, "bpmn_name", None) or getattr(ts, "bpmn_id", None) or ts.name)


def event_data(ts: Any) -> dict[str, Any]:
    """A step's event definition as data, leaving out a timer's name (only its label)."""
    definition = getattr(ts, "event_definition", None)
    if definition is None:
        return {}
    data: dict[str, Any] = dict(SPEC_REGISTRY.convert(definition))
    if isinstance(definition, TimerEventDefinition) or data.get("typename") in (
            "NoneEventDefinition", "TerminateEventDefinition"):
        data.pop("name", None)
    return data


@dataclass(frozen=True)
class ElementChange:
    """An element one version adds, removes or changes against another."""

    element_id: str
    label: str
    kind: str  # Spiff's description, e.g. "User Task", "Non-Interrupting Timer Boundary Event"
    process_id: str
    changes: tuple[str, ...] = ()

    @classmethod
    def of(cls, ts: Any, process_id: str, changes: tuple[str, ...] = ()) -> ElementChange:
        """Describe a task spec."""
        return cls(str(ts.bpmn_id or ts.name), spec_label(ts), str(ts.description or ""),
                   process_id, changes)

    def as_dict(self) -> dict[str, Any]:
        """The change as plain data."""
        return {"element_id": self.element_id, "label": self.label, "kind": self.kind,
                "process_id": self.process_id, "changes": list(self.changes)}


def _change_texts(old: Any, new: Any, keys: list[str]) -> tuple[str, ...]:
    texts = []
    for key in keys:
        if key == "bpmn_name":
            texts.append(f"label ‘{old.bpmn_name or ''}’ → ‘{new.bpmn_name or ''}’")
        elif key == "event_definition" and event_data(old) == event_data(new):
            continue
        else:
            texts.append(change_words(key))
    return tuple(texts)


def diff_bundles(old: Specs, new: Specs
                 ) -> tuple[list[ElementChange], list[ElementChange], list[ElementChange]]:
    """Elements ``new`` adds, removes and changes against ``old``, called processes included."""
    added: list[ElementChange] = []
    removed: list[ElementChange] = []
    changed: list[ElementChange] = []
    for name, spec in new[1].items():
        if name not in old[1]:
            added.append(ElementChange(name, spec.description or name, "Process", name))
    for name, spec in old[1].items():
        if name not in new[1]:
            removed.append(ElementChange(name, spec.description or name, "Process", name))
    pairs = [(old[0], new[0])] + [(old[1][k], new[1][k]) for k in old[1] if k in new[1]]
    for before, after in pairs:
        diff = SpecDiff(SPEC_REGISTRY, before, after)
        added += [ElementChange.of(ts, after.name) for ts in diff.added if ts.bpmn_id]
        removed += [ElementChange.of(ts, before.name) for ts in diff.removed if ts.bpmn_id]
        for ts, keys in diff.changed.items():
            texts = _change_texts(ts, diff.alignment[ts], keys)
            if ts.bpmn_id and texts:
                changed.append(ElementChange.of(diff.alignment[ts], after.name, texts))
    return added, removed, changed


# -- the data a version's code reads and sets --------------------------------------------------


def _names_in(source: str, mode: str) -> tuple[set[str], set[str]]:
    """Names a piece of diagram code reads before setting them, and names it sets."""
    try:
        tree = ast.parse(source.lstrip(" \t") if mode == "eval" else source, mode=mode)
    except (SyntaxError, ValueError):
        return set(), set()  # the sandbox check reports it
    reads: set[str] = set()
    sets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (reads if isinstance(node.ctx, ast.Load) else sets).add(node.id)
        elif isinstance(node, ast.arg):
            sets.add(node.arg)
    return reads - sets, sets


def _set_by(ts: Any, forms: Mapping[str, Any]) -> set[str]:
    """Data names a step sets: form fields, service results, message and decision outputs."""
    names = {getattr(ts, "result_variable", None)}
    event = getattr(ts, "event_definition", None)
    names |= {getattr(event, "message_var", None), getattr(event, "variable", None)}
    form = (getattr(ts, "extensions", None) or {}).get("properties", {}).get("form")
    names |= set(((forms or {}).get(form) or {}).get("properties", {})) if form else set()
    table = getattr(getattr(ts, "dmnEngine", None), "decision_table", None)
    names |= {out.name for out in getattr(table, "outputs", None) or []}
    for item in ("output_item", "input_item"):
        names.add(getattr(getattr(ts, item, None), "bpmn_id", None))
    for ref in getattr(ts, "data_output_associations", None) or []:
        names.add(getattr(ref, "bpmn_id", None))
    return {n for n in names if isinstance(n, str) and n}


def data_names(specs: Specs, forms: Mapping[str, Any] | None = None) -> tuple[set[str], set[str]]:
    """Names a version's code reads and names its steps set (scripts, forms, results...)."""
    reads: set[str] = set()
    sets: set[str] = set()
    for one in (specs[0], *specs[1].values()):
        for _element, _kind, source, mode in expressions(one):
            read, written = _names_in(source, mode)
            reads |= read
            sets |= written
        for ts in one.task_specs.values():
            sets |= _set_by(ts, forms or {})
    return reads, sets
