"""Where a case stands in its processes: the steps open now and the diagrams to draw them on.

The case file lists the steps as text; ``web/static/js/case_diagram.js`` draws the same state
on the process diagram (bpmn-js) from the JSON below. Only element ids, names and states
leave here, never task data. Called stages run as subprocesses inside their case's workflow:
each call activity's subprocess is a diagram of its own, an embedded subprocess is drawn in
its parent's diagram.

URL map (blueprint ``process_view``):
    GET /cases/<reference>/process    process()    JSON for the diagram on the case file
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import Blueprint, jsonify
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from cases.records import Case
from engine.errors import DefinitionNotFound, StateFormatUnknown
from engine.models import DefinitionVersion, HumanTask, ProcessInstance, TaskStatus
from engine.projection import to_utc
from web.auth.guards import roles_required
from web.extensions import case_engine, db

from .case_access import CASE_PAGE_ROLES, audit, aware, viewable_case

bp = Blueprint("process_view", __name__)
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
MAIN_PROCESS = "asb_case"
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True)
_ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.ERROR
_REACHED = _ACTIVE | TaskState.WAITING | TaskState.COMPLETED


@dataclass(frozen=True)
class Step:
    """One thing a process is at now, as the case file says it in words.

    ``kind`` is "now" (a step someone or the system works on), "waiting" (for a message
    or a time), "watching" (a deadline or an event that may interrupt a step) or "stopped"
    (a failed service step waiting for its retry).
    """

    kind: str
    element_id: str
    name: str
    stage: str
    at: datetime | None = None
    task: HumanTask | None = None


@dataclass
class View:
    """One diagram to draw: a process (the case, or a stage it called) and its elements' states."""

    key: str
    process_id: str
    name: str
    depth: int
    called_from: str | None = None
    diagram: str | None = None
    completed: bool = False
    active: set[str] = field(default_factory=set)
    watching: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    flows: set[str] = field(default_factory=set)
    person_waits: bool = False  # a user task is READY here

    def as_json(self, label: str) -> dict[str, Any]:
        """The view as ``case_diagram.js`` reads it (ids, names and states only)."""
        status = "now" if self.active else "done" if self.completed else ""
        return {"key": self.key, "label": label, "process_id": self.process_id,
                "name": self.name, "status": status, "called_from": self.called_from,
                "diagram": self.diagram, "active": sorted(self.active),
                "watching": sorted(self.watching), "done": sorted(self.done - self.active),
                "flows": sorted(self.flows)}


@dataclass
class Outline:
    """One process instance of a case: its status, the steps open now and its diagrams."""

    instance: ProcessInstance
    name: str
    steps: list[Step] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    diagrams: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The instance's status in words."""
        return str(self.instance.status)

    @property
    def started(self) -> datetime | None:
        """When the instance started."""
        return aware(self.instance.created_at)

    @property
    def ended(self) -> datetime | None:
        """When the instance ended, if it has."""
        return aware(self.instance.ended_at)


@lru_cache(maxsize=64)
def _index(xml: str) -> tuple[frozenset[str], dict[tuple[str, str], tuple[str, ...]]]:
    """The process ids a BPMN file defines and its sequence flows by (source, target)."""
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser=_SAFE_XML)
    except etree.XMLSyntaxError:
        return frozenset(), {}
    processes = frozenset(p.get("id") or "" for p in root.iter(f"{BPMN}process"))
    flows: dict[tuple[str, str], tuple[str, ...]] = {}
    for flow in root.iter(f"{BPMN}sequenceFlow"):
        key = (flow.get("sourceRef") or "", flow.get("targetRef") or "")
        flows[key] = (*flows.get(key, ()), flow.get("id") or "")
    return processes, flows


def _file_defining(sources: dict[str, str] | None, process_id: str) -> tuple[str, str] | None:
    for name, xml in sorted((sources or {}).items()):
        if name.endswith(".bpmn") and process_id in _index(xml)[0]:
            return name, xml
    return None


class _Diagrams:
    """Finds the BPMN file of each process an instance runs, in the version it runs."""

    def __init__(self, session: Session, outline: Outline) -> None:
        self.session = session
        self.outline = outline

    def find(self, process_id: str) -> str | None:
        """Add the file defining ``process_id`` to the outline; return its key (or None)."""
        row = self.outline.instance
        version = row.definition
        found = _file_defining(version.sources, process_id)
        if found is None:
            # An uploaded diagram stores only its own file; the stages it calls were parsed
            # from the shipped files, which the called process's published version holds.
            version = self.session.scalar(
                select(DefinitionVersion).where(DefinitionVersion.process_id == process_id,
                                                DefinitionVersion.published.is_(True))
                .order_by(DefinitionVersion.published_at.desc(),
                          DefinitionVersion.version.desc()).limit(1))
            found = _file_defining(version.sources if version else None, process_id)
        if found is None or version is None:
            return None
        key = f"{version.id}/{found[0]}"
        self.outline.diagrams[key] = found[1]
        return key


def _stage(labels: list[str], root: str) -> str:
    return " › ".join(labels) or root


def _timer_at(task: Task) -> datetime | None:
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    try:
        return to_utc(definition.details(task).value)
    except (TypeError, ValueError):
        return None


def _step(task: Task, stage: str, open_tasks: dict[str, HumanTask]) -> Step | None:
    """The step ``task`` is, if it is one the case is at now (not a stage containing others)."""
    spec = task.task_spec
    eid, name = spec.bpmn_id, spec.bpmn_name or spec.bpmn_id
    if task.has_state(TaskState.ERROR):
        return Step("stopped", eid, name, stage)
    if task.has_state(TaskState.WAITING) and isinstance(spec, UnstructuredJoin):
        return None  # a join waiting for its other branches is no step anyone takes
    if task.has_state(TaskState.WAITING):
        kind = "watching" if isinstance(spec, BoundaryEvent) else "waiting"
        return Step(kind, eid, name, stage, at=_timer_at(task))
    if isinstance(spec, SubWorkflowTask):
        return None
    row = open_tasks.get(str(task.id))
    return Step("now", eid, name, stage, at=aware(row.due_at) if row else None, task=row)


def _mark(view: View, tasks: list[Task], flows: dict[tuple[str, str], tuple[str, ...]]) -> None:
    """Record the states of ``tasks`` (one workflow's) on ``view``, and the flows they took."""
    for task in tasks:
        eid = task.task_spec.bpmn_id
        if eid is None:
            continue
        if task.has_state(TaskState.COMPLETED):
            view.done.add(eid)
        elif task.has_state(_ACTIVE):
            view.active.add(eid)
            view.person_waits |= task.has_state(TaskState.READY) and task.task_spec.manual
        elif task.has_state(TaskState.WAITING):
            if isinstance(task.task_spec, UnstructuredJoin):
                continue  # a join waiting for its other branches: reached, not current
            (view.watching if isinstance(task.task_spec, BoundaryEvent) else view.active).add(eid)
        if not task.has_state(_REACHED):
            continue
        source = task.parent
        while source is not None and source.task_spec.bpmn_id is None:
            source = source.parent
        if source is not None and source.has_state(TaskState.COMPLETED):
            view.flows.update(flows.get((source.task_spec.bpmn_id, eid), ()))


def _place(workflow: BpmnWorkflow, row: ProcessInstance, root: View, diagrams: _Diagrams
           ) -> tuple[list[View], list[tuple[BpmnBaseWorkflow, View, list[str]]]]:
    """The views of an instance, and each workflow object with its view and stage names."""
    views = [root]
    placed: list[tuple[BpmnBaseWorkflow, View, list[str]]] = [(workflow, root, [])]
    where = {id(workflow): (root, [])}
    for sub in sorted(workflow.subprocesses.values(), key=lambda w: w.depth):
        caller = workflow.get_task_from_id(sub.parent_task_id)
        view, labels = where[id(caller.workflow)]
        name = caller.task_spec.bpmn_name or sub.spec.description or sub.spec.name
        if isinstance(caller.task_spec, CallActivity):
            view = View(f"{row.id}.{len(views)}", sub.spec.name, sub.spec.description or name,
                        view.depth + 1, called_from=caller.task_spec.bpmn_id,
                        completed=sub.is_completed())
            view.diagram = diagrams.find(sub.spec.name)
            views.append(view)
            labels = [*labels, view.name]
        else:
            labels = [*labels, name]  # an embedded subprocess: drawn in its parent's diagram
        where[id(sub)] = (view, labels)
        placed.append((sub, view, labels))
    return views, placed


def _outline(session: Session, row: ProcessInstance, open_tasks: dict[str, HumanTask]
             ) -> Outline:
    """Work out one instance's open steps and diagrams from its workflow."""
    outline = Outline(row, row.definition.name or row.process_id)
    diagrams = _Diagrams(session, outline)
    root = View(f"{row.id}", row.process_id, outline.name, 0)
    root.diagram = diagrams.find(row.process_id)
    try:
        workflow = case_engine().load(row, session)
    except (StateFormatUnknown, DefinitionNotFound):
        outline.views.append(root)
        return outline
    root.completed = workflow.is_completed()
    outline.name = root.name = workflow.spec.description or outline.name
    views, placed = _place(workflow, row, root, diagrams)
    for source, view, labels in placed:
        tasks = [t for t in source.tasks.values() if t.task_spec.bpmn_id is not None]
        xml = outline.diagrams.get(view.diagram or "")
        _mark(view, tasks, _index(xml)[1] if xml else {})
        stage = _stage(labels, outline.name)
        outline.steps += [step for t in tasks if t.has_state(_ACTIVE | TaskState.WAITING)
                          and (step := _step(t, stage, open_tasks)) is not None]
    outline.views = _latest_per_process(views)
    return outline


def _latest_per_process(views: list[View]) -> list[View]:
    """One view per process: the one active now, else the latest (stages may run again)."""
    chosen: dict[str, View] = {}
    for view in views:
        if view.process_id not in chosen or view.active or not chosen[view.process_id].active:
            chosen[view.process_id] = view
    return [v for v in views if chosen[v.process_id] is v]


def outlines(session: Session, case: Case) -> list[Outline]:
    """The case's process instances, newest first, with what each is at now."""
    rows = session.scalars(select(ProcessInstance)
                           .where(ProcessInstance.business_key == case.reference)
                           .order_by(ProcessInstance.created_at.desc(),
                                     ProcessInstance.id.desc())).all()
    open_tasks = {t.id: t for t in session.scalars(select(HumanTask).where(
        HumanTask.business_key == case.reference, HumanTask.state == TaskStatus.OPEN))}
    return [_outline(session, row, open_tasks) for row in rows]


def _current(views: list[View]) -> View | None:
    """The view to show first: the deepest with a person's task open, else with anything open."""
    best: View | None = None
    for view in views:
        if view.active and (best is None or (view.person_waits, view.depth)
                            > (best.person_waits, best.depth)):
            best = view
    return best


def diagram_data(case: Case, found: list[Outline]) -> dict[str, Any]:
    """What ``case_diagram.js`` draws: the views (oldest instance first) and their BPMN XML."""
    ordered = list(reversed(found))
    views: list[dict[str, Any]] = []
    diagrams: dict[str, str] = {}
    every: list[View] = []
    for outline in ordered:
        for view in outline.views:
            whole = view.depth == 0 and view.process_id == MAIN_PROCESS
            views.append(view.as_json("Whole case" if whole else view.name))
            every.append(view)
        diagrams.update(outline.diagrams)
    current = _current(every) or (every[0] if every else None)
    return {"reference": case.reference, "current": current.key if current else None,
            "views": views, "diagrams": diagrams}


def process(reference: str) -> Response:
    """The case's process diagrams and where each stands, as JSON; audited like the case file."""
    case, via_break_glass = viewable_case(reference)
    data = diagram_data(case, outlines(db(), case))
    audit("case.process_viewed", case, break_glass=via_break_glass)
    return jsonify(data)


bp.add_url_rule("/cases/<reference>/process", "process",
                roles_required(*CASE_PAGE_ROLES)(process))
