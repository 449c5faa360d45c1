"""Uploaded diagrams kept as draft ``DefinitionVersion`` rows, byte-for-byte, until published.

A draft is one row per process the file defines (``published=False``), all sharing one
``content_hash`` (SHA-256 of the uploaded bytes and the forms in force) and one ``sources``
entry holding the upload decoded as UTF-8, so ``GET`` gives back exactly the bytes sent. A
draft that parses and passes the checks carries its spec bundle and is *executable*; one
with problems is stored with an empty ``spec_json`` (no spec bundle can be built), and its
problems are worked out again from the stored XML whenever they are asked for, so they are
never stale nor stored twice. Publishing flips ``published`` on every row of the upload.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import clock
from engine.definitions import DefinitionStore, ParsedProcess
from engine.errors import DiagramInvalid
from engine.forms import load_directory as load_forms
from engine.models import DefinitionVersion

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = ("http://www.omg.org/spec/DMN/", "https://www.omg.org/spec/DMN/")
MAX_BYTES = 5 * 1024 * 1024
DMN_PREFIX = "dmn:"


class NotADiagram(Exception):
    """The upload is not well-formed BPMN or DMN XML; ``details`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.details = {"body": message}


@dataclass(frozen=True)
class Document:
    """An uploaded file: its text, kind, and the process (or decision) ids it defines."""

    text: str
    kind: str  # "bpmn" or "dmn"
    ids: list[str]
    executable_ids: list[str]

    @property
    def filename(self) -> str:
        """The key the upload is stored under in ``sources``."""
        return f"{self.ids[0].removeprefix(DMN_PREFIX)}.{self.kind}"


@dataclass
class Draft:
    """The rows of one upload, with what stops it from running."""

    rows: list[DefinitionVersion]
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def executable(self) -> bool:
        """True when every process of the upload has a spec bundle and no problem."""
        return not self.problems and all(r.spec_json for r in self.rows)

    def describe(self) -> dict[str, Any]:
        """The API's answer for a draft."""
        first = self.rows[0]
        return {"id": first.id, "version": first.version,
                "process_ids": [r.process_id for r in self.rows],
                "executable": self.executable, "problems": self.problems,
                "published": all(r.published for r in self.rows)}


def read_document(raw: bytes) -> Document:
    """Check that ``raw`` is well-formed UTF-8 BPMN or DMN XML and list what it defines."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotADiagram("the file must be UTF-8 encoded XML") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise NotADiagram(f"not well-formed XML: {exc}") from None
    namespace = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "definitions":
        raise NotADiagram("the root element must be BPMN or DMN 'definitions'")
    if namespace == BPMN_NS:
        processes = list(root.iter(f"{{{BPMN_NS}}}process"))
        ids = [p.get("id") for p in processes if p.get("id")]
        runnable = [p.get("id") for p in processes
                    if p.get("id") and p.get("isExecutable", "false").lower() == "true"]
        if not ids:
            raise NotADiagram("the BPMN file defines no process")
        return Document(text, "bpmn", ids, runnable)
    if namespace.startswith(DMN_NAMESPACES):
        decisions = [d.get("id") for d in root.iter(f"{{{namespace}}}decision") if d.get("id")]
        if not decisions:
            raise NotADiagram("the DMN file defines no decision")
        return Document(text, "dmn", [DMN_PREFIX + d for d in decisions], [])
    raise NotADiagram("the root element must be BPMN or DMN 'definitions'")


def _problem(element_id: str, element_type: str, message: str) -> dict[str, str]:
    return {"element_id": element_id, "element_type": element_type, "message": message}


def _defines(content: bytes, process_ids: set[str]) -> bool:
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False,
                                                                no_network=True))
    except etree.XMLSyntaxError:
        return False
    return any(p.get("id") in process_ids for p in root.iter(f"{{{BPMN_NS}}}process"))


class DraftBook:
    """Store, read and publish uploaded diagrams beside the shipped ones in ``bpmn_dir``."""

    def __init__(self, store: DefinitionStore, bpmn_dir: Path) -> None:
        self.store = store
        self.bpmn_dir = bpmn_dir

    def _supporting(self, doc: Document) -> dict[str, bytes]:
        """The shipped files, less those defining the upload's processes (so calls resolve)."""
        ids = set(doc.ids)
        return {f"shipped/{p.name}": p.read_bytes()
                for p in sorted(self.bpmn_dir.glob("*")) if p.suffix in (".bpmn", ".dmn")
                and not (p.suffix == ".bpmn" and _defines(p.read_bytes(), ids))}

    def analyse(self, doc: Document, forms: Mapping[str, Any]
                ) -> tuple[dict[str, ParsedProcess], list[dict[str, str]]]:
        """Parse the upload with the shipped files; return its processes or its problems."""
        if doc.kind == "dmn":
            return {}, [_problem(doc.ids[0].removeprefix(DMN_PREFIX), "decision",
                                 "A decision table runs inside the processes that use it: "
                                 "publish it by shipping it with them in bpmn/.")]
        problems = [_problem(pid, "process", "The process is not marked isExecutable=\"true\".")
                    for pid in doc.ids if pid not in doc.executable_ids]
        sources: dict[str, bytes | str] = {**self._supporting(doc),
                                           f"upload/{doc.filename}": doc.text.encode("utf-8")}
        try:
            parsed = self.store.parse(sources, forms)
        except DiagramInvalid as exc:
            return {}, problems + list(exc.problems)
        return {p.process_id: p for p in parsed if p.process_id in doc.ids}, problems

    def upload(self, session: Session, raw: bytes, actor: str) -> Draft:
        """Store an upload as a draft (or find the identical earlier upload) with its problems."""
        doc = read_document(raw)
        forms = load_forms(self.bpmn_dir / "forms")
        digest = hashlib.sha256(raw + b"\0" + json.dumps(forms, sort_keys=True).encode())
        content_hash = digest.hexdigest()
        parsed, problems = self.analyse(doc, forms)
        runnable = not problems
        rows = []
        for pid in doc.ids:
            row = session.scalar(select(DefinitionVersion).where(
                DefinitionVersion.process_id == pid,
                DefinitionVersion.content_hash == content_hash))
            if row is None:
                latest = session.scalar(select(func.max(DefinitionVersion.version)).where(
                    DefinitionVersion.process_id == pid)) or 0
                proc = parsed.get(pid) if runnable else None
                row = DefinitionVersion(
                    process_id=pid, version=latest + 1, content_hash=content_hash,
                    name=proc.name if proc else None, spec_json=proc.spec_json if proc else "",
                    forms=proc.forms if proc else {}, sources={doc.filename: doc.text},
                    published=False, created_at=clock.now(), created_by=actor)
                session.add(row)
                session.flush()
            rows.append(row)
        return Draft(rows, problems)

    def source(self, row: DefinitionVersion) -> str:
        """The XML of a version as stored: the upload itself, or the file defining its process."""
        sources: dict[str, str] = row.sources or {}
        if len(sources) == 1:
            return next(iter(sources.values()))
        for text in sources.values():
            if _defines(text.encode("utf-8"), {row.process_id}):
                return text
        return next(iter(sources.values()), "")

    def draft_of(self, session: Session, row: DefinitionVersion) -> Draft:
        """All rows stored from the same upload as ``row``, with their current problems."""
        rows = list(session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.content_hash == row.content_hash).order_by(DefinitionVersion.id)))
        if all(r.spec_json for r in rows):
            return Draft(rows)
        doc = read_document(self.source(row).encode("utf-8"))
        parsed, problems = self.analyse(doc, load_forms(self.bpmn_dir / "forms"))
        if not problems:  # the shipped processes it needed have changed meanwhile
            for r in rows:
                proc = parsed[r.process_id]
                r.spec_json, r.forms, r.name = proc.spec_json, proc.forms, proc.name
        return Draft(rows, problems)

    def publish(self, session: Session, row: DefinitionVersion) -> Draft:
        """Publish every process of the upload, or return the draft with its problems."""
        draft = self.draft_of(session, row)
        if draft.executable:
            for r in draft.rows:
                if not r.published:
                    self.store.publish(session, r)
            session.flush()
        return draft
