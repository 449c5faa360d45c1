"""How the manager's and officer's pages scale from 1,000 to 100,000 cases (issue 7).

For each size, on a fresh SQLite file (and on PostgreSQL with ``--pg URL``): write that many
cases with ``bench/bulk.py`` (real worked demo cases, cloned), then time through the Flask
test client, as mean milliseconds of ``--repeats`` requests after a warm-up:

- the dashboard, ``GET /dashboard`` as a signed-in manager: as served (its figures kept for
  five minutes, web/manager/snapshot.py) and with every figure worked out afresh;
- the instance list with a filter, ``GET /instances?status=running&process=asb_case``;
- an officer's inbox, ``GET /inbox`` as the busiest officer (each officer carries the demo's
  load at every size: clones get their own officers);
- a task completion, ``POST /api/v1/tasks/{id}/complete`` with a personal token, each on a
  fresh case just opened through the engine (never a clone).

Then it prints the ratio largest/smallest size for each (target: at most 1.5). Run by hand,
from the repository root: ``python -m bench.scale [--sizes 1000 100000] [--pg URL]``.
``--pg`` creates (and afterwards drops) a database ``asb_bench_<size>`` on that server.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import make_url

from bench.bulk import BENCH_NOW, ROOT, generate, load_template

MEASURES = {
    "dashboard": ("dashboard", "GET /dashboard"),
    "dashboard_fresh": ("dashboard, figures afresh", "GET /dashboard, nothing kept"),
    "instances": ("instance list", "GET /instances?status=running&process=asb_case"),
    "inbox": ("officer inbox", "GET /inbox"),
    "complete": ("task completion", "POST /api/v1/tasks/{id}/complete"),
}
INSTANCES_PATH = "/instances?status=running&process=asb_case"
TARGET = 1.5
MANAGER = "mina.manager"


@dataclass
class Result:
    """One size on one database: milliseconds per measure, or why it was not measured."""

    size: int
    ms: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    explain: dict[str, list[str]] = field(default_factory=dict)


class Bench:
    """The web app on one database, with signed-in clients and a way to time its pages."""

    def __init__(self, url: str, args: argparse.Namespace) -> None:
        from web import create_app

        self.app = create_app({"SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": url,
                               "START_WORKER": False})
        self.db = self.app.extensions["asb"]["db"]
        self.warmup, self.repeats, self.explain = args.warmup, args.repeats, args.explain
        self.captured: list[tuple[str, Any]] | None = None
        event.listen(self.db, "before_cursor_execute", self._capture)

    def _capture(self, _conn: Any, _cur: Any, statement: str, params: Any, _ctx: Any,
                 many: bool) -> None:
        if self.captured is not None and not many:
            self.captured.append((statement, params))

    @contextmanager
    def session(self) -> Iterator[Any]:
        """A unit of work on the app's database."""
        from engine.database import make_session_factory, unit_of_work

        with unit_of_work(make_session_factory(self.db)) as session:
            yield session

    def signed_in(self, name: str) -> Any:
        """A test client with a browser session for ``name``, as the sign-in page makes one."""
        from cases.people import User
        from engine import clock

        with self.session() as session:
            uid = session.scalar(select(User.id).where(User.name == name))
        client = self.app.test_client()
        with client.session_transaction() as state:
            now = clock.now().isoformat()
            state.update(uid=uid, sid=f"bench-{name}", started=now, seen=now)
        return client

    def page(self, result: Result, key: str, client: Any, path: str) -> None:
        """Time ``GET path``; a page that is not there yet is reported, never given a number."""
        endpoint = self.app.url_map.bind("localhost").match(path.split("?")[0])[0]
        if endpoint.startswith("workspace_landing_page"):
            result.missing[key] = f"{path.split('?')[0]} is still the placeholder page"
            return
        response = client.get(path)
        if response.status_code != 200:
            result.missing[key] = f"{path} answered {response.status_code}"
            return
        self.timed(result, key, [lambda: client.get(path)] * (self.warmup + self.repeats + 1))

    def afresh(self, result: Result, key: str, client: Any, path: str) -> None:
        """Time ``GET path`` with the dashboard's kept figures forgotten before each request."""
        if key.split("_")[0] in result.missing:
            result.missing[key] = result.missing[key.split("_")[0]]
            return

        def call() -> Any:
            from web.manager.snapshot import figure_cache

            with self.app.app_context():
                figure_cache().clear()
            return client.get(path)

        self.timed(result, key, [call] * (self.warmup + self.repeats + 1))

    def timed(self, result: Result, key: str, calls: list[Callable[[], Any]]) -> None:
        """Run the warm-up calls, time the next ``repeats``; explain the last when asked."""
        times = []
        for n, call in enumerate(calls[:self.warmup + self.repeats]):
            began = time.perf_counter()
            response = call()
            took = (time.perf_counter() - began) * 1e3
            if response.status_code != 200:
                result.missing[key] = (f"{response.request.method} {response.request.path} "
                                       f"answered {response.status_code}: "
                                       f"{response.get_data(as_text=True)[:200]}")
                return
            if n >= self.warmup:
                times.append(took)
        result.ms[key], result.best[key] = statistics.mean(times), min(times)
        if self.explain:
            self.captured = []
            try:
                calls[-1]()
            finally:
                captured, self.captured = self.captured, None
            result.explain[key] = self._slowest(captured)

    def _slowest(self, captured: list[tuple[str, Any]]) -> list[str]:
        """Run each SELECT again (all rows fetched) and show the slowest with their plans."""
        sqlite = self.db.dialect.name == "sqlite"
        raw = self.db.raw_connection()
        try:
            cur, timings = raw.cursor(), []
            for statement, params in captured:
                if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                    continue
                cur.execute(statement, params)
                cur.fetchall()
                began = time.perf_counter()
                cur.execute(statement, params)
                cur.fetchall()
                timings.append(((time.perf_counter() - began) * 1e3, statement, params))
            lines = [f"SQL: {len(captured)} statements, the {len(timings)} reads take "
                     f"{sum(t for t, *_ in timings):.1f} ms again; the slowest:"]
            for took, statement, params in sorted(timings, key=lambda t: -t[0])[:self.explain]:
                lines.append(f"{took:8.1f} ms  {' '.join(statement.split())[:300]}")
                cur.execute(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement,
                            params)
                lines += [f"             {row[-1] if sqlite else row[0]}" for row in cur]
            return lines
        finally:
            raw.rollback()
            raw.close()


def template_path(cache: Path, cases: int, days: int, *, rebuild: bool = False) -> Path:
    """Build (once per table layout, diagrams, engine and handlers, or when asked) the template.

    The engine and the handlers decide what the demo cases' states hold, so a change to either
    must not reuse a template built by the code before it.
    """
    from migrations.runner import metadatas

    digest = hashlib.sha256(f"{cases}/{days}/{BENCH_NOW.isoformat()}".encode())
    for table in sorted((t for md in metadatas() for t in md.tables.values()),
                        key=lambda t: t.name):
        digest.update(repr([(c.name, str(c.type), c.nullable) for c in table.columns]).encode())
    for pattern in ("bpmn/**/*", "engine/*.py", "tasks/**/*.py"):
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():
                digest.update(path.name.encode() + path.read_bytes())
    path = cache / f"template-{cases}-{days}-{digest.hexdigest()[:12]}.sqlite"
    if rebuild or not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        building = path.with_suffix(".building")
        for leftover in cache.glob(building.name + "*"):
            leftover.unlink()
        _build_template(building, cases, days)
        building.rename(path)
    return path


def _build_template(path: Path, cases: int, days: int) -> None:
    from engine.database import make_engine, make_session_factory, unit_of_work
    from migrations.runner import upgrade
    from tasks.demo import DEMO_USERS, seed_demo
    from tasks.demo_cases import build_demo
    from tasks.wiring import build_engine

    db = make_engine(f"sqlite:///{path}")
    upgrade(db)
    factory, engine = make_session_factory(db), build_engine()
    with unit_of_work(factory) as session:
        engine.definitions.sync_directory(session, ROOT / "bpmn")
        seed_demo(session)
    build_demo(factory, engine, cases=cases, days=days, until=BENCH_NOW,
               officers=[n for n, role, *_ in DEMO_USERS if role == "officer"],
               leaders=[n for n, role, *_ in DEMO_USERS if role == "team_leader"])
    db.dispose()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file


def busiest_officer(bench: Bench) -> tuple[str, int]:
    """The officer with the most open tasks (the first by name among equals)."""
    from cases.people import User
    from engine.models import HumanTask, TaskStatus

    with bench.session() as session:
        count = func.count().label("n")
        row = session.execute(
            select(HumanTask.assignee, count).join(User, User.name == HumanTask.assignee)
            .where(HumanTask.state == TaskStatus.OPEN, User.role == "officer")
            .group_by(HumanTask.assignee).order_by(count.desc(), HumanTask.assignee)
            .limit(1)).one()
    return str(row[0]), int(row[1])


def completions(bench: Bench, result: Result) -> None:
    """Open fresh cases through the engine, then time completing each one's first task."""
    from cases.people import User, issue_token
    from engine.models import HumanTask, TaskStatus
    from tasks import cases_service, demo_cases, demo_stages

    engine = bench.app.extensions["asb"]["engine"]
    rng = random.Random(result.size)  # noqa: S311 - benchmark data # nosec B311
    now = BENCH_NOW
    jobs, tokens = [], {}
    for _ in range(bench.warmup + bench.repeats + 1):
        with bench.session() as session:
            case = cases_service.open_case(session, engine, demo_cases._report(rng, now),
                                           actor="bench", received_at=now)
            task = session.scalars(select(HumanTask).where(
                HumanTask.business_key == case.reference, HumanTask.state == TaskStatus.OPEN)
                .order_by(HumanTask.created_at, HumanTask.id)).first()
            if task is None:
                result.missing["complete"] = "a fresh case had no open task"
                return
            data = demo_cases._form(rng, task.name, now) or demo_stages.form_for_task(
                session, rng, task, now)
            actor = task.assignee or session.scalar(
                select(User.name).where(User.role == task.role).order_by(User.id))
            user = session.scalars(select(User).where(User.name == actor)).one()
            if actor not in tokens:
                tokens[actor] = issue_token(session, user, now=now)
            jobs.append((task.id, data or {}, tokens[actor]))
            result.notes["complete"] = f"first task: {task.name}"
    client = bench.app.test_client()

    def post(task_id: str, data: dict[str, Any], token: str) -> Callable[[], Any]:
        return lambda: client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": data},
                                   headers={"Authorization": f"Bearer {token}"})
    bench.timed(result, "complete", [post(*job) for job in jobs])


def measure(url: str, size: int, args: argparse.Namespace) -> Result:
    """Time the four measures on the database at ``url`` holding ``size`` cases."""
    from engine import clock

    result = Result(size)
    clock.set_now(BENCH_NOW)
    bench = Bench(url, args)
    try:
        manager = bench.signed_in(MANAGER)
        bench.page(result, "dashboard", manager, "/dashboard")
        bench.afresh(result, "dashboard_fresh", manager, "/dashboard")
        bench.page(result, "instances", manager, INSTANCES_PATH)
        officer, tasks = busiest_officer(bench)
        result.notes["inbox"] = f"{officer}, {tasks} open tasks"
        bench.page(result, "inbox", bench.signed_in(officer), "/inbox")
        completions(bench, result)
    finally:
        bench.db.dispose()
        clock.reset()
    return result


def _sqlite_target(folder: Path, reuse: bool
                   ) -> Callable[[int], tuple[str, Callable[[], None]]]:
    def make(size: int) -> tuple[str, Callable[[], None]]:
        path = folder / f"scale-{size}.sqlite"
        if reuse and path.exists():
            return f"sqlite:///{path}", REUSED
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", lambda: None
    return make


def REUSED() -> None:  # noqa: N802 - a marker: the database was kept by an earlier --keep run
    """Nothing to drop: the database is the one an earlier ``--keep`` run wrote."""


def _pg_target(base: str, keep: bool) -> Callable[[int], tuple[str, Callable[[], None]]]:
    from engine.database import normalise_url

    server = make_url(normalise_url(base))
    admin = create_engine(server, isolation_level="AUTOCOMMIT")

    def make(size: int) -> tuple[str, Callable[[], None]]:
        name = f"asb_bench_{size}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            if not keep:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return server.set(database=name).render_as_string(hide_password=False), drop
    return make


def run(label: str, target: Callable[[int], tuple[str, Callable[[], None]]],
        template: Path, args: argparse.Namespace) -> list[Result]:
    """Generate and time every size on one kind of database; print as it goes."""
    from engine.database import make_engine
    from migrations.runner import upgrade

    results = []
    for size in args.sizes:
        url, drop = target(size)
        try:
            if drop is REUSED:
                print(f"{label}, {size:,} cases: reusing {url}", flush=True)
                result = measure(url, size, args)
                _print_result(label, result)
                results.append(result)
                continue
            db = make_engine(url)
            upgrade(db)
            dialect = db.dialect
            db.dispose()
            began = time.perf_counter()
            counts = generate(load_template(template, dialect), url, size,
                              progress=lambda m: print(f"  ... {m}", flush=True))
            print(f"{label}, {size:,} cases: generated in {time.perf_counter() - began:.1f} s "
                  f"({counts['process_instances']:,} process instances, "
                  f"{counts['human_tasks']:,} human tasks, {sum(counts.values()):,} rows)",
                  flush=True)
            result = measure(url, size, args)
        finally:
            drop()
        _print_result(label, result)
        results.append(result)
    return results


def _print_result(label: str, result: Result) -> None:
    for key, (name, what) in MEASURES.items():
        note = f" ({result.notes[key]})" if key in result.notes else ""
        if key in result.ms:
            print(f"{label} {result.size:>9,} {name:<26} {result.ms[key]:>9.1f} ms "
                  f"(best {result.best[key]:.1f})  {what}{note}")
        else:
            print(f"{label} {result.size:>9,} {name:<26} {'-':>9}    NOT MEASURED: "
                  f"{result.missing.get(key, '?')}")
        for line in result.explain.get(key, []):
            print(f"    {line}")
    sys.stdout.flush()


def print_ratios(label: str, results: list[Result]) -> bool:
    """Print largest/smallest for each measure; True when every measure was measured."""
    first, last = results[0], results[-1]
    print(f"{label}: ratio {last.size:,} / {first.size:,} cases (target <= {TARGET}), "
          "of the means (and of the best times)")
    good = True
    for key, (name, _what) in MEASURES.items():
        if key in first.ms and key in last.ms:
            ratio = last.ms[key] / first.ms[key]
            verdict = "ok" if ratio <= TARGET else "ABOVE TARGET"
            print(f"ratio {label} {name:<26} {first.ms[key]:>8.1f} ms -> {last.ms[key]:>8.1f} ms"
                  f"  x{ratio:.2f}  {verdict}  (best x{last.best[key] / first.best[key]:.2f})")
        else:
            good = False
            why = last.missing.get(key) or first.missing.get(key) or "?"
            print(f"ratio {label} {name:<26} not measured: {why}")
    return good


def main(argv: list[str] | None = None) -> int:
    """Generate each size, time the pages, print the milliseconds and the ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--pg", metavar="URL", help="also run on this PostgreSQL server")
    parser.add_argument("--pg-only", action="store_true", help="skip SQLite")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--explain", type=int, default=0, metavar="N",
                        help="also print each measure's N slowest reads with their plans")
    parser.add_argument("--template-cases", type=int, default=150)
    parser.add_argument("--template-days", type=int, default=150)
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "asb-bench-cache",
                        help="where the template database is kept between runs")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the template again (after changing handlers, say)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the SQLite files here (and the PostgreSQL databases)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: time the SQLite files kept there, writing none")
    args = parser.parse_args(argv)
    if any(s < 1 for s in args.sizes) or args.repeats < 1 or args.warmup < 0:
        parser.error("sizes and repeats must be positive")
    if args.reuse and not args.keep:
        parser.error("--reuse needs --keep DIR")
    if args.pg_only and not args.pg:
        parser.error("--pg-only needs --pg URL")
    args.sizes = sorted(set(args.sizes))
    began = time.perf_counter()
    template = template_path(args.cache, args.template_cases, args.template_days,
                             rebuild=args.rebuild)
    print(f"template: {template} (ready after {time.perf_counter() - began:.0f} s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="asb-scale-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        runs = [] if args.pg_only else [
            ("SQLite", run("SQLite", _sqlite_target(folder, args.reuse), template, args))]
        if args.pg:
            runs.append(("PostgreSQL", run("PostgreSQL", _pg_target(args.pg, bool(args.keep)),
                                           template, args)))
    good = all([print_ratios(label, results) for label, results in runs])
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
