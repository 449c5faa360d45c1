"""Helpers for the reporters' door tests: the public form, following a case, the audit."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from cases.audit import AuditEvent
from cases.records import Case
from tests.api.support import Api
from web.extensions import unit

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CODE_RE = re.compile(r'id="follow-up-code">([A-Z0-9]{5}-[A-Z0-9]{5})<')
REF_RE = re.compile(r'id="case-reference">(ASB-\d{4}-\d{6})<')
REPORT = {"anonymous": "no", "reporter_name": "Rita Reporter",
          "reporter_email": "rita@example.org", "reporter_phone": "07700 900123",
          "pref_channels": ["email"], "incident_day": "23", "incident_month": "12",
          "incident_year": "2026", "incident_time": "23:30",
          "location": "14 Mill Lane, Chesterfield S40 1AB",
          "description": "Loud music and shouting every night", "category": "nuisance",
          "reported_name": "Derek Noisy", "reported_address": "16 Mill Lane, Chesterfield"}


def csrf(client: FlaskClient, path: str = "/report") -> str:
    """A CSRF token from one of the reporters' pages."""
    response = client.get(path)
    found = CSRF_RE.search(response.get_data(as_text=True))
    assert found, (path, response.status_code)
    return found.group(1)


def post(client: FlaskClient, path: str, data: dict[str, Any], **kw: Any) -> TestResponse:
    """Post a form as the browser does, with the page's CSRF token."""
    token_page = {"/my-case/sign-out": "/my-case"}.get(path, path)
    return client.post(path, data={**data, "csrf_token": csrf(client, token_page)}, **kw)


def send_report(api: Api, **fields: Any) -> tuple[FlaskClient, str, str, TestResponse]:
    """Report from the public form: the reporter's browser, reference, code and the page."""
    client = api.app.test_client()
    data = {**REPORT, **fields}
    response = post(client, "/report", {k: v for k, v in data.items() if v is not None})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:3000]
    ref, code = REF_RE.search(page), CODE_RE.search(page)
    assert ref and code, page[:3000]
    return client, ref.group(1), code.group(1), response


def follow(api: Api, reference: str, code: str, client: FlaskClient | None = None
           ) -> tuple[FlaskClient, TestResponse]:
    """Open a case with its reference and code in a fresh browser."""
    client = client or api.app.test_client()
    return client, post(client, "/follow", {"reference": reference, "code": code})


def audits(api: Api, prefix: str) -> list[AuditEvent]:
    """Audit rows whose action starts with ``prefix``, oldest first."""
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)))
        session.expunge_all()
        return rows


def case_of(api: Api, reference: str) -> Case:
    with api.app.app_context(), unit() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        session.expunge(case)
        return case


def open_tasks(api: Api, business_key: str) -> list[str]:
    """Names of the open tasks under ``business_key`` (a case, Case Review or complaint)."""
    from engine.models import HumanTask, TaskStatus

    with api.app.app_context(), unit() as session:
        return sorted(session.scalars(select(HumanTask.name).where(
            HumanTask.business_key == business_key, HumanTask.state == TaskStatus.OPEN)))
