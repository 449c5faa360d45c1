"""What makes moving a running instance onto another version safe, said in plain sentences.

A ``MigrationPlan`` collects, for one instance, what the target version adds, removes and
changes and, in ``reasons``, every rule the move would break: the case must not already have
been through a step the target drops (its history would not fit), each step it is at (open,
waiting, in progress or failed) must keep its kind, lane, timer or message and settings
(``judge_open_step``, ``judge_difference``; a label, notes or flows may change), and the
target's code must not read data the case does not have and no step sets (``missing_names``).
What the case will notice once moved goes into ``notes``. The rules only read the workflow;
engine/migration.py applies them (``check_workflows``) and carries the move out. The names stay
importable from ``engine.migration``; docs/versions.md describes the rules for process owners.
"""

from __future__ import annotations

import builtins
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .models import DefinitionVersion
from .version_diff import (
    SPEC_REGISTRY,
    ElementChange,
    change_words,
    data_names,
    event_data,
    spec_label,
)

if TYPE_CHECKING:
    from .definitions import Specs

__all__ = [
    "HARMLESS", "OPEN", "SANDBOX_NAMES", "STATE_WORDS", "MigrationPlan", "TaskMove",
    "check_workflows", "judge_data_names", "judge_difference", "judge_open_step",
    "missing_names", "state_words",
]

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
# What may change on a step a case is at: its label, notes, and the flows in and out of it.
HARMLESS = frozenset({"bpmn_name", "documentation", "outputs", "inputs"})
# Names diagram code may read without the case having them (the sandbox's builtins, helpers).
SANDBOX_NAMES = frozenset(dir(builtins)) | {"datetime", "date", "time", "timedelta", "timezone"}
STATE_WORDS = {
    TaskState.READY: "open",
    TaskState.WAITING: "waiting",
    TaskState.STARTED: "in progress",
    TaskState.ERROR: "failed, waiting for a retry",
}


@dataclass(frozen=True)
class TaskMove:
    """Where a step the case is at (open, waiting, in progress, failed) lands on the target."""

    task_id: str
    element_id: str
    label: str
    state: str
    process_id: str  # the (called) process the step belongs to
    to_element_id: str | None  # None: the target version has no such step
    to_label: str | None

    @classmethod
    def of(cls, task: Task, new: Any) -> TaskMove:
        """Describe an open task and the spec it is aligned with (or None)."""
        old = task.task_spec
        return cls(
            str(task.id),
            str(old.bpmn_id or old.name),
            spec_label(old),
            state_words(task),
            str(old._wf_spec.name),
            None if new is None else str(new.bpmn_id or new.name),
            None if new is None else spec_label(new),
        )

    def as_dict(self) -> dict[str, Any]:
        """The move as plain data."""
        return asdict(self)


def state_words(task: Task) -> str:
    """A task's state as the plan says it."""
    for state, text in STATE_WORDS.items():
        if task.has_state(state):
            return text
    return "done" if task.has_state(TaskState.FINISHED_MASK) else "expected"


def missing_names(
    workflow: BpmnWorkflow, old: Specs, new: Specs, forms: dict[str, Any], helpers: set[str]
) -> set[str]:
    """Names the target's code newly reads that neither the case nor any target step has."""
    new_reads, sets = data_names(new, forms)
    old_reads, _ = data_names(old)
    have = set(workflow.data)
    for task in workflow.get_tasks(state=OPEN):
        have |= set(task.data)
    return new_reads - old_reads - sets - have - helpers - SANDBOX_NAMES


@dataclass
class MigrationPlan:
    """A dry run for one instance: what the target version changes and whether moving is safe."""

    instance_id: int
    business_key: str
    process_id: str
    from_definition_id: int
    from_version: int
    to_definition_id: int
    to_version: int
    reasons: list[str] = field(default_factory=list)  # why it is not safe; empty when safe
    notes: list[str] = field(default_factory=list)  # what the case will notice when moved
    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)
    tasks: list[TaskMove] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        """True when nothing stops the move."""
        return not self.reasons

    def as_dict(self) -> dict[str, Any]:
        """The plan as plain data (for a page or JSON)."""
        return {**asdict(self), "safe": self.safe}


# -- the rules ------------------------------------------------------------------------------


def judge_open_step(
    task: Task, new: Any, keys: list[str], added: set[str], version: int, plan: MigrationPlan
) -> None:
    """Judge one step the case is at (open, waiting, in progress or failed) against the target."""
    old = task.task_spec
    where = f"‘{spec_label(old)}’ ({state_words(task)})"
    if new is None or new.name != old.name:
        plan.reasons.append(f"The case is at {where}, which version {version} no longer has.")
        return
    if "typename" in keys:
        plan.reasons.append(
            f"The case is at {where}, which is a different kind of step in "
            f"version {version} ({old.description} → {new.description})."
        )
        return
    before = [spec_label(ts) for ts in new.inputs if ts.name in added]
    if "inputs" in keys and before:
        plan.notes.append(
            f"Version {version} puts {', '.join(f'‘{b}’' for b in before)} "
            f"before ‘{spec_label(old)}’, where the case already is: the case will "
            "not go through it."
        )
    rest = [k for k in keys if k not in HARMLESS]
    if rest and task.has_state(TaskState.ERROR):
        plan.notes.append(
            f"The failed step ‘{spec_label(old)}’ will be retried as version {version} has it."
        )
        return
    for key in rest:
        reason, note = judge_difference(old, new, key, where, version)
        if reason:
            plan.reasons.append(reason)
        if note:
            plan.notes.append(note)


def judge_difference(
    old: Any, new: Any, key: str, where: str, version: int
) -> tuple[str | None, str | None]:
    """Say how one changed attribute of a step the case is at matters: (reason, note)."""
    if key == "lane":
        return (
            f"The case is at {where}, which lane ‘{new.lane}’ does in version {version} "
            f"instead of ‘{old.lane}’: the open task would change hands."
        ), None
    if key == "event_definition":
        if event_data(old) == event_data(new):
            return None, None
        return (
            f"The case waits at {where}, and what it waits for (its timer or message) "
            f"is different in version {version}."
        ), None
    if key == "extensions":
        props = (
            (old.extensions or {}).get("properties", {}),
            (new.extensions or {}).get("properties", {}),
        )
        others = {
            k
            for k in set(old.extensions or {}) | set(new.extensions or {})
            if k != "properties" and (old.extensions or {}).get(k) != (new.extensions or {}).get(k)
        }
        changed = {k for k in set(props[0]) | set(props[1]) if props[0].get(k) != props[1].get(k)}
        if others or changed - {"due", "assignee"}:
            what = ", ".join(sorted(others | (changed - {"due", "assignee"})))
            return (
                f"The case is at {where}, whose settings ({what}) are different in "
                f"version {version}."
            ), None
        return None, (
            f"{where[0].upper()}{where[1:]} keeps the deadline and assignee it was "
            f"given; version {version}'s new rule for them applies the next time."
        )
    return (
        f"The case is at {where}, whose {change_words(key)} is different in version {version}."
    ), None


def check_workflows(
    workflow: BpmnWorkflow,
    specs: Specs,
    target: DefinitionVersion,
    plan: MigrationPlan,
    diffs: tuple[Any, dict[Any, Any]],
) -> list[tuple[Any, Any, Any]]:
    """Apply the rules to every (sub)workflow; return (workflow, diff, new spec) to migrate."""
    spec, subs = specs
    pairs: list[tuple[Any, Any, Any]] = [(workflow, diffs[0], spec)]
    for sp_id, sub in workflow.subprocesses.items():
        if diffs[1].get(sp_id) is None:
            plan.reasons.append(
                f"The case has been in ‘{sub.spec.description or sub.spec.name}’, which version "
                f"{target.version} no longer includes."
            )
            continue
        pairs.append((sub, diffs[1][sp_id], subs[sub.spec.name]))
    for wf, wf_diff, new_spec in pairs:
        spec_diff = SpecDiff(SPEC_REGISTRY, wf.spec, new_spec)
        added = {ts.name for ts in spec_diff.added}
        for task in wf_diff.removed:  # helper specs (a boundary split) speak for their owner
            if task.has_state(TaskState.FINISHED_MASK) and task.task_spec.bpmn_id:
                plan.reasons.append(
                    f"The case has already been through ‘{spec_label(task.task_spec)}’, which "
                    f"version {target.version} no longer has: its history would not fit."
                )
        for task in wf.get_tasks(state=OPEN, skip_subprocesses=True):
            new = wf_diff.alignment.get(task)
            judge_open_step(
                task,
                new,
                spec_diff.comparisons.get(task.task_spec, []),
                added,
                target.version,
                plan,
            )
            plan.tasks.append(TaskMove.of(task, new))
    return pairs


def judge_data_names(
    workflow: BpmnWorkflow,
    old: Specs,
    new: Specs,
    target: DefinitionVersion,
    helpers: set[str],
    plan: MigrationPlan,
) -> None:
    """Refuse the move for every name the target's code reads that the case cannot give it."""
    for name in sorted(missing_names(workflow, old, new, target.forms, helpers)):
        plan.reasons.append(
            f"Version {target.version} uses ‘{name}’, which this case "
            "does not have and no step before it sets."
        )
