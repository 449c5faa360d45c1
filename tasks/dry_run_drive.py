"""The dry run's driver, inside its child process: publish, report the sample, work it.

Each action is one step of the trace: report the sample case (and start the stage under
test, when the draft is a stage the case file starts), complete the next open user task with
sample answers, or move the product clock to the next timer and fire what fell due. With
pace ``prompt`` people act at once and timers fire only when nobody has anything to do; with
``late`` each task with a deadline is done just after it, so escalations show. The run ends
when the process under test has ended and nobody has anything left to do, when nothing can
move, or at the step limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import config as council_config
from cases.people import Role, User
from cases.records import Case
from engine import clock
from engine.errors import DiagramInvalid, FormInvalid
from engine.models import HumanTask, ProcessInstance, TaskStatus
from engine.projection import to_utc
from engine.runtime import ENDED, CaseEngine

from .cases_service import CASE_PROCESS, open_case, send_event
from .dry_run_samples import AnswerContext, Attempts, Sample, answers_for
from .dry_run_steps import Observer
from .stages import STAGES, stage_start_data, start_stage
from .wiring import build_engine

ACTOR = "dry-run"
ATTEMPTS = 12
# Processes a case starts when a message reaches it (with its own reference), not as stages.
ENTRY_MESSAGES = {
    "asb_case_review": (
        "case_review_application",
        {"description": "The reporter asks for a Case Review (dry run)."},
    ),
    "asb_complaint": (
        "complaint",
        {"about": "The reporter complains about the handling of their case (dry run)."},
    ),
}
WAIT_DAYS = 3  # a refused task is tried again on each of the next days (a date may pass)
STEP_GAP = timedelta(minutes=1)
LATE_BY = timedelta(minutes=1)
TIMER_SLACK = timedelta(seconds=1)  # a timer fires once its moment has passed
TIMER_TYPES = ("BoundaryEvent", "IntermediateCatchEvent", "StartEvent")


def _describe(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:500]


class Driver:
    """Works one sample case through the published processes of the throwaway database."""

    def __init__(self, session: Session, engine: CaseEngine, data: dict[str, Any]) -> None:
        self.session = session
        self.engine = engine
        self.data = data
        self.sample = Sample(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in data["sample"].items()}
        )
        self.answers: dict[str, dict[str, Any]] = {**self.sample.answers()}
        for name, given in (data.get("answers") or {}).items():
            self.answers[name] = {**self.answers.get(name, {}), **given}
        self.observer = Observer(session, engine, data["sources"])
        self.steps: list[dict[str, Any]] = []
        self.reference: str | None = None
        self.root: int | None = None
        self.case_mode = True
        self.outcome, self.summary = "completed", ""
        self.last_timer: datetime | None = None
        self.waits: dict[str, int] = {}

    # -- steps ----------------------------------------------------------------------------

    def record(self, kind: str, title: str, **extra: Any) -> dict[str, Any]:
        """Add a step to the trace, numbered from 1."""
        step = self.observer.step(kind, title, self.reference, **extra)
        step["number"] = len(self.steps) + 1
        if kind in ("stop", "wait") and self.steps:
            step["focus"] = self.steps[-1]["focus"]  # stay on the diagram of the last step
        self.steps.append(step)
        return step

    def stop(self, outcome: str, words: str) -> None:
        """End the run with ``outcome`` explained in ``words``, as a last step."""
        self.outcome, self.summary = outcome, words
        self.record("stop", words)

    # -- starting -------------------------------------------------------------------------

    def start(self) -> bool:
        """Report the sample case; start the stage under test when the draft is one."""
        target = [
            p
            for p in self.data["target"]
            if self.engine.definitions.published(self.session, p, missing_ok=True)
        ]
        case_version = self.engine.definitions.published(self.session, CASE_PROCESS)
        assert case_version is not None
        _spec, subs = self.engine.definitions.specs(case_version)
        self.case_mode = not target or bool({CASE_PROCESS, *subs} & set(target))
        try:
            with self.session.begin_nested():
                case = open_case(
                    self.session, self.engine, self.sample.report(clock.now()), actor=ACTOR
                )
        except Exception as exc:  # noqa: BLE001 - the sample or the diagram refused: say why
            self.stop("failed", f"The sample case could not be reported: {_describe(exc)}")
            return False
        self.reference = case.reference
        self.root = self.session.scalar(
            select(ProcessInstance.id).where(
                ProcessInstance.business_key == case.reference,
                ProcessInstance.process_id == CASE_PROCESS,
            )
        )
        self.record("start", f"The sample case {case.reference} was reported: {self.sample.title}.")
        if self.case_mode:
            return True
        return self._start_stage(case, target[0])

    def _start_stage(self, case: Case, process_id: str) -> bool:
        actor = case.case_officer or self._someone("officer")
        try:
            with self.session.begin_nested():
                if process_id in ENTRY_MESSAGES:
                    name, body = ENTRY_MESSAGES[process_id]
                    send_event(self.session, self.engine, case.reference, name, body, actor=actor)
                    row = self.session.scalars(
                        select(ProcessInstance).where(ProcessInstance.process_id == process_id)
                    ).one()
                elif process_id in STAGES:
                    row = start_stage(
                        self.session, self.engine, case.reference, process_id, actor=actor
                    )
                else:
                    row = self.engine.start(
                        self.session,
                        process_id,
                        case.reference,
                        stage_start_data(self.session, case, actor),
                        actor=actor,
                    )
        except Exception as exc:  # noqa: BLE001 - say why in words
            self.stop(
                "failed",
                f"The process {process_id} could not be started on the "
                f"sample case: {_describe(exc)}",
            )
            return False
        self.root = row.id
        if process_id in ENTRY_MESSAGES:
            self.record(
                "start",
                f"The message '{ENTRY_MESSAGES[process_id][0]}' reached the "
                f"sample case and started {process_id}.",
            )
        else:
            self.record("start", f"{actor} started {process_id} on the sample case.")
        return True

    # -- what can move --------------------------------------------------------------------

    def _instances(self) -> dict[int, ProcessInstance]:
        rows = self.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id))
        return {r.id: r for r in rows if self.case_mode or r.process_id != CASE_PROCESS}

    def _open_tasks(self, driven: dict[int, ProcessInstance]) -> list[HumanTask]:
        rows = self.session.scalars(
            select(HumanTask)
            .where(HumanTask.state == TaskStatus.OPEN)
            .order_by(HumanTask.created_at, HumanTask.id)
        ).all()
        return [t for t in rows if t.instance_id in driven]

    def _when(self, task: HumanTask) -> datetime:
        now = clock.now()
        if self.data["pace"] == "late" and task.due_at is not None:
            due = to_utc(task.due_at)
            if due is not None and due + LATE_BY > now:
                return due + LATE_BY
        return now

    def _root_ended(self) -> bool:
        row = self.session.get(ProcessInstance, self.root) if self.root else None
        return row is None or row.status in ENDED

    def turn(self) -> bool:
        """Take the next action; False when the run is over."""
        driven = self._instances()
        tasks = self._open_tasks(driven)
        if self._root_ended() and not tasks:
            self.outcome, self.summary = "completed", "The process under test ended."
            return False
        timers = [
            to_utc(r.next_timer_at)
            for r in driven.values()
            if r.status not in ENDED and r.next_timer_at is not None
        ]
        timer = min((t for t in timers if t is not None), default=None)
        task = min(tasks, key=lambda t: (self._when(t), t.created_at, t.name, t.id), default=None)
        if task is not None and (timer is None or self._when(task) <= timer):
            return self.complete(task)
        if timer is not None:
            return self.fire(timer)
        incidents = any(r.status.value == "incident" for r in driven.values())
        self.stop(
            "incident" if incidents else "stuck",
            "Nothing more can happen: a step failed (see the incidents)."
            if incidents
            else "Nothing more can happen without a message from outside the process "
            "(a new incident, a diary entry, an application), which a dry run "
            "does not send.",
        )
        return False

    # -- acting ---------------------------------------------------------------------------

    def _someone(self, role: str | None) -> str:
        name = self.session.scalar(
            select(User.name)
            .where(User.role == (role or Role.OFFICER.value), User.active.is_(True))
            .order_by(User.name)
        )
        return name or ACTOR

    def fire(self, moment: datetime) -> bool:
        """Move the clock just past ``moment`` and fire every timer that fell due."""
        if moment == self.last_timer:
            self.stop(
                "stuck",
                f"A timer due at {moment.isoformat()} does not fire; the run cannot go on past it.",
            )
            return False
        self.last_timer = moment
        clock.set_now(max(moment + TIMER_SLACK, clock.now()))
        try:
            for _ in range(20):
                if not self.engine.fire_due_timers(self.session, limit=50, actor=ACTOR):
                    break
        except Exception as exc:  # noqa: BLE001 - say why in words
            self.stop("failed", f"The engine could not fire the timers: {_describe(exc)}")
            return False
        step = self.record("time", "Time moved on to the next deadline.")
        fired = [f"'{r['name']}'" for r in step["ran_names"] if r["type"] in TIMER_TYPES]
        if fired:
            step["title"] = f"Time moved on to the next deadline: {', '.join(fired)} fired."
        return True

    def complete(self, task: HumanTask) -> bool:
        """Complete ``task`` with sample answers (or the owner's), trying others if refused."""
        moment = max(self._when(task), clock.now() + STEP_GAP)
        if self._when(task) > clock.now():
            clock.set_now(moment)
        else:
            clock.advance(STEP_GAP)
        actor = task.assignee or self._someone(task.role)
        schema = self.engine.form_schema(self.session, task)
        given = self.answers.get(task.name)
        ctx = AnswerContext(clock.now(), self._agencies())
        tried = Attempts()
        refused: list[str] = []
        errors: dict[str, str] = {}
        for _ in range(ATTEMPTS):
            data = answers_for(schema, ctx, given, refused, tried)
            try:
                with self.session.begin_nested():
                    self.engine.complete(self.session, task.id, data, actor=actor)
            except FormInvalid as exc:
                errors, refused = exc.errors, list(exc.errors)
                if all(f.split(".")[0] in (given or {}) for f in refused):
                    break
                continue
            except Exception as exc:  # noqa: BLE001 - an engine fault: say why in words
                self.stop(
                    "failed",
                    f"The engine could not carry on after '{task.title}': {_describe(exc)}",
                )
                return False
            self.record(
                "task",
                f"'{task.title}' was done by {actor}{f' ({task.role})' if task.role else ''}.",
                task={
                    "name": task.name,
                    "title": task.title,
                    "process": task.process_id,
                    "role": task.role,
                    "actor": actor,
                },
                answers=data,
            )
            return True
        said = "; ".join(f"{k}: {v}" for k, v in errors.items())
        self.waits[task.id] = self.waits.get(task.id, 0) + 1
        if self.waits[task.id] <= WAIT_DAYS:
            clock.advance(timedelta(days=1))
            self.record(
                "wait",
                f"The answers to '{task.title}' were refused ({said}); the "
                "officer tries again the next day.",
            )
            return True
        self.stop(
            "stuck",
            f"The answers to '{task.title}' ({task.name}) were refused ({said}). "
            f"Give your own answers for {task.name} and run again.",
        )
        return False

    def _agencies(self) -> list[str]:
        directory = council_config.get_setting(self.session, "partner_directory", at=clock.now())
        return [str(entry["code"]) for entry in directory or [] if isinstance(entry, dict)]


def _publish(session: Session, engine: CaseEngine, data: dict[str, Any]) -> list[str]:
    """Publish every process of the sources (the draft's too); return problems in words."""
    try:
        parsed = engine.definitions.parse(data["sources"], data["forms"])
    except DiagramInvalid as exc:
        return [f"{p.get('element_id')}: {p.get('message')}" for p in exc.problems]
    for proc in parsed:
        engine.definitions.store(session, proc, data["sources"], publish=True, actor=ACTOR)
    return []


def run(data: dict[str, Any], session: Session) -> dict[str, Any]:
    """Publish, report the sample and work it; return the trace."""
    clock.set_now(to_utc(data["start_at"]) or clock.now())
    engine = build_engine()
    trace: dict[str, Any] = {
        "target": data["target"],
        "pace": data["pace"],
        "start_at": clock.now().isoformat(),
        "sample": data["sample"],
    }
    problems = _publish(session, engine, data)
    if problems:
        return {
            **trace,
            "outcome": "failed",
            "steps": [],
            "incidents": problems,
            "summary": "The draft cannot run: " + "; ".join(problems),
            "diagrams": {},
            "process_files": {},
        }
    driver = Driver(session, engine, data)
    if driver.start():
        for _ in range(int(data["step_limit"])):
            if not driver.turn():
                break
        else:
            driver.stop(
                "step_limit",
                f"The run stopped after {data['step_limit']} steps: the "
                "diagram may go round a loop without end.",
            )
    observer = driver.observer
    shown = {*observer.touched, *data["target"]}
    files = {p: observer.files[p] for p in sorted(shown) if p in observer.files}
    incidents = [i["words"] for s in driver.steps for i in s["incidents"]]
    return {
        **trace,
        "outcome": driver.outcome,
        "summary": driver.summary,
        "steps": driver.steps,
        "incidents": incidents,
        "reference": driver.reference,
        "process_files": files,
        "process_names": {p: observer.titles.get(p) or p for p in files},
        "diagrams": {f: data["sources"][f] for f in sorted(set(files.values()))},
    }
