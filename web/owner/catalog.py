"""The processes and decision tables a process owner looks after, their versions and their cases.

Who published a version and why, and which version a draft was saved from, are read from
the audit trail (``owner.diagram_published`` carries the reason, ``owner.draft_saved`` the
version it was based on): the trail is where those facts are recorded once, for good.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.audit import AuditEvent
from engine.definitions import instance_counts
from engine.models import DefinitionVersion
from web.api.drafts import DMN_PREFIX, NotADiagram, read_document

PUBLISHED = ("owner.diagram_published", "api.diagram_published")
SAVED = ("owner.draft_saved", "owner.diagram_uploaded", "api.diagram_uploaded")
SHIPPED_BY = "system"


@dataclass
class Version:
    """One stored version of a process (or decision table) with what the history shows."""

    row: DefinitionVersion
    executable: bool
    running: int = 0
    in_use: bool = False
    published_by: str | None = None
    published_at: datetime | None = None
    reason: str | None = None
    based_on: int | None = None  # the version number of the same process it was saved from

    @property
    def status(self) -> str:
        """In words: in use, published earlier, a draft ready to publish, or one with problems."""
        if self.in_use:
            return "In use for new cases"
        if self.row.published:
            return "Published earlier"
        return "Draft" if self.executable else "Draft with problems"

    @property
    def saved_by(self) -> str:
        """Who stored the version ("shipped with the product" for the loaded files)."""
        by = self.row.created_by or ""
        return "Shipped with the product" if by in ("", SHIPPED_BY) else by


@dataclass
class Process:
    """A process with its versions, newest first."""

    process_id: str
    name: str
    versions: list[Version] = field(default_factory=list)

    @property
    def published(self) -> Version | None:
        """The version new cases start on."""
        return next((v for v in self.versions if v.in_use), None)

    @property
    def drafts(self) -> list[Version]:
        """The versions never published."""
        return [v for v in self.versions if not v.row.published]

    @property
    def running(self) -> int:
        """Cases running on any version of the process."""
        return sum(v.running for v in self.versions)

    @property
    def running_on_older(self) -> int:
        """Cases running on a version other than the one in use."""
        return sum(v.running for v in self.versions if not v.in_use)


def running_counts(session: Session) -> dict[int, int]:
    """How many cases (business keys) run on each definition version: one grouped query."""
    return {
        version_id: counts.running_cases for version_id, counts in instance_counts(session).items()
    }


def _latest_events(
    session: Session, actions: tuple[str, ...], ids: list[int]
) -> dict[int, AuditEvent]:
    if not ids:
        return {}
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "definition",
            AuditEvent.action.in_(actions),
            AuditEvent.object_id.in_([str(i) for i in ids]),
        )
        .order_by(AuditEvent.id)
    )
    return {int(e.object_id or 0): e for e in events}


def _in_use(rows: list[DefinitionVersion]) -> int | None:
    """The id of the version ``DefinitionStore.published`` would choose (newest published)."""
    published = [r for r in rows if r.published]
    if not published:
        return None
    newest = max(published, key=lambda r: (r.published_at or r.created_at, r.version))
    return newest.id


def _versions(
    session: Session, rows: list[DefinitionVersion], counts: dict[int, int] | None = None
) -> list[Version]:
    """The versions of ``rows`` (any processes) with their facts, in a fixed number of queries."""
    ids = [r.id for r in rows]
    counts = running_counts(session) if counts is None else counts
    published = _latest_events(session, PUBLISHED, ids)
    saved = _latest_events(session, SAVED, ids)
    executable = (
        dict(
            session.execute(
                select(DefinitionVersion.id, func.length(DefinitionVersion.spec_json) > 0).where(
                    DefinitionVersion.id.in_(ids)
                )
            ).all()
        )
        if ids
        else {}
    )
    by_process: dict[str, list[DefinitionVersion]] = defaultdict(list)
    for row in rows:
        by_process[row.process_id].append(row)
    in_use = {_in_use(group) for group in by_process.values()} - {None}
    numbers = {(r.id, r.process_id): r.version for r in rows}  # a draft's parent, by number
    found = []
    for row in sorted(rows, key=lambda r: (r.process_id, -r.version)):
        version = Version(
            row,
            bool(executable.get(row.id)),
            counts.get(row.id, 0),
            row.id in in_use,
            published_at=row.published_at,
        )
        if (event := published.get(row.id)) is not None:
            version.published_by = event.actor
            version.reason = (event.summary or {}).get("reason")
        elif row.published:
            version.published_by = version.saved_by  # loaded (and published) with the product
        if (event := saved.get(row.id)) is not None:
            version.based_on = numbers.get(((event.summary or {}).get("based_on"), row.process_id))
        found.append(version)
    return found


def _name(versions: list[Version], fallback: str) -> str:
    return (
        next((v.row.name for v in versions if v.in_use and v.row.name), None)
        or next((v.row.name for v in versions if v.row.name), None)
        or fallback
    )


def processes(session: Session) -> list[Process]:
    """Every process with a stored version (shipped or uploaded), by name."""
    rows = list(
        session.scalars(
            select(DefinitionVersion).where(DefinitionVersion.process_id.not_like(f"{DMN_PREFIX}%"))
        )
    )
    by_process: dict[str, list[Version]] = defaultdict(list)
    for version in _versions(session, rows):
        by_process[version.row.process_id].append(version)
    found = [
        Process(process_id, _name(listed, process_id), listed)
        for process_id, listed in by_process.items()
    ]
    return sorted(found, key=lambda p: (p.name.lower(), p.process_id))


def process(session: Session, process_id: str) -> Process | None:
    """One process with its versions, or None when nothing is stored under that id."""
    rows = list(
        session.scalars(select(DefinitionVersion).where(DefinitionVersion.process_id == process_id))
    )
    if not rows or process_id.startswith(DMN_PREFIX):
        return None
    listed = _versions(session, rows)
    return Process(process_id, _name(listed, process_id), listed)


@dataclass
class Decision:
    """A decision table: the shipped file (if any) and the drafts saved from it."""

    decision_id: str
    name: str
    filename: str | None
    drafts: list[Version] = field(default_factory=list)


def _dmn_name(text: str, decision_id: str) -> str:
    try:
        root = etree.fromstring(
            text.encode("utf-8"),
            parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False),
        )
    except etree.XMLSyntaxError:
        return decision_id
    for node in root.iter():
        if (
            isinstance(node.tag, str)
            and etree.QName(node).localname == "decision"
            and (node.get("id") == decision_id)
        ):
            return node.get("name") or decision_id
    return decision_id


def shipped_decisions(bpmn_dir: Path) -> dict[str, tuple[str, str]]:
    """Each shipped DMN file's first decision id: (file name, the XML text)."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(bpmn_dir.glob("*.dmn")):
        text = path.read_text(encoding="utf-8")
        try:
            doc = read_document(text.encode("utf-8"))
        except NotADiagram:
            continue
        found[doc.ids[0].removeprefix(DMN_PREFIX)] = (path.name, text)
    return found


def decisions(session: Session, bpmn_dir: Path) -> list[Decision]:
    """The shipped decision tables and any saved as drafts, by name."""
    shipped = shipped_decisions(bpmn_dir)
    rows = list(
        session.scalars(
            select(DefinitionVersion).where(DefinitionVersion.process_id.like(f"{DMN_PREFIX}%"))
        )
    )
    by_id: dict[str, list[DefinitionVersion]] = defaultdict(list)
    for row in rows:
        by_id[row.process_id.removeprefix(DMN_PREFIX)].append(row)
    found = []
    drafts_of: dict[str, list[Version]] = defaultdict(list)
    for version in _versions(session, rows, {}):  # tables run inside processes: no cases
        drafts_of[version.row.process_id.removeprefix(DMN_PREFIX)].append(version)
    for decision_id in sorted(set(shipped) | set(by_id)):
        filename, text = shipped.get(decision_id, (None, ""))
        drafts = drafts_of.get(decision_id, [])
        name = _dmn_name(text, decision_id) if text else decision_id
        found.append(Decision(decision_id, name, filename, drafts))
    return sorted(found, key=lambda d: d.name.lower())


def decision(session: Session, bpmn_dir: Path, decision_id: str) -> Decision | None:
    """One decision table, or None when it is neither shipped nor saved."""
    return next((d for d in decisions(session, bpmn_dir) if d.decision_id == decision_id), None)


def summary(version: Version) -> dict[str, Any]:
    """A version as JSON for the pages' scripts."""
    row = version.row
    return {
        "id": row.id,
        "version": row.version,
        "process_id": row.process_id,
        "published": row.published,
        "in_use": version.in_use,
        "executable": version.executable,
        "running": version.running,
    }
