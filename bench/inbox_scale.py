"""How the inbox query scales: the open-task projection at 1k, 10k and 100k tasks.

The engine answers "my open tasks, by due date" from the ``human_tasks`` projection, never by
loading workflows. This fills the projection (and the instances it points to) with N open
and completed tasks spread over 50 officers and times the inbox page and its count, so
the figures can be compared across sizes. Run ``python -m bench.inbox_scale [--sizes ...]``
(a fresh SQLite file per size).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter

from sqlalchemy import Engine, func, insert, select, text

from engine.database import make_engine
from engine.models import DefinitionVersion, HumanTask, ProcessInstance, TaskStatus
from migrations.runner import upgrade

OFFICERS = [f"officer{n:02d}" for n in range(50)]
REPEATS = 200


def fill(db: Engine, size: int) -> None:
    """Insert ``size`` projection rows (a quarter open) with their instances."""
    rng = random.Random(size)  # noqa: S311 - benchmark data # nosec B311
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with db.begin() as conn:
        conn.execute(insert(DefinitionVersion).values(
            id=1, process_id="bench", version=1, content_hash="x", spec_json="{}",
            sources={}, forms={}, published=True, created_at=now))
        for start in range(0, size, 5000):
            count = min(5000, size - start)
            conn.execute(insert(ProcessInstance), [
                {"id": start + i + 1, "business_key": f"ASB-2026-{start + i:06d}",
                 "process_id": "bench", "definition_id": 1, "status": "running",
                 "serializer_version": "x", "state_json": "{}", "revision": 1,
                 "created_at": now, "updated_at": now} for i in range(count)])
            conn.execute(insert(HumanTask), [
                {"id": f"{start + i:036d}", "instance_id": start + i + 1,
                 "business_key": f"ASB-2026-{start + i:06d}", "process_id": "bench",
                 "name": "first_contact", "title": "Make first contact", "role": "officer",
                 "assignee": rng.choice(OFFICERS),
                 "state": "open" if rng.random() < 0.25 else "completed",
                 "due_at": now + timedelta(hours=rng.randint(-500, 500)),
                 "created_at": now} for i in range(count)])
    with db.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def inbox(db: Engine, who: str) -> tuple[float, float]:
    """Mean milliseconds of one inbox page and of its total count."""
    page = (select(HumanTask.id, HumanTask.name, HumanTask.due_at)
            .where(HumanTask.state == TaskStatus.OPEN, HumanTask.assignee == who)
            .order_by(HumanTask.due_at, HumanTask.id).limit(25))
    count = (select(func.count()).select_from(HumanTask)
             .where(HumanTask.state == TaskStatus.OPEN, HumanTask.assignee == who))
    times: dict[str, list[float]] = {"page": [], "count": []}
    with db.connect() as conn:
        for _ in range(REPEATS):
            for name, stmt in (("page", page), ("count", count)):
                began = perf_counter()
                conn.execute(stmt).all()
                times[name].append(perf_counter() - began)
    return statistics.mean(times["page"]) * 1e3, statistics.mean(times["count"]) * 1e3


def run(label: str, make: object, sizes: list[int]) -> None:
    """Fill and time each size on a fresh database; print ms and the ratio to the smallest."""
    print(f"{label}: inbox of one officer among {len(OFFICERS)}, mean of {REPEATS} queries")
    print(f"{'tasks':>10}{'page (ms)':>12}{'count (ms)':>12}{'page x':>9}{'count x':>9}")
    base: tuple[float, float] | None = None
    for size in sizes:
        db = make(size)  # type: ignore[operator]
        upgrade(db)
        fill(db, size)
        result = inbox(db, OFFICERS[7])
        base = base or result
        print(f"{size:>10}{result[0]:>12.3f}{result[1]:>12.3f}"
              f"{result[0] / base[0]:>8.2f}x{result[1] / base[1]:>8.2f}x")
        db.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the scale benchmark on SQLite (and PostgreSQL when configured)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args(argv)
    if any(s < 1 for s in args.sizes):
        parser.error("sizes must be positive")
    with tempfile.TemporaryDirectory(prefix="asb-bench-") as folder:
        run("SQLite", lambda n: make_engine(f"sqlite:///{Path(folder) / f'inbox{n}.sqlite'}"),
            args.sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
