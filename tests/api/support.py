"""An app on a temporary SQLite file with the shipped diagrams, demo people and their tokens."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from cases.audit import AuditEvent
from cases.people import create_user, ensure_agency, ensure_area, issue_token
from cases.records import Case
from engine.database import make_engine, make_session_factory, unit_of_work
from engine.models import DefinitionVersion, HumanTask
from migrations.runner import upgrade
from tasks.wiring import build_engine
from web import create_app

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
XMAS_EVE = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
# name: (role, team, areas, extra)
PEOPLE: dict[str, tuple[str, str, tuple[str, ...], dict[str, Any]]] = {
    "olivia": ("officer", "North", ("St Helen's",),
               {"display_name": "Olivia Officer", "email": "olivia@council.example.org",
                "phone": "01246 111222"}),
    "oscar": ("officer", "North", (), {"display_name": "Oscar Officer"}),
    "sam": ("officer", "South", ("Brimington",), {"display_name": "Sam Officer"}),
    "tara": ("team_leader", "North", (), {"display_name": "Tara Leader"}),
    "tom": ("team_leader", "South", (), {"display_name": "Tom Leader"}),
    "maria": ("manager", "default", (), {}),
    "adam": ("admin", "default", (), {}),
    "petra": ("process_owner", "default", (), {}),
    "paul": ("partner", "default", (), {"agency": "police"}),
}
_template: tuple[Path, dict[str, str]] | None = None


def _build_template() -> tuple[Path, dict[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="asb-api-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # built once per test process
    path = folder / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    tokens: dict[str, str] = {}
    with unit_of_work(make_session_factory(engine)) as session:
        build_engine().definitions.sync_directory(session, BPMN)
        ensure_agency(session, "police", "Police")
        for name, (role, team, areas, extra) in PEOPLE.items():
            user = create_user(session, name, role, team=team, **extra)
            user.areas.extend(ensure_area(session, area) for area in areas)
            tokens[name] = issue_token(session, user)
    engine.dispose()
    return path, tokens


def report(**overrides: Any) -> dict[str, Any]:
    """A report as ``POST /api/v1/cases`` takes it; keyword arguments replace whole sections."""
    body: dict[str, Any] = {
        "received_at": "2026-12-24T10:00:00",
        "channel": "phone",
        "reporter": {"name": "Rita Reporter", "phone": "07700 900123",
                     "email": "rita@example.org", "address": "12 Mill Lane, Chesterfield S40 1AB",
                     "contact_preferences": {"channels": ["email", "letter"]}},
        "incident": {"occurred_at": "2026-12-23T23:30:00+00:00",
                     "location": "14 Mill Lane, Chesterfield S40 1AB",
                     "description": "Racist abuse shouted at my door", "category": "personal",
                     "hate_strands": ["race"]},
        "vulnerability": {"child_at_risk": False, "vulnerable_adult": False,
                          "repeat_victim": False, "threat_of_violence": False},
    }
    body.update(overrides)
    return body


@dataclass
class Api:
    """A test app, its client and a token per demo user."""

    app: Flask
    tokens: dict[str, str]
    url: str
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def get(self, path: str, who: str | None = "olivia", **kw: Any) -> Any:
        return self.client().get(path, headers=self.headers(who), **kw)

    def post(self, path: str, who: str | None = "olivia", **kw: Any) -> Any:
        headers = {**self.headers(who), **kw.pop("headers", {})}
        return self.client().post(path, headers=headers, **kw)

    def counts(self) -> dict[str, int]:
        """Rows that a refused request must not add."""
        engine = self.app.extensions["asb"]["db"]
        with engine.connect() as conn:
            return {name: conn.scalar(select(func.count()).select_from(model)) or 0
                    for name, model in (("cases", Case), ("tasks", HumanTask),
                                        ("audit", AuditEvent),
                                        ("definitions", DefinitionVersion))}

    def open_case(self, who: str = "olivia", **overrides: Any) -> dict[str, Any]:
        response = self.post("/api/v1/cases", who, json=report(**overrides))
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def tasks_of(self, reference: str, who: str = "olivia") -> list[dict[str, Any]]:
        response = self.get(f"/api/v1/cases/{reference}/tasks", who)
        assert response.status_code == 200, response.get_json()
        items: list[dict[str, Any]] = response.get_json()["items"]
        return items

    def open_task(self, reference: str, name: str) -> dict[str, Any]:
        (found,) = [t for t in self.tasks_of(reference, "maria")
                    if t["name"] == name and t["state"] == "open"]
        return found


def make_api(tmp_path: Path, **config: Any) -> Api:
    """A fresh app on its own copy of the template database."""
    global _template
    if _template is None:
        _template = _build_template()
    source, tokens = _template
    path = tmp_path / "api.sqlite"
    shutil.copy(source, path)
    url = f"sqlite:///{path}"
    app = create_app({"SECRET_KEY": "test-only-key", "DATABASE_URL": url,
                      "START_WORKER": False, "TESTING": True, **config})
    return Api(app, dict(tokens), url)


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert the status and the API's error shape; return the error object."""
    assert response.status_code == status, (response.status_code, response.get_data(True)[:500])
    body = response.get_json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code and isinstance(error["message"], str)
    assert isinstance(error["details"], dict)
    return error
