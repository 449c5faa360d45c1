"""Officer pages: an app with the shipped diagrams and demo people (``api``), signed-in clients."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cases.audit import AuditEvent
from cases.evidence import EvidenceItem
from cases.people import User
from cases.records import Case
from engine import clock
from tests.api.support import XMAS_EVE, Api, make_api
from tests.web.support import csrf_token
from web.extensions import unit

MAX_UPLOAD = 4096


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))


@pytest.fixture
def signed_in(api: Api) -> Callable[[str], FlaskClient]:
    """A client signed in as the named demo user (a session as the sign-in page makes)."""

    def client_of(who: str) -> FlaskClient:
        with api.app.app_context(), unit() as session:
            uid = session.scalar(select(User.id).where(User.name == who))
        client = api.app.test_client()
        with client.session_transaction() as state:
            now = clock.now().isoformat()
            state.update(uid=uid, sid=f"test-{who}", started=now, seen=now)
        return client

    return client_of


def token(client: FlaskClient) -> str:
    """A CSRF token for ``client``'s session (every signed-in page has the sign-out form)."""
    return csrf_token(client, "/cases")


def audit_rows(api: Api, action: str) -> list[AuditEvent]:
    with api.app.app_context(), unit() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()
        session.expunge_all()
        return list(rows)


def count(api: Api, model: Any) -> int:
    with api.app.app_context(), unit() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def counts(api: Api) -> dict[str, int]:
    """Rows that a refused request must not add."""
    return {**api.counts(), "evidence": count(api, EvidenceItem), "all_cases": count(api, Case)}
