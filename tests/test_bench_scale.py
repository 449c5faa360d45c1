"""bench/scale.py at tiny sizes: it builds consistent clones and prints every figure and ratio."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

from bench import bulk, scale

MEASURES = ("dashboard", "instance list", "officer inbox", "task completion")


def test_scale_prints_each_measure_and_its_ratio(tmp_path: Path, capsys) -> None:
    kept = tmp_path / "dbs"
    code = scale.main(["--sizes", "60", "120", "--template-cases", "8", "--template-days", "12",
                       "--cache", str(tmp_path / "cache"), "--repeats", "1", "--warmup", "1",
                       "--keep", str(kept)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "NOT MEASURED" not in out and "not measured" not in out, out
    for size in (60, 120):
        assert re.search(rf"^SQLite, {size} cases: generated in [\d.]+ s", out, re.M), out
        for name in MEASURES:
            assert re.search(rf"^SQLite +{size} {name} +\d+\.\d ms", out, re.M), out
    assert "SQLite: ratio 120 / 60 cases (target <= 1.5)" in out
    for name in MEASURES:
        assert re.search(rf"^ratio SQLite {name} +[\d.]+ ms -> +[\d.]+ ms  x\d+\.\d\d ", out,
                         re.M), out

    with closing(sqlite3.connect(kept / "scale-120.sqlite")) as db:
        references = [r for (r,) in db.execute("SELECT reference FROM cases")]
        # 120 cloned cases plus the fresh ones the completions opened, each its own reference
        assert len(references) > 120 and len(set(references)) == len(references)
        assert all(re.fullmatch(r"ASB-\d{4}-\d{6}", r) for r in references)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        # every clone is its own runnable instance: its open tasks are in its own state
        rows = db.execute(
            "SELECT t.id, t.business_key, p.business_key, p.state_json FROM human_tasks t "
            "JOIN process_instances p ON p.id = t.instance_id WHERE t.state = 'open'").fetchall()
        assert len({task_id for task_id, *_ in rows}) == len(rows) > 0
        assert all(task_id in state and key == owner for task_id, key, owner, state in rows)
        # and the rows its variables name (a legal action, a referral...) are its own case's
        named = [(key, table, row_id) for key, state in db.execute(
                     "SELECT business_key, state_json FROM process_instances")
                 for _, table, row_id in map(bulk._row_ref, bulk._ROW_VARIABLE_RE.findall(state))]
        assert {table for _, table, _ in named} >= {"legal_actions", "referrals"}, named
        for key, table, row_id in named:
            (owner,) = db.execute(f"SELECT c.reference FROM {table} t "  # noqa: S608 # nosec
                                  "JOIN cases c ON c.id = t.case_id WHERE t.id = ?",
                                  (row_id,)).fetchone() or (None,)
            assert owner == key, (key, table, row_id)
        # clones have their own officers, each a user who can sign in
        officers = {o for (o,) in db.execute("SELECT DISTINCT case_officer FROM cases")}
        users = {u for (u,) in db.execute("SELECT name FROM users")}
        assert officers - {None} <= users
        assert any(o.endswith(".0001") for o in officers - {None})
