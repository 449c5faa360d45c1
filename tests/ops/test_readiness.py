"""Liveness and readiness: /readyz says 503 until the schema is at head, and why."""

from __future__ import annotations

from sqlalchemy import text

from engine.database import make_engine
from tests.ops.support import sqlite_app
from web import create_app
from web.schema_state import head_revisions


def _set_revisions(app, revisions: list[str]) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
        for revision in revisions:
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:r)"),
                               {"r": revision})
    engine.dispose()


def test_ready_at_head_and_503_with_a_reason_when_the_schema_is_behind(tmp_path):
    app = sqlite_app(tmp_path)
    client = app.test_client()
    response = client.get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})

    _set_revisions(app, ["0012u"])  # as if the code was upgraded but not the database
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "schema_not_at_head"}
    body = response.get_data(as_text=True)
    assert "0012u" not in body and not any(head in body for head in head_revisions())
    assert client.get("/healthz").status_code == 200  # alive all the same: do not restart it

    _set_revisions(app, list(head_revisions()))
    assert client.get("/readyz").status_code == 200


def test_an_empty_database_is_not_ready(tmp_path):
    client = sqlite_app(tmp_path, migrate=False).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "schema_not_at_head"


def test_a_database_that_does_not_answer_is_not_ready(tmp_path):
    # Nothing listens on port 1 of 127.0.0.1: the connection is refused at once.
    app = create_app({"SECRET_KEY": "test-only-key", "START_WORKER": False,
                      "DATABASE_URL": "postgresql+psycopg://asb@127.0.0.1:1/asb"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "database_unavailable"}
