"""Measure what our engine costs per request compared with raw in-memory SpiffWorkflow.

RAW runs ``bench_case`` in memory with SpiffWorkflow alone. RAW+DB is the least a durable
integration must do per request: read the workflow's full JSON from a SQLite row (stdlib
sqlite3, WAL, synchronous=NORMAL as ours), deserialize, complete, serialize, update, commit.
OURS runs the same diagram the
way the product serves requests: one unit of work to start a case, then one per user-task
completion (find the open task with SQL, load, run, save, project, audit, commit) on a
fresh SQLite file. A per-task figure covers finding the next task and completing it, on
both sides. Run ``python -m bench.engine_overhead [--cases N]`` from the repository root.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
from importlib.metadata import version
from pathlib import Path
from time import perf_counter
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.database import make_engine, make_session_factory, unit_of_work
from engine.handlers import HandlerRegistry
from engine.models import HumanTask, InstanceStatus, ProcessInstance, TaskStatus
from engine.runtime import CaseEngine
from migrations.runner import upgrade
from tasks.wiring import build_engine

BPMN_DIR = Path(__file__).parent / "bpmn"
PROCESS_ID = "bench_case"
TARGET = 3.0
WARMUP = 3
LOADS = 200
MID_COMPLETIONS = 4
ACTOR = "olivia"
START_DATA: dict[str, Any] = {"received_at": "2026-03-02T10:00:00+00:00",
                              "officer_name": ACTOR, "channel": "phone"}
FORMS: dict[str, dict[str, Any]] = {
    "record": {"description": "Loud music and shouting from number 12 most nights after 1am",
               "location": "12 Mill Lane", "hate": False, "repeat": True},
    "triage": {"priority": 2, "vulnerable": False, "risk_score": 14},
    "approve": {"approved": True},
    "contact_plan": {"contact_by": "phone", "contact_within_days": 3},
    "first_contact": {"contacted": True, "diary_sheets_sent": True},
    "evidence": {"diary_sheets": 3, "witnesses": 1, "recordings": 2},
    "action_plan": {"actions": ["warning letter", "noise monitoring"], "review_in_days": 28},
    "review": {"outcome": "behaviour stopped", "further_action": False},
    "close": {"closure_reason": "resolved", "reporter_satisfied": True},
}
Specs = tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]


def _fake_due(received_at: Any, n: Any) -> str:
    """Stand in for the product's working-day helper (raw Spiff never evaluates it)."""
    return "2026-03-03T17:00:00+00:00"


def raw_specs() -> Specs:
    """Parse the benchmark diagram once with SpiffWorkflow's own parser."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_files([str(BPMN_DIR / f"{PROCESS_ID}.bpmn")])
    return parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID)


def raw_case(specs: Specs, task_times: list[float], stop_after: int | None = None
             ) -> BpmnWorkflow:
    """Run one case in memory, appending the seconds each user-task completion took."""
    env = TaskDataEnvironment({"due_after_working_days": _fake_due})
    workflow = BpmnWorkflow(*specs, script_engine=PythonScriptEngine(environment=env))
    first = workflow.get_next_task(state=TaskState.READY)
    if first is not None:
        first.data.update(START_DATA)
    workflow.do_engine_steps()
    done = 0
    while not workflow.is_completed() and done != stop_after:
        began = perf_counter()
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data.update(FORMS[task.task_spec.bpmn_id])
        task.run()
        workflow.do_engine_steps()
        task_times.append(perf_counter() - began)
        done += 1
    return workflow


def persisted_case(specs: Specs, db: sqlite3.Connection, key: str,
                   task_times: list[float]) -> None:
    """Run one case with raw Spiff, saving its full JSON to SQLite after every completion."""
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    engine = PythonScriptEngine(environment=TaskDataEnvironment(
        {"due_after_working_days": _fake_due}))
    workflow = raw_case(specs, [], stop_after=0)
    db.execute("INSERT INTO wf (key, state) VALUES (?, ?)",
               (key, serializer.serialize_json(workflow)))
    db.commit()
    completed = False
    while not completed:
        began = perf_counter()
        (state,) = db.execute("SELECT state FROM wf WHERE key = ?", (key,)).fetchone()
        workflow = serializer.deserialize_json(state)
        workflow.script_engine = engine
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.data.update(FORMS[task.task_spec.bpmn_id])
        task.run()
        workflow.do_engine_steps()
        completed = workflow.is_completed()
        db.execute("UPDATE wf SET state = ? WHERE key = ?",
                   (serializer.serialize_json(workflow), key))
        db.commit()
        task_times.append(perf_counter() - began)


def persisted_setup(folder: Path) -> sqlite3.Connection:
    """Open the RAW+DB side's SQLite file with the same settings as the product's."""
    db = sqlite3.connect(folder / "raw.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE wf (key TEXT PRIMARY KEY, state TEXT NOT NULL)")
    return db


def ours_setup(folder: Path) -> tuple[CaseEngine, sessionmaker[Session], Any]:
    """Create a fresh SQLite database with the schema and the benchmark diagram published."""
    db = make_engine(f"sqlite:///{folder / 'bench.sqlite'}")
    upgrade(db)
    case_engine = build_engine(HandlerRegistry())
    factory = make_session_factory(db)
    with unit_of_work(factory) as session:
        case_engine.definitions.sync_directory(session, BPMN_DIR)
    return case_engine, factory, db


def ours_case(case_engine: CaseEngine, factory: sessionmaker[Session], key: str,
              task_times: list[float], stop_after: int | None = None) -> int:
    """Run one case as the product does, one committed unit of work per request."""
    with unit_of_work(factory) as session:
        instance_id = case_engine.start(session, PROCESS_ID, key, dict(START_DATA),
                                        actor=ACTOR).id
    ended, done = False, 0
    while not ended and done != stop_after:
        began = perf_counter()
        with unit_of_work(factory) as session:
            task_id, name = session.execute(
                select(HumanTask.id, HumanTask.name)
                .where(HumanTask.instance_id == instance_id, HumanTask.state == TaskStatus.OPEN)
                .order_by(HumanTask.created_at).limit(1)).one()
            result = case_engine.complete(session, task_id, FORMS[name], actor=ACTOR)
            ended = result.instance.status is InstanceStatus.COMPLETED
        task_times.append(perf_counter() - began)
        done += 1
    return instance_id


def timed(run: Any) -> float:
    """Return the seconds one call of ``run`` took."""
    began = perf_counter()
    run()
    return perf_counter() - began


def measure_cases(specs: Specs, case_engine: CaseEngine, factory: sessionmaker[Session],
                  raw_db: sqlite3.Connection, cases: int) -> dict[str, list[float]]:
    """Warm up, then time full cases and task completions, the three sides interleaved."""
    for i in range(WARMUP):
        raw_case(specs, [])
        persisted_case(specs, raw_db, f"WARM-{i}", [])
        ours_case(case_engine, factory, f"WARM-{i}", [])
    out: dict[str, list[float]] = {"raw_task": [], "ours_task": [], "raw_case": [],
                                   "ours_case": [], "db_task": [], "db_case": []}
    for i in range(cases):
        out["raw_case"].append(timed(lambda: raw_case(specs, out["raw_task"])))
        out["db_case"].append(timed(lambda i=i: persisted_case(
            specs, raw_db, f"BENCH-{i}", out["db_task"])))
        out["ours_case"].append(timed(lambda i=i: ours_case(
            case_engine, factory, f"BENCH-{i}", out["ours_task"])))
    return out


def measure_state(case_engine: CaseEngine, factory: sessionmaker[Session]) -> dict[str, float]:
    """Size and load time of a mid-process instance: ours (spec apart) vs Spiff's full JSON."""
    instance_id = ours_case(case_engine, factory, "MID-1", [], stop_after=MID_COMPLETIONS)
    full_serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    with unit_of_work(factory) as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        full = case_engine.serializer.full_json(case_engine.load(row, session))
        case_engine.load(row, session)  # the spec cache is warm from here on
        began = perf_counter()
        for _ in range(LOADS):
            case_engine.load(row, session)
        ours_load = (perf_counter() - began) / LOADS
        full_serializer.deserialize_json(full)
        began = perf_counter()
        for _ in range(LOADS):
            full_serializer.deserialize_json(full)
        full_load = (perf_counter() - began) / LOADS
        ours_size = len(row.state_json)
    return {"ours_size": ours_size, "full_size": len(full), "ours_load": ours_load,
            "full_load": full_load}


def report(times: dict[str, list[float]], state: dict[str, float], cases: int) -> None:
    """Print the comparison table, the target and the serialized-state figures."""
    per_case = len(times["raw_task"]) // cases
    print(f"Engine overhead: {PROCESS_ID}, {cases} cases x {per_case} user tasks, "
          f"SpiffWorkflow {version('SpiffWorkflow')}, ours on a SQLite file")
    print(f"{'':26}{'raw Spiff':>10}{'raw+DB':>10}{'ours':>10}{'ours/raw':>10}"
          f"{'ours/raw+DB':>13}")
    rows = [
        ("user task, mean (us)", statistics.mean, "task", 1e6),
        ("user task, median (us)", statistics.median, "task", 1e6),
        ("full case, mean (ms)", statistics.mean, "case", 1e3),
    ]
    ratios, db_ratios = [], []
    for label, fn, kind, scale in rows:
        raw, ours = fn(times[f"raw_{kind}"]) * scale, fn(times[f"ours_{kind}"]) * scale
        persisted = fn(times[f"db_{kind}"]) * scale
        ratios.append(ours / raw)
        db_ratios.append(ours / persisted)
        print(f"{label:26}{raw:10.1f}{persisted:10.1f}{ours:10.1f}{ours / raw:9.2f}x"
              f"{ours / persisted:12.2f}x")
    for name, values in (("raw (in memory)", ratios), ("raw+DB (durable)", db_ratios)):
        met = values[0] <= TARGET and values[2] <= TARGET
        print(f"target: ours at most {TARGET:g}x {name}, task and case mean -> "
              f"{'met' if met else 'NOT met'}")
    print()
    print(f"Mid-process instance (after {MID_COMPLETIONS} completions), "
          f"deserialize = mean of {LOADS} loads:")
    print(f"{'':34}{'size (KB)':>12}{'load (ms)':>12}")
    print(f"{'ours, spec stored apart':34}{state['ours_size'] / 1024:12.1f}"
          f"{state['ours_load'] * 1e3:12.3f}")
    print(f"{'Spiff full JSON, spec inside':34}{state['full_size'] / 1024:12.1f}"
          f"{state['full_load'] * 1e3:12.3f}")
    print(f"{'ours/full':34}{state['ours_size'] / state['full_size']:11.2f}x"
          f"{state['ours_load'] / state['full_load']:11.2f}x")


def positive_int(text: str) -> int:
    """Parse a count of at least 1 for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run both sides in one process and print the comparison; always exits 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.engine_overhead",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=positive_int, default=30,
                        help="timed cases per side (default 30)")
    args = parser.parse_args(argv)
    specs = raw_specs()
    with tempfile.TemporaryDirectory(prefix="asb-bench-") as folder:
        case_engine, factory, db = ours_setup(Path(folder))
        raw_db = persisted_setup(Path(folder))
        try:
            times = measure_cases(specs, case_engine, factory, raw_db, args.cases)
            state = measure_state(case_engine, factory)
        finally:
            db.dispose()
            raw_db.close()
    report(times, state, args.cases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
