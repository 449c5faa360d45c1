"""A real gunicorn with two worker processes on PostgreSQL serves /readyz and /metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import clock
from engine.database import make_engine, make_session_factory, unit_of_work
from migrations.runner import upgrade
from tests.lifecycle_support import make_report, new_life
from tests.ops.support import ROOT, empty_pg_database, free_port, value

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
ASSESSMENT = {"harm": "medium", "community_impact": "low", "child_at_risk": False,
              "vulnerable_adult": False, "raise_priority": False,
              "vulnerability": {"personal": False, "situational": True, "incidental": False}}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - our own 127.0.0.1
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _seed(url: str) -> None:
    """A case reported two months ago with its risk assessment done: its timers are overdue."""
    engine = make_engine(url)
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        life = new_life(session)
        at = datetime.now(UTC) - timedelta(days=60)
        incident = {**make_report()["incident"],
                    "occurred_at": (at - timedelta(days=1)).isoformat()}
        ref = life.open(at, incident=incident).reference
        life.complete(ref, "assess_risk", ASSESSMENT)
    engine.dispose()
    clock.reset()


def test_gunicorn_with_two_workers_serves_readiness_and_summed_metrics(pg_server, tmp_path):
    with empty_pg_database(pg_server.url) as url:
        _seed(url)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        env.update(DATABASE_URL=url, SECRET_KEY="test-only-key", ASB_BIND=f"127.0.0.1:{port}",
                   ASB_WEB_WORKERS="2", ASB_LOG_FORMAT="json", ASB_INSTANCE=str(tmp_path))
        with (tmp_path / "gunicorn.log").open("w") as log:
            server = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", "web.wsgi:app"],
                                      cwd=ROOT, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
                try:
                    if _get(f"{base}/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
            assert _get(f"{base}/readyz") == (200, '{"status":"ready"}\n')
            for _ in range(20):
                status, _body = _get(f"{base}/healthz?email=rita@example.org&token=tok-q-1")
                assert status == 200
            status, page = _get(f"{base}/metrics")
            assert status == 200
            # Twenty-one liveness calls, whichever of the two processes answered each.
            assert value(page, "asb_http_requests_total", method="GET", route="/healthz",
                         status="200") == 21
            assert value(page, "asb_task_completions_total") == 1
            assert value(page, "asb_timer_lag_seconds") > 86400  # no asb worker is running
            assert value(page, "asb_queue_depth", queue="timers") >= 1
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        logged = (tmp_path / "gunicorn.log").read_text()
        lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
        access = [line for line in lines if line["logger"] == "gunicorn.access"]
        requests = [line for line in lines if line["logger"] == "asb.request"]
        assert len(access) >= 22 and len(requests) >= 22
        assert {line["route"] for line in requests} >= {"/healthz", "/readyz", "/metrics"}
        for secret in ("rita@example.org", "tok-q-1", "email="):
            assert secret not in logged
        assert server.returncode == 0


@pytest.mark.parametrize("database", ["", "sqlite:///{tmp}/asb.sqlite"])
def test_gunicorn_refuses_several_processes_on_sqlite(tmp_path, database):
    env = {k: v for k, v in os.environ.items() if k not in ("PROMETHEUS_MULTIPROC_DIR",
                                                            "DATABASE_URL")}
    env.update(SECRET_KEY="test-only-key", ASB_BIND=f"127.0.0.1:{free_port()}",
               ASB_WEB_WORKERS="3", ASB_INSTANCE=str(tmp_path))
    if database:
        env["DATABASE_URL"] = database.format(tmp=tmp_path)
    done = subprocess.run([GUNICORN, "-c", "gunicorn.conf.py", "web.wsgi:app"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert ("asb: SQLite serves one web process: set DATABASE_URL to PostgreSQL, or "
            "ASB_WEB_WORKERS=1") in done.stderr
    assert "Booting worker" not in done.stderr  # refused before any process started
