"""CaseEngine: start, load, complete, message and wake process instances, one transaction each.

Every public method takes the caller's SQLAlchemy session, may flush, never commits: the
request or job wrapper commits (or rolls back) the state, the task projection, the next
timer and the audit events together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition, MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from . import clock, event_subprocess, forms
from .audit import AuditSink, EngineAudit
from .definitions import DefinitionStore
from .errors import (
    BpmnError,
    FormInvalid,
    InstanceNotFound,
    StateFormatUnknown,
    TaskConflict,
    TaskNotFound,
)
from .handlers import ServiceContext, service_context
from .incidents import IncidentBook
from .migration import version_for
from .models import (
    DefinitionVersion,
    HumanTask,
    InstanceStatus,
    ProcessInstance,
    StoredMessage,
    TaskStatus,
)
from .projection import next_timer, status_of, sync_tasks
from .scripting import ProductScriptEngine
from .serializer import InstanceSerializer

ENDED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)
log = logging.getLogger(__name__)


@dataclass
class Completion:
    """The result of completing a task: the instance and the human tasks it opened."""

    instance: ProcessInstance
    next_tasks: list[HumanTask]


class CaseEngine:
    """The workflow runtime: a small object wired once with its parts (see ``wiring``)."""

    def __init__(self, definitions: DefinitionStore, serializer: InstanceSerializer,
                 script_engine: ProductScriptEngine, audit: AuditSink | None = None,
                 max_attempts: int = 5, backoff: timedelta = timedelta(minutes=1)):
        event_subprocess.install()  # triggering must not change the specs instances share
        self.definitions = definitions
        self.serializer = serializer
        self.script_engine = script_engine
        self.audit = EngineAudit(audit)
        self.incidents = IncidentBook(max_attempts=max_attempts, backoff=backoff)

    # -- loading and saving ---------------------------------------------------------------

    def load(self, row: ProcessInstance, session: Session | None = None) -> BpmnWorkflow:
        """Rebuild the workflow of a stored instance around its cached specs."""
        if row.serializer_version != self.serializer.version:
            raise StateFormatUnknown(
                f"instance {row.id} was stored as format {row.serializer_version!r}; this "
                f"build reads {self.serializer.version!r}: run 'asb init-db' to migrate it")
        if session is None:
            spec, subs = self.definitions.specs(row.definition)
        else:
            spec, subs = self.definitions.specs_by_id(session, row.definition_id)
        workflow = self.serializer.loads(row.state_json, spec, subs)
        workflow.script_engine = self.script_engine
        return workflow

    def _save(self, session: Session, row: ProcessInstance, workflow: BpmnWorkflow, *,
              actor: str, completed_id: str | None = None, fresh: bool = False,
              follow_ups: list[tuple[str, dict[str, Any]]] | None = None) -> list[HumanTask]:
        with session.no_autoflush:
            new = self._write(session, row, workflow, actor=actor, completed_id=completed_id,
                              fresh=fresh)
        # Processes handlers asked for start now, in the same transaction, after this save.
        for process_id, data in follow_ups or ():
            # They run the versions the case runs (docs/versions.md), like the stages do.
            pinned = version_for(session, self.definitions, row.business_key, process_id)
            started = self.start(session, process_id, row.business_key, data, actor=actor,
                                 version=pinned)
            new.extend(session.scalars(select(HumanTask).where(
                HumanTask.instance_id == started.id, HumanTask.state == TaskStatus.OPEN)))
        return new

    def _write(self, session: Session, row: ProcessInstance, workflow: BpmnWorkflow, *,
               actor: str, completed_id: str | None, fresh: bool) -> list[HumanTask]:
        now = clock.now()
        with service_context(self._context(session, row, actor)):  # due dates may read config
            new_tasks = sync_tasks(
                session, row, workflow, now=now, actor=actor, fresh=fresh,
                on_new=lambda t: self.audit.task(session, actor, "task_opened", t))
        if completed_id is not None:
            done = session.get(HumanTask, completed_id)
            if done is not None:
                done.finished_by = actor
        row.state_json = self.serializer.dumps(workflow)
        row.serializer_version = self.serializer.version
        held = row.status is InstanceStatus.SUSPENDED  # only engine/control.py resumes it
        row.status = status_of(workflow)
        row.next_timer_at = None if row.status in ENDED else next_timer(workflow)
        if row.next_retry_at is not None or self.incidents.touched(session, row):
            row.next_retry_at = self.incidents.next_retry(session, row)
        if held and row.status not in ENDED:
            row.status, row.next_timer_at, row.next_retry_at = InstanceStatus.SUSPENDED, None, None
        row.updated_at = now
        if row.status in ENDED and row.ended_at is None:
            row.ended_at = now
            self.audit.instance(session, actor, "instance_ended", row,
                                summary={"status": row.status.value})
        session.flush()
        return new_tasks

    def _lock_for_task(self, session: Session, task_id: str) -> tuple[ProcessInstance, HumanTask]:
        """Lock the instance a task belongs to, then read the task as it is now."""
        row = session.scalars(
            select(ProcessInstance)
            .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
            .where(HumanTask.id == task_id)
            .with_for_update(of=ProcessInstance)
            .execution_options(populate_existing=True)).one_or_none()
        if row is None:
            raise TaskNotFound(f"no task {task_id}")
        task_row = session.scalars(select(HumanTask).where(HumanTask.id == task_id)
                                   .execution_options(populate_existing=True)).one()
        return row, task_row

    def _lock(self, session: Session, instance_id: int) -> ProcessInstance:
        row = session.scalars(
            select(ProcessInstance).where(ProcessInstance.id == instance_id)
            .with_for_update().execution_options(populate_existing=True)).one_or_none()
        if row is None:
            raise InstanceNotFound(f"no process instance {instance_id}")
        return row

    # -- running --------------------------------------------------------------------------

    def _context(self, session: Session, row: ProcessInstance, actor: str) -> ServiceContext:
        return ServiceContext(session=session, business_key=row.business_key,
                              instance_id=row.id, task_name="", data={}, now=clock.now(),
                              actor=actor)

    def _advance(self, session: Session, row: ProcessInstance, workflow: BpmnWorkflow,
                 actor: str, *, strict: bool = False) -> list[tuple[str, dict[str, Any]]]:
        """Run until every branch waits; turn handler failures into BPMN errors or incidents."""
        ctx = self._context(session, row, actor)
        self._run_steps(session, row, workflow, actor, ctx, strict)
        return ctx.follow_ups

    def _run_steps(self, session: Session, row: ProcessInstance, workflow: BpmnWorkflow,
                   actor: str, ctx: ServiceContext, strict: bool) -> None:
        with service_context(ctx):
            # Tasks already failed before this step (waiting for their retry) are not news.
            seen = {t.id for t in workflow.get_tasks(state=TaskState.ERROR)}
            for _ in range(100):
                try:
                    workflow.refresh_timers()
                    workflow.do_engine_steps()
                    return
                except Exception as exc:  # noqa: BLE001 - any handler or script failure
                    if strict and isinstance(exc, FormInvalid):
                        raise  # the person completing the task must correct their answers
                    fresh = [t for t in workflow.get_tasks(state=TaskState.ERROR)
                             if t.id not in seen]
                    if not fresh:
                        raise
                    task = fresh[-1]
                    seen.add(task.id)
                    caught = self._throw_bpmn_error(workflow, task, exc)
                    if not caught:
                        self.incidents.open(session, row, task, exc)
                    self.audit.instance(
                        session, actor, "bpmn_error_caught" if caught else "incident_opened",
                        row, task_name=task.task_spec.bpmn_id,
                        summary={"error": _describe(exc)})
                    # Loop: other branches may still move on while this task waits.
            raise RuntimeError("a process kept failing in a loop; giving up on this step")

    @staticmethod
    def _throw_bpmn_error(workflow: BpmnWorkflow, task: Task, exc: Exception) -> bool:
        """Throw the failure as a BPMN error; return whether the diagram caught it."""
        code = exc.code if isinstance(exc, BpmnError) else None
        definition = ErrorEventDefinition(code or "service_error", code=code)
        event = BpmnEvent(definition, payload={"code": code, "message": _describe(exc)},
                          target=task.workflow)
        before = len(workflow.bpmn_events)
        workflow.catch(event)
        if len(workflow.bpmn_events) > before:
            del workflow.bpmn_events[before:]
            return False
        if task.has_state(TaskState.ERROR):
            # The error ended the activity: it is interrupted, not waiting for a retry.
            task._set_state(TaskState.CANCELLED)
        return True

    # -- public API -----------------------------------------------------------------------

    def start(self, session: Session, process_id: str, business_key: str,
              data: dict[str, Any] | None = None, actor: str = "system", *,
              version: DefinitionVersion | None = None) -> ProcessInstance:
        """Start ``version`` (default: the published one) and run until every branch waits."""
        if version is None:
            version = self.definitions.published(session, process_id)
        assert version is not None
        assert version.process_id == process_id
        spec, subs = self.definitions.specs(version)
        workflow = BpmnWorkflow(spec, subs, script_engine=self.script_engine)
        first = workflow.get_next_task(state=TaskState.READY)
        if first is not None and data:
            first.data.update(data)
        now = clock.now()
        row = ProcessInstance(
            business_key=business_key, process_id=process_id, definition=version,
            definition_id=version.id, status=InstanceStatus.RUNNING,
            serializer_version=self.serializer.version, state_json="{}", revision=1,
            created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        self.audit.instance(session, actor, "instance_started", row,
                    summary={"process_id": process_id, "version": version.version})
        with session.no_autoflush:
            follow = self._advance(session, row, workflow, actor)
            self._save(session, row, workflow, actor=actor, fresh=True, follow_ups=follow)
        return row

    def store_migrated(self, session: Session, row: ProcessInstance, workflow: BpmnWorkflow,
                       version: DefinitionVersion, *, actor: str) -> None:
        """Save a workflow moved onto ``version`` (see ``engine.migration``), with its tasks."""
        row.definition = version
        row.definition_id = version.id
        row.revision += 1
        with session.no_autoflush:
            self._write(session, row, workflow, actor=actor, completed_id=None, fresh=False)

    def get(self, session: Session, instance_id: int) -> ProcessInstance:
        """Return an instance row by id."""
        row = session.get(ProcessInstance, instance_id)
        if row is None:
            raise InstanceNotFound(f"no process instance {instance_id}")
        return row

    def instances_for(self, session: Session, business_key: str, *, active_only: bool = True
                      ) -> list[ProcessInstance]:
        """Return the instances of a case, oldest first."""
        stmt = select(ProcessInstance).where(ProcessInstance.business_key == business_key)
        if active_only:
            stmt = stmt.where(ProcessInstance.status.not_in(ENDED))
        return list(session.scalars(stmt.order_by(ProcessInstance.id)))

    def complete(self, session: Session, task_id: str, data: dict[str, Any] | None,
                 actor: str) -> Completion:
        """Complete a user task with form data; a concurrent completion gets ``TaskConflict``."""
        if data is not None and not isinstance(data, dict):
            raise FormInvalid({"data": "must be an object of form fields"})
        bad = [k for k in (data or {}) if not isinstance(k, str) or k.startswith("_")]
        if bad:
            raise FormInvalid({str(k): "field names may not start with '_'" for k in bad})
        row, task_row = self._lock_for_task(session, task_id)
        if task_row.state is not TaskStatus.OPEN:
            raise TaskConflict(f"the task was {task_row.state.value} meanwhile")
        if row.status is InstanceStatus.SUSPENDED:
            raise TaskConflict("the process is suspended: a manager must resume it first")
        schema = self.form_schema(session, task_row)
        if schema is not None:
            errors = forms.validate(schema, data or {})
            if errors:
                raise FormInvalid(errors)
        workflow = self.load(row, session)
        task = workflow.get_task_from_id(UUID(task_id))
        if not task.has_state(TaskState.READY):
            raise TaskConflict("the task is no longer ready")
        with session.no_autoflush:  # one flush at the end: one UPDATE per changed row
            before = dict(task.data)
            task.data.update(data or {})
            task.run()
            task_row.assignee = actor  # completing makes the task the actor's (API.md)
            self.audit.instance(session, actor, "task_completed", row, task_name=task_row.name,
                        object_id=task_id, summary={"changed": sorted(_changes(before, task.data))})
            # A handler refusing what the person entered (FormInvalid) aborts the completion.
            follow = self._advance(session, row, workflow, actor, strict=True)
            row.revision += 1
            new = self._save(session, row, workflow, actor=actor, completed_id=task_id,
                             follow_ups=follow)
        return Completion(row, new)

    def form_schema(self, session: Session, task_row: HumanTask) -> dict[str, Any] | None:
        """Return the JSON Schema that completing ``task_row`` must satisfy, if it has a form."""
        if not task_row.form_key:
            return None
        instance_def = session.scalar(select(ProcessInstance.definition_id).where(
            ProcessInstance.id == task_row.instance_id))
        if instance_def is None:
            return None
        return self.definitions.form(session, instance_def, task_row.form_key)

    def claim(self, session: Session, task_id: str, actor: str) -> HumanTask:
        """Make an open task the actor's; someone else's task gets ``TaskConflict``."""
        _row, task_row = self._lock_for_task(session, task_id)
        if task_row.state is not TaskStatus.OPEN:
            raise TaskConflict(f"the task was {task_row.state.value} meanwhile")
        if task_row.assignee not in (None, actor):
            raise TaskConflict(f"the task is held by {task_row.assignee}")
        if _row.status is InstanceStatus.SUSPENDED:
            raise TaskConflict("the process is suspended: a manager must resume it first")
        if task_row.assignee != actor:
            task_row.assignee = actor
            self.audit.task(session, actor, "task_claimed", task_row)
        session.flush()
        return task_row

    def send_message(self, session: Session, business_key: str, name: str,
                     payload: dict[str, Any] | None = None, actor: str = "system"
                     ) -> StoredMessage:
        """Deliver a message to the running instance of a case; keep it when nobody waits."""
        now = clock.now()
        stored = StoredMessage(business_key=business_key, name=name, payload=payload or {},
                               received_at=now)
        session.add(stored)
        for candidate in self.instances_for(session, business_key):
            row = self._lock(session, candidate.id)
            if row.status in ENDED:
                continue
            if row.status is InstanceStatus.SUSPENDED:
                continue  # kept undelivered; engine/control.py delivers it on resume
            workflow = self.load(row, session)
            event = BpmnEvent(MessageEventDefinition(name), payload=payload or {})
            try:
                workflow.send_event(event)
            except WorkflowException:
                continue
            stored.delivered_at, stored.instance_id = now, row.id
            self.audit.instance(session, actor, "message_delivered", row, summary={"message": name})
            follow = self._advance(session, row, workflow, actor)
            row.revision += 1
            self._save(session, row, workflow, actor=actor, follow_ups=follow)
            break
        else:
            stored.note = "no running process of this case was waiting for this message"
            self.audit.message(session, actor, "message_undelivered", business_key,
                            summary={"message": name})
        session.flush()
        return stored

    def set_variables(self, session: Session, business_key: str, values: dict[str, Any],
                      actor: str, reassign: tuple[str, str] | None = None) -> int:
        """Change workflow variables of a case's running instances (e.g. a new case officer).

        The values go to every unfinished task, from where later tasks inherit them; with
        ``reassign=(old, new)`` open tasks held by ``old`` move to ``new``. Returns how many
        instances changed.
        """
        bad = [k for k in values if not isinstance(k, str) or k.startswith("_")]
        if bad:
            raise FormInvalid({str(k): "variable names may not start with '_'" for k in bad})
        changed = 0
        for candidate in self.instances_for(session, business_key):
            row = self._lock(session, candidate.id)
            workflow = self.load(row, session)
            frontier = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
            for task in workflow.get_tasks(state=frontier):
                task.data.update(values)
            with session.no_autoflush:
                if reassign is not None:
                    for task_row in session.scalars(select(HumanTask).where(
                            HumanTask.instance_id == row.id, HumanTask.state == TaskStatus.OPEN,
                            HumanTask.assignee == reassign[0])):
                        task_row.assignee = reassign[1]
                self.audit.instance(session, actor, "variables_changed", row,
                            summary={"changed": sorted(values)})
                row.revision += 1
                self._save(session, row, workflow, actor=actor)
            changed += 1
        return changed

    @staticmethod
    def undelivered_messages(business_key: str | None = None) -> Select[StoredMessage]:
        """Select messages no process was waiting for, newest first, for managers to see."""
        stmt = select(StoredMessage).where(StoredMessage.delivered_at.is_(None))
        if business_key is not None:
            stmt = stmt.where(StoredMessage.business_key == business_key)
        return stmt.order_by(StoredMessage.received_at.desc(), StoredMessage.id.desc())

    def wake(self, session: Session, instance_id: int, actor: str = "worker") -> ProcessInstance:
        """Fire what fell due (timers) and retry due incidents of one locked instance."""
        row = self._lock(session, instance_id)
        if row.status in ENDED or row.status is InstanceStatus.SUSPENDED:
            row.next_timer_at = row.next_retry_at = None
            return row
        workflow = self.load(row, session)
        now = clock.now()
        for task in self.incidents.due_for_retry(session, row, workflow, now):
            task._set_state(TaskState.READY)
        follow = self._advance(session, row, workflow, actor)
        self.incidents.settle(session, row, workflow, now)
        row.revision += 1
        self._save(session, row, workflow, actor=actor, follow_ups=follow)
        return row

    def fire_due_timers(self, session: Session, limit: int = 20, actor: str = "worker"
                        ) -> list[int]:
        """Claim up to ``limit`` instances with a due timer or retry and wake each once.

        ``FOR UPDATE SKIP LOCKED`` lets several workers share the queue on PostgreSQL; each
        instance runs in a savepoint, so a fault in one cannot undo the others.
        """
        now = clock.now()
        ids = list(session.scalars(
            select(ProcessInstance.id)
            .where(or_(ProcessInstance.next_timer_at <= now,
                       ProcessInstance.next_retry_at <= now))
            .order_by(ProcessInstance.next_timer_at, ProcessInstance.id)
            .limit(limit)
            .with_for_update(skip_locked=True)))
        for instance_id in ids:
            try:
                with session.begin_nested():
                    self.wake(session, instance_id, actor=actor)
            except Exception:
                # A fault in the engine itself (handlers' failures are incidents already).
                # Park the instance for a while so one bad row cannot stall the queue.
                log.exception("waking process instance %s failed", instance_id)
                self._park(session, instance_id, now + timedelta(minutes=5))
        return ids

    @staticmethod
    def _park(session: Session, instance_id: int, until: datetime) -> None:
        row = session.get(ProcessInstance, instance_id)
        if row is not None:
            row.next_timer_at = until if row.next_timer_at is not None else None
            row.next_retry_at = until if row.next_retry_at is not None else None

    def retry_now(self, session: Session, incident_id: int, actor: str) -> ProcessInstance:
        """Retry an incident at once (a manager's button)."""
        incident = self.incidents.get(session, incident_id)
        self.incidents.make_due(incident, clock.now())
        return self.wake(session, incident.instance_id, actor)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:1000]


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The fields a completion set or changed (the audit keeps their names, never the values:
    task data holds what people told the council)."""
    return {k: v for k, v in after.items() if k not in before or before[k] != v}
