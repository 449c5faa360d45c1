"""What changed between two versions of a BPMN diagram, element by element (matched by id).

Each element of the model (tasks, events, gateways, flows, lanes, messages, processes) is
reduced to the facts a process owner recognises, in words: its name, its form, operator and
parameters, deadline and timer expressions, conditions, called process or decision, message,
lane, description and any other attribute or extension, and where it is drawn. Event
definitions and loop settings are facts of their event or task, not elements of their own.
Two versions then differ by elements added, removed, changed, or only moved on the drawing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True
)

# Children that are facts of their parent rather than elements of their own.
_FOLDED = (
    "EventDefinition",
    "laneSet",
    "LoopCharacteristics",
    "conditionExpression",
    "extensionElements",
    "documentation",
)
# Children that only repeat what flows and lanes say already.
_IGNORED = {"incoming", "outgoing", "flowNodeRef"}
_ATTRIBUTE_WORDS = {
    "sourceRef": "from",
    "targetRef": "to",
    "default": "default flow",
    "calledElement": "called process",
    "attachedToRef": "attached to",
    "cancelActivity": "interrupts the task",
    "messageRef": "message",
    "isExecutable": "can run",
    "triggeredByEvent": "event subprocess",
    "isInterrupting": "interrupts",
    "processRef": "process",
    "signalRef": "signal",
    "errorRef": "error",
    "errorCode": "error code",
    "scriptFormat": "script language",
}
_CHILD_WORDS = {
    "documentation": "description",
    "conditionExpression": "condition",
    "script": "script",
    "text": "text",
}
_TIMER_WORDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}
_PROPERTY_WORDS = {"form": "form", "assignee": "assignee", "due": "deadline"}
_SPIFF_WORDS = {
    "calledDecisionId": "called decision",
    "messageVariable": "message variable",
    "preScript": "script before",
    "postScript": "script after",
    "instructionsForEndUser": "instructions",
}


@dataclass(frozen=True)
class FieldChange:
    """One fact of an element, before and after (None where it was or is not set)."""

    what: str
    before: str | None
    after: str | None

    def as_dict(self) -> dict[str, str | None]:
        """The change as JSON."""
        return {"what": self.what, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class ElementChange:
    """An element added, removed, changed, or only moved on the drawing ("moved")."""

    element_id: str
    element_type: str
    name: str
    kind: str
    fields: tuple[FieldChange, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The change as JSON (what the editor's diff view reads)."""
        return {
            "element_id": self.element_id,
            "element_type": self.element_type,
            "name": self.name,
            "kind": self.kind,
            "fields": [f.as_dict() for f in self.fields],
        }


@dataclass(frozen=True)
class DiagramDiff:
    """Every element that differs between two versions, in the order of the newer one."""

    changes: list[ElementChange] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[ElementChange]:
        """The changes of one kind: added, removed, changed or moved."""
        return [c for c in self.changes if c.kind == kind]

    @property
    def empty(self) -> bool:
        """True when the two versions describe the same diagram."""
        return not self.changes

    def as_dict(self) -> dict[str, Any]:
        """The diff as JSON, with counts per kind."""
        kinds = ("added", "removed", "changed", "moved")
        return {
            "changes": [c.as_dict() for c in self.changes],
            "counts": {k: len(self.of_kind(k)) for k in kinds},
        }


@dataclass
class _Element:
    tag: str
    name: str
    facts: dict[str, str]
    layout: str = ""


def _local(node: etree._Element) -> str:
    return str(etree.QName(node).localname)


def _text(node: etree._Element) -> str:
    return " ".join("".join(node.itertext()).split())


def _folded(node: etree._Element) -> bool:
    local = _local(node)
    return any(local.endswith(suffix) for suffix in _FOLDED)


def _attributes(node: etree._Element, prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in sorted(node.attrib.items()):
        local = etree.QName(key).localname
        if local == "id" or (local == "name" and not prefix):
            continue
        if local == "type" and etree.QName(key).namespace:
            continue  # xsi:type="tFormalExpression" says nothing to a process owner
        yield prefix + _ATTRIBUTE_WORDS.get(local, f"attribute {local}"), value


def _spiff_facts(extension: etree._Element) -> Iterator[tuple[str, str]]:
    for node in extension:
        if not isinstance(node.tag, str):
            continue
        namespace, local = etree.QName(node).namespace, _local(node)
        if namespace == SPIFF and local == "properties":
            for prop in node.iter(f"{{{SPIFF}}}property"):
                key = prop.get("name") or ""
                yield _PROPERTY_WORDS.get(key, f"property {key}"), prop.get("value") or ""
        elif namespace == SPIFF and local == "serviceTaskOperator":
            yield "operator", node.get("id") or ""
            if node.get("resultVariable"):
                yield "result variable", node.get("resultVariable") or ""
            for param in node.iter(f"{{{SPIFF}}}parameter"):
                kind = f" ({param.get('type')})" if param.get("type") else ""
                yield f"parameter {param.get('id')}", f"{param.get('value') or ''}{kind}"
            for retry in node.iter(f"{{{SPIFF}}}retry"):
                yield "retries", " ".join(f"{k}={v}" for k, v in sorted(retry.attrib.items()))
        elif namespace == SPIFF and local in _SPIFF_WORDS:
            yield _SPIFF_WORDS[local], _text(node)
        else:
            raw = etree.tostring(node, encoding="unicode", with_tail=False)
            yield f"extension {local}", " ".join(raw.split())


def _event_facts(definition: etree._Element) -> Iterator[tuple[str, str]]:
    kind = _local(definition).removesuffix("EventDefinition")
    yield "event", kind
    for what, value in _attributes(definition, prefix=" "):
        yield (kind if what.strip() == kind else f"{kind}{what}"), value
    for child in definition:
        if not isinstance(child.tag, str):
            continue
        if _local(child) == "extensionElements":
            yield from (
                (what if what.startswith(kind) else f"{kind} {what}", value)
                for what, value in _spiff_facts(child)
            )
        else:
            what = _TIMER_WORDS.get(_local(child), _local(child))
            yield f"{kind} {what}", _text(child)


def _facts(node: etree._Element) -> dict[str, str]:
    """The facts of one element, by what they are called in words."""
    facts = dict(_attributes(node))
    if node.get("name") is not None:
        facts["name"] = node.get("name") or ""
    for child in node:
        if not isinstance(child.tag, str) or child.get("id") and not _folded(child):
            continue
        local = _local(child)
        if local in _IGNORED:
            continue
        if local == "extensionElements":
            facts.update(_spiff_facts(child))
        elif local.endswith("EventDefinition"):
            facts.update(_event_facts(child))
        elif local.endswith("LoopCharacteristics"):
            facts["repeats"] = " ".join(
                [local.removesuffix("LoopCharacteristics")]
                + [f"{k}={v}" for k, v in sorted(child.attrib.items())]
                + [f"{_local(c)}={_text(c)}" for c in child if isinstance(c.tag, str)]
            )
        elif local != "laneSet":
            facts[_CHILD_WORDS.get(local, local)] = _text(child)
    return facts


def _lanes(root: etree._Element) -> dict[str, str]:
    """The lane (role) each flow node is drawn in."""
    found: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN}}}lane"):
        for ref in lane.findall(f"{{{BPMN}}}flowNodeRef"):
            found[(ref.text or "").strip()] = lane.get("name") or lane.get("id") or ""
    return found


def _layout(root: etree._Element) -> dict[str, str]:
    """Where each element is drawn: its bounds, or its waypoints, as text."""
    drawn: dict[str, str] = {}
    for shape in root.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge"):
        points = [
            f"{b.get('x')},{b.get('y')},{b.get('width')},{b.get('height')}"
            for b in shape.findall(f"{{{DC}}}Bounds")
        ]
        points += [f"{w.get('x')},{w.get('y')}" for w in shape.findall(f"{{{DI}}}waypoint")]
        drawn[shape.get("bpmnElement") or ""] = " ".join(points)
    return drawn


def elements(xml: bytes | str) -> dict[str, _Element]:
    """Every element of a BPMN document by id, with its facts (raises on malformed XML)."""
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    root = etree.fromstring(raw, parser=_PARSER)
    lanes, layout = _lanes(root), _layout(root)
    found: dict[str, _Element] = {}
    for node in root.iter(f"{{{BPMN}}}*"):
        element_id = node.get("id")
        if not element_id or node is root or _folded(node) or _local(node) in _IGNORED:
            continue
        facts = _facts(node)
        if element_id in lanes:
            facts["lane (role)"] = lanes[element_id]
        found[element_id] = _Element(
            _local(node), node.get("name") or "", facts, layout.get(element_id, "")
        )
    return found


def _compare(element_id: str, old: _Element, new: _Element) -> ElementChange | None:
    fields = []
    if old.tag != new.tag:
        fields.append(FieldChange("type", old.tag, new.tag))
    for what in sorted(set(old.facts) | set(new.facts), key=_order):
        before, after = old.facts.get(what), new.facts.get(what)
        if before != after:
            fields.append(FieldChange(what, before, after))
    if fields:
        return ElementChange(element_id, new.tag, new.name or old.name, "changed", tuple(fields))
    if old.layout != new.layout:
        change = FieldChange("position on the diagram", old.layout or None, new.layout or None)
        return ElementChange(element_id, new.tag, new.name, "moved", (change,))
    return None


def _order(what: str) -> tuple[int, str]:
    first = ("name", "form", "lane (role)", "assignee", "deadline", "operator", "condition")
    return (first.index(what) if what in first else len(first), what)


def diff_xml(before: bytes | str, after: bytes | str) -> DiagramDiff:
    """Compare two BPMN documents element by element (raises ``XMLSyntaxError`` if malformed)."""
    old, new = elements(before), elements(after)
    changes: list[ElementChange] = []
    for element_id, element in new.items():
        if element_id not in old:
            changes.append(ElementChange(element_id, element.tag, element.name, "added"))
        elif (change := _compare(element_id, old[element_id], element)) is not None:
            changes.append(change)
    changes += [
        ElementChange(element_id, element.tag, element.name, "removed")
        for element_id, element in old.items()
        if element_id not in new
    ]
    return DiagramDiff(changes)
