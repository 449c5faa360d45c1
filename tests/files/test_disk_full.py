"""A full evidence disk: uploads are refused with a clear message and nothing is recorded."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest

from engine import clock
from tests.api.support import XMAS_EVE, Api, make_api

from .support import every_table, items, on_disk, send, signed_in
from .test_local_store import _disk_full

MESSAGE = ("The evidence store is full or unavailable: the file was not saved. Try again later "
           "or tell your administrator.")
SECRET_NAME = "Mrs-Jones-at-14-Elm-Road.txt"


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))


def test_an_officer_upload_to_a_full_disk_is_refused_and_changes_nothing(
        api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    ref = str(api.open_case()["reference"])
    client, csrf = signed_in(api)
    before = every_table(api)
    _disk_full(monkeypatch)
    with caplog.at_level(logging.ERROR):
        refused = send(client, csrf, f"/cases/{ref}/evidence", b"Loud music at 2am\n",
                       SECRET_NAME)
    monkeypatch.undo()
    html = refused.get_data(as_text=True)
    assert refused.status_code == 503
    assert MESSAGE in html and "Add evidence" in html        # the form, shown again
    assert every_table(api) == before                      # no evidence row, no audit row
    assert on_disk(tmp_path / "files") == []               # no half-written file either
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "file store unavailable (ENOSPC)" in logged
    assert "Jones" not in logged and "Loud music" not in logged and ref not in logged
    # Once space is freed the same upload goes through: nothing needed repairing.
    assert send(client, csrf, f"/cases/{ref}/evidence", b"Loud music at 2am\n",
                SECRET_NAME).status_code == 302
    [item] = items(api)
    assert on_disk(tmp_path / "files") == [item.stored_name]


def test_a_reporter_upload_to_a_full_disk_gets_the_form_back_and_changes_nothing(
        api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.reporter.support import csrf, send_report

    client, _ref, _code, _page = send_report(api)
    token = csrf(client, "/my-case/evidence")
    before = every_table(api)

    def over_quota(handle: int) -> None:
        raise OSError(errno.EDQUOT, os.strerror(errno.EDQUOT))

    monkeypatch.setattr(os, "fsync", over_quota)
    refused = send(client, token, "/my-case/evidence", b"Photo diary\n", "diary.txt")
    monkeypatch.undo()
    html = refused.get_data(as_text=True)
    assert refused.status_code == 503 and MESSAGE in html and "Send evidence" in html
    assert every_table(api) == before and items(api) == []
    assert on_disk(tmp_path / "files") == []
