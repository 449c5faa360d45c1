"""The process owner's pages: an app with the shipped diagrams and demo people, signed in."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cases.audit import AuditEvent
from cases.people import User
from engine import clock
from engine.models import DefinitionVersion
from tests.api.support import BPMN, XMAS_EVE, Api, make_api
from web.extensions import unit

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
XML = {"Content-Type": "application/xml"}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    clock.set_now(XMAS_EVE)
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))


class Owner:
    """A signed-in browser session (test client) with its CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        found = CSRF_RE.search(client.get("/", follow_redirects=True).get_data(as_text=True))
        assert found, "no CSRF token on the home page"
        self.token = found.group(1)

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kw)

    def save(self, raw: bytes, based_on: int | None = None, **headers: str) -> Any:
        query = f"?based_on={based_on}" if based_on else ""
        return self.client.post(
            f"/diagrams/drafts{query}",
            data=raw,
            headers={**XML, "X-CSRFToken": self.token, **headers},
        )

    def check(self, raw: bytes) -> Any:
        return self.client.post(
            "/diagrams/check", data=raw, headers={**XML, "X-CSRFToken": self.token}
        )


@pytest.fixture
def signed_in(api: Api) -> Callable[[str], Owner]:
    """A session signed in as the named demo user (as the sign-in page makes one)."""

    def client_of(who: str) -> Owner:
        with api.app.app_context(), unit() as session:
            uid = session.scalar(select(User.id).where(User.name == who))
        client = api.app.test_client()
        with client.session_transaction() as state:
            now = clock.now().isoformat()
            state.update(uid=uid, sid=f"test-{who}", started=now, seen=now)
        return Owner(client)

    return client_of


@pytest.fixture
def petra(signed_in: Callable[[str], Owner]) -> Owner:
    return signed_in("petra")


def shipped(name: str) -> bytes:
    return (BPMN / name).read_bytes()


def version_of(api: Api, process_id: str, *, published: bool | None = None) -> DefinitionVersion:
    """The newest stored version of a process (published ones only, if asked)."""
    with api.app.app_context(), unit() as session:
        stmt = select(DefinitionVersion).where(DefinitionVersion.process_id == process_id)
        if published is not None:
            stmt = stmt.where(DefinitionVersion.published.is_(published))
        row = session.scalars(stmt.order_by(DefinitionVersion.version.desc()).limit(1)).one()
        session.expunge(row)
        return row


def audit_rows(api: Api, action: str) -> list[AuditEvent]:
    with api.app.app_context(), unit() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        session.expunge_all()
        return list(rows)


def stored(api: Api) -> int:
    with api.app.app_context(), unit() as session:
        return int(session.scalar(select(func.count()).select_from(DefinitionVersion)) or 0)
