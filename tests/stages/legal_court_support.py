"""Shared driving code for the court stages' tests (tests/stages/test_legal_court*.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cases.legal import LegalAction, actions_of, steps_of
from cases.outbox import OutboxMessage
from engine.errors import FormInvalid
from engine.models import HumanTask, InstanceStatus
from tasks.stages import start_stage

INJUNCTION = "asb_legal_injunction"
CLOSURE = "asb_legal_closure"
POSSESSION = "asb_legal_possession"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def start(life: Any, case: Any, process: str, actor: str = "olivia") -> None:
    start_stage(life.session, life.engine, case.reference, process, actor=actor)


def tasks_of(life: Any, case: Any, process: str) -> list[HumanTask]:
    return [t for t in life.open_tasks(case.reference) if t.process_id == process]


def only_task(life: Any, case: Any, process: str) -> HumanTask:
    (task,) = tasks_of(life, case, process)
    return task


def refused(life: Any, case: Any, name: str, data: dict[str, Any], actor: str = "olivia"
            ) -> dict[str, str]:
    """Complete a task expecting a refusal; roll back as the web app does."""
    nested = life.session.begin_nested()
    with pytest.raises(FormInvalid) as info:
        life.complete(case.reference, name, data, actor)
    nested.rollback()
    return info.value.errors


def action(life: Any, case: Any) -> LegalAction:
    (found,) = actions_of(life.session, case)
    return found


def steps(life: Any, case: Any) -> list[str]:
    return [s.step for s in steps_of(life.session, action(life, case))]


def step_due(life: Any, case: Any, name: str) -> datetime | None:
    return next(s.due_at for s in steps_of(life.session, action(life, case)) if s.step == name)


def letters(life: Any, case: Any, template: str) -> list[OutboxMessage]:
    return [m for m in life.outbox(case.reference) if m.template == template]


def status(life: Any, case: Any, process: str) -> InstanceStatus:
    rows = life.engine.instances_for(life.session, case.reference, active_only=False)
    return next(r for r in rows if r.process_id == process).status
