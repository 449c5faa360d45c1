"""The demo also works the part-2 stages: referrals, conferences, evidence requests, each
legal tool, a Case Review, a complaint and a diary entry, through the real processes."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select, text

from cases.referrals import Referral, ReferralKind
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.forms import load_directory, validate
from engine.models import HumanTask, ProcessInstance, TaskStatus
from tasks.demo import DEMO_USERS, seed_demo
from tasks.demo_cases import _form, build_demo
from tasks.demo_stages import STAGE_PROCESSES, stage_form
from tasks.wiring import build_engine
from web.cli import main

FORMS = Path(__file__).resolve().parents[1] / "bpmn" / "forms"
TABLES = ("legal_actions", "referrals", "evidence_requests", "case_reviews", "complaints")


def test_every_form_has_demo_answers_that_fit_its_schema():
    now = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)
    for name, schema in sorted(load_directory(FORMS).items()):
        for seed in range(5):
            rng = random.Random(seed)
            data = _form(rng, name, now)
            if data is None:
                data = stage_form(rng, name, now)
            assert data is not None, f"the demo has no answers for {name}"
            assert validate(schema, data) == {}, name


def test_unknown_tasks_are_left_open():
    assert _form(random.Random(1), "no_such_task", datetime(2027, 3, 3, tzinfo=UTC)) is None
    assert stage_form(random.Random(1), "no_such_task", datetime(2027, 3, 3, tzinfo=UTC)) is None


def test_the_demo_starts_every_stage_and_the_reporters_routes(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert CliRunner().invoke(main, ["init-db"]).exit_code == 0
    factory = make_session_factory(make_engine(url))
    with unit_of_work(factory) as session:
        seed_demo(session)
    officers = [n for n, role, *_ in DEMO_USERS if role == "officer"]
    leaders = [n for n, role, *_ in DEMO_USERS if role == "team_leader"]
    # A fixed end: the demo is the same every run (and every day) for one seed.
    stats = build_demo(factory, build_engine(), cases=50, days=40, officers=officers,
                       leaders=leaders, until=datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    assert {"case_review", "complaint", "diary_entry"} <= set(stats.by_stage)
    with unit_of_work(factory) as s:
        started = set(s.scalars(select(ProcessInstance.process_id).distinct()))
        assert set(STAGE_PROCESSES) <= started, set(STAGE_PROCESSES) - started
        assert {"asb_case_review", "asb_complaint"} <= started
        for table in TABLES:
            assert s.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() > 0, table  # noqa: S608
        assert s.execute(text("SELECT count(*) FROM diary_entries")).scalar_one() > 0
        done = set(s.scalars(select(HumanTask.name).where(
            HumanTask.state == TaskStatus.COMPLETED)))
        for name in ("choose_referral_agencies", "schedule_conference", "ask_for_evidence",
                     "prepare_warning_letter", "draft_aba", "prepare_cpw",
                     "prepare_injunction", "prepare_closure_notice",
                     "record_possession_trigger", "review_diary_entry"):
            assert name in done, name
        assert s.scalar(select(func.count()).select_from(HumanTask)) > 0
        # Children and adults at risk get their referral to the matching safeguarding service.
        agencies = set(s.scalars(select(Referral.agency_code).where(
            Referral.kind == ReferralKind.SAFEGUARDING)))
        assert agencies and agencies <= {"children_safeguarding", "adult_safeguarding"}


def _demo_tasks(tmp_path: Path, name: str, monkeypatch) -> list[tuple[str, str, str, str]]:
    url = f"sqlite:///{tmp_path / name}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert CliRunner().invoke(main, ["init-db"]).exit_code == 0
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        seed_demo(session)
    officers = [n for n, role, *_ in DEMO_USERS if role == "officer"]
    leaders = [n for n, role, *_ in DEMO_USERS if role == "team_leader"]
    build_demo(factory, build_engine(), cases=25, days=20, officers=officers, leaders=leaders,
               until=datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    with unit_of_work(factory) as s:
        found = sorted((t.business_key, t.name, str(t.state), str(t.finished_at))
                       for t in s.scalars(select(HumanTask)))
    engine.dispose()
    return found


def test_one_seed_builds_the_same_demo_every_time(tmp_path, monkeypatch):
    # Open tasks created at one moment were worked in the order of their random UUIDs, so
    # each run drew its random answers for different tasks.
    first = _demo_tasks(tmp_path, "one.sqlite", monkeypatch)
    assert len(first) > 50
    assert _demo_tasks(tmp_path, "two.sqlite", monkeypatch) == first
