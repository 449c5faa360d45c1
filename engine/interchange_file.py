"""Read a BPMN 2.0 file safely and write it back as it was: ``DefinitionsFile``.

``DefinitionsFile.read`` parses with ``xml_parser`` (no entities, no network, no DTD) within
the 5 MB cap and raises ``NotBpmn`` unless the root is BPMN 2.0 ``definitions``; ``export``
writes the document back in its own encoding and prolog with every element, attribute, comment
and layout kept. ``export_definitions`` and ``set_attribute`` (which edits one attribute that
way) are the interchange's ways of writing a file; ``element_by_id`` finds an element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
MAX_BYTES = 5 * 1024 * 1024


class NotBpmn(ValueError):
    """The bytes are not a BPMN 2.0 definitions document; the message says why in words."""


def xml_parser() -> etree.XMLParser:
    """The only way the interchange parses XML: no entities, no network, no DTD."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass
class DefinitionsFile:
    """A parsed BPMN file that remembers how it was written (encoding and prolog bytes)."""

    tree: etree._ElementTree
    encoding: str
    prolog: bytes

    @classmethod
    def read(cls, raw: bytes) -> DefinitionsFile:
        """Parse ``raw`` safely; raise NotBpmn unless it is BPMN 2.0 ``definitions``."""
        if len(raw) > MAX_BYTES:
            raise NotBpmn("the file is larger than 5 MB")
        try:
            root = etree.fromstring(raw, parser=xml_parser())
        except (etree.XMLSyntaxError, ValueError, LookupError) as exc:
            raise NotBpmn(f"not well-formed XML ({exc})") from None
        if root.tag != f"{{{BPMN}}}definitions":
            raise NotBpmn("its root element is not BPMN 2.0 'definitions'")
        tree = root.getroottree()
        prolog = re.match(rb"(\xef\xbb\xbf)?<\?xml[^>]*\?>\s*", raw)
        return cls(tree, tree.docinfo.encoding or "UTF-8", prolog.group(0) if prolog else b"")

    @property
    def root(self) -> etree._Element:
        """The ``definitions`` element."""
        return self.tree.getroot()

    def export(self) -> bytes:
        """The document as bytes in its own encoding, with its prolog, comments and layout."""
        wide = self.encoding.lower().replace("-", "").startswith(("utf16", "utf32", "ucs"))
        body: bytes = etree.tostring(self.tree, encoding=self.encoding, xml_declaration=wide)
        return body if wide else self.prolog + body


def export_definitions(raw: bytes) -> bytes:
    """Write a BPMN file back through our serializer, losing no element, attribute or layout."""
    return DefinitionsFile.read(raw).export()


def set_attribute(raw: bytes, element_id: str, name: str, value: str | None) -> bytes:
    """Set (or, with None, remove) one attribute of one element; everything else is kept."""
    document = DefinitionsFile.read(raw)
    target = element_by_id(document.root, element_id)
    if target is None:
        raise KeyError(f"no element with id {element_id!r}")
    if value is None:
        target.attrib.pop(name, None)
    else:
        target.set(name, value)
    return document.export()


def element_by_id(root: etree._Element, element_id: str) -> etree._Element | None:
    """The first element with the id ``element_id`` (None when there is none)."""
    found = root.xpath("//*[@id=$i]", i=element_id) if element_id else []
    first = found[0] if isinstance(found, list) and found else None
    return first if isinstance(first, etree._Element) else None
