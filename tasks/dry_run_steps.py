"""What a dry run sees after each step: the elements that ran, tasks, timers, letters, referrals.

``Observer`` looks at the throwaway database and every workflow in it after each action of
``tasks.dry_run`` and says what is new since the previous step, keyed by the process whose
diagram shows it (an embedded subprocess is drawn in its parent's diagram, a called process
in its own). Only the sample's facts and element ids leave here: never an address.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.audit import AuditEvent
from cases.outbox import OutboxMessage
from cases.records import Case
from cases.referrals import Referral
from engine import clock
from engine.models import HumanTask, Incident, ProcessInstance, TaskStatus
from engine.projection import to_utc
from engine.runtime import CaseEngine

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.ERROR
CASE_FIELDS = (
    "status",
    "stage",
    "priority",
    "case_officer",
    "team",
    "area",
    "safeguarding",
    "first_contact_due_at",
    "first_contact_at",
    "first_contact_breached_at",
    "next_update_due_at",
    "closed_at",
    "closure_reason",
)


def iso(value: datetime | None) -> str | None:
    """A stored moment as ISO text in UTC (SQLite gives naive UTC back)."""
    return None if value is None else to_utc(value).isoformat()  # type: ignore[union-attr]


def flow_index(sources: dict[str, str]) -> tuple[dict[str, str], dict[str, dict], dict[str, str]]:
    """Which file defines each process, each file's sequence flows by (source, target), and
    each process's name."""
    files: dict[str, str] = {}
    titles: dict[str, str] = {}
    flows: dict[str, dict[tuple[str, str], list[str]]] = {}
    for name, xml in sources.items():
        if not name.endswith(".bpmn"):
            continue
        try:
            root = etree.fromstring(xml.encode("utf-8"), parser=_SAFE_XML)
        except etree.XMLSyntaxError:
            continue
        for proc in root.iter(f"{BPMN}process"):
            files.setdefault(proc.get("id") or "", name)
            titles.setdefault(proc.get("id") or "", " ".join((proc.get("name") or "").split()))
        index: dict[tuple[str, str], list[str]] = {}
        for flow in root.iter(f"{BPMN}sequenceFlow"):
            key = (flow.get("sourceRef") or "", flow.get("targetRef") or "")
            index.setdefault(key, []).append(flow.get("id") or "")
        flows[name] = index
    return files, flows, titles


def walk(workflow: BpmnWorkflow) -> Iterator[tuple[str, Task]]:
    """Every task with a diagram element, with the process whose diagram draws it."""
    where = {id(workflow): workflow.spec.name}
    subs = sorted(workflow.subprocesses.values(), key=lambda w: w.depth)
    for sub in subs:
        caller = workflow.get_task_from_id(sub.parent_task_id)
        parent = where.get(id(caller.workflow), workflow.spec.name)
        where[id(sub)] = sub.spec.name if isinstance(caller.task_spec, CallActivity) else parent
    for one in (workflow, *subs):
        for task in one.tasks.values():
            if task.task_spec.bpmn_id is not None:
                yield where[id(one)], task


def timer_due(task: Task) -> datetime | None:
    """When a waiting timer event falls due, if it is one."""
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    try:
        return to_utc(definition.details(task).value)
    except (TypeError, ValueError):
        return None


def _expanded(task: Task) -> bool:
    """An embedded subprocess, drawn expanded around its own steps."""
    spec = task.task_spec
    return isinstance(spec, SubWorkflowTask) and not isinstance(spec, CallActivity)


def _name(task: Task) -> str:
    spec = task.task_spec
    return " ".join(str(spec.bpmn_name or spec.bpmn_id).split())


def _add(marks: dict[str, list[str]], process: str, element: str) -> None:
    found = marks.setdefault(process, [])
    if element not in found:
        found.append(element)


@dataclass
class Seen:
    """Ids already reported, so each step lists only what is new."""

    tasks: set[str] = field(default_factory=set)
    spiff: set[str] = field(default_factory=set)
    outbox: int = 0
    referrals: int = 0
    incidents: int = 0
    audit: int = 0
    case: dict[str, Any] = field(default_factory=dict)


class Observer:
    """Turns the throwaway database after each action into one step of the trace."""

    def __init__(self, session: Session, engine: CaseEngine, sources: dict[str, str]) -> None:
        self.session = session
        self.engine = engine
        self.files, self.flows, self.titles = flow_index(sources)
        self.seen = Seen()
        self.touched: set[str] = set()
        self.names: dict[str, str] = {}  # element id -> name, for failures in words

    def step(self, kind: str, title: str, reference: str | None, **extra: Any) -> dict[str, Any]:
        """Everything new since the last step, with the elements to mark on the diagrams."""
        self.session.flush()
        step: dict[str, Any] = {
            "kind": kind,
            "title": title,
            "at": clock.now().isoformat(),
            "ran": {},
            "flows": {},
            "current": {},
            "watching": {},
            "ran_names": [],
            "timers": [],
            **extra,
        }
        for row in self.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id)):
            self._instance(row, step)
        step["opened"], step["open"] = self._tasks()
        step["letters"] = self._letters()
        step["referrals"] = self._referrals()
        step["incidents"], step["caught"] = self._failures()
        step["case"], step["case_changes"] = self._case(reference)
        step["focus"] = self._focus(step)
        self.touched.update(step["ran"], step["current"])
        return step

    def _instance(self, row: ProcessInstance, step: dict[str, Any]) -> None:
        try:
            workflow = self.engine.load(row, self.session)
        except Exception:  # noqa: BLE001 - an unreadable instance has nothing to show
            return
        for process, task in walk(workflow):
            eid = task.task_spec.bpmn_id
            self.names.setdefault(eid, _name(task))
            if _expanded(task):
                continue  # drawn around its steps: marking it would colour all of them
            if task.has_state(TaskState.COMPLETED) and str(task.id) not in self.seen.spiff:
                self.seen.spiff.add(str(task.id))
                _add(step["ran"], process, eid)
                step["ran_names"].append(
                    {
                        "process": process,
                        "element": eid,
                        "name": _name(task),
                        "type": type(task.task_spec).__name__,
                    }
                )
                self._flow(step, process, task)
            elif task.has_state(_ACTIVE):
                _add(step["current"], process, eid)
                self._flow(step, process, task)
            elif task.has_state(TaskState.WAITING):
                self._waiting(step, process, task)

    @staticmethod
    def _waiting(step: dict[str, Any], process: str, task: Task) -> None:
        """A deadline or event watched, or a step waiting for a message; not a join."""
        spec, eid = task.task_spec, task.task_spec.bpmn_id
        due = timer_due(task)
        if due is not None:
            step["timers"].append(
                {"process": process, "element": eid, "name": _name(task), "due": due.isoformat()}
            )
        if due is not None or isinstance(spec, BoundaryEvent):
            _add(step["watching"], process, eid)
        elif not isinstance(spec, UnstructuredJoin | StartEvent):
            _add(step["current"], process, eid)

    def _flow(self, step: dict[str, Any], process: str, task: Task) -> None:
        source = task.parent
        while source is not None and source.task_spec.bpmn_id is None:
            source = source.parent
        if source is None or not source.has_state(TaskState.COMPLETED):
            return
        index = self.flows.get(self.files.get(process, ""), {})
        for flow in index.get((source.task_spec.bpmn_id, task.task_spec.bpmn_id), ()):
            _add(step["flows"], process, flow)

    def _tasks(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows = self.session.scalars(
            select(HumanTask)
            .where(HumanTask.state == TaskStatus.OPEN)
            .order_by(HumanTask.created_at, HumanTask.id)
        ).all()
        described = [
            {
                "id": t.id,
                "name": t.name,
                "title": t.title,
                "process": t.process_id,
                "role": t.role,
                "assignee": t.assignee,
                "due": iso(t.due_at),
                "case": t.business_key,
            }
            for t in rows
        ]
        opened = [d for d in described if d["id"] not in self.seen.tasks]
        self.seen.tasks.update(d["id"] for d in described)
        return opened, described

    def _letters(self) -> list[dict[str, Any]]:
        rows = self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id > self.seen.outbox)
            .order_by(OutboxMessage.id)
        ).all()
        self.seen.outbox = max([self.seen.outbox, *(m.id for m in rows)])
        return [
            {
                "template": m.template,
                "channel": str(m.channel),
                "recipient": m.recipient_role,
                "status": str(m.status),
                "not_before": iso(m.not_before),
                "subject": m.subject,
                "text": (m.body_text or "")[:4000],
            }
            for m in rows
        ]

    def _referrals(self) -> list[dict[str, Any]]:
        rows = self.session.scalars(
            select(Referral).where(Referral.id > self.seen.referrals).order_by(Referral.id)
        ).all()
        self.seen.referrals = max([self.seen.referrals, *(r.id for r in rows)])
        return [
            {
                "agency": r.agency_code,
                "agency_name": r.agency_name,
                "kind": str(r.kind),
                "status": str(r.status),
                "at_risk": str(r.at_risk) if r.at_risk else None,
                "legal_basis": str(r.legal_basis),
                "disclosed": list(r.disclosed or []),
            }
            for r in rows
        ]

    def _failures(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows = self.session.scalars(
            select(Incident).where(Incident.id > self.seen.incidents).order_by(Incident.id)
        ).all()
        self.seen.incidents = max([self.seen.incidents, *(i.id for i in rows)])
        incidents = [
            {
                "element": i.task_name,
                "operation": i.operation,
                "error": i.error_type,
                "words": incident_words(
                    self.names.get(i.task_name, i.task_name), i.operation, i.error_type, i.message
                ),
            }
            for i in rows
        ]
        events = self.session.scalars(
            select(AuditEvent).where(AuditEvent.id > self.seen.audit).order_by(AuditEvent.id)
        ).all()
        self.seen.audit = max([self.seen.audit, *(e.id for e in events)])
        caught = [
            {
                "element": e.task_name,
                "words": caught_words(
                    self.names.get(e.task_name or "", e.task_name or ""), e.summary or {}
                ),
            }
            for e in events
            if e.action == "bpmn_error_caught"
        ]
        return incidents, caught

    def _case(self, reference: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        case = (
            self.session.scalar(select(Case).where(Case.reference == reference))
            if reference
            else None
        )
        if case is None:
            return {}, {}
        now: dict[str, Any] = {"reference": case.reference, "hate": case.hate}
        for name in CASE_FIELDS:
            value = getattr(case, name)
            now[name] = (
                iso(value)
                if isinstance(value, datetime)
                else (
                    str(value) if value is not None and not isinstance(value, bool | int) else value
                )
            )
        changes = {k: v for k, v in now.items() if self.seen.case.get(k) != v}
        self.seen.case = now
        return now, changes

    @staticmethod
    def _focus(step: dict[str, Any]) -> str | None:
        """The diagram to show for a step: where a person acts next, else where things ran."""
        wanted = [t["name"] for t in step["opened"]] + [i["element"] for i in step["incidents"]]
        for element in wanted:
            for process, elements in step["current"].items():
                if element in elements:
                    return str(process)
        ran = [p for p in step["ran"] if p]
        return ran[-1] if ran else next(iter(step["current"]), None)


def incident_words(element: str, operation: str | None, error: str, message: str) -> str:
    """An incident as a process owner reads it: which step failed, why, what happens next."""
    text = message.split(": ", 1)[1] if message.startswith(f"{error}: ") else message
    if error == "TypeError" and "unexpected keyword argument" in text:
        why = (
            "the diagram gives the operation a parameter it does not take "
            f"({text.rsplit(' ', 1)[-1]})"
        )
    elif error == "TypeError" and "missing" in text:
        why = f"the diagram does not give the operation a parameter it needs ({text})"
    elif error == "NameError":
        why = f"an expression uses a name that is not set at this point ({text})"
    elif error == "UnknownOperation":
        why = "no handler is registered for the operation"
    else:
        why = f"{text} ({error})"
    what = f"operation '{operation}'" if operation else "the step"
    return (
        f"Step '{element}' stopped: {what} failed because {why}. On a real case the step "
        "would be retried 5 times and then wait for a manager; nothing after it happens "
        "until then."
    )


def caught_words(name: str, summary: dict[str, Any]) -> str:
    """A failure the diagram caught with an error event, in words."""
    return (
        f"A failure in step '{name}' was caught by the diagram's error path: "
        f"{summary.get('error', '')}"
    )
