"""Does what the database shows of each instance agree with its stored workflow state?

After a crash, a restore from backup or a database restart, an operator needs to know that
nothing is half-written: every unfinished instance's state loads with its definition, the
open human tasks are exactly the workflow's READY user tasks, the status is the one the state
implies, and the next-timer column holds the earliest timer the workflow waits on (so the
worker will fire it). ``check_instances`` reads without changing anything and reports each
disagreement as a ``Problem``; the instances are read in batches so a large database is
walked in constant memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from .projection import next_timer, ready_user_tasks, status_of
from .runtime import ENDED, CaseEngine


@dataclass(frozen=True)
class Problem:
    """One disagreement found: which instance, what kind, and in words."""

    instance_id: int
    business_key: str
    kind: str  # unreadable | tasks | status | timer | parked | ended_with_open_tasks
    detail: str


@dataclass
class InstanceReport:
    """How many instances were read, and the problems found in them."""

    checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def _batches(session: Session, batch: int) -> Iterator[list[ProcessInstance]]:
    """Unfinished instances in id order; rows this walk loaded are let go after each batch."""
    last = 0
    while True:
        held = set(session.identity_map.keys())  # the caller's own objects stay attached
        rows = list(session.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.status.not_in(list(ENDED)), ProcessInstance.id > last)
            .order_by(ProcessInstance.id).limit(batch)))
        if not rows:
            return
        yield rows
        last = rows[-1].id
        for row in rows:  # constant memory over a large database
            if session.identity_key(instance=row) not in held:
                session.expunge(row)


def _same_moment(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs((a - b).total_seconds()) < 1


def _check_one(engine: CaseEngine, session: Session, row: ProcessInstance,
               open_ids: set[str]) -> list[Problem]:
    def problem(kind: str, detail: str) -> Problem:
        return Problem(row.id, row.business_key, kind, detail)

    try:
        workflow = engine.load(row, session)
    except Exception as exc:  # any failure to rebuild the state is what we report
        return [problem("unreadable", f"the stored state does not load: {type(exc).__name__}")]
    found: list[Problem] = []
    ready = set(ready_user_tasks(workflow))
    if ready != open_ids:
        missing, extra = sorted(ready - open_ids), sorted(open_ids - ready)
        found.append(problem("tasks", f"open tasks differ from the workflow: {len(missing)} "
                                      f"ready but not listed, {len(extra)} listed but not ready"))
    if row.status is InstanceStatus.SUSPENDED:
        return found
    expected = status_of(workflow)
    if expected is not row.status:
        found.append(problem("status", f"stored as {row.status.value}, the state says "
                                       f"{expected.value}"))
    due = next_timer(workflow)
    if not _same_moment(row.next_timer_at, due):
        if due is not None and row.next_timer_at is not None and row.next_timer_at > due:
            found.append(problem("parked", "set aside after a fault: its timer will fire at "
                                           f"{row.next_timer_at.isoformat()}"))
        else:
            shown = row.next_timer_at.isoformat() if row.next_timer_at else "none"
            wanted = due.isoformat() if due else "none"
            found.append(problem("timer", f"next timer stored as {shown}, the state waits "
                                          f"for {wanted}"))
    return found


def check_instances(engine: CaseEngine, session: Session, *, batch: int = 200) -> InstanceReport:
    """Compare every unfinished instance with its state, and ended ones with their tasks."""
    report = InstanceReport()
    for rows in _batches(session, batch):
        ids = [r.id for r in rows]
        open_by_instance: dict[int, set[str]] = {i: set() for i in ids}
        for task_id, instance_id in session.execute(
                select(HumanTask.id, HumanTask.instance_id)
                .where(HumanTask.instance_id.in_(ids), HumanTask.state == TaskStatus.OPEN)):
            open_by_instance[instance_id].add(task_id)
        for row in rows:
            report.problems.extend(_check_one(engine, session, row, open_by_instance[row.id]))
            report.checked += 1
    stale = session.execute(
        select(ProcessInstance.id, ProcessInstance.business_key, HumanTask.id)
        .join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
        .where(ProcessInstance.status.in_(list(ENDED)), HumanTask.state == TaskStatus.OPEN)
        .order_by(ProcessInstance.id, HumanTask.id))
    for instance_id, key, task_id in stale:
        report.problems.append(Problem(instance_id, key, "ended_with_open_tasks",
                                       f"the instance has ended but task {task_id} is open"))
    return report
