"""asb seed-demo: at least 200 cases, spread over the stages, made by the real processes."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select

from cases.audit import AuditEvent
from cases.outbox import OutboxMessage
from cases.records import Case
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.models import HumanTask, ProcessInstance, TaskStatus
from web.cli import main


def test_seed_demo_works_cases_through_the_processes_over_months(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["init-db"]).exit_code == 0
    result = runner.invoke(main, ["seed-demo"])
    assert result.exit_code == 0, result.output
    factory = make_session_factory(make_engine(url))
    with unit_of_work(factory) as s:
        cases = s.scalar(select(func.count()).select_from(Case))
        assert cases >= 200
        stages = dict(s.execute(select(Case.stage, func.count()).group_by(Case.stage)).all())
        assert {"triage", "contact", "support", "closure"} <= {str(k) for k in stages}
        # Every case has its lifecycle instance, and officers' work is on record.
        with_process = s.scalar(select(func.count(func.distinct(ProcessInstance.business_key)))
                                .where(ProcessInstance.process_id == "asb_case"))
        assert with_process == cases
        done = dict(s.execute(select(HumanTask.name, func.count()).where(
            HumanTask.state == TaskStatus.COMPLETED).group_by(HumanTask.name)).all())
        for name in ("assess_risk", "first_contact", "agree_action_plan", "update_reporter",
                     "close_case"):
            assert done.get(name, 0) > 0, name
        assert done.get("first_contact_overdue", 0) > 0  # deadlines were missed, and caught
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "task_completed")) == sum(done.values())
        templates = set(s.scalars(select(OutboxMessage.template)))
        assert {"acknowledgement", "update", "closure"} <= templates
    # Months of casework in one process leave it consistent: every closed case's lifecycle
    # has ended, though other cases' new incidents triggered event subprocesses meanwhile.
    checked = runner.invoke(main, ["check", "--no-files"])
    assert checked.exit_code == 0, checked.output
    assert "closed cases with running processes: 0" in checked.output
    rerun = runner.invoke(main, ["seed-demo"])
    assert "already exist" in rerun.output
