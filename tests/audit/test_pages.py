"""Managers search the audit trail by case, user, action and dates, page it and export it."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent, AuditRecord, record
from cases.audit_chain import seal
from engine import clock
from tests.api.support import XMAS_EVE, Api
from tests.officer.support import audit_rows, browser
from web.extensions import unit


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _add(api: Api, actor: str, action: str, n: int, reference: str | None = None,
         **summary: object) -> None:
    with api.app.app_context(), unit() as session:
        for i in range(n):
            record(session, AuditRecord(at=clock.now(), actor=actor, action=action,
                                        object_type="case", object_id=str(i),
                                        case_reference=reference, summary=dict(summary)))


def test_a_manager_finds_who_read_a_case_and_the_search_is_audited(api: Api) -> None:
    ref = api.open_case()["reference"]
    browser(api, "olivia").text(f"/cases/{ref}")
    maria = browser(api, "maria")
    page = _text(maria.text(f"/audit?case={ref.lower()}"))
    assert "olivia" in page and "case.viewed" in page and ref in page
    assert "maria" not in page.split("newest first")[1]  # only this case's rows
    (searched,) = audit_rows(api, "audit.searched")
    assert searched.actor == "maria" and searched.summary["filters"] == {"case": ref}
    assert searched.summary["shown"] >= 1


def test_filters_by_user_action_prefix_and_dates(api: Api) -> None:
    _add(api, "sam", "auth.signed_in", 1)
    _add(api, "sam", "case.viewed", 2, "ASB-2026-000001")
    _add(api, "tom", "case.viewed", 1, "ASB-2026-000001")
    maria = browser(api, "maria")
    page = _text(maria.text("/audit?user=sam&action=case."))
    assert page.count("case.viewed") == 2 and "auth.signed_in" not in page
    assert " tom " not in page
    day = XMAS_EVE.date().isoformat()
    assert page.count("case.viewed") == _text(
        maria.text(f"/audit?user=sam&action=case.&from={day}&to={day}")).count("case.viewed")
    later = _text(maria.text("/audit?user=sam&from=2026-12-25"))
    assert "No audit rows match" in later


def test_bad_dates_are_shown_again_with_the_reason_and_nothing_is_recorded(api: Api) -> None:
    maria = browser(api, "maria")
    before = len(audit_rows(api, "audit.searched"))
    response = maria.get("/audit?from=24/12/2026&to=2026-12-01")
    assert response.status_code == 400
    page = _text(response.get_data(as_text=True))
    assert "Enter the start date as YYYY-MM-DD" in page
    response = maria.get("/audit?from=2026-12-24&to=2026-12-01&before=abc")
    assert response.status_code == 400
    assert "The end date must be the same as or after the start date" in _text(
        response.get_data(as_text=True))
    assert len(audit_rows(api, "audit.searched")) == before


def test_pages_go_back_by_id_and_forward_again(api: Api, monkeypatch) -> None:
    monkeypatch.setattr("web.audit.PER_PAGE", 2)
    _add(api, "tom", "case.viewed", 5, "ASB-2026-000002")
    with api.app.app_context(), unit() as session:
        ids = list(session.scalars(select(AuditEvent.id).where(AuditEvent.actor == "tom")
                                   .order_by(AuditEvent.id.desc())))
    maria = browser(api, "maria")
    first = maria.text("/audit?user=tom")
    assert f"Audit rows {ids[1]} to {ids[0]}" in _text(first)
    assert "Newer" not in _text(first)
    older = re.search(r'href="([^"]*before=[^"]*)"', first)
    assert older is not None
    second = maria.text(older.group(1).replace("&amp;", "&"))
    assert f"Audit rows {ids[3]} to {ids[2]}" in _text(second)
    newer = re.search(r'href="([^"]*after=[^"]*)"', second)
    assert newer is not None
    again = maria.text(newer.group(1).replace("&amp;", "&"))
    assert f"Audit rows {ids[1]} to {ids[0]}" in _text(again)


def test_the_search_downloads_as_csv_safe_for_spreadsheets(api: Api) -> None:
    _add(api, "=HYPERLINK(evil)", "case.viewed", 1, "ASB-2026-000003", note="x")
    with api.app.app_context(), unit() as session:
        while seal(session):   # as the worker does: the export then carries the row's hash
            pass
    maria = browser(api, "maria")
    response = maria.get("/audit/export.csv?case=ASB-2026-000003")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    assert rows[1][2] == "'=HYPERLINK(evil)" and rows[1][3] == "case.viewed"
    assert '"note": "(changed)"' in rows[1][8] and len(rows[1][9]) == 64
    (exported,) = audit_rows(api, "audit.exported")
    assert exported.summary == {"via": "web", "filters": {"case": "ASB-2026-000003"},
                                "rows": 1}


@pytest.mark.parametrize("who", ["olivia", "tara", "petra"])
def test_only_managers_and_admins_see_the_audit_trail(api: Api, who: str) -> None:
    assert browser(api, who).get("/audit").status_code == 403
    assert browser(api, who).get("/audit/export.csv").status_code == 403
    assert browser(api, "adam").get("/audit").status_code == 200
