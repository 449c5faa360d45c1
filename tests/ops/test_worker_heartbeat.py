"""A real ``asb worker`` run shows on /metrics as a live worker, and its logs can be JSON."""

from __future__ import annotations

import json

from tests.ops.support import asb, sqlite_app, value


def test_an_asb_worker_run_counts_as_a_live_worker_and_logs_json_lines(tmp_path, monkeypatch):
    app = sqlite_app(tmp_path)
    url = app.config["DATABASE_URL"]
    before = app.test_client().get("/metrics").get_data(as_text=True)
    assert value(before, "asb_workers_alive") == 0

    monkeypatch.setenv("ASB_LOG_FORMAT", "json")
    monkeypatch.setenv("ASB_LOG_LEVEL", "DEBUG")
    ran = asb("worker", "--once", url=url)
    assert ran.returncode == 0, ran.stderr
    after = app.test_client().get("/metrics").get_data(as_text=True)
    assert value(after, "asb_workers_alive") == 1
    assert value(after, "asb_worker_last_run_age_seconds") < 120
    lines = [line for line in ran.stderr.splitlines() if line.strip()]
    assert lines, "the worker logged nothing"
    assert all(set(json.loads(line)) >= {"time", "level", "logger", "message"} for line in lines)
