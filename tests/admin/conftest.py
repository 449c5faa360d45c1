"""Admin pages: the API test app with its demo people (adam is the admin), signed-in clients,
CSRF tokens, and snapshots of the tables an admin page may change.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cases.audit import AuditEvent
from cases.config import CouncilSetting
from cases.people import ApiToken, Area, PartnerAgency, Team, User
from engine import clock
from tests.api.support import XMAS_EVE, Api, make_api
from tests.web.support import csrf_token
from web.extensions import unit

ADMIN_TABLES = {"users": User, "teams": Team, "areas": Area, "agencies": PartnerAgency,
                "settings": CouncilSetting, "tokens": ApiToken, "audit": AuditEvent}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path)


@pytest.fixture
def signed_in(api: Api) -> Callable[[str], FlaskClient]:
    """A client signed in as the named demo user (a session as the sign-in page makes)."""

    def client_of(who: str) -> FlaskClient:
        with api.app.app_context(), unit() as session:
            uid = session.scalar(select(User.id).where(User.name == who))
        assert uid is not None, who
        client = api.app.test_client()
        with client.session_transaction() as state:
            now = clock.now().isoformat()
            state.update(uid=uid, sid=f"test-{who}", started=now, seen=now)
        return client

    return client_of


@pytest.fixture
def admin(signed_in: Callable[[str], FlaskClient]) -> FlaskClient:
    """adam, the demo administrator, signed in."""
    return signed_in("adam")


def token(client: FlaskClient, path: str = "/") -> str:
    """A CSRF token for ``client``'s session (every signed-in page has the sign-out form)."""
    return csrf_token(client, path)


def send(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """POST a form with the session's CSRF token, as the browser would."""
    return client.post(path, data={"csrf_token": token(client, "/admin"), **(data or {})}, **kw)


def counts(api: Api) -> dict[str, int]:
    """Rows in every table an admin page may add to: a refused form adds none."""
    with api.app.app_context(), unit() as session:
        return {name: session.scalar(select(func.count()).select_from(model)) or 0
                for name, model in ADMIN_TABLES.items()}


def audit_rows(api: Api, action: str) -> list[AuditEvent]:
    with api.app.app_context(), unit() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()
        session.expunge_all()
        return list(rows)


def user_row(api: Api, name: str) -> dict[str, Any]:
    """A user's columns, team, agency and areas as plain values."""
    with api.app.app_context(), unit() as session:
        user = session.scalars(select(User).where(User.name == name)).one()
        return {"id": user.id, "display_name": user.display_name, "email": user.email,
                "phone": user.phone, "role": user.role.value, "team": user.team.name,
                "agency": user.agency.code if user.agency else None, "active": user.active,
                "password_hash": user.password_hash,
                "areas": sorted(a.name for a in user.areas)}


def ids(api: Api, model: Any, **where: Any) -> int:
    """The id of the one row of ``model`` matching ``where``."""
    with api.app.app_context(), unit() as session:
        query = select(model.id)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        found = session.scalars(query).one()
        return int(found)


def errors_of(response: Any) -> str:
    """The page's text, asserting it re-showed the form with an error summary."""
    html: str = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, html[:1500])
    assert "There is a problem" in html and "govuk-error-summary" in html
    assert "<title>Error: " in html
    return html


def page_text(response: Any) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html_lib.unescape(body).split())
