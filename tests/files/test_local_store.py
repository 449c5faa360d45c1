"""The local directory store behind the one interface, and what happens when its disk is full."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from tasks.files import (
    LocalFileStore,
    StoredFileMissing,
    StoreMisconfigured,
    StoreUnavailable,
    file_store_from,
)

from .support import on_disk


def test_a_saved_file_reads_streams_and_deletes_under_a_random_name(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "files")
    data = b"Saturday: shouting in the stairwell\n" * 5000
    first, second = store.save(data), store.save(data)
    assert first.name != second.name and len(first.name) == 32
    assert first.size == len(data) and store.size(first.name) == len(data)
    assert store.read(first.name) == data
    with store.open(first.name) as stream:
        assert stream.read(100) == data[:100] and stream.read() == data[100:]
    assert on_disk(tmp_path / "files") == sorted([first.name, second.name])
    store.delete(first.name)
    store.delete(first.name)                                # a file already gone is no error
    assert not store.exists(first.name) and store.exists(second.name)
    with pytest.raises(StoredFileMissing):
        store.read(first.name)
    with pytest.raises(StoredFileMissing):
        store.open(first.name)


@pytest.mark.parametrize("name", ["../secret", "", "A" * 32, "/etc/passwd", "0" * 31])
def test_names_the_store_never_makes_find_nothing(tmp_path: Path, name: str) -> None:
    store = LocalFileStore(tmp_path / "files")
    (tmp_path / "secret").write_bytes(b"not evidence")
    for action in (store.read, store.open, store.size):
        with pytest.raises(StoredFileMissing):
            action(name)
    assert not store.exists(name)


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes of the store's temporary file go to /dev/full: the kernel answers ENOSPC."""
    real = os.fdopen

    def full(handle: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if mode != "wb":
            return real(handle, mode, *args, **kwargs)
        os.close(handle)
        return open("/dev/full", "wb")  # noqa: SIM115 - the store closes it

    monkeypatch.setattr(os, "fdopen", full)


def test_a_full_disk_refuses_the_save_and_leaves_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalFileStore(tmp_path / "files")
    kept = store.save(b"earlier evidence")
    _disk_full(monkeypatch)
    with pytest.raises(StoreUnavailable) as refused:
        store.save(b"x" * 100_000)
    assert refused.value.reason == "ENOSPC"
    assert on_disk(tmp_path / "files") == [kept.name]        # the .upload- file went again
    monkeypatch.undo()
    again = store.save(b"after the disk was cleared")      # no repair needed afterwards
    assert store.read(again.name) == b"after the disk was cleared"


def test_a_quota_hit_at_fsync_is_refused_too(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalFileStore(tmp_path / "files")

    def over_quota(handle: int) -> None:
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr(os, "fsync", over_quota)
    with pytest.raises(StoreUnavailable) as refused:
        store.save(b"evidence")
    assert refused.value.reason == "EDQUOT"
    assert on_disk(tmp_path / "files") == []


def test_an_unwritable_directory_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "files").write_bytes(b"a file where the directory should be")
    with pytest.raises(StoreUnavailable):
        LocalFileStore(tmp_path / "files").save(b"evidence")


def test_the_backend_is_chosen_by_configuration(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ASB_FILES", "ASB_FILES_BACKEND", "ASB_FILES_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    default = file_store_from({}, tmp_path / "default")
    assert isinstance(default, LocalFileStore) and default.root == tmp_path / "default"
    chosen = file_store_from({"ASB_FILES": str(tmp_path / "chosen")}, tmp_path / "default")
    assert isinstance(chosen, LocalFileStore) and chosen.root == tmp_path / "chosen"
    monkeypatch.setenv("ASB_FILES", str(tmp_path / "from-env"))
    assert file_store_from({"ASB_FILES_BACKEND": "LOCAL"}, "x").root == tmp_path / "from-env"  # type: ignore[attr-defined]
    with pytest.raises(StoreMisconfigured, match="ASB_FILES_S3_BUCKET"):
        file_store_from({"ASB_FILES_BACKEND": "s3"}, tmp_path)
    with pytest.raises(StoreMisconfigured, match="local, s3"):
        file_store_from({"ASB_FILES_BACKEND": "ftp"}, tmp_path)


def test_a_wrong_store_setting_stops_the_app_starting_not_the_first_upload(tmp_path):
    from web import ConfigError, create_app

    with pytest.raises(ConfigError, match="ASB_FILES_S3_BUCKET"):
        create_app({"SECRET_KEY": "test-only-key", "DATABASE_URL": f"sqlite:///{tmp_path}/a.db",
                    "START_WORKER": False, "ASB_FILES_BACKEND": "s3"})
