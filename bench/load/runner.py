"""Run the load test: PostgreSQL, N bulk cases, 4 gunicorn processes, 2 workers, locust.

From the repository root: ``python -m bench.load [--cases 100000] [--minutes 5]``. It starts
a PostgreSQL server (or uses ``--pg URL``), writes the cases with bench/bulk.py, gives the
busiest officers and five managers a password, moves some waiting timers to fall due during
the run, starts ``gunicorn -w 4 'web:create_app()'`` and two ``asb worker`` processes on
127.0.0.1, runs locust headless (50 officers, 5 managers), then checks the database and
prints throughput and p50/p95 latency per action. Exit status 1 when a check fails.
``--faults`` adds evidence uploads and a fault schedule (bench/load/faults.py).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess  # nosec B404 - starts our own gunicorn, workers and locust
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

from . import checks, faults, prepare

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres(url: str | None) -> Iterator[tuple[str, Any]]:
    """A PostgreSQL server URL and the server object: the URL given (and None), or a
    throw-away server started here."""
    if url:
        yield url, None
        return
    from tests.pg_server import PostgresServer

    server = PostgresServer().start()
    try:
        yield server.url, server
    finally:
        server.stop()


@contextmanager
def database(server: str, cases: int, keep: bool, reuse: bool, cache: Path
             ) -> Iterator[str]:
    """Create (or reuse) the database ``asb_load_<cases>``; drop it afterwards unless kept."""
    from engine.database import normalise_url

    base = make_url(normalise_url(server))
    admin = create_engine(base, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    name = f"asb_load_{cases}"
    url = base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        exists = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s",
                                      (name,)).scalar()
        if not (reuse and exists):
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    if reuse and exists:
        print(f"reusing the kept database {name}", flush=True)
    else:
        prepare.build(url, cases, cache)
    try:
        yield url
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def start(stack: ExitStack, args: list[str], env: dict[str, str], log: Path
          ) -> subprocess.Popen[bytes]:
    """Start a process with its output in ``log``; stop it (SIGTERM, then SIGKILL) at exit."""
    out = stack.enter_context(log.open("wb"))
    proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603 # nosec B603

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    stack.callback(stop)
    return proc


def wait_ready(base: str, seconds: float = 90) -> None:
    """Wait until the sign-in page answers."""
    deadline = time.monotonic() + seconds
    while True:
        with suppress(OSError), urllib.request.urlopen(  # noqa: S310 # nosec B310
                f"{base}/sign-in", timeout=5) as response:
            if response.status == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not answer /sign-in")
        time.sleep(0.5)


def drain(db: Any, seconds: float) -> tuple[int, float]:
    """Wait for the workers to fire the timers already due; return how many and how long."""
    from engine.models import InstanceStatus, ProcessInstance

    began = time.monotonic()
    stmt = select(func.count()).select_from(ProcessInstance).where(
        ProcessInstance.next_timer_at <= datetime.now(UTC),
        ProcessInstance.status != InstanceStatus.SUSPENDED)
    with db.connect() as conn:
        first = conn.scalar(stmt) or 0
    while time.monotonic() - began < seconds:
        with db.connect() as conn:
            if not conn.scalar(stmt):
                break
        time.sleep(2)
    return first, time.monotonic() - began


def run(args: argparse.Namespace, url: str, folder: Path, server: Any = None,
        disk: Path | None = None) -> bool:
    """Everything after the database exists: processes, locust (and the faults), checks."""
    from web import create_app

    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32),
           "ASB_REQUIRE_TOTP": "false", "ASB_DEV_HTTP": "1", "PYTHONPATH": str(HERE.parents[1])}
    if disk is not None:
        env["ASB_FILES"] = str(disk / "evidence")
    app = create_app({"SECRET_KEY": env["SECRET_KEY"], "DATABASE_URL": url,
                      "START_WORKER": False})
    db, engine = app.extensions["asb"]["db"], app.extensions["asb"]["engine"]
    password, officers, managers = prepare.accounts(db, args.officers)
    plan = prepare.work(app, password, officers, managers)
    print(f"{len(officers)} officers ({sum(map(len, plan.tasks.values()))} tasks with answers "
          f"ready), {len(managers)} managers; password set", flush=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    conf = folder / "empty.gunicorn.conf.py"
    conf.write_text("# the load test's settings are all on the command line\n")
    with ExitStack() as stack:
        workers = [start(stack, [str(BIN / "asb"), "worker"], env, folder / f"worker-{n}.log")
                   for n in range(args.workers)]
        first, took = drain(db, args.drain)
        print(f"timers already due at start: {first}, fired by the workers in {took:.0f} s",
              flush=True)
        checked = time.monotonic()
        before = faults.asb_check(env, folder / "asb-check-before.txt") if disk else (0, [])
        if disk is not None:
            print(f"asb check before the load: exit {before[0]}, "
                  f"{sum(map(len, faults.problems(before[1]).values()))} findings, "
                  f"{time.monotonic() - checked:.0f} s", flush=True)
        web = start(stack, [str(BIN / "gunicorn"), "-c", str(conf), "-w", str(args.web),
                            "-b", f"127.0.0.1:{port}", "--timeout", "120", "web:create_app()"],
                    env, folder / "gunicorn.log")
        wait_ready(base)
        seconds = args.minutes * 60
        soon = datetime.now(UTC)
        first, last = min(60, seconds / 3), max(seconds - 60, seconds / 2)
        due = prepare.retime(db, engine, args.timers, soon + timedelta(seconds=first),
                             soon + timedelta(seconds=last))
        print(f"{len(due)} waiting timers moved to fall due during the run", flush=True)
        (folder / "plan.json").write_text(json.dumps({
            "password": password, "officers": officers, "managers": managers,
            "officer_users": args.officer_users, "tasks": plan.tasks, "cases": plan.cases}))
        log = folder / "requests.jsonl"
        watch = checks.TimerWatch(db, due)
        watch.start()
        locust_env = {**env, "ASB_LOAD_PLAN": str(folder / "plan.json"),
                      "ASB_LOAD_LOG": str(log), "ASB_LOAD_OFFICERS": str(args.officer_users),
                      "ASB_LOAD_MANAGERS": str(args.managers),
                      "ASB_LOAD_FAULTS": "1" if disk is not None else "0"}
        users = args.officer_users + args.managers
        began = datetime.now(UTC)
        print(f"locust: {args.officer_users} officers + {args.managers} managers for "
              f"{args.minutes:g} min against {base}", flush=True)
        schedule = None
        if disk is not None:
            schedule = faults.Faults(seconds, web, workers, lambda: start(
                stack, [str(BIN / "asb"), "worker"], env, folder / "worker-restarted.log"),
                disk, server)
            schedule.start()
        with (folder / "locust.log").open("wb") as out:
            subprocess.run([str(BIN / "locust"), "-f", str(HERE / "locustfile.py"),  # noqa: S603 # nosec B603
                            "--headless", "-u", str(users), "-r", "2", "-t", f"{seconds:.0f}s",
                            "--host", base, "--only-summary", "--stop-timeout", "15",
                            "--skip-log-setup"], env=locust_env, stdout=out,
                           stderr=subprocess.STDOUT, check=False, timeout=seconds + 300)
        ended = datetime.now(UTC)
        if schedule is not None:
            schedule.finish()
        time.sleep(5)  # a timer due at the very end gets its poll
        watch.stop()
    requests, completions = checks.read_log(log)
    checks.print_figures(requests, (ended - began).total_seconds())
    if schedule is None or disk is None:
        outcomes = [*checks.request_checks(requests, users),
                    *checks.completion_checks(db, completions, officers, began),
                    *checks.timer_checks(db, watch, began, ended)]
    else:
        outcomes = fault_checks(db, schedule, watch, env, disk, log, (began, ended),
                                (requests, completions, officers, users), before)
    db.dispose()
    return checks.print_checks(outcomes)


def fault_checks(db: Any, schedule: faults.Faults, watch: checks.TimerWatch,
                 env: dict[str, str], disk: Path, log: Path, run: tuple[datetime, datetime],
                 seen: tuple[list[Any], list[Any], list[str], int],
                 before: tuple[int, list[str]]) -> list[checks.Outcome]:
    """The checks of a --faults run: the usual ones with the faults' moments excused, the
    uploads, each timer fired once, ``asb check``."""
    requests, completions, officers, users = seen
    began, ended = run
    print("\nfaults (seconds after the load's start):")
    for line in schedule.notes:
        print(f"  {line}")
    windows = faults.fault_windows(schedule)
    kill = windows.get("web")
    cut = (datetime.fromtimestamp(kill[0] - 5, UTC), datetime.fromtimestamp(kill[1], UTC)
           ) if kill else None
    outcomes = [*checks.request_checks(requests, users, faults.excuser(windows)),
                *checks.completion_checks(db, completions, officers, began, cut),
                *faults.upload_checks(db, faults.read_uploads(log), disk / "evidence",
                                      schedule),
                *checks.timer_checks(db, watch, began, ended),
                faults.timer_once_check(db, watch.fired, watch.due)]
    print("running asb check after the load ...", flush=True)
    return [*outcomes, *faults.system_checks(env, log.parent / "asb-check.txt", before)]


def main(argv: list[str] | None = None) -> int:
    """Parse the options, set everything up, run, check; 0 when every check passed."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server to use (else one is "
                        "started); the database asb_load_<cases> is created there")
    parser.add_argument("--keep", action="store_true", help="keep the database (with --pg)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --pg: use asb_load_<cases> kept by an earlier --keep run")
    parser.add_argument("--officer-users", type=int, default=50)
    parser.add_argument("--managers", type=int, default=5)
    parser.add_argument("--officers", type=int, default=50,
                        help="distinct officer accounts (fewer exist with few cases: shared)")
    parser.add_argument("--web", type=int, default=4, help="gunicorn processes")
    parser.add_argument("--workers", type=int, default=2, help="asb worker processes")
    parser.add_argument("--timers", type=int, default=40,
                        help="waiting timers moved to fall due during the run")
    parser.add_argument("--drain", type=float, default=900,
                        help="seconds to wait for timers already due before the run")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "asb-bench-cache")
    parser.add_argument("--out", type=Path, help="keep the logs here (else a temporary folder)")
    parser.add_argument("--faults", action="store_true",
                        help="kill a web process and a worker, restart PostgreSQL, fill the "
                        "evidence disk during the load (needs root for a tmpfs)")
    parser.add_argument("--files-dir", type=Path, metavar="DIR",
                        help="with --faults: a small filesystem for the evidence store "
                        "instead of a 64 MB tmpfs mounted by the run")
    args = parser.parse_args(argv)
    if args.minutes < 1 or args.cases < 1:
        parser.error("--minutes and --cases must be at least 1")
    if (args.keep or args.reuse) and not args.pg:
        parser.error("--keep and --reuse need --pg URL (a started server is thrown away)")
    if shutil.which("locust", path=str(BIN)) is None:
        parser.error("locust is not installed: pip install -e '.[bench]'")
    if args.files_dir is not None and not args.faults:
        parser.error("--files-dir goes with --faults")
    scratch = Path(tempfile.mkdtemp(prefix="asb-load-"))
    folder = args.out or scratch
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with ExitStack() as stack:
            disk = None
            if args.faults:
                try:
                    disk = stack.enter_context(faults.evidence_disk(args.files_dir))
                except faults.DiskUnavailable as exc:
                    print(f"asb-load: {exc}", file=sys.stderr)
                    return 2
            address, server = stack.enter_context(postgres(args.pg))
            url = stack.enter_context(database(address, args.cases, args.keep, args.reuse,
                                               args.cache))
            good = run(args, url, folder, server, disk)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if args.out is not None:
            print(f"logs: {folder}")
    return 0 if good else 1
