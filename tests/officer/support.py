"""A browser signed in as one of the API test people, on an app with the shipped diagrams."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from cases.audit import AuditEvent
from cases.people import User
from engine import clock
from engine.models import HumanTask, ProcessInstance
from tests.api.support import Api
from web.extensions import unit

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ASSESSMENT = {"harm": "medium", "community_impact": "low", "child_at_risk": False,
              "vulnerable_adult": False, "raise_priority": False,
              "vulnerability": {"personal": False, "situational": True, "incidental": False}}
CONTACT = {"contacted_at": "2026-12-29T11:00:00+00:00", "method": "phone",
           "summary": "Talked through the diary sheets"}


@dataclass
class Browser:
    """A test client with a signed-in session and the CSRF token of its pages."""

    client: FlaskClient
    token: str

    def get(self, path: str, **kw: Any) -> TestResponse:
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             **kw: Any) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.token
        return self.client.post(path, data=form, **kw)

    def text(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (response.status_code, path)
        return response.get_data(as_text=True)


def browser(api: Api, who: str) -> Browser:
    """Sign ``who`` in by writing the identity keys into the session, then read a CSRF token."""
    with api.app.app_context(), unit() as session:
        uid = session.scalar(select(User.id).where(User.name == who))
    client = api.app.test_client()
    now = clock.now().isoformat()
    with client.session_transaction() as flask_session:
        flask_session.update(uid=uid, sid=f"test-{who}", started=now, seen=now)
    found = CSRF_RE.search(client.get("/").get_data(as_text=True) or "")
    if found is None:
        found = CSRF_RE.search(client.get("/inbox", follow_redirects=True).get_data(as_text=True))
    assert found, "no CSRF token"
    return Browser(client, found.group(1))


def task_row(api: Api, task_id: str) -> HumanTask:
    with api.app.app_context(), unit() as session:
        row = session.get(HumanTask, task_id)
        assert row is not None
        session.expunge(row)
        return row


def set_task(api: Api, task_id: str, **values: Any) -> None:
    with api.app.app_context(), unit() as session:
        row = session.get(HumanTask, task_id)
        for key, value in values.items():
            setattr(row, key, value)


def revision(api: Api, task_id: str) -> int:
    with api.app.app_context(), unit() as session:
        row = session.get(HumanTask, task_id)
        return session.get(ProcessInstance, row.instance_id).revision


def audit_rows(api: Api, action: str) -> list[AuditEvent]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        session.expunge_all()
        return rows


def complete_by_api(api: Api, task_id: str, data: dict[str, Any], who: str = "olivia") -> None:
    response = api.post(f"/api/v1/tasks/{task_id}/complete", who, json={"data": data})
    assert response.status_code == 200, response.get_json()


def set_case(api: Api, reference: str, **values: Any) -> None:
    from cases.records import Case

    with api.app.app_context(), unit() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        for key, value in values.items():
            setattr(case, key, value)
