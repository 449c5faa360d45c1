"""The asb command line beyond users: init-db, seed-demo, worker --once, diagrams validate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine import clock
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.models import HumanTask
from migrations.runner import upgrade
from tasks.wiring import build_engine
from tests.engine_support import BPMN_DIR
from tests.test_web_system import WAIT_THEN_ACT
from web.cli import BPMN_DIR as SHIPPED
from web.cli import main


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    upgrade(make_engine(url))
    return url


def test_seed_demo_prints_one_login_per_role_and_can_rerun(db_url):
    runner = CliRunner()
    first = runner.invoke(main, ["seed-demo", "--cases", "0"])
    second = runner.invoke(main, ["seed-demo", "--cases", "0"])
    assert first.exit_code == 0 and second.exit_code == 0
    users = first.output.split("Demo users")[1].splitlines()[1:]
    roles = {line.split()[1] for line in users}
    assert roles == {"officer", "team_leader", "process_owner", "manager", "admin", "partner"}
    assert first.output != second.output  # passwords are new each time


def test_worker_once_fires_what_is_due(db_url, tmp_path):
    (tmp_path / "bpmn").mkdir()
    (tmp_path / "bpmn" / "wait.bpmn").write_text(WAIT_THEN_ACT)
    factory = make_session_factory(make_engine(db_url))
    clock.set_now(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    engine = build_engine()
    with unit_of_work(factory) as session:
        engine.definitions.sync_directory(session, tmp_path / "bpmn")
        engine.start(session, "wait_then_act", "ASB-31",
                     {"wake_at": "2026-01-05T09:00:00+00:00"})
    clock.reset()  # the worker runs on the real time, long after the timer
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "woke 1 instance(s)" in result.output
    with unit_of_work(factory) as session:
        assert session.scalars(select(HumanTask.name)).all() == ["act"]


def test_diagrams_validate_reports_each_problem_on_stderr(tmp_path):
    evil = tmp_path / "evil.bpmn"
    evil.write_text(WAIT_THEN_ACT.replace("<bpmn:timeDate>wake_at</bpmn:timeDate>",
                                          "<bpmn:timeDate>__import__('os')</bpmn:timeDate>"))
    result = CliRunner().invoke(main, ["diagrams", "validate", str(evil)])
    assert result.exit_code == 1
    assert f"{evil}: wait (IntermediateCatchEvent): The timer cannot be used: " in result.stderr


def test_diagrams_validate_accepts_a_runnable_diagram():
    result = CliRunner().invoke(main, ["diagrams", "validate", str(SHIPPED / "closure.bpmn")])
    assert result.exit_code == 0
    assert result.output.startswith("asb_closure: can run")


def test_diagrams_validate_names_an_unknown_operation(tmp_path):
    result = CliRunner().invoke(main, ["diagrams", "validate",
                                       str(BPMN_DIR / "timer_mark.bpmn")])
    assert result.exit_code == 1
    assert "demo.mark" in result.stderr


def test_diagrams_validate_missing_file_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["diagrams", "validate", str(tmp_path / "nope.bpmn")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "no such file" in result.stderr


def test_serve_without_a_secret_key_says_so_in_one_line(db_url, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("asb: SECRET_KEY is not set")
    assert result.stderr.count("\n") == 1


def test_seed_demo_refuses_a_silly_number_of_cases(db_url):
    result = CliRunner().invoke(main, ["seed-demo", "--cases", "-3"])
    assert result.exit_code == 2 and "-3" in result.output
