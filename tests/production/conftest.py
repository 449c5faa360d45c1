"""Shared by the production tests: a PostgreSQL server of their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg_server import PostgresServer


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A server these tests may stop and restart (the session's shared one must not be)."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
