"""Process definitions: parse BPMN/DMN files, version them by content hash, cache parsed specs.

Comparing two versions (``diff_bundles``, ``ElementChange``...) and the data names a version's
code reads and sets (``data_names``) live in engine/version_diff.py; they are imported here so
``engine.definitions`` keeps offering them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from . import clock
from .bpmn_model import MAX_BYTES
from .errors import DefinitionNotFound, DiagramInvalid
from .forms import check_schema, form_keys
from .forms import load_directory as load_forms
from .models import DefinitionVersion, InstanceStatus, ProcessInstance
from .sandbox import UnsafeCode, check_code
from .serializer import InstanceSerializer
from .version_diff import (
    CHANGE_WORDS,
    SPEC_REGISTRY,
    ElementChange,
    change_words,
    data_names,
    diff_bundles,
    event_data,
    expressions,
    spec_label,
)

__all__ = [
    "CHANGE_WORDS", "SPEC_REGISTRY", "DefinitionStore", "ElementChange", "ParsedProcess",
    "Specs", "VersionCounts", "change_words", "check_specs", "data_names", "diff_bundles",
    "event_data", "instance_counts", "parse_sources", "spec_label",
]

Specs = tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]


@dataclass(frozen=True)
class VersionCounts:
    """How many instances of one definition version are running and have finished."""

    running: int = 0
    finished: int = 0
    running_cases: int = 0  # distinct business keys among the running instances


_ENDED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)


def instance_counts(session: Session, process_id: str | None = None) -> dict[int, VersionCounts]:
    """Count instances per definition version (of one process, or all) in one grouped query."""
    ended = ProcessInstance.status.in_(_ENDED)
    stmt = (select(ProcessInstance.definition_id,
                   func.sum(case((ended, 0), else_=1)),
                   func.sum(case((ended, 1), else_=0)),
                   func.count(distinct(case((ended, None), else_=ProcessInstance.business_key))))
            .group_by(ProcessInstance.definition_id))
    if process_id is not None:
        stmt = stmt.where(ProcessInstance.process_id == process_id)
    return {int(def_id): VersionCounts(int(running or 0), int(finished or 0), int(cases or 0))
            for def_id, running, finished, cases in session.execute(stmt)}


@dataclass(frozen=True)
class ParsedProcess:
    """One executable process found in a set of files, with its spec bundle serialized."""

    process_id: str
    name: str | None
    spec_json: str
    content_hash: str
    forms: dict[str, Any]


def _problem(element_id: str, element_type: str, message: str) -> dict[str, str]:
    return {"element_id": element_id, "element_type": element_type, "message": message}


def check_specs(specs: Specs, operations: set[str] | None = None) -> list[dict[str, str]]:
    """Return problems that stop a parsed process from running safely here."""
    spec, subs = specs
    problems: list[dict[str, str]] = []
    for one in (spec, *subs.values()):
        for element_id, kind, source, mode in expressions(one):
            try:
                check_code(source, mode)  # type: ignore[arg-type]
            except UnsafeCode as exc:
                problems.append(_problem(element_id, kind, exc.message))
        if operations is not None:
            for ts in one.task_specs.values():
                op = getattr(ts, "operation_name", None)
                if op and op not in operations:
                    problems.append(_problem(
                        getattr(ts, "bpmn_id", ts.name), type(ts).__name__,
                        f"The service task calls '{op}', which this product does not provide."))
    return problems


def parse_sources(sources: Mapping[str, bytes | str]) -> tuple[SpiffBpmnParser, list[str]]:
    """Parse BPMN and DMN documents together (so call activities resolve across files)."""
    parser = SpiffBpmnParser()
    bpmn_ids: list[str] = []
    for filename, content in sorted(sources.items()):
        raw = content.encode() if isinstance(content, str) else content
        if len(raw) > MAX_BYTES:
            raise DiagramInvalid([_problem(filename, "file", "The file is larger than 5 MB.")])
        try:
            root = etree.fromstring(raw, parser=etree.XMLParser(
                resolve_entities=False, no_network=True, load_dtd=False))
        except etree.XMLSyntaxError as exc:
            problem = _problem(filename, "file", f"Not well-formed XML: {exc}")
            raise DiagramInvalid([problem]) from exc
        try:
            if filename.endswith(".dmn"):
                parser.add_dmn_xml(root, filename=filename)
            else:
                parser.add_bpmn_xml(root, filename=filename)
        except ValidationException as exc:
            raise DiagramInvalid([_problem(getattr(exc, "id", None) or filename,
                                           getattr(exc, "tag", None) or "file", str(exc))]) from exc
        for proc in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"):
            if proc.get("isExecutable", "false").lower() == "true" and proc.get("id"):
                bpmn_ids.append(proc.get("id"))
    return parser, bpmn_ids


def _forms_for(specs: Iterable[BpmnProcessSpec], forms: Mapping[str, Any] | None
               ) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Pick the schemas a process's user tasks name; report missing or broken ones."""
    used: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for key, element_id in form_keys(specs).items():
        schema = (forms or {}).get(key)
        if schema is None:
            problems.append(_problem(element_id, "UserTask",
                                     f"The task names form '{key}', which has no schema."))
            continue
        why = check_schema(schema)
        if why is not None:
            problems.append(_problem(element_id, "UserTask", f"Form '{key}': {why}"))
            continue
        used[key] = schema
    return used, problems


class DefinitionStore:
    """Versions of process definitions in the database, with a parsed-spec cache."""

    def __init__(self, serializer: InstanceSerializer,
                 operations: Callable[[], set[str]] | None = None, cache_size: int = 256):
        self.serializer = serializer
        self.operations = operations
        self._cache: OrderedDict[int, Specs] = OrderedDict()
        self._forms: dict[int, dict[str, Any]] = {}  # versions never change: no eviction needed
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def parse(self, sources: Mapping[str, bytes | str],
              forms: Mapping[str, Any] | None = None) -> list[ParsedProcess]:
        """Parse documents (and the task forms they name) into processes, or raise."""
        parser, process_ids = parse_sources(sources)
        parsed: list[ParsedProcess] = []
        problems: list[dict[str, str]] = []
        for pid in process_ids:
            try:
                spec = parser.get_spec(pid)
                subs = parser.get_subprocess_specs(pid)
            except ValidationException as exc:
                problems.append(_problem(getattr(exc, "id", None) or pid,
                                         getattr(exc, "tag", None) or "process", str(exc)))
                continue
            problems.extend(check_specs(
                (spec, subs), self.operations() if self.operations else None))
            used, form_problems = _forms_for((spec, *subs.values()), forms)
            problems.extend(form_problems)
            text = self.serializer.dump_specs(spec, subs)
            digest = hashlib.sha256(text.encode())
            digest.update(json.dumps(used, sort_keys=True).encode())
            parsed.append(ParsedProcess(pid, spec.description, text, digest.hexdigest(), used))
        if problems:
            raise DiagramInvalid(problems)
        return parsed

    def sync_directory(self, session: Session, directory: Path, actor: str = "system") -> list[
            DefinitionVersion]:
        """Load every BPMN/DMN file under ``directory``; new content becomes a published version."""
        sources = {str(p.relative_to(directory)): p.read_bytes()
                   for p in sorted(directory.rglob("*")) if p.suffix in (".bpmn", ".dmn")}
        if not sources:
            return []
        forms = load_forms(directory / "forms")
        return [self.store(session, proc, sources, publish=True, actor=actor)
                for proc in self.parse(sources, forms)]

    def store(self, session: Session, proc: ParsedProcess, sources: Mapping[str, bytes | str],
              *, publish: bool, actor: str) -> DefinitionVersion:
        """Add a version for ``proc`` unless the same content is stored already."""
        existing = session.scalar(select(DefinitionVersion).where(
            DefinitionVersion.process_id == proc.process_id,
            DefinitionVersion.content_hash == proc.content_hash))
        now = clock.now()
        created = existing is None
        if existing is None:
            latest = session.scalar(select(func.max(DefinitionVersion.version)).where(
                DefinitionVersion.process_id == proc.process_id)) or 0
            existing = DefinitionVersion(
                process_id=proc.process_id, version=latest + 1, content_hash=proc.content_hash,
                name=proc.name, spec_json=proc.spec_json, created_at=now, created_by=actor,
                forms=proc.forms,
                sources={k: (v.decode() if isinstance(v, bytes) else v)
                         for k, v in sources.items()},
            )
            session.add(existing)
        session.flush()
        if publish and (created or not existing.published):
            self.publish(session, existing)
        return existing

    def publish(self, session: Session, version: DefinitionVersion) -> None:
        """Make ``version`` the one new instances of its process use."""
        version.published = True
        version.published_at = clock.now()

    def published(self, session: Session, process_id: str, *, missing_ok: bool = False
                  ) -> DefinitionVersion | None:
        """Return the version new instances of ``process_id`` start from."""
        row = session.scalar(
            select(DefinitionVersion)
            .where(DefinitionVersion.process_id == process_id,
                   DefinitionVersion.published.is_(True))
            .order_by(DefinitionVersion.published_at.desc(), DefinitionVersion.version.desc())
            .limit(1))
        if row is None and not missing_ok:
            raise DefinitionNotFound(f"no published definition for process {process_id!r}")
        return row

    def published_at(self, session: Session, process_id: str, moment: datetime
                     ) -> DefinitionVersion | None:
        """Return the version of ``process_id`` that new instances used at ``moment``, if any."""
        return session.scalar(
            select(DefinitionVersion)
            .where(DefinitionVersion.process_id == process_id,
                   DefinitionVersion.published.is_(True),
                   DefinitionVersion.published_at <= moment)
            .order_by(DefinitionVersion.published_at.desc(), DefinitionVersion.version.desc())
            .limit(1))

    def specs(self, version: DefinitionVersion) -> Specs:
        """Return the parsed specs of a version, parsed once (versions never change)."""
        with self._lock:
            hit = self._cache.get(version.id)
            if hit is not None:
                self._cache.move_to_end(version.id)
                return hit
        return self._remember(version.id, version.spec_json)

    def specs_by_id(self, session: Session, definition_id: int) -> Specs:
        """Like ``specs`` but reads the stored bundle only when it is not cached yet."""
        with self._lock:
            hit = self._cache.get(definition_id)
            if hit is not None:
                self._cache.move_to_end(definition_id)
                return hit
        text = session.scalar(select(DefinitionVersion.spec_json).where(
            DefinitionVersion.id == definition_id))
        if text is None:
            raise DefinitionNotFound(f"no definition version {definition_id}")
        return self._remember(definition_id, text)

    def form(self, session: Session, definition_id: int, form_key: str) -> dict[str, Any] | None:
        """Return the schema of ``form_key`` as stored with a definition version."""
        with self._lock:
            forms = self._forms.get(definition_id)
        if forms is None:
            forms = session.scalar(select(DefinitionVersion.forms).where(
                DefinitionVersion.id == definition_id)) or {}
            with self._lock:
                self._forms[definition_id] = forms
        schema = forms.get(form_key)
        return schema if isinstance(schema, dict) else None

    def _remember(self, definition_id: int, text: str) -> Specs:
        specs = self.serializer.load_specs(text)
        with self._lock:
            self._cache[definition_id] = specs
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return specs

    def stats(self) -> dict[str, Any]:
        """Return cache figures for monitoring."""
        return {"cached_versions": len(self._cache), "capacity": self._cache_size}
