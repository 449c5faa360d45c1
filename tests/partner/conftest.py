"""Partner pages: an app with the shipped diagrams and demo people, and referrals made for real."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.outbox import OutboxMessage
from cases.people import User
from cases.records import Case
from cases.referrals import Referral
from engine import clock
from engine.models import HumanTask, TaskStatus
from tasks.stages import start_stage
from tests.api.support import XMAS_EVE, Api, make_api
from tests.officer.support import CSRF_RE, Browser
from web.extensions import unit

LINK_RE = re.compile(r"/partner/link/([A-Za-z0-9_\-]+)")
ONLY_INCIDENTS = {"reporter_contact_details": False, "incident_details": True,
                  "risk_assessment": False, "reported_person_details": False}
WITH_REPORTER = {**ONLY_INCIDENTS, "reporter_contact_details": True}
REASON = "Please patrol Mill Lane at night and visit the reporter."


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))


def refer(api: Api, reference: str, agencies: tuple[str, ...] = ("police",),
          disclose: dict[str, bool] | None = None) -> list[int]:
    """Olivia refers the case through the real ``asb_referrals`` stage; the referral ids."""
    engine = api.app.extensions["asb"]["engine"]
    with api.app.app_context(), unit() as session:
        start_stage(session, engine, reference, "asb_referrals", actor="olivia")
        (task,) = session.scalars(select(HumanTask).where(
            HumanTask.business_key == reference, HumanTask.name == "choose_referral_agencies",
            HumanTask.state == TaskStatus.OPEN)).all()
        engine.complete(session, task.id, {
            "agencies": list(agencies), "disclose": disclose or ONLY_INCIDENTS,
            "legal_basis": "crime_and_disorder_act_s115", "reason": REASON,
            "tell_reporter": False}, "olivia")
    with api.app.app_context(), unit() as session:
        found = session.scalars(select(Referral.id).join(Case, Case.id == Referral.case_id)
                                .where(Case.reference == reference)
                                .order_by(Referral.id.desc()).limit(len(agencies))).all()
    return sorted(found)


def new_case(api: Api) -> str:
    reference: str = api.open_case()["reference"]
    return reference


def referral_row(api: Api, referral_id: int) -> Referral:
    with api.app.app_context(), unit() as session:
        row = session.get(Referral, referral_id)
        assert row is not None
        session.expunge(row)
        return row


def audits(api: Api, action: str) -> list[AuditEvent]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))
        session.expunge_all()
        return rows


def mails(api: Api, template: str) -> list[OutboxMessage]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                                    .order_by(OutboxMessage.id)))
        session.expunge_all()
        return rows


def link_token(api: Api, referral_id: int, template: str = "partner_referral") -> str:
    """The one-time link's token from the latest e-mail about ``referral_id``."""
    for mail in reversed(mails(api, template)):
        if f"R{referral_id}" in mail.body_text:
            found = LINK_RE.search(mail.body_text)
            assert found, mail.body_text
            return found.group(1)
    raise AssertionError(f"no {template} e-mail for R{referral_id}")


def paul(api: Api) -> Browser:
    """Paul, a police partner user, signed in (his CSRF token from his own page)."""
    with api.app.app_context(), unit() as session:
        uid = session.scalar(select(User.id).where(User.name == "paul"))
    client = api.app.test_client()
    now = clock.now().isoformat()
    with client.session_transaction() as state:
        state.update(uid=uid, sid="test-paul", started=now, seen=now)
    found = CSRF_RE.search(client.get("/partner").get_data(as_text=True))
    assert found, "no CSRF token on /partner"
    return Browser(client, found.group(1))


def link_browser(api: Api, token: str) -> tuple[Browser, Any]:
    """A browser that spends the one-time link; its first answer and a CSRF token."""
    client = api.app.test_client()
    first = client.get(f"/partner/link/{token}")
    csrf = ""
    if first.status_code == 302:
        page = client.get(first.headers["Location"]).get_data(as_text=True)
        found = CSRF_RE.search(page)
        csrf = found.group(1) if found else ""
    return Browser(client, csrf), first
