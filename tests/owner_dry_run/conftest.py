"""The dry run page: an app with the shipped diagrams and demo people, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cases.audit import AuditEvent
from cases.outbox import OutboxMessage
from cases.people import User
from cases.records import Case
from cases.referrals import Referral
from engine import clock
from engine.models import DefinitionVersion, HumanTask, Incident, ProcessInstance
from tests.api.support import XMAS_EVE, Api, make_api
from web.extensions import unit

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TABLES = {
    "cases": Case,
    "tasks": HumanTask,
    "instances": ProcessInstance,
    "outbox": OutboxMessage,
    "audit": AuditEvent,
    "referrals": Referral,
    "incidents": Incident,
    "definitions": DefinitionVersion,
}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    """The app, with the dry run's blueprint (until the lead registers it in web/__init__)."""
    clock.set_now(XMAS_EVE)
    made = make_api(tmp_path)
    if "owner_dry_run" not in made.app.blueprints:
        from web.owner_dry_run import bp

        made.app.register_blueprint(bp)
    return made


@pytest.fixture
def signed_in(api: Api) -> Callable[[str], tuple[FlaskClient, str]]:
    """A client signed in as the named demo user, and its CSRF token ("" for a stranger)."""

    def client_of(who: str) -> tuple[FlaskClient, str]:
        client = api.app.test_client()
        if who == "anon":
            return client, ""
        with api.app.app_context(), unit() as session:
            uid = session.scalar(select(User.id).where(User.name == who))
        with client.session_transaction() as state:
            now = clock.now().isoformat()
            state.update(uid=uid, sid=f"test-{who}", started=now, seen=now)
        found = CSRF_RE.search(client.get("/", follow_redirects=True).get_data(as_text=True))
        assert found, f"no CSRF token on {who}'s home page"
        return client, found.group(1)

    return client_of


def counts(api: Api) -> dict[str, int]:
    """Rows of the real database a dry run must not add to."""
    with api.app.app_context(), unit() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in TABLES.items()
        }


def dry_run_audits(api: Api) -> list[dict[str, Any]]:
    with api.app.app_context(), unit() as session:
        return [
            {
                "actor": e.actor,
                "object_id": e.object_id,
                "summary": e.summary,
                "case_reference": e.case_reference,
            }
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "diagram.dry_run")
                .order_by(AuditEvent.id)
            )
        ]


def published_id(api: Api, process_id: str) -> int:
    with api.app.app_context(), unit() as session:
        found = session.scalar(
            select(DefinitionVersion.id).where(
                DefinitionVersion.process_id == process_id, DefinitionVersion.published.is_(True)
            )
        )
    assert found is not None
    return found
