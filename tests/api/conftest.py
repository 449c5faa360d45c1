"""Fixtures for the API tests (builders in ``tests.api.support``)."""

from __future__ import annotations

import pytest

from engine import clock
from tests.api.support import XMAS_EVE, Api, make_api


@pytest.fixture
def api(tmp_path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path)
