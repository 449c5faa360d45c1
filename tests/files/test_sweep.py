"""Files no record names (an upload killed between its file and its record) are found and swept.

``asb check`` counts them without failing; the worker's daily sweep removes those over a day
old and never a file with a record, a file too new to judge, or anything at all when the store
and the database look unrelated.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine import clock
from tasks.file_sweep import find_strays, sweep_strays
from tasks.files import LocalFileStore
from tasks.wiring import worker_jobs
from tests.api.support import XMAS_EVE, Api, make_api
from web.cli import main
from web.extensions import unit

from .support import items, on_disk, send, signed_in

DAY = 24 * 3600


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))


def _age(path: Path, seconds: float) -> None:
    """Make ``path`` look written ``seconds`` before the (test) clock's now."""
    when = clock.now().timestamp() - seconds
    os.utime(path, (when, when))


def _a_killed_upload(store: LocalFileStore) -> tuple[str, str]:
    """What a process killed mid-upload leaves: a whole file without a record, and a temp file."""
    stored = store.save(b"Written, but the process died before the record was committed\n")
    temp = store.root / ".upload-k1ll3d_x"
    temp.write_bytes(b"half a fi")
    return stored.name, temp.name


def test_the_sweep_removes_day_old_strays_and_keeps_recorded_and_recent_files(
        api: Api, tmp_path: Path) -> None:
    ref = str(api.open_case()["reference"])
    client, csrf = signed_in(api)
    assert send(client, csrf, f"/cases/{ref}/evidence", b"Loud music at 2am\n",
                "noise.txt").status_code == 302
    [item] = items(api)
    store = LocalFileStore(tmp_path / "files")
    stray, temp = _a_killed_upload(store)
    recent = store.save(b"An upload still in its request\n").name
    for name in (item.stored_name, stray, temp):
        _age(store.root / name, 2 * DAY)
    _age(store.root / recent, 60)

    with api.app.app_context(), unit() as session:
        found = find_strays(session, store, clock.now())
    assert found.strays == sorted([stray, temp])
    assert (found.listed, found.recorded, found.recent) == (4, 1, 1)

    (sweep,) = [job for job in worker_jobs({}, store) if job.__name__ == "sweep_files"]
    with api.app.app_context(), unit() as session:
        assert sweep(session) == 0  # housekeeping: never counted as work that keeps it awake
    assert on_disk(store.root) == sorted([item.stored_name, recent])
    download = client.get(f"/cases/{ref}/evidence/{item.id}")
    assert download.status_code == 200 and download.data == b"Loud music at 2am\n"
    download.close()

    # Once a day only: a stray made now is left until the next day's sweep.
    late, _ = _a_killed_upload(store)
    _age(store.root / late, 2 * DAY)
    with api.app.app_context(), unit() as session:
        sweep(session)
    assert late in on_disk(store.root)
    clock.set_now(XMAS_EVE + timedelta(days=1, minutes=1))
    with api.app.app_context(), unit() as session:
        sweep(session)
    assert late not in on_disk(store.root) and item.stored_name in on_disk(store.root)


@pytest.fixture
def cli_strays(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalFileStore:
    """The CLI's settings on the app's database and store, with a killed upload's files from
    two days ago in the store."""
    monkeypatch.setenv("DATABASE_URL", api.app.config["DATABASE_URL"])
    monkeypatch.setenv("ASB_FILES", str(tmp_path / "files"))
    store = LocalFileStore(tmp_path / "files")
    for name in _a_killed_upload(store):
        _age(store.root / name, 2 * DAY)
    return store


def test_asb_check_counts_strays_without_failing(cli_strays: LocalFileStore) -> None:
    store = cli_strays
    (stray,) = [name for name in on_disk(store.root) if not name.startswith(".")]
    _age(store.root / store.save(b"new\n").name, 60)

    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert ("files without a record: 2 over a day old (the worker's sweep removes them), "
            "1 newer") in result.output
    assert "OK: consistent" in result.output
    assert stray in on_disk(store.root)  # a check never changes anything


def test_a_store_that_does_not_match_the_database_is_never_swept(
        api: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    other = LocalFileStore(tmp_path / "another-installations-files")
    names = [other.save(f"file {n}\n".encode()).name for n in range(120)]
    for name in names:
        _age(other.root / name, 30 * DAY)
    with api.app.app_context(), unit() as session, caplog.at_level(logging.WARNING):
        assert sweep_strays(session, other, clock.now()) == 0
    assert on_disk(other.root) == sorted(names)
    assert "file sweep stopped: 120 files without a record against 0" in caplog.text


def test_asb_worker_sweeps_the_store_its_settings_name(
        cli_strays: LocalFileStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store = cli_strays
    assert len(on_disk(store.root)) == 2
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert on_disk(store.root) == []

    monkeypatch.setenv("ASB_FILES_BACKEND", "floppy")
    result = CliRunner().invoke(main, ["worker", "--once"])
    assert result.exit_code == 1
    assert "ASB_FILES_BACKEND must be one of local, s3, not 'floppy'" in result.output


def test_a_store_that_does_not_answer_skips_the_sweep_and_the_worker_goes_on(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    from tasks.files import StoreUnavailable

    class Gone(LocalFileStore):
        def listing(self):  # type: ignore[no-untyped-def]
            raise StoreUnavailable("NoSuchBucket")

    (sweep,) = [job for job in worker_jobs({}, Gone("unused")) if job.__name__ == "sweep_files"]
    with api.app.app_context(), unit() as session, caplog.at_level(logging.WARNING):
        assert sweep(session) == 0
    assert "file sweep skipped: the file store did not answer (NoSuchBucket)" in caplog.text
