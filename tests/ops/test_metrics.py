"""/metrics: requests by route template, task completions, timer lag, and who may read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from engine import clock
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.models import ProcessInstance
from engine.worker import Worker
from tasks.wiring import build_engine
from tests.lifecycle_support import Lifecycle, new_life
from tests.ops.support import sqlite_app, value
from web.heartbeat import heartbeat_job

XMAS_EVE = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
ASSESSMENT = {"harm": "medium", "community_impact": "low", "child_at_risk": False,
              "vulnerable_adult": False, "raise_priority": False,
              "vulnerability": {"personal": False, "situational": True, "incidental": False}}


def _scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def test_a_request_is_counted_under_its_route_template_never_its_path(tmp_path):
    client = sqlite_app(tmp_path).test_client()
    before = _scrape(client)
    assert client.get("/healthz").status_code == 200
    assert client.get("/cases/ASB-2026-000123").status_code == 302  # to sign in
    after = _scrape(client)
    for route, status in (("/healthz", "200"), ("/cases/<reference>", "302")):
        labels = {"method": "GET", "route": route, "status": status}
        assert (value(after, "asb_http_requests_total", **labels)
                - value(before, "asb_http_requests_total", **labels)) == 1
    assert value(after, "asb_http_request_duration_seconds_count",
                 method="GET", route="/healthz") >= 1
    assert "ASB-2026-000123" not in after


def test_task_completions_timer_lag_and_queue_depth_come_from_the_database(tmp_path):
    app = sqlite_app(tmp_path)
    factory = make_session_factory(make_engine(app.config["DATABASE_URL"]))
    with unit_of_work(factory) as session:
        life = new_life(session)
        ref = life.open(XMAS_EVE).reference
    client = app.test_client()
    page = _scrape(client)
    assert value(page, "asb_task_completions_total") == 0
    assert value(page, "asb_timer_lag_seconds") == 0
    assert value(page, "asb_database_up") == 1

    with unit_of_work(factory) as session:
        life = Lifecycle(session)
        life.complete(ref, "assess_risk", ASSESSMENT)
        first_due = session.scalar(select(func.min(ProcessInstance.next_timer_at)))
    assert first_due is not None
    clock.set_now(first_due - timedelta(minutes=1))
    page = _scrape(client)
    assert value(page, "asb_task_completions_total") == 1
    assert value(page, "asb_timer_lag_seconds") == 0  # nothing due yet
    assert value(page, "asb_queue_depth", queue="timers") == 0

    clock.set_now(first_due + timedelta(minutes=10))  # the worker has not run since
    page = _scrape(client)
    assert value(page, "asb_timer_lag_seconds") == 600
    assert value(page, "asb_queue_depth", queue="timers") >= 1
    assert value(page, "asb_incidents_open") == 0


def test_metrics_are_refused_from_a_disallowed_address_unless_the_token_is_given(tmp_path):
    client = sqlite_app(tmp_path, ASB_METRICS_TOKEN="s3cret-metrics-token").test_client()
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=stranger).status_code == 404
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", environ_base=stranger, headers=wrong).status_code == 404
    right = {"Authorization": "Bearer s3cret-metrics-token"}
    assert "asb_database_up 1.0" in _scrape(client, environ_base=stranger, headers=right)
    # Through a reverse proxy on this host the peer is 127.0.0.1, but the caller is not.
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", headers=proxied).status_code == 404


def test_allowed_networks_come_from_configuration(tmp_path):
    client = sqlite_app(tmp_path, ASB_METRICS_ALLOW="10.0.0.0/8, 192.0.2.7").test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.4.5.6"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.8"}).status_code == 404
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is no longer in the list


def test_worker_last_run_age_comes_from_the_workers_heartbeats(tmp_path):
    clock.set_now(XMAS_EVE)
    app = sqlite_app(tmp_path)
    client = app.test_client()
    page = _scrape(client)
    assert value(page, "asb_worker_last_run_age_seconds") == float("inf")  # none ever ran
    assert value(page, "asb_workers_alive") == 0
    factory = make_session_factory(make_engine(app.config["DATABASE_URL"]))
    worker = Worker(build_engine(), factory, name="w1", jobs=[heartbeat_job("host-a:1")])
    assert worker.run_once() == 0  # a heartbeat is not work: the worker may sleep
    clock.set_now(XMAS_EVE + timedelta(seconds=30))
    page = _scrape(client)
    assert value(page, "asb_worker_last_run_age_seconds") == 30
    assert value(page, "asb_workers_alive") == 1
    clock.set_now(XMAS_EVE + timedelta(minutes=10))  # the worker died
    page = _scrape(client)
    assert value(page, "asb_worker_last_run_age_seconds") == 600
    assert value(page, "asb_workers_alive") == 0
    worker.run_once()  # back again
    assert value(_scrape(client), "asb_worker_last_run_age_seconds") == 0


def test_the_token_is_read_from_the_environment_as_written(tmp_path, monkeypatch):
    monkeypatch.setenv("ASB_METRICS_TOKEN", "0123456789")  # digits: not to be read as a number
    client = sqlite_app(tmp_path).test_client()
    stranger = {"REMOTE_ADDR": "203.0.113.9"}
    right = {"Authorization": "Bearer 0123456789"}
    assert client.get("/metrics", environ_base=stranger, headers=right).status_code == 200
