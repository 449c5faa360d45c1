"""Numbers in query strings and forms: a digit that is not a decimal digit ('²', '٣') is refused
with a message, never a 500 (``str.isdigit`` accepts them, ``int`` does not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import clock
from tests.api.support import XMAS_EVE, make_api
from tests.officer.support import browser


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    clock.set_now(XMAS_EVE)
    found = make_api(tmp_path_factory.mktemp("numbers"))
    found.open_case()
    return found


@pytest.mark.parametrize(("who", "path", "status"), [
    ("maria", "/instances?officer=²", 400),
    ("maria", "/instances?version=²", 400),
    ("maria", "/instances?area=٣", 200),          # an Arabic-Indic 3 is a decimal digit: area 3
    ("maria", "/dashboard/cases?figure=open_stage&page=²", 400),
    ("olivia", "/inbox?page=²", 200),             # a page that is not a number: the first
])
def test_a_superscript_or_foreign_digit_is_refused_not_a_crash(api, who, path, status):
    response = browser(api, who).get(path)
    assert response.status_code == status, (path, response.status_code)
    if status == 400:
        assert "There is a problem" in response.get_data(as_text=True)


def test_a_draft_based_on_a_foreign_digit_is_saved_as_based_on_nothing(api):
    petra = browser(api, "petra")
    diagram = (Path(__file__).resolve().parents[2] / "bpmn" / "closure.bpmn").read_bytes()
    response = petra.client.post("/diagrams/drafts?based_on=²", data=diagram, headers={
        "Content-Type": "application/xml", "X-CSRFToken": petra.token})
    assert response.status_code in (200, 201), response.get_data(as_text=True)[:500]
