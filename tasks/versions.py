"""Process versions as the process owner's pages show them: cases per version, dry runs.

Moving cases is ``engine.migration`` (``migrate_instance``, ``migrate_all_safe``); this module
gathers what a page lists around it, each list in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions import ElementChange, VersionCounts, diff_bundles, instance_counts
from engine.migration import ENDED, MigrationInvalid, MigrationPlan, plan_migration
from engine.models import DefinitionVersion, ProcessInstance
from engine.runtime import CaseEngine


@dataclass(frozen=True)
class VersionRow:
    """One version of a process with the instances that run on it and have finished on it."""

    id: int
    process_id: str
    version: int
    name: str | None
    published: bool
    current: bool  # the version new cases start on
    created_at: datetime
    created_by: str | None
    published_at: datetime | None
    running: int
    finished: int
    running_cases: int

    def as_dict(self) -> dict[str, Any]:
        """The row as plain data (datetimes as ISO text)."""
        data = asdict(self)
        for key in ("created_at", "published_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class ProcessRow:
    """A process with its current version and the instances running on any of its versions."""

    process_id: str
    name: str | None
    current_version: int | None
    current_id: int | None
    versions: int
    running: int
    running_cases: int

    def as_dict(self) -> dict[str, Any]:
        """The row as plain data."""
        return asdict(self)


def _current(rows: list[DefinitionVersion]) -> DefinitionVersion | None:
    """The version new instances start on: the last published (as the engine chooses it)."""
    published = [r for r in rows if r.published and r.published_at is not None]
    return max(published, key=lambda r: (r.published_at, r.version), default=None)


def versions_of(session: Session, process_id: str) -> list[VersionRow]:
    """Every version of ``process_id``, newest first, with its running and finished counts."""
    rows = list(
        session.scalars(
            select(DefinitionVersion)
            .where(DefinitionVersion.process_id == process_id)
            .order_by(DefinitionVersion.version.desc())
        )
    )
    counts = instance_counts(session, process_id)
    current = _current(rows)
    return [_version_row(row, counts.get(row.id, VersionCounts()), row is current) for row in rows]


def _version_row(row: DefinitionVersion, counts: VersionCounts, current: bool) -> VersionRow:
    return VersionRow(
        row.id,
        row.process_id,
        row.version,
        row.name,
        bool(row.published),
        current,
        row.created_at,
        row.created_by,
        row.published_at,
        counts.running,
        counts.finished,
        counts.running_cases,
    )


def processes(session: Session) -> list[ProcessRow]:
    """Every process that has a version, by id, with its current version and running count."""
    by_process: dict[str, list[DefinitionVersion]] = {}
    for row in session.scalars(select(DefinitionVersion).order_by(DefinitionVersion.process_id)):
        by_process.setdefault(row.process_id, []).append(row)
    counts = instance_counts(session)
    out = []
    for process_id, rows in by_process.items():
        current = _current(rows)
        mine = [counts[r.id] for r in rows if r.id in counts]
        out.append(
            ProcessRow(
                process_id,
                (current or rows[-1]).name,
                current.version if current else None,
                current.id if current else None,
                len(rows),
                sum(c.running for c in mine),
                sum(c.running_cases for c in mine),
            )
        )
    return out


def running_on(session: Session, definition_id: int, limit: int = 500) -> list[ProcessInstance]:
    """The running instances of one version, oldest first (what a migration would move)."""
    return list(
        session.scalars(
            select(ProcessInstance)
            .where(
                ProcessInstance.definition_id == definition_id,
                ProcessInstance.status.not_in(ENDED),
            )
            .order_by(ProcessInstance.id)
            .limit(limit)
        )
    )


def plan_version(
    session: Session, engine: CaseEngine, source_id: int, target_id: int, limit: int = 500
) -> list[MigrationPlan]:
    """Dry run for every running instance of ``source_id``: what moving it changes, if safe."""
    return [
        plan_migration(session, engine, row.id, target_id)
        for row in running_on(session, source_id, limit)
    ]


@dataclass(frozen=True)
class VersionDiff:
    """What one version of a process adds, removes and changes against another."""

    process_id: str
    from_version: int
    to_version: int
    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]

    def as_dict(self) -> dict[str, Any]:
        """The diff as plain data."""
        return asdict(self)


def diff_versions(session: Session, engine: CaseEngine, from_id: int, to_id: int) -> VersionDiff:
    """Compare two runnable versions of one process, called processes included."""
    old = session.get(DefinitionVersion, from_id)
    new = session.get(DefinitionVersion, to_id)
    if old is None or new is None or old.process_id != new.process_id:
        raise MigrationInvalid({"target": "Choose two versions of the same process."})
    if not old.spec_json or not new.spec_json:
        raise MigrationInvalid({"target": "A draft with problems cannot be compared yet."})
    added, removed, changed = diff_bundles(
        engine.definitions.specs(old), engine.definitions.specs(new)
    )
    return VersionDiff(new.process_id, old.version, new.version, added, removed, changed)
