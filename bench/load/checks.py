"""What the load test checks and prints: timers watched during the run, the database after it,
throughput and latency per action from the request log."""

from __future__ import annotations

import json
import statistics
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

TIMER_LIMIT = timedelta(minutes=1)


@dataclass
class TimerWatch:
    """Polls the engine's records while the load runs: the oldest unfired due timer, and when
    each timer moved into the run window fired (the instance's ``updated_at`` at its wake)."""

    db: Engine
    due: dict[int, datetime]
    every: float = 3.0
    fired: dict[int, timedelta] = field(default_factory=dict)
    moved: set[int] = field(default_factory=set)
    worst: timedelta = timedelta(0)
    worst_at: datetime | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        """Watch in a daemon thread until ``stop``."""
        thread = threading.Thread(target=self._run, name="timer-watch", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Take one last look, then stop."""
        self._stop.set()
        self.look()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.look()
            except DBAPIError:
                continue  # the database is restarting (--faults): look again next time

    def look(self) -> None:
        """One poll of the oldest due timer and of the moved timers still waiting."""
        from engine.models import InstanceStatus, ProcessInstance

        now = datetime.now(UTC)
        with self.db.connect() as conn:
            oldest = conn.scalar(select(func.min(ProcessInstance.next_timer_at)).where(
                ProcessInstance.next_timer_at <= now,
                ProcessInstance.status != InstanceStatus.SUSPENDED))
            if oldest is not None and now - to_utc(oldest) > self.worst:
                self.worst, self.worst_at = now - to_utc(oldest), to_utc(oldest)
            waiting = [i for i in self.due if i not in self.fired and i not in self.moved]
            if not waiting:
                return
            for row in conn.execute(select(ProcessInstance.id, ProcessInstance.next_timer_at,
                                           ProcessInstance.updated_at)
                                    .where(ProcessInstance.id.in_(waiting))):
                due = self.due[row.id]
                if row.next_timer_at is not None and to_utc(row.next_timer_at) == due:
                    continue
                if to_utc(row.updated_at) >= due:
                    self.fired[row.id] = to_utc(row.updated_at) - due
                else:
                    self.moved.add(row.id)  # changed by work on the case before it fell due


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime from the database (PostgreSQL's are aware already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class Outcome:
    """One check's verdict."""

    name: str
    ok: bool
    detail: str


def read_log(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The request lines and the completion lines of the locust log."""
    requests, completions = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if "n" in item:
            requests.append(item)
        elif "completed" in item:
            completions.append(item)
    return requests, completions


def print_figures(requests: list[dict[str, Any]], seconds: float) -> None:
    """Requests per second overall and per action, with p50 and p95 latency."""
    by_name: dict[str, list[float]] = defaultdict(list)
    for item in requests:
        by_name[item["n"]].append(item["ms"])
    print(f"\n{'action':<44} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for name in sorted(by_name):
        print(_row(name, by_name[name], seconds))
    print(_row("ALL", [i["ms"] for i in requests], seconds))


def _row(name: str, times: list[float], seconds: float) -> str:
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    return f"{name:<44} {len(times):>8} {len(times) / seconds:>7.2f} {p50:>8.0f} {p95:>8.0f}"


def request_checks(requests: list[dict[str, Any]], users: int,
                   excused: Callable[[dict[str, Any]], bool] | None = None) -> list[Outcome]:
    """No 5xx or dropped connection (but those ``excused``: a fault's); every hostile request
    refused with a 4xx; all signed in."""
    excused = excused or (lambda _item: False)
    failed = [i for i in requests if i["s"] >= 500 or i["s"] == 0]
    errors = Counter(f"{i['n']} -> {i['s'] or 'no answer'}" for i in failed if not excused(i))
    allowed = Counter(f"{i['s'] or 'no answer'}" for i in failed if excused(i))
    hostile = [i for i in requests if i["n"].startswith("hostile:")]
    wrong = Counter(f"{i['n']} -> {i['s']}" for i in hostile
                    if not 400 <= i["s"] < 500 and not excused(i))
    signed = sum(1 for i in requests if i["n"] == "sign in" and i["s"] in (302, 303))
    return [
        Outcome("no 5xx, no dropped connection" + (" outside the faults" if allowed else ""),
                not errors, f"{sum(errors.values())} of {len(requests)} requests"
                + (f": {dict(errors.most_common(5))}" if errors else "")
                + (f"; during the faults: {dict(allowed)}" if allowed else "")),
        Outcome("hostile requests all 4xx", bool(hostile) and not wrong,
                f"{len(hostile) - sum(wrong.values())} of {len(hostile)} refused"
                + (f"; not refused: {dict(wrong)}" if wrong else "")),
        Outcome("every user signed in", signed == users, f"{signed} of {users}"),
    ]


def completion_checks(db: Engine, completions: list[dict[str, Any]], officers: list[str],
                      since: datetime, cut: tuple[datetime, datetime] | None = None
                      ) -> list[Outcome]:
    """Each accepted completion recorded exactly once, by its officer; none the load was not
    told of (but those recorded within ``cut``, when a killed web process lost the answer)."""
    from cases.audit import AuditEvent
    from engine.models import HumanTask, TaskStatus

    told = Counter(c["completed"] for c in completions)
    doubled_answers = [t for t, n in told.items() if n > 1]
    with db.connect() as conn:
        events = conn.execute(select(AuditEvent.object_id, AuditEvent.at).where(
            AuditEvent.action == "page.task_completed", AuditEvent.at >= since,
            AuditEvent.actor.in_(officers))).all()
        audited = Counter(e.object_id for e in events)
        rows = {r.id: r for r in conn.execute(
            select(HumanTask.id, HumanTask.state, HumanTask.finished_by)
            .where(HumanTask.id.in_(list(told))))} if told else {}
    by = {c["completed"]: c["by"] for c in completions}
    lost = [t for t in told if t not in rows or rows[t].state != TaskStatus.COMPLETED
            or rows[t].finished_by != by[t] or audited[t] == 0]
    doubled = [t for t, n in audited.items() if n > 1] + doubled_answers
    cut_short = {e.object_id for e in events if cut is not None
                 and cut[0] <= to_utc(e.at) <= cut[1]}
    untold = [t for t in audited if t not in told and t not in cut_short]
    lost_answers = sum(1 for t in audited if t not in told and t in cut_short)
    return [
        Outcome("task completions: none lost", bool(told) and not lost,
                f"{len(told)} accepted, {len(lost)} not recorded as completed by their officer"
                + (f": {lost[:5]}" if lost else "")),
        Outcome("task completions: none doubled", not doubled,
                f"{len(doubled)} recorded more than once"
                + (f": {doubled[:5]}" if doubled else "")),
        Outcome("task completions: none unanswered", not untold,
                f"{len(untold)} recorded without a success answer to the load"
                + (f": {untold[:5]}" if untold else "")
                + (f" ({lost_answers} answers lost with the killed web process)"
                   if lost_answers else "")),
    ]


def timer_checks(db: Engine, watch: TimerWatch, began: datetime, ended: datetime
                 ) -> list[Outcome]:
    """Nothing due before the end less a minute still waits; each moved timer fired on time."""
    from engine.models import InstanceStatus, ProcessInstance

    with db.connect() as conn:
        unfired = conn.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.next_timer_at <= ended - TIMER_LIMIT,
            ProcessInstance.status != InstanceStatus.SUSPENDED)) or 0
    expected = [i for i, due in watch.due.items() if due <= ended and i not in watch.moved]
    missing = [i for i in expected if i not in watch.fired]
    lags = sorted(watch.fired.values())
    late = [lag for lag in lags if lag > TIMER_LIMIT]
    median = f"{statistics.median(g.total_seconds() for g in lags):.1f}" if lags else "-"
    worst = f"{lags[-1].total_seconds():.1f}" if lags else "-"
    return [
        Outcome("timers: none due before end-1min unfired", unfired == 0,
                f"{unfired} instances still waiting on a timer due before "
                f"{(ended - TIMER_LIMIT).isoformat(timespec='seconds')}"),
        Outcome("timers: all moved into the run fired by its end", bool(expected) and not missing,
                f"{len(expected) - len(missing)} of {len(expected)} fired"
                f" ({len(watch.moved)} changed by casework first)"),
        Outcome("timers: fired within a minute of due", bool(lags) and not late
                and watch.worst <= TIMER_LIMIT,
                f"lag median {median} s, worst {worst} s over {len(lags)} timers; oldest "
                f"unfired timer seen during the run {watch.worst.total_seconds():.0f} s overdue"),
    ]


def print_checks(outcomes: list[Outcome]) -> bool:
    """Print PASS/FAIL per check; True when all passed."""
    print()
    for outcome in outcomes:
        print(f"{'PASS' if outcome.ok else 'FAIL'}  {outcome.name}: {outcome.detail}")
    return all(o.ok for o in outcomes)
