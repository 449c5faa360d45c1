"""Unusual reading: many cases outside a user's team and areas in a window alerts the managers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from cases.audit import AuditRecord, record
from cases.audit_alerts import AlertRule, current_rule
from cases.outbox import OutboxMessage
from cases.people import User
from engine import clock
from tests.api.support import XMAS_EVE, Api
from tests.officer.support import Browser, audit_rows, browser
from web.extensions import unit

REASON = "Caller on the line says the reporter is in danger now"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def cases(api: Api, monkeypatch) -> list[str]:
    """Three North-team cases in St Helen's; the rule is three cases in an hour."""
    monkeypatch.setenv("ASB_AUDIT_ALERT_CASES", "3")
    monkeypatch.setenv("ASB_AUDIT_ALERT_MINUTES", "60")
    with api.app.app_context(), unit() as session:
        session.scalars(select(User).where(User.name == "maria")).one().email = \
            "maria@council.example.org"
    return [api.open_case()["reference"] for _ in range(3)]


def _break_glass_and_read(sam: Browser, ref: str) -> None:
    assert sam.post(f"/cases/{ref}/break-glass", {"reason": REASON}).status_code == 302
    sam.text(f"/cases/{ref}")


def _alert_mail(api: Api) -> list[OutboxMessage]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(OutboxMessage)
                                    .where(OutboxMessage.template == "audit.reading_alert")))
        session.expunge_all()
        return rows


def test_an_officer_reading_many_cases_outside_their_patch_alerts_managers_once(
        api: Api, cases: list[str]) -> None:
    sam = browser(api, "sam")  # South team, Brimington: none of these cases is his
    for ref in cases[:2]:
        _break_glass_and_read(sam, ref)
    assert _alert_mail(api) == []
    maria = browser(api, "maria")
    assert "Nobody is over the limit now" in _text(maria.text("/audit/alerts"))
    _break_glass_and_read(sam, cases[2])
    (mail,) = _alert_mail(api)
    assert mail.to_address == "maria@council.example.org" and mail.recipient_role == "manager"
    assert "Sam Officer" in mail.subject and "opened 3 different cases" in mail.body_text
    (alert,) = audit_rows(api, "audit.reading_alert")
    assert (alert.object_id, alert.summary["cases"]) == ("sam", 3)
    page = _text(maria.text("/audit/alerts"))
    assert "Sam Officer (sam)" in page and "officer, South" in page
    assert "See what sam read" in page
    # Reading the same cases again, or one more, in the same hour: no second e-mail.
    clock.set_now(XMAS_EVE + timedelta(minutes=10))
    _break_glass_and_read(sam, cases[0])
    assert len(_alert_mail(api)) == 1
    # The link from the alert is a search of what sam read.
    link = re.search(r'href="(/audit\?[^"]*user=sam[^"]*)"', maria.text("/audit/alerts"))
    assert link is not None
    found = _text(maria.text(link.group(1).replace("&amp;", "&")))
    assert found.count("case.viewed") == 4 and all(ref in found for ref in cases)


def test_a_new_window_can_alert_again(api: Api, cases: list[str]) -> None:
    def views(at_minutes: int) -> None:
        with api.app.app_context(), unit() as session:
            for ref in cases:
                record(session, AuditRecord(
                    at=XMAS_EVE + timedelta(minutes=at_minutes), actor="tom",
                    action="case.viewed", object_type="case", case_reference=ref))

    views(0)
    views(30)
    assert len(_alert_mail(api)) == 1
    views(61 + 30)
    assert len(_alert_mail(api)) == 2
    assert [a.object_id for a in audit_rows(api, "audit.reading_alert")] == ["tom", "tom"]


def test_reading_your_own_teams_cases_never_alerts(api: Api, cases: list[str]) -> None:
    olivia, tara = browser(api, "olivia"), browser(api, "tara")
    for ref in cases:
        olivia.text(f"/cases/{ref}")
        tara.text(f"/cases/{ref}")
    assert _alert_mail(api) == [] and audit_rows(api, "audit.reading_alert") == []
    clock.set_now(XMAS_EVE + timedelta(minutes=1))
    assert "Nobody is over the limit now" in _text(browser(api, "maria").text("/audit/alerts"))


def test_the_rule_comes_from_the_environment_with_safe_defaults() -> None:
    assert current_rule({}) == AlertRule(20, timedelta(minutes=60))
    assert current_rule({"ASB_AUDIT_ALERT_CASES": "5", "ASB_AUDIT_ALERT_MINUTES": "15"}) \
        == AlertRule(5, timedelta(minutes=15))
    assert current_rule({"ASB_AUDIT_ALERT_CASES": "-3", "ASB_AUDIT_ALERT_MINUTES": "x"}) \
        == AlertRule(20, timedelta(minutes=60))
