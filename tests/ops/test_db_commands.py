"""``asb db upgrade`` and ``asb db current`` on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess

import pytest
from alembic import command

from engine.database import make_engine
from migrations.runner import _config
from tests.ops.support import ASB, ROOT, asb, empty_pg_database
from web.schema_state import head_revisions


def test_upgrade_an_empty_sqlite_database_then_current_says_head(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    before = asb("db", "current", url=url)
    assert before.returncode == 1
    assert "none (empty database)" in before.stdout and "asb db upgrade" in before.stdout
    done = asb("db", "upgrade", url=url)
    assert done.returncode == 0, done.stderr
    assert "schema at head" in done.stdout
    now = asb("db", "current", url=url)
    assert now.returncode == 0, now.stderr
    assert now.stdout.strip() == f"{', '.join(head_revisions())} (head)"
    again = asb("db", "upgrade", url=url)  # nothing left to do: still fine
    assert again.returncode == 0, again.stderr


def test_current_exits_non_zero_when_the_schema_is_behind(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    command.upgrade(_config(engine), "0012u")  # a database an older release left behind
    engine.dispose()
    behind = asb("db", "current", url=url)
    assert behind.returncode == 1
    assert behind.stdout.startswith("0012u (not at head")
    assert asb("db", "upgrade", url=url).returncode == 0
    assert asb("db", "current", url=url).returncode == 0


def test_init_db_still_works_and_leaves_the_schema_at_head(tmp_path):
    url = f"sqlite:///{tmp_path / 'init.sqlite'}"
    assert asb("init-db", url=url).returncode == 0
    assert asb("db", "current", url=url).returncode == 0


@pytest.mark.postgres
@pytest.mark.slow
def test_two_upgrades_at_once_on_postgresql_both_succeed_at_head(pg_server):
    with empty_pg_database(pg_server.url) as url:
        env = {**os.environ, "DATABASE_URL": url}
        runs = [subprocess.Popen([ASB, "db", "upgrade"], env=env, cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(2)]
        results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
        for code, out, err in results:
            assert code == 0, err
            assert "schema at head" in out
        current = asb("db", "current", url=url)
        assert current.returncode == 0 and current.stdout.strip().endswith("(head)")
