"""The Alembic migrations build exactly the schema the models declare, and re-run safely."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import MetaData, inspect

from engine.database import make_engine
from migrations.runner import metadatas, upgrade
from web.cli import main


def test_migrated_schema_matches_the_models(db_engine):
    combined = MetaData()
    for md in metadatas():
        for table in md.tables.values():
            table.to_metadata(combined)
    with db_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(ctx, combined)
    assert diffs == []


def test_init_db_twice_is_safe_and_loads_shipped_diagrams(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'asb.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    first = runner.invoke(main, ["init-db"])
    second = runner.invoke(main, ["init-db"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "schema up to date" in second.output
    tables = set(inspect(make_engine(url)).get_table_names())
    assert {"process_instances", "human_tasks", "users", "council_settings",
            "audit_events", "alembic_version"} <= tables


def test_upgrade_on_an_existing_database_is_a_no_op(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    upgrade(engine)
    upgrade(engine)
    assert "alembic_version" in inspect(engine).get_table_names()
