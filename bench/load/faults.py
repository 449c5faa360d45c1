"""Faults during the load (``--faults``): a killed web process and worker, a PostgreSQL restart,
a full evidence disk; then checks that every accepted effect is there once and nothing else.

The schedule runs in a thread beside locust, at fractions of the run: 20% SIGKILL one gunicorn
web process (its master starts another), 35% SIGKILL one ``asb worker`` and start a new one
5 s later (as systemd would), 50% restart PostgreSQL (halt, 3 s, start), 65% fill the evidence
disk until ENOSPC, 80% free it. Nothing else is restarted or repaired.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess  # nosec B404 - mount, umount and asb check, our own commands
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from .checks import Outcome

MARGIN = 10.0  # seconds after a fault in which its consequences are still excused
KILL_MARGIN = 5.0  # a dropped connection must come this soon after the web process kill
WORKER_RESTART = 5.0
PG_DOWN = 3.0
FILLER = "filler.bin"
STORE_FULL_TEXT = "The evidence store is full or unavailable"
UPLOAD = "officer: upload evidence"  # the upload's name in the request log


class DiskUnavailable(RuntimeError):
    """The small evidence filesystem could not be mounted."""


@contextmanager
def evidence_disk(files_dir: Path | None, size: str = "64m") -> Iterator[Path]:
    """A small filesystem for the evidence store: a tmpfs mounted here, or ``files_dir``.

    Yields the filesystem's folder; the store is its ``evidence`` folder, the filler sits
    beside it. A tmpfs is unmounted at the end, a given folder's files are removed.
    """
    if files_dir is not None:
        root = Path(tempfile.mkdtemp(prefix="asb-load-files-", dir=files_dir))
        try:
            (root / "evidence").mkdir()
            yield root
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return
    root = Path(tempfile.mkdtemp(prefix="asb-load-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",  # noqa: S603,S607 # nosec B603 B607
                              str(root)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        root.rmdir()
        reason = (mounted.stderr or mounted.stdout).strip().splitlines()
        raise DiskUnavailable(f"cannot mount a {size} tmpfs for the evidence disk (root is "
                              f"needed; or pass --files-dir DIR): {reason[0] if reason else ''}")
    try:
        (root / "evidence").mkdir()
        yield root
    finally:
        subprocess.run(["umount", str(root)], check=False)  # noqa: S603,S607 # nosec B603 B607
        with suppress(OSError):
            root.rmdir()


def children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdecimal():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def fill(path: Path) -> int:
    """Write ``path`` until the filesystem is full (ENOSPC); return the bytes written."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (b"\0" * (1 << 20), b"\0" * 4096, b"\0"):
            while True:
                try:
                    written += os.write(fd, chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return written


@dataclass
class Faults:
    """The fault schedule: run in a thread from the load's start; each fault's moments kept."""

    seconds: float
    gunicorn: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    start_worker: Callable[[], subprocess.Popen[bytes]]
    disk: Path
    server: Any = None  # tests.pg_server.PostgresServer, or None with --pg
    began: float = 0.0
    times: dict[str, tuple[float, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the schedule now (the load's start)."""
        self.began = time.time()
        self._thread = threading.Thread(target=self._run, name="faults", daemon=True)
        self._thread.start()

    def finish(self) -> None:
        """Stop the schedule (after the load); free the disk if it is still full."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)
        (self.disk / FILLER).unlink(missing_ok=True)

    def _run(self) -> None:
        plan: list[tuple[float, str, Callable[[], str]]] = [
            (0.20, "kill -9 a gunicorn web process", self._kill_web),
            (0.35, "kill -9 an asb worker, start another 5 s later", self._kill_worker),
            (0.50, "restart PostgreSQL", self._restart_pg),
            (0.65, "fill the evidence disk", self._fill),
            (0.80, "free the evidence disk", self._free),
        ]
        for fraction, name, act in plan:
            if self._stop.wait(max(0.0, self.began + fraction * self.seconds - time.time())):
                return
            at = time.time()
            try:
                detail = act()
            except (OSError, subprocess.SubprocessError) as exc:
                detail = f"FAILED: {exc}"
            self.times[name] = (at, time.time())
            line = f"fault at {at - self.began:5.1f} s ({fraction:.0%}): {name}: {detail}"
            self.notes.append(line)
            print(line, flush=True)

    def _kill_web(self) -> str:
        victim = children(self.gunicorn.pid)[0]
        os.kill(victim, signal.SIGKILL)
        return f"pid {victim}"

    def _kill_worker(self) -> str:
        victim = self.workers.pop(0)
        victim.kill()
        victim.wait()
        time.sleep(WORKER_RESTART)
        fresh = self.start_worker()
        self.workers.append(fresh)
        return f"pid {victim.pid} killed, pid {fresh.pid} started"

    def _restart_pg(self) -> str:
        if self.server is None:
            return "skipped: --pg names a server this run does not own"
        self.server.halt()
        time.sleep(PG_DOWN)
        self.server.resume()
        return "halted, started again"

    def _fill(self) -> str:
        return f"{fill(self.disk / FILLER) / (1 << 20):.1f} MB written until ENOSPC"

    def _free(self) -> str:
        (self.disk / FILLER).unlink()
        return "filler deleted"

    def window(self, name: str, margin: float = MARGIN) -> tuple[float, float] | None:
        """When the fault ``name`` (a word of its title) had effect, with a margin after it."""
        for title, (at, done) in self.times.items():
            if name in title:
                return at, done + margin
        return None


def fault_windows(faults: Faults) -> dict[str, tuple[float, float]]:
    """The windows in which 503s and dropped connections are excused."""
    found = {"web": faults.window("gunicorn", KILL_MARGIN),
             "pg": faults.window("PostgreSQL"),
             "disk": (faults.times["fill the evidence disk"][0],
                      faults.times["free the evidence disk"][1] + MARGIN)
             if "free the evidence disk" in faults.times else faults.window("fill")}
    return {k: v for k, v in found.items() if v is not None}


def _inside(item: dict[str, Any], window: tuple[float, float] | None) -> bool:
    """Whether a logged request (ending at ``t``, lasting ``ms``) overlapped ``window``."""
    if window is None:
        return False
    end = float(item["t"])
    return end - float(item["ms"]) / 1000 <= window[1] and end >= window[0]


def excuser(windows: dict[str, tuple[float, float]]) -> Callable[[dict[str, Any]], bool]:
    """A test of one logged request: a 503 in the PostgreSQL window, an upload's 503 in the
    disk-full window, or a dropped connection just after the web process was killed."""
    def excused(item: dict[str, Any]) -> bool:
        if item["s"] == 503:
            return _inside(item, windows.get("pg")) or (
                item["n"] == UPLOAD and _inside(item, windows.get("disk")))
        if item["s"] == 0:
            return _inside(item, windows.get("web"))
        return False
    return excused


def upload_checks(db: Engine, uploads: list[dict[str, Any]], store: Path,
                  faults: Faults) -> list[Outcome]:
    """Accepted uploads stored once with their file; refused ones left nothing; no stray file;
    uploads refused while the disk was full and accepted again once it was freed."""
    from cases.evidence import EvidenceItem

    outcome = Counter(u["outcome"] for u in uploads)
    accepted = {u["upload"]: u for u in uploads if u["outcome"] == "accepted"}
    answered_no = {u["upload"] for u in uploads if u["outcome"] in ("refused", "unavailable")}
    with db.connect() as conn:
        rows = conn.execute(select(EvidenceItem.description, EvidenceItem.stored_name,
                                   EvidenceItem.size, EvidenceItem.uploaded_by)
                            .where(EvidenceItem.description.like("load upload %"))).all()
        names = set(conn.scalars(select(EvidenceItem.stored_name)))
    by_token: dict[str, list[Any]] = {}
    for row in rows:
        by_token.setdefault(str(row.description).removeprefix("load upload "), []).append(row)
    wrong = []
    for token, sent in accepted.items():
        found = by_token.get(token, [])
        path = store / found[0].stored_name if len(found) == 1 else None
        if (path is None or not path.is_file() or path.stat().st_size != sent["size"]
                or found[0].size != sent["size"] or found[0].uploaded_by != sent["by"]):
            wrong.append(f"{token}: {len(found)} rows")
    left = [t for t in answered_no if t in by_token]
    web = faults.window("gunicorn", KILL_MARGIN)
    stray, excused = [], 0
    for path in store.iterdir():
        if path.name in names:
            continue
        if web is not None and web[0] - 1 <= path.stat().st_mtime <= web[1]:
            excused += 1  # written by the web process killed in mid-upload
        else:
            stray.append(path.name)
    freed = faults.times.get("free the evidence disk", (float("inf"),))[0]
    again = sum(1 for u in accepted.values() if u["t"] > freed)
    swept, kept = _sweep_a_day_later(db, store, names)
    return [
        Outcome("uploads: every accepted one stored once, file present, right size",
                bool(accepted) and not wrong,
                f"{len(accepted)} accepted; outcomes {dict(outcome)}"
                + (f"; wrong: {wrong[:5]}" if wrong else "")),
        Outcome("uploads: none refused (disk full or 503) left a row", not left,
                f"{len(answered_no)} refused, {len(left)} stored all the same"
                + (f": {left[:5]}" if left else "")),
        Outcome("uploads: no file in the store without its record", not stray,
                f"{len(stray)} stray files ({excused} written when the web process was killed)"
                + (f": {stray[:5]}" if stray else "")),
        Outcome("uploads: a day later the worker's sweep removes those, and only those",
                swept == excused + len(stray) and kept,
                f"{swept} removed by the sweep run as if a day later; every file with a record "
                + ("kept" if kept else "NOT kept")),
        Outcome("uploads: refused while the disk was full, accepted again once freed",
                outcome["refused"] > 0 and again > 0,
                f"{outcome['refused']} refused as store full, {again} accepted after it was "
                "freed"),
    ]


def _sweep_a_day_later(db: Engine, store: Path, names: set[str]) -> tuple[int, bool]:
    """Run the worker's file sweep on the store as if two days had passed; how many files it
    removed, and whether every file with a record is still there."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.orm import Session

    from tasks.file_sweep import sweep_strays
    from tasks.files import LocalFileStore

    recorded = {p.name for p in store.iterdir() if p.name in names}
    with Session(db) as session:
        removed = sweep_strays(session, LocalFileStore(store),
                               datetime.now(UTC) + timedelta(days=2))
    return removed, recorded <= {p.name for p in store.iterdir()}


def timer_once_check(db: Engine, fired: dict[int, Any], due: dict[int, Any]) -> Outcome:
    """Each moved timer fired once: after it fell due the workers never opened the same task
    twice on its case nor ended its instance twice (a second firing would)."""
    from cases.audit import AuditEvent
    from engine.models import Incident, ProcessInstance

    keys: dict[int, str] = {}
    seen: Counter[tuple[str, str, str]] = Counter()
    retried: Counter[str] = Counter()
    with db.connect() as conn:
        if fired:
            keys = {r.id: str(r.business_key) for r in conn.execute(
                select(ProcessInstance.id, ProcessInstance.business_key)
                .where(ProcessInstance.id.in_(list(fired))))}
        for instance_id, key in keys.items():
            for row in conn.execute(select(AuditEvent.action, AuditEvent.task_name)
                                    .where(AuditEvent.case_reference == key,
                                           AuditEvent.actor.like("worker-%"),
                                           AuditEvent.at >= due[instance_id])):
                if row.action in ("task_opened", "instance_ended"):
                    seen[(key, row.action, str(row.task_name))] += 1
                else:
                    retried[row.action] += 1
        failing = Counter(f"{r.task_name}: {r.error_type}: {str(r.message)[:120]}"
                          for r in conn.execute(select(
                              Incident.task_name, Incident.error_type, Incident.message)
                              .where(Incident.business_key.in_(list(keys.values())))))
    if failing:
        print(f"incidents on the moved timers' cases: {dict(failing)}", flush=True)
    doubled = [k for k, n in seen.items() if n > 1]
    return Outcome("timers: each moved timer fired once", bool(fired) and not doubled,
                   f"{len(fired)} fired: {sum(seen.values())} tasks opened or instances ended "
                   f"by the workers after due, {len(doubled)} twice"
                   + (f": {doubled[:3]}" if doubled else "")
                   + (f"; other workers' events {dict(retried)}" if retried else ""))


def asb_check(env: dict[str, str], report: Path) -> tuple[int, list[str]]:
    """Run ``asb check`` on the database and the evidence store: its exit status and lines
    (all written to ``report``)."""
    done = subprocess.run([str(Path(sys.executable).parent / "asb"), "check"],  # noqa: S603 # nosec B603
                          env=env, capture_output=True, text=True, check=False, timeout=3600)
    report.write_text(done.stdout + done.stderr, encoding="utf-8")
    return done.returncode, [line.rstrip() for line in (done.stdout + done.stderr).splitlines()]


def problems(lines: list[str]) -> dict[str, set[str]]:
    """The findings of ``asb check`` by section (``instances``, ``audit``, ``closed cases with
    running processes``, ``evidence files``): its indented lines and a broken chain."""
    found: dict[str, set[str]] = {}
    section = ""
    for line in lines:
        if not line.startswith("  "):
            section = line.split(":", 1)[0]
        if line.startswith("  ") or "BROKEN" in line:
            found.setdefault(section, set()).add(line.strip())
    return found


CLOSED_RUNNING = "closed cases with running processes"


def system_checks(env: dict[str, str], report: Path, before: tuple[int, list[str]]
                  ) -> list[Outcome]:
    """``asb check`` after the run: exit 0, or no finding the database did not have before the
    load (``before``: the same check run then); closed cases still running are counted apart."""
    status, lines = asb_check(env, report)
    then, now = problems(before[1]), problems(lines)
    new = {k: sorted(v - then.get(k, set())) for k, v in now.items()}
    other = [f"{k}: {line}" for k, v in new.items() if k != CLOSED_RUNNING for line in v]
    closed = new.get(CLOSED_RUNNING, [])
    summary = "; ".join(line.strip() for line in lines if not line.startswith("  "))
    start = (f"exit {status} (exit {before[0]} before the load, with "
             f"{sum(map(len, then.values()))} findings)")
    return [
        Outcome("asb check: instances, audit chain, evidence files consistent",
                status == 0 or (status == 1 and not other),
                f"{start}: {summary}; {len(other)} new findings"
                + (f": {other[:8]}" if other else "")),
        Outcome("asb check: no closed case with a running process", status == 0 or not closed,
                f"{len(then.get(CLOSED_RUNNING, ()))} before the load, {len(closed)} more "
                f"after it" + (f": {closed[:5]}" if closed else "")),
    ]


def read_uploads(path: Path) -> list[dict[str, Any]]:
    """The upload lines of the locust log."""
    import json

    return [item for item in map(json.loads, path.read_text(encoding="utf-8").splitlines())
            if "upload" in item]
