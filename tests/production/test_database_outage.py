"""PostgreSQL restarting under the app: a clear 503, nothing half-saved, and recovery alone.

A dedicated server (the session's shared one must not be stopped) is halted while the app
serves; requests then get 503 with Retry-After (JSON under /api, a page elsewhere), never a
500, and a case sent meanwhile is not stored. When the server is back, the same app answers
again without a restart: the connection pool's pre-ping replaces the dead connections.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cases.people import create_user, issue_token
from cases.records import Case
from engine.database import make_engine, make_session_factory, unit_of_work
from migrations.runner import upgrade
from tasks.wiring import build_engine
from tests.lifecycle_support import BPMN
from tests.production.support import recent_report
from web import create_app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def app_on(own_server):
    engine = make_engine(own_server.url)
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        build_engine().definitions.sync_directory(session, BPMN)
        user = create_user(session, "olivia", "officer", team="North",
                           display_name="Olivia Officer")
        token = issue_token(session, user)
    engine.dispose()
    app = create_app({"SECRET_KEY": "test-only-key", "DATABASE_URL": own_server.url,
                      "START_WORKER": False, "TESTING": True})
    yield app, {"Authorization": f"Bearer {token}"}
    app.extensions["asb"]["db"].dispose()  # close the pool's connections before the server goes


def _cases(own_server) -> int:
    engine = make_engine(own_server.url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count(Case.id))) or 0)
    finally:
        engine.dispose()


def test_a_database_restart_gives_503_saves_nothing_and_the_app_recovers_alone(app_on,
                                                                              own_server):
    app, auth = app_on
    client = app.test_client()
    assert client.post("/api/v1/cases", json=recent_report(), headers=auth).status_code == 201
    assert client.get("/healthz").status_code == 200

    own_server.halt()
    try:
        sent = client.post("/api/v1/cases", json=recent_report(), headers=auth)
        assert sent.status_code == 503
        assert sent.headers["Retry-After"] == "5"
        error = sent.get_json()["error"]
        assert error["code"] == "unavailable" and "nothing you sent was saved" in error["message"]
        page = client.get("/healthz")
        assert page.status_code == 503
        browser_page = app.test_client().get("/sign-in")
        assert browser_page.status_code in (200, 503)  # a page that needs no database may work
        if browser_page.status_code == 503:
            assert "did not answer" in browser_page.get_data(as_text=True)
    finally:
        own_server.resume()

    again = client.post("/api/v1/cases", json=recent_report(), headers=auth)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert _cases(own_server) == 2  # the one refused during the outage was never stored
