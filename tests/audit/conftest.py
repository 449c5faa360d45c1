"""An app on its own database, with one North-team case in St Helen's worked by olivia."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import clock
from tests.api.support import XMAS_EVE, Api, make_api


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))
