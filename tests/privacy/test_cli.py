"""``asb retention review`` and ``asb retention dispose --due`` for a scheduled job."""

from __future__ import annotations

from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import select

from cases.operations import case_by_reference
from cases.records import Person
from cases.retention import set_hold
from engine import clock
from engine.database import make_engine, make_session_factory, unit_of_work
from migrations.runner import upgrade
from tasks.files import LocalFileStore
from tests.privacy.support import PEOPLE_STRINGS, closed_case, where_found
from web.cli import main

LATER = datetime(2034, 1, 2, 9, 0, tzinfo=UTC)


def test_the_scheduled_job_anonymises_due_cases_and_skips_held_ones(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("ASB_FILES", str(tmp_path / "files"))
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    store = LocalFileStore(tmp_path / "files")
    with unit_of_work(factory) as session:
        life, due = closed_case(session, store)
        _life, held = closed_case(session, store, life)
        set_hold(session, case_by_reference(session, held), "Claim 42", by="maria", at=LATER)
    clock.set_now(LATER)
    runner = CliRunner()
    review = runner.invoke(main, ["retention", "review"])
    assert review.exit_code == 0, review.output
    assert f"{due}  kept until" in review.output and f"{held}  kept until" in review.output
    assert "ON HOLD" in review.output and "2 case(s) past their retention date, 1 due" in (
        review.output)
    refused = runner.invoke(main, ["retention", "dispose"])
    assert refused.exit_code == 2 and "--due" in refused.output
    done = runner.invoke(main, ["retention", "dispose", "--due"])
    assert done.exit_code == 0, done.output
    assert f"{due} anonymised" in done.output and "1 case(s) anonymised, 0 failed" in done.output
    assert held not in done.output and "Rita" not in done.output
    with unit_of_work(factory) as session:
        names = session.scalars(select(Person.name).order_by(Person.id)).all()
        assert names.count("Rita Reporter") == 1 and names.count("[removed]") == 3
        assert where_found(session, PEOPLE_STRINGS)  # the held case keeps its data
    again = runner.invoke(main, ["retention", "review"])
    assert "1 case(s) past their retention date, 0 due" in again.output
