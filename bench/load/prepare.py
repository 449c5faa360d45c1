"""The load test's database: bulk cases, signed-in accounts, the officers' work, due timers."""

from __future__ import annotations

import random
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

LONDON = ZoneInfo("Europe/London")
LOAD_MANAGERS = ("mina.manager", "lena.manager", "luke.manager", "lily.manager", "leo.manager")
TASKS_PER_OFFICER = 60
_NAME_RE = re.compile(r"[A-Za-z_]\w*")


@dataclass
class Work:
    """What the locust users do: who signs in as whom, and each officer's tasks with answers."""

    password: str
    officers: list[str]
    managers: list[str]
    tasks: dict[str, list[dict[str, Any]]]  # officer -> [{"task", "ref", "form"}]
    cases: dict[str, list[str]]  # officer -> references of their cases


def build(url: str, cases: int, cache: Path) -> None:
    """Migrate the empty database at ``url`` and write ``cases`` bulk cases into it."""
    from bench.bulk import generate, load_template
    from bench.scale import template_path
    from engine.database import make_engine
    from migrations.runner import upgrade

    template = template_path(cache, 150, 150)
    db = make_engine(url)
    upgrade(db)
    dialect = db.dialect
    db.dispose()
    began = time.perf_counter()
    counts = generate(load_template(template, dialect), url, cases,
                      progress=lambda m: print(f"  ... {m}", flush=True))
    print(f"built {cases:,} cases in {time.perf_counter() - began:.0f} s "
          f"({counts['human_tasks']:,} human tasks, {sum(counts.values()):,} rows)", flush=True)


@contextmanager
def unit(db: Engine) -> Iterator[Any]:
    """A unit of work on ``db``."""
    from engine.database import make_session_factory, unit_of_work

    with unit_of_work(make_session_factory(db)) as session:
        yield session


def accounts(db: Engine, officers: int) -> tuple[str, list[str], list[str]]:
    """Give the busiest ``officers`` officers and five managers one fresh password."""
    from cases.people import Role, User, create_user, find_user, set_password
    from engine.models import HumanTask, TaskStatus

    password = "Load-" + secrets.token_urlsafe(18)
    with unit(db) as session:
        count = func.count().label("n")
        busiest = [str(name) for name in session.scalars(
            select(HumanTask.assignee).join(User, User.name == HumanTask.assignee)
            .where(HumanTask.state == TaskStatus.OPEN, User.role == Role.OFFICER,
                   User.active.is_(True))
            .group_by(HumanTask.assignee).order_by(count.desc(), HumanTask.assignee)
            .limit(officers))]
        for name in LOAD_MANAGERS:
            if find_user(session, name) is None:
                create_user(session, name, Role.MANAGER, password=password,
                            display_name=name.split(".")[0].title() + " Manager",
                            email=f"{name}@council.example.org")
        for user in session.scalars(select(User).where(
                User.name.in_([*busiest, *LOAD_MANAGERS]))):
            set_password(user, password)
    return password, busiest, list(LOAD_MANAGERS)


def html_form(fields: list[Any], data: dict[str, Any]) -> dict[str, Any]:
    """The HTML inputs a person would fill in to send ``data`` (taskforms' reading, reversed)."""
    out: dict[str, Any] = {}
    for f in fields:
        value = data.get(f.name)
        if f.kind == "checkboxes":
            out[f.name] = [k for k, ticked in (value or {}).items() if ticked]
        elif value is None:
            continue
        elif f.kind == "yes_no":
            out[f.name] = "yes" if value else "no"
        elif f.kind == "confirm":
            out[f.name] = "yes" if value else ""
        elif f.kind in ("date", "datetime"):
            moment = datetime.fromisoformat(str(value))
            if f.kind == "datetime":
                moment = moment.astimezone(LONDON) if moment.tzinfo else moment
                out[f"{f.name}-time"] = moment.strftime("%H:%M")
            out.update({f"{f.name}-day": str(moment.day), f"{f.name}-month": str(moment.month),
                        f"{f.name}-year": str(moment.year)})
        elif f.kind == "lines":
            out[f.name] = "\n".join(str(v) for v in value)
        else:
            out[f.name] = str(value)
    return out


def work(app: Any, password: str, officers: list[str], managers: list[str]) -> Work:
    """Each officer's open tasks with answers that pass the task form, checked here first."""
    from engine import clock
    from engine.models import HumanTask, TaskStatus
    from tasks import demo_cases, demo_stages
    from web.officer import taskforms

    engine = app.extensions["asb"]["engine"]
    db = app.extensions["asb"]["db"]
    rng = random.Random(10)  # noqa: S311 - benchmark data # nosec B311
    now = clock.now()
    plan = Work(password, officers, managers, {}, {})
    with unit(db) as session:
        for officer in officers:
            rows = session.scalars(select(HumanTask).where(
                HumanTask.assignee == officer, HumanTask.state == TaskStatus.OPEN)
                .order_by(HumanTask.due_at, HumanTask.id).limit(TASKS_PER_OFFICER)).all()
            mine = []
            for task in rows:
                data = demo_cases._form(rng, task.name, now) or demo_stages.form_for_task(
                    session, rng, task, now) or {}
                schema = engine.form_schema(session, task)
                fields = taskforms.fields_for(schema)
                form = html_form(fields, data)
                raw = {k: v if isinstance(v, list) else str(v) for k, v in form.items()}
                parsed, errors = taskforms.parse(fields, raw)
                if errors or taskforms.check(schema, fields, parsed):
                    continue
                mine.append({"task": task.id, "ref": task.business_key, "form": form})
            plan.tasks[officer] = mine
            plan.cases[officer] = sorted({str(t.business_key) for t in rows if t.business_key})
            session.rollback()  # the demo's form helpers only read
    return plan


def timer_candidates(db: Engine, engine: Any, after: datetime, limit: int
                     ) -> list[tuple[int, str, str, Any]]:
    """Running instances waiting on a date timer read from one variable, due after ``after``."""
    from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
    from SpiffWorkflow.util.task import TaskState

    from engine.models import InstanceStatus, ProcessInstance

    found: list[tuple[int, str, str, Any]] = []
    with unit(db) as session:
        rows = session.scalars(select(ProcessInstance).where(
            ProcessInstance.status == InstanceStatus.RUNNING,
            ProcessInstance.next_timer_at > after, ProcessInstance.business_key.is_not(None))
            .order_by(ProcessInstance.id.desc()).limit(limit * 20)).all()
        keys: set[str] = set()
        for row in rows:
            if row.business_key in keys:
                continue
            workflow = engine.load(row, session)
            for task in workflow.get_tasks(state=TaskState.WAITING):
                definition = getattr(task.task_spec, "event_definition", None)
                expression = str(getattr(definition, "expression", "") or "")
                if (isinstance(definition, TimeDateEventDefinition)
                        and _NAME_RE.fullmatch(expression) and expression in task.data):
                    found.append((row.id, str(row.business_key), expression,
                                  task.data[expression]))
                    keys.add(str(row.business_key))
                    break
            if len(found) >= limit:
                break
        session.rollback()
    return found


def retime(db: Engine, engine: Any, count: int, first: datetime, last: datetime
           ) -> dict[int, datetime]:
    """Move ``count`` waiting timers to fall due between ``first`` and ``last``, the product's
    way (``retime_case``, as an evidence request does); return instance id -> when due."""
    from bench.load.checks import to_utc
    from engine.models import ProcessInstance
    from tasks.evidence_requests import retime_case

    due: dict[int, datetime] = {}
    candidates = timer_candidates(db, engine, last + timedelta(minutes=10), count)
    step = (last - first) / max(len(candidates) - 1, 1)
    for n, (instance_id, reference, name, old) in enumerate(candidates):
        # never in the past, even on a slow machine: a timer moved there would fire at once
        moment = max(first + step * n, datetime.now(UTC) + timedelta(seconds=20))
        value: Any = moment.isoformat() if isinstance(old, str) else moment
        with unit(db) as session:
            changed = retime_case(session, reference, {name: value}, actor="load.bench")
            if instance_id in changed:
                at = session.scalar(select(ProcessInstance.next_timer_at)
                                    .where(ProcessInstance.id == instance_id))
                if at is not None and to_utc(at) <= last + timedelta(seconds=1):
                    due[instance_id] = to_utc(at)
    return due
