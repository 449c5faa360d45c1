"""Helpers for the operations tests: apps on a file database, scrapes, the asb command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from engine.database import make_engine
from migrations.runner import upgrade
from web import create_app

ROOT = Path(__file__).resolve().parent.parent.parent
ASB = str(Path(sys.executable).parent / "asb")


def sqlite_app(tmp_path: Path, *, migrate: bool = True, **config: Any) -> Flask:
    """An app on a new SQLite file (migrated to head unless ``migrate`` is False)."""
    url = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    if migrate:
        upgrade(make_engine(url))
    return create_app({"SECRET_KEY": "test-only-key", "DATABASE_URL": url,
                       "START_WORKER": False, **config})


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a metrics page: (name, labels) -> value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value (0 when the page has no such sample yet)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def asb(*args: str, url: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed ``asb`` command against ``url``."""
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([ASB, *args], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


@contextmanager
def empty_pg_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    url = make_url(server_url)
    name = f"asb_ops_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
