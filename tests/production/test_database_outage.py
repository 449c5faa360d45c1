"""PostgreSQL restarting under the app: a clear 503, nothing half-saved, and recovery alone.

A dedicated server (the session's shared one must not be stopped) is halted while the app
serves; requests then get 503 with Retry-After (JSON under /api, a page elsewhere), never a
500, and a case sent meanwhile is not stored. When the server is back, the same app answers
again without a restart: the connection pool's pre-ping replaces the dead connections.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from cases.people import create_user, issue_token
from cases.records import Case
from engine.database import make_engine, make_session_factory, unit_of_work
from migrations.runner import upgrade
from tasks.wiring import build_engine
from tests.lifecycle_support import BPMN
from tests.production.support import recent_report
from tests.web.support import PASSWORD, sign_in
from web import create_app

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def app_on(own_server):
    url = make_url(own_server.url)
    name = f"asb_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(
            hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(database_url)
    upgrade(engine)
    with unit_of_work(make_session_factory(engine)) as session:
        build_engine().definitions.sync_directory(session, BPMN)
        user = create_user(session, "olivia", "officer", team="North",
                           display_name="Olivia Officer", password=PASSWORD)
        token = issue_token(session, user)
    engine.dispose()
    app = create_app({"SECRET_KEY": "test-only-key", "DATABASE_URL": database_url,
                      "START_WORKER": False, "TESTING": True, "ASB_REQUIRE_TOTP": False,
                      "ASB_DEV_HTTP": True})
    yield app, {"Authorization": f"Bearer {token}"}
    app.extensions["asb"]["db"].dispose()  # close the pool's connections before the server goes


def _cases(app) -> int:
    engine = make_engine(app.config["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count(Case.id))) or 0)
    finally:
        engine.dispose()


def test_a_database_restart_gives_503_saves_nothing_and_the_app_recovers_alone(app_on,
                                                                              own_server):
    app, auth = app_on
    client = app.test_client()
    officer = app.test_client()
    assert sign_in(officer, "olivia").status_code == 302
    assert officer.get("/inbox").status_code == 200
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
        signed_in = officer.get("/inbox")  # her user row cannot be read: a page, not a 500
        assert signed_in.status_code == 503
        assert "did not answer" in signed_in.get_data(as_text=True)
        browser_page = app.test_client().get("/sign-in")
        assert browser_page.status_code in (200, 503)  # a page that needs no database may work
        if browser_page.status_code == 503:
            assert "did not answer" in browser_page.get_data(as_text=True)
    finally:
        own_server.resume()

    again = client.post("/api/v1/cases", json=recent_report(), headers=auth)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert officer.get("/inbox").status_code == 200  # still signed in once it is back
    assert _cases(app) == 2  # the one refused during the outage was never stored


def test_a_connection_lost_mid_request_is_a_503_page_never_one_over_lost_work(app_on,
                                                                             own_server):
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from cases.people import find_user
    from web.errors import database_unavailable
    from web.extensions import db
    from web.templating import council_name

    app, _ = app_on
    with app.test_request_context("/inbox"):
        from flask import g

        db().execute(text("SELECT 1"))  # the request holds its connection
        g.user, g.auth = find_user(db(), "olivia"), "session"
        db().expire_all()  # her row must be read again to show her name
        own_server.halt()
        own_server.resume()  # PostgreSQL restarted under the request
        with pytest.raises(OperationalError) as lost:
            council_name()  # not a fallback name over work that will not be saved
        answer = database_unavailable(lost.value)
        assert answer.status_code == 503
        assert "did not answer" in answer.get_data(as_text=True)
        assert g.rollback_only


def test_a_connection_lost_before_the_commit_is_a_503_not_a_500(app_on, own_server):
    from flask import jsonify
    from sqlalchemy import text

    from web.extensions import db

    app, _ = app_on
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: errors reach the handlers

    @app.get("/_outage_probe")
    def probe():
        db().execute(text("SELECT 1"))  # the request's work, done on its connection
        own_server.halt()
        own_server.resume()  # PostgreSQL restarts before the request commits
        return jsonify({"done": True})

    answer = app.test_client().get("/_outage_probe")
    assert answer.status_code == 503  # the work was not committed: the caller must not be told
    assert answer.headers["Retry-After"] == "5"
    assert app.test_client().get("/healthz").status_code == 200
