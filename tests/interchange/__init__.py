"""The MIWG reference files and a semantic XML comparison, shared by the interchange tests.

``miwg_files()`` lists ``../shared/conformance/miwg-reference/*.bpmn`` (the browser tests use
it too); ``compare_definitions(before, after)`` says what ``after`` lost or changed, ignoring
what a faithful re-writer may change (prefixes, namespace declarations, attribute order, the
prolog, comments, whitespace, ``100`` against ``100.0``, and an attribute left out because
it had the BPMN schema's default value, as bpmn-js does: listed as ``defaulted``);
``canonical`` is C14N 2.0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import SpiffWorkflow
from lxml import etree

from engine.interchange import BPMN, BPMNDI, xml_parser

ROOT = Path(__file__).resolve().parents[2]
MIWG_DIR = ROOT.parent / "shared" / "conformance" / "miwg-reference"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
XSD = "{http://www.w3.org/2001/XMLSchema}"
SCHEMAS = Path(SpiffWorkflow.__file__).parent / "bpmn" / "parser" / "schema"
DD = "http://www.omg.org/spec/DD/20100524"
# xsi:type values that only repeat the type the schema declares for the element.
IMPLIED_TYPES = {(f"{{{DD}/DI}}waypoint", f"{{{DD}/DC}}Point")}


def miwg_files() -> list[Path]:
    """Every MIWG reference file, in name order (fails loudly when the folder is missing)."""
    files = sorted(MIWG_DIR.glob("*.bpmn"))
    assert files, f"no MIWG reference files under {MIWG_DIR}"
    return files


def canonical(raw: bytes) -> bytes:
    """The C14N 2.0 form of a document, comments kept: equal bytes mean equal content."""
    root = etree.fromstring(raw, parser=xml_parser())
    return etree.tostring(root.getroottree(), method="c14n2", with_comments=True)


@dataclass
class Comparison:
    """What ``after`` lost, changed or added compared with ``before``."""

    lost: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    defaulted: list[str] = field(default_factory=list)

    @property
    def lossless(self) -> bool:
        """True when no element, attribute, text or layout of ``before`` is missing or changed."""
        return not self.lost and not self.changed


def _short(tag: str) -> str:
    qname = etree.QName(tag)
    prefix = {BPMN: "bpmn", BPMNDI: "bpmndi"}.get(qname.namespace or "", qname.namespace)
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


@cache
def schema_defaults() -> dict[str, set[str]]:
    """BPMN attribute name -> the default values the BPMN 2.0 schemas give it."""
    defaults: dict[str, set[str]] = {}
    for xsd in sorted(SCHEMAS.glob("*.xsd")):
        for attribute in etree.parse(str(xsd), xml_parser()).iter(f"{XSD}attribute"):
            if attribute.get("name") and attribute.get("default") is not None:
                value = _value(attribute, "", str(attribute.get("default")))
                defaults.setdefault(str(attribute.get("name")), set()).add(value)
    return defaults


def _value(element: etree._Element, name: str, value: str) -> str:
    if name == XSI_TYPE:
        prefix, local = value.split(":", 1) if ":" in value else (None, value)
        return f"{{{element.nsmap.get(prefix, prefix)}}}{local}"
    try:
        return repr(float(value))
    except ValueError:
        return " ".join(value.split())


Facts = dict[str, tuple[str, dict[str, str], str]]


def _facts(raw: bytes) -> Facts:
    """Every element keyed by ``#id`` (or its path among same-named siblings)."""
    facts: Facts = {}

    def visit(element: etree._Element, key: str) -> None:
        attrs = {str(k): _value(element, str(k), str(v)) for k, v in element.attrib.items()}
        facts[key] = (str(element.tag), attrs, " ".join((element.text or "").split()))
        seen: dict[str, int] = {}
        for child in element:
            if not isinstance(child.tag, str):
                continue  # comments and processing instructions
            child_id = child.get("id")
            if child_id and f"#{child_id}" not in facts:
                child_key = f"#{child_id}"
            else:
                seen[child.tag] = seen.get(child.tag, 0) + 1
                child_key = f"{key}/{_short(child.tag)}[{seen[child.tag]}]"
            visit(child, child_key)

    root = etree.fromstring(raw, parser=xml_parser())
    visit(root, "/" + _short(str(root.tag)))
    return facts


def compare_definitions(before: bytes, after: bytes) -> Comparison:
    """Compare two BPMN documents by elements, attributes, text and layout, not by bytes."""
    old, new = _facts(before), _facts(after)
    result = Comparison()
    for key, (tag, attrs, text) in old.items():
        what = f"{_short(tag)} {key}"
        if key not in new:
            drawn = etree.QName(tag).namespace == BPMNDI and attrs.get("bpmnElement")
            result.lost.append(f"the layout of {drawn} ({what})" if drawn else what)
            continue
        new_tag, new_attrs, new_text = new[key]
        if new_tag != tag:
            result.changed.append(f"{what} became {_short(new_tag)}")
        for name, value in attrs.items():
            implied = name == XSI_TYPE and (tag, value) in IMPLIED_TYPES
            if name not in new_attrs and (implied or value in schema_defaults().get(name, ())):
                result.defaulted.append(f"attribute {_short(name)}={value!r} of {what}")
            elif name not in new_attrs:
                result.lost.append(f"attribute {_short(name)}={value!r} of {what}")
            elif new_attrs[name] != value:
                result.changed.append(
                    f"attribute {_short(name)} of {what}: {value!r} -> {new_attrs[name]!r}"
                )
        result.added.extend(f"attribute {_short(n)} of {what}" for n in new_attrs if n not in attrs)
        if new_text != text:
            result.changed.append(f"text of {what}: {text[:60]!r} -> {new_text[:60]!r}")
    result.added.extend(
        f"{_short(tag)} {key}" for key, (tag, _a, _t) in new.items() if key not in old
    )
    return result
