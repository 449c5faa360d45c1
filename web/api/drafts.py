"""Uploaded diagrams kept as draft ``DefinitionVersion`` rows, byte-for-byte, until published.

A draft is one row per process the file defines (``published=False``), all sharing one
``content_hash`` (SHA-256 of the uploaded bytes and the forms in force) and one ``sources``
entry holding the upload decoded as its prolog says (``encode_source`` gives the bytes back),
so ``GET`` gives back exactly the bytes sent. A
draft that parses and passes the checks carries its spec bundle and is *executable*; one
with problems is stored with an empty ``spec_json`` (no spec bundle can be built), and its
problems are worked out again from the stored XML whenever they are asked for, so they are
never stale nor stored twice. Publishing flips ``published`` on every row of the upload.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
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
from engine.interchange import examine
from engine.models import DefinitionVersion
from tasks.diagram_checks import check_diagram

from .callers import rebundle_callers

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = ("http://www.omg.org/spec/DMN/", "https://www.omg.org/spec/DMN/")
MAX_BYTES = 5 * 1024 * 1024
MAX_ID_LENGTH = 200  # DefinitionVersion.process_id
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
    def raw(self) -> bytes:
        """The uploaded bytes, exactly."""
        return encode_source(self.text)

    @property
    def filename(self) -> str:
        """The key the upload is stored under in ``sources``."""
        return f"{self.ids[0].removeprefix(DMN_PREFIX)}.{self.kind}"


@dataclass
class Draft:
    """The rows of one upload, with what stops it from running."""

    rows: list[DefinitionVersion]
    problems: list[dict[str, str]] = field(default_factory=list)
    callers: list[DefinitionVersion] = field(default_factory=list)  # bundled again on publish

    @property
    def executable(self) -> bool:
        """True when every process of the upload has a spec bundle and no error (warnings pass)."""
        return not errors(self.problems) and all(r.spec_json for r in self.rows)

    def describe(self) -> dict[str, Any]:
        """The API's answer for a draft."""
        first = self.rows[0]
        return {"id": first.id, "version": first.version,
                "process_ids": [r.process_id for r in self.rows],
                "executable": self.executable, "problems": self.problems,
                "published": all(r.published for r in self.rows)}


def _codec(raw: bytes) -> str:
    """The codec the bytes are written in: byte-order mark, else the prolog's ``encoding``."""
    for mark, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                        (b"\xfe\xff", "utf-16-be"), (b"<\x00", "utf-16-le"),
                        (b"\x00<", "utf-16-be")):
        if raw.startswith(mark):
            return codec
    declared = re.match(rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", raw)
    return declared.group(1).decode("ascii") if declared else "utf-8"


def encode_source(text: str) -> bytes:
    """The stored text of an upload as the exact bytes that were uploaded."""
    declared = re.match(r"\ufeff?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']",
                        text)
    codec = declared.group(1).lower().replace("_", "-") if declared else "utf-8"
    if codec in ("utf-16", "utf16", "ucs-2", "unicode"):
        codec = "utf-16-le"  # the byte-order mark stays in the text, as the first character
    return text.encode(codec)


def decode_upload(raw: bytes) -> str:
    """The upload as text to store, such that ``encode_source`` gives back the same bytes."""
    codec = _codec(raw)
    try:
        text = raw.decode(codec)
    except LookupError:
        raise NotADiagram(f"the file declares the encoding {codec!r}, which is unknown") from None
    except UnicodeDecodeError:
        raise NotADiagram(f"the file is not valid {codec} (the encoding its prolog declares, "
                          "or UTF-8 when it declares none)") from None
    try:
        same = encode_source(text) == raw
    except (LookupError, UnicodeEncodeError):
        same = False
    if not same:
        raise NotADiagram(f"the file's encoding ({codec}) cannot be kept byte for byte here: "
                          "save it as UTF-8") from None
    return text


def read_document(raw: bytes) -> Document:
    """Check that ``raw`` is well-formed BPMN or DMN XML and list what it defines.

    Any encoding the prolog declares is accepted and kept (see ``encode_source``). A BPMN file
    with no process (only a collaboration or choreography) is listed under its first
    ``collaboration:<id>`` (or ``choreography:<id>``) so it is stored, read and reported on.
    """
    text = decode_upload(raw)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(raw, parser=parser)
    except (etree.XMLSyntaxError, ValueError, LookupError) as exc:
        raise NotADiagram(f"not well-formed XML: {exc}") from None
    namespace = etree.QName(root).namespace or ""
    if etree.QName(root).localname != "definitions":
        raise NotADiagram("the root element must be BPMN or DMN 'definitions'")
    if namespace == BPMN_NS:
        processes = list(root.iter(f"{{{BPMN_NS}}}process"))
        ids = list(dict.fromkeys(p.get("id") for p in processes if p.get("id")))
        runnable = [p.get("id") for p in processes
                    if p.get("id") and p.get("isExecutable", "false").lower() == "true"]
        if not ids:
            ids = [f"{kind}:{el.get('id')}" for kind in ("collaboration", "choreography")
                   for el in root.iter(f"{{{BPMN_NS}}}{kind}") if el.get("id")][:1]
        if not ids:
            raise NotADiagram("the BPMN file defines no process")
        _check_ids(ids)
        return Document(text, "bpmn", ids, runnable)
    if namespace.startswith(DMN_NAMESPACES):
        decisions = [d.get("id") for d in root.iter(f"{{{namespace}}}decision") if d.get("id")]
        if not decisions:
            raise NotADiagram("the DMN file defines no decision")
        _check_ids([DMN_PREFIX + d for d in decisions])
        return Document(text, "dmn", [DMN_PREFIX + d for d in decisions], [])
    raise NotADiagram("the root element must be BPMN or DMN 'definitions'")


def _check_ids(ids: list[str]) -> None:
    too_long = [i for i in ids if len(i) > MAX_ID_LENGTH]
    if too_long:
        raise NotADiagram(f"the id {too_long[0][:40]!r}... is longer than {MAX_ID_LENGTH} "
                          "characters")


def interchange_problems(doc: Document, companions: Iterable[bytes] = ()) -> list[dict[str, str]]:
    """What stops an imported BPMN file running on this engine, in words (engine.interchange).

    ``companions``: the files it is imported with (e.g. ``DraftBook._supporting(doc).values()``),
    where the processes it calls and the decision tables it uses may be defined.
    """
    if doc.kind != "bpmn":
        return []
    return examine(doc.raw, companions).problems()


def _problem(element_id: str, element_type: str, message: str) -> dict[str, str]:
    return {"element_id": element_id, "element_type": element_type, "message": message,
            "rule": "parse", "severity": "error"}


def errors(problems: list[dict[str, str]]) -> list[dict[str, str]]:
    """The problems that stop a diagram from being published (not the warnings)."""
    return [p for p in problems if p.get("severity", "error") == "error"]


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

    def analyse(self, doc: Document, forms: Mapping[str, Any], session: Session | None = None
                ) -> tuple[dict[str, ParsedProcess], list[dict[str, str]]]:
        """Check the upload (rules and promises), then parse it with the shipped files."""
        if doc.kind == "dmn":
            return {}, [_problem(doc.ids[0].removeprefix(DMN_PREFIX), "decision",
                                 "A decision table runs inside the processes that use it: "
                                 "publish it by shipping it with them in bpmn/.")]
        problems = [p.as_dict() for p in check_diagram(session, doc.raw, bpmn_dir=self.bpmn_dir,
                                                       forms=forms)]
        sources: dict[str, bytes | str] = {**self._supporting(doc),
                                           f"upload/{doc.filename}": doc.raw}
        try:
            parsed = self.store.parse(sources, forms)
        except DiagramInvalid as exc:
            flagged = {p["element_id"] for p in errors(problems)}
            return {}, problems + [_problem(p["element_id"], p["element_type"], p["message"])
                                   for p in exc.problems if p["element_id"] not in flagged]
        return {p.process_id: p for p in parsed if p.process_id in doc.ids}, problems

    def upload(self, session: Session, raw: bytes, actor: str) -> Draft:
        """Store an upload as a draft (or find the identical earlier upload) with its problems."""
        doc = read_document(raw)
        forms = load_forms(self.bpmn_dir / "forms")
        digest = hashlib.sha256(raw + b"\0" + json.dumps(forms, sort_keys=True).encode())
        content_hash = digest.hexdigest()
        parsed, problems = self.analyse(doc, forms, session)
        runnable = not errors(problems)
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
        doc = read_document(encode_source(self.source(row)))
        forms = load_forms(self.bpmn_dir / "forms")
        if all(r.spec_json for r in rows):  # parsed already: the rules and promises again
            return Draft(rows, [p.as_dict() for p in check_diagram(
                session, doc.raw, bpmn_dir=self.bpmn_dir, forms=forms)])
        parsed, problems = self.analyse(doc, forms, session)
        if not errors(problems):  # the shipped processes it needed have changed meanwhile
            for r in rows:
                proc = parsed[r.process_id]
                r.spec_json, r.forms, r.name = proc.spec_json, proc.forms, proc.name
        return Draft(rows, problems)

    def publish(self, session: Session, row: DefinitionVersion, actor: str = "system") -> Draft:
        """Publish every process of the upload, or return the draft with its problems.

        Broken rules and broken promises (tasks.diagram_checks) both refuse publication. The
        processes that call a published one are bundled again and published too
        (``web.api.callers``), so that new cases run it; they are in ``Draft.callers``.
        """
        draft = self.draft_of(session, row)
        if draft.executable:
            for r in draft.rows:
                if not r.published:
                    self.store.publish(session, r)
            session.flush()
            draft.callers = rebundle_callers(session, self.store, self.bpmn_dir,
                                             [r.process_id for r in draft.rows], actor)
        return draft
