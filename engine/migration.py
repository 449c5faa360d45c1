"""Move running instances onto another version of their process: a dry run, one, or a batch.

Built on SpiffWorkflow's ``bpmn.util.diff``: ``diff_workflow`` lines the tasks of a running
workflow (and of its subprocesses) up with the target version and ``migrate_workflow`` swaps
the specs and works out again what follows the open tasks. What "safe" means is written in
docs/versions.md and decided by the rules in engine/migration_rules.py (imported here, so
``engine.migration`` keeps offering ``MigrationPlan`` and the rest) and by ``_trial`` below;
each instance moves in its own savepoint, so it is either wholly on the new version or wholly
on the old one.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import ForeignKey, Index, Select, String, Text, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .db import EngineBase, UTCDateTime
from .definitions import DefinitionStore, Specs
from .errors import EngineError
from .handlers import service_context
from .migration_rules import (
    HARMLESS,
    OPEN,
    SANDBOX_NAMES,
    STATE_WORDS,
    MigrationPlan,
    TaskMove,
    check_workflows,
    judge_data_names,
    missing_names,
    state_words,
)
from .models import DefinitionVersion, HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from .version_diff import SPEC_REGISTRY, diff_bundles, spec_label

if TYPE_CHECKING:
    from .runtime import CaseEngine

__all__ = [
    "ENDED", "HARMLESS", "OPEN", "SANDBOX_NAMES", "STATE_WORDS", "InstanceMigration",
    "MigrationError", "MigrationInvalid", "MigrationPlan", "MigrationRefused",
    "MigrationResult", "TaskMove", "migrate_all_safe", "migrate_instance", "migrations_of",
    "missing_names", "plan_migration", "state_words", "version_for",
]

log = logging.getLogger(__name__)
ENDED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)


class InstanceMigration(EngineBase):
    """One instance moved from one version of its process to another: who, when and why."""

    __tablename__ = "instance_migrations"
    __table_args__ = (Index("ix_instance_migrations_case", "business_key", "migrated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    business_key: Mapped[str] = mapped_column(String(100))
    process_id: Mapped[str] = mapped_column(String(200))
    from_definition_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    to_definition_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    migrated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)


class MigrationError(EngineError):
    """Base of what moving an instance to another version raises."""


class MigrationInvalid(MigrationError):
    """The request cannot be carried out as asked; ``errors`` maps each field to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class MigrationRefused(MigrationError):
    """Moving the instance would not be safe; ``plan.reasons`` says why in plain words."""

    def __init__(self, plan: MigrationPlan):
        self.plan = plan
        super().__init__(" ".join(plan.reasons))


@dataclass(frozen=True)
class MigrationResult:
    """What became of one instance in a migration: migrated, skipped (why) or failed (error)."""

    instance_id: int
    business_key: str
    status: Literal["migrated", "skipped", "failed"]
    from_version: int | None = None
    to_version: int | None = None
    reasons: tuple[str, ...] = ()  # skipped: why not safe; migrated: the plan's notes
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data (for a page or JSON)."""
        return asdict(self)


@dataclass
class _Trial:
    plan: MigrationPlan
    target: DefinitionVersion
    workflow: BpmnWorkflow | None = None  # the moved workflow, reloaded, when the move is safe


# -- which versions a case runs ------------------------------------------------------------


def version_for(
    session: Session,
    store: DefinitionStore,
    business_key: str,
    process_id: str,
    *,
    anchor_process: str | None = None,
) -> DefinitionVersion:
    """The version a new instance of ``process_id`` for ``business_key`` starts on.

    The case runs the versions published when its anchor instance started (the newest one of
    ``anchor_process``, or else its oldest running instance), or, if that instance or an
    earlier instance of ``process_id`` on the case has been migrated since, the versions
    published at the latest such migration. Nothing published by then: the newest.
    """
    stmt = select(ProcessInstance).where(ProcessInstance.business_key == business_key)
    if anchor_process is not None:
        stmt = stmt.where(ProcessInstance.process_id == anchor_process).order_by(
            ProcessInstance.id.desc()
        )
    else:
        stmt = stmt.where(ProcessInstance.status.not_in(ENDED)).order_by(ProcessInstance.id)
    anchor = session.scalars(stmt.limit(1)).first()
    pinned = None
    if anchor is not None:
        moved = session.scalar(
            select(func.max(InstanceMigration.migrated_at)).where(
                InstanceMigration.business_key == business_key,
                or_(
                    InstanceMigration.instance_id == anchor.id,
                    InstanceMigration.process_id == process_id,
                ),
            )
        )
        moment = max(anchor.created_at, moved) if moved is not None else anchor.created_at
        pinned = store.published_at(session, process_id, moment)
    version = pinned or store.published(session, process_id)
    assert version is not None
    return version


def migrations_of(business_key: str) -> Select[InstanceMigration]:
    """Select the migrations of a case's instances, oldest first."""
    return (
        select(InstanceMigration)
        .where(InstanceMigration.business_key == business_key)
        .order_by(InstanceMigration.migrated_at, InstanceMigration.id)
    )


# -- the dry run ----------------------------------------------------------------------------


def _target(session: Session, row: ProcessInstance, target_version_id: int) -> DefinitionVersion:
    if row.status in ENDED:
        raise MigrationInvalid({"instance": "This process has ended; only running ones move."})
    target = session.get(DefinitionVersion, target_version_id)
    if target is None:
        raise MigrationInvalid({"target": "There is no such version."})
    if target.process_id != row.process_id:
        raise MigrationInvalid(
            {
                "target": f"Version {target.version} is a version of "
                f"{target.process_id}, not of {row.process_id}."
            }
        )
    if not target.published:
        raise MigrationInvalid({"target": "Only a published version can take running cases."})
    if target.id == row.definition_id:
        raise MigrationInvalid({"target": f"It runs on version {target.version} already."})
    return target


def _move(
    engine: CaseEngine, workflow: BpmnWorkflow, pairs: list[tuple[Any, Any, Any]], specs: Specs
) -> BpmnWorkflow:
    """Swap the specs with ``migrate_workflow``, keep what open steps had, and reload."""
    kept = {
        t.id: (copy.deepcopy(t.data), copy.deepcopy(t.internal_data))
        for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
    }
    open_tasks = {t.id for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    for wf, wf_diff, new_spec in reversed(pairs):  # subprocesses first, then the top level
        migrate_workflow(wf_diff, wf, new_spec)
        for task in wf.get_tasks(state=TaskState.STARTED, skip_subprocesses=True):
            task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE)
    workflow.subprocess_specs = specs[1]
    # A reset step would otherwise restart its timer from now and forget data set on it.
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if task.id in kept:
            task.data, task.internal_data = kept[task.id]
    if open_tasks - {t.id for t in workflow.get_tasks(state=TaskState.READY, manual=True)}:
        raise MigrationError("an open task would be closed and opened again")
    for wf, _diff, new_spec in pairs:
        for task in wf.get_tasks(skip_subprocesses=True):
            if new_spec.task_specs.get(task.task_spec.name) is not task.task_spec:
                raise MigrationError(
                    f"‘{spec_label(task.task_spec)}’ would be left on the old version"
                )
    moved = engine.serializer.loads(engine.serializer.dumps(workflow), *specs)
    moved.script_engine = engine.script_engine
    return moved


def _trial(
    session: Session, engine: CaseEngine, row: ProcessInstance, target_version_id: int
) -> _Trial:
    """Plan the move of ``row`` and, when safe, carry it out on a copy held in memory."""
    target = _target(session, row, target_version_id)
    source = session.get(DefinitionVersion, row.definition_id)
    assert source is not None
    plan = MigrationPlan(
        row.id,
        row.business_key,
        row.process_id,
        source.id,
        source.version,
        target.id,
        target.version,
    )
    old_specs = engine.definitions.specs(source)
    specs = engine.definitions.specs(target)
    plan.added, plan.removed, plan.changed = diff_bundles(old_specs, specs)
    trial = _Trial(plan, target)
    with session.no_autoflush, service_context(engine._context(session, row, "migration")):
        workflow = engine.load(row, session)
        pairs = check_workflows(
            workflow,
            specs,
            target,
            plan,
            diff_workflow(SPEC_REGISTRY, workflow, specs[0], specs[1]),
        )
        helpers = set(getattr(engine.script_engine.environment, "globals", {}))
        judge_data_names(workflow, old_specs, specs, target, helpers, plan)
        if plan.safe:
            try:
                trial.workflow = _move(engine, workflow, pairs, specs)
            except Exception as exc:  # noqa: BLE001 - any failure of the move makes it unsafe
                plan.reasons.append(
                    f"The case could not be moved onto version {target.version}: {exc}"
                )
    plan.reasons = list(dict.fromkeys(plan.reasons))
    plan.notes = list(dict.fromkeys(plan.notes))
    return trial


def plan_migration(
    session: Session, engine: CaseEngine, instance_id: int, target_version_id: int
) -> MigrationPlan:
    """Dry run: what moving one instance to the target changes, and whether it is safe."""
    row = engine.get(session, instance_id)
    return _trial(session, engine, row, target_version_id).plan


# -- moving ---------------------------------------------------------------------------------


def _why(reason: str | None) -> str:
    why = (reason or "").strip()
    if not why:
        raise MigrationInvalid({"reason": "Say why the cases are moved to another version."})
    return why[:2000]


def migrate_instance(
    session: Session,
    engine: CaseEngine,
    instance_id: int,
    target_version_id: int,
    *,
    actor: str,
    reason: str,
) -> MigrationResult:
    """Move one instance in one savepoint (state, tasks, timer, audit) or raise why not."""
    why = _why(reason)
    with session.begin_nested():
        row = engine._lock(session, instance_id)
        trial = _trial(session, engine, row, target_version_id)
        plan = trial.plan
        if not plan.safe or trial.workflow is None:
            raise MigrationRefused(plan)
        engine.store_migrated(session, row, trial.workflow, trial.target, actor=actor)
        _retitle(session, row, trial.workflow)
        session.add(
            InstanceMigration(
                instance_id=row.id,
                business_key=row.business_key,
                process_id=row.process_id,
                from_definition_id=plan.from_definition_id,
                to_definition_id=plan.to_definition_id,
                migrated_at=clock.now(),
                actor=actor,
                reason=why,
            )
        )
        engine.audit.instance(
            session,
            actor,
            "instance_migrated",
            row,
            summary={
                "process_id": row.process_id,
                "from_version": plan.from_version,
                "to_version": plan.to_version,
                "reason": why,
                "effects": plan.notes,
            },
        )
        session.flush()
    return MigrationResult(
        row.id, row.business_key, "migrated", plan.from_version, plan.to_version, tuple(plan.notes)
    )


def _retitle(session: Session, row: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """Give open tasks the labels the new version has for them."""
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    for task_row in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == row.id, HumanTask.state == TaskStatus.OPEN)
    ):
        task = ready.get(task_row.id)
        if task is not None:
            spec = task.task_spec
            task_row.title = spec.bpmn_name or spec.bpmn_id or spec.name


def migrate_all_safe(
    session: Session,
    engine: CaseEngine,
    source_version_id: int,
    target_version_id: int,
    *,
    actor: str,
    reason: str,
) -> list[MigrationResult]:
    """Move every running instance of a version that can move safely, one savepoint each."""
    why = _why(reason)
    source = session.get(DefinitionVersion, source_version_id)
    target = session.get(DefinitionVersion, target_version_id)
    if source is None or target is None or source.process_id != target.process_id:
        raise MigrationInvalid({"target": "Choose two versions of the same process."})
    rows = session.execute(
        select(ProcessInstance.id, ProcessInstance.business_key)
        .where(ProcessInstance.definition_id == source.id, ProcessInstance.status.not_in(ENDED))
        .order_by(ProcessInstance.id)
    ).all()
    results: list[MigrationResult] = []
    for instance_id, key in rows:
        try:
            results.append(
                migrate_instance(session, engine, instance_id, target.id, actor=actor, reason=why)
            )
        except MigrationRefused as exc:
            results.append(
                MigrationResult(
                    instance_id,
                    key,
                    "skipped",
                    source.version,
                    target.version,
                    tuple(exc.plan.reasons),
                )
            )
        except MigrationInvalid as exc:
            results.append(
                MigrationResult(
                    instance_id,
                    key,
                    "skipped",
                    source.version,
                    target.version,
                    tuple(exc.errors.values()),
                )
            )
        except Exception as exc:  # noqa: BLE001 - one case's failure must not stop the batch
            log.exception("migrating process instance %s failed", instance_id)
            results.append(
                MigrationResult(
                    instance_id,
                    key,
                    "failed",
                    source.version,
                    target.version,
                    error=f"{type(exc).__name__}: {exc}"[:1000],
                )
            )
    return results
