"""The app factory, health check and the ASB_TESTING clock hook."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine import clock
from engine.database import make_engine
from engine.models import HumanTask, TaskStatus
from migrations.runner import upgrade
from web import ConfigError, create_app
from web.extensions import unit

WAIT_THEN_ACT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="t">
  <bpmn:process id="wait_then_act" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="officer">
      <bpmn:flowNodeRef>act</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:outgoing>a</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="wait"/>
    <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>a</bpmn:incoming>
      <bpmn:outgoing>b</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDate>wake_at</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="b" sourceRef="wait" targetRef="act"/>
    <bpmn:userTask id="act" name="Update the reporter"><bpmn:incoming>b</bpmn:incoming>
      <bpmn:outgoing>c</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="c" sourceRef="act" targetRef="e"/>
    <bpmn:endEvent id="e"><bpmn:incoming>c</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def make_app(tmp_path, **overrides):
    url = f"sqlite:///{tmp_path / 'web.sqlite'}"
    upgrade(make_engine(url))
    config = {"SECRET_KEY": "test-only-key", "DATABASE_URL": url, "START_WORKER": False}
    config.update(overrides)
    return create_app(config)


def test_app_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
                    "START_WORKER": False})


def test_health_answers_with_the_product_time(tmp_path):
    clock.set_now(datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    response = make_app(tmp_path).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "now": "2026-12-24T09:00:00Z"}


def test_clock_hook_does_not_exist_outside_testing_mode(tmp_path):
    client = make_app(tmp_path, ASB_TESTING=False).test_client()
    response = client.post("/api/v1/_test/clock", json={"now": "2027-01-01T00:00:00Z"})
    assert response.status_code == 404


def test_clock_hook_refuses_bad_input_and_changes_nothing(tmp_path):
    clock.set_now(datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    client = make_app(tmp_path, ASB_TESTING=True).test_client()
    for body in ({}, {"now": 5}, {"now": "next tuesday"}):
        response = client.post("/api/v1/_test/clock", json=body)
        assert response.status_code == 422
        assert response.get_json()["error"]["details"]["now"]
    assert clock.now() == datetime(2026, 12, 24, 9, 0, tzinfo=UTC)


def test_clock_hook_moves_time_and_the_worker_fires_what_fell_due(tmp_path):
    clock.set_now(datetime(2026, 12, 24, 9, 0, tzinfo=UTC))
    app = make_app(tmp_path, ASB_TESTING=True, START_WORKER=True)
    worker = app.extensions["asb"]["worker"]
    worker.stop()  # the endpoint drains synchronously; keep the thread out of the race
    (tmp_path / "bpmn").mkdir()
    (tmp_path / "bpmn" / "wait.bpmn").write_text(WAIT_THEN_ACT)
    with app.app_context():
        engine = app.extensions["asb"]["engine"]
        with unit() as session:
            engine.definitions.sync_directory(session, tmp_path / "bpmn")
            engine.start(session, "wait_then_act", "ASB-9",
                         {"wake_at": "2027-01-04T09:00:00+00:00"})
    client = app.test_client()
    response = client.post("/api/v1/_test/clock", json={"now": "2027-01-04T08:59:00"})
    assert response.status_code == 200
    assert response.get_json()["woken"] == 0
    # A time without an offset is Europe/London (GMT in January).
    response = client.post("/api/v1/_test/clock", json={"now": "2027-01-04T09:01:00"})
    assert response.get_json()["woken"] == 1
    with app.app_context(), unit() as session:
        task = session.scalars(select(HumanTask).where(HumanTask.business_key == "ASB-9")).one()
        assert (task.name, task.state, task.role) == ("act", TaskStatus.OPEN, "officer")


def test_in_process_worker_thread_fires_due_timers_by_itself(tmp_path):
    clock.set_now(datetime(2027, 1, 4, 8, 0, tzinfo=UTC))
    app = make_app(tmp_path, START_WORKER=True)
    worker = app.extensions["asb"]["worker"]
    worker.poll_seconds = 0.05
    (tmp_path / "bpmn").mkdir()
    (tmp_path / "bpmn" / "wait.bpmn").write_text(WAIT_THEN_ACT)
    try:
        with app.app_context():
            engine = app.extensions["asb"]["engine"]
            with unit() as session:
                engine.definitions.sync_directory(session, tmp_path / "bpmn")
                engine.start(session, "wait_then_act", "ASB-10",
                             {"wake_at": "2027-01-04T09:00:00+00:00"})
            clock.set_now(datetime(2027, 1, 4, 9, 0, 1, tzinfo=UTC))
            deadline = time.monotonic() + 20
            while True:
                with unit() as session:
                    opened = session.scalars(select(HumanTask.name).where(
                        HumanTask.business_key == "ASB-10")).all()
                if opened or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        assert opened == ["act"]
    finally:
        worker.stop()
