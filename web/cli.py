"""The ``asb`` command line: serve, worker, init-db, seed-demo, users, diagrams."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import NoReturn

import click
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.database import default_url, make_engine, make_session_factory, unit_of_work
from engine.errors import DiagramInvalid

from .cli_audit import audit
from .cli_check import check
from .cli_db import db as db_commands
from .cli_privacy import retention
from .cli_users import users

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"asb: {' '.join(message.split())}", err=True)
    sys.exit(code)


@click.group()
def main() -> None:
    """Anti-social behaviour casework: web app, worker and administration."""
    from .logging_setup import configure_logging

    if not logging.getLogger().handlers:  # a host that set logging up (pytest) keeps its own
        configure_logging()  # text by default, JSON lines with ASB_LOG_FORMAT=json


main.add_command(users)
main.add_command(audit)
main.add_command(retention)
main.add_command(check)
main.add_command(db_commands)


@main.command("init-db")
def init_db() -> None:
    """Create or migrate the schema and load the shipped diagrams (safe to run twice)."""
    from tasks.wiring import build_engine

    from .cli_db import upgrade_locked

    url = default_url()
    try:
        engine = make_engine(url)
        upgrade_locked(engine)  # two hosts starting at once must not migrate twice
        with unit_of_work(make_session_factory(engine)) as session:
            versions = build_engine().definitions.sync_directory(session, BPMN_DIR)
    except SQLAlchemyError as exc:
        _fail(f"database error: {getattr(exc, 'orig', None) or exc}")
    except DiagramInvalid as exc:
        _fail(f"a shipped diagram is invalid: {exc.problems[0]}")
    click.echo(f"schema up to date; {len(versions)} process definition(s) loaded")


@main.command("seed-demo")
@click.option("--cases", default=220, show_default=True, type=click.IntRange(0, 5000),
              help="Cases to report and work through the real processes (0: users only).")
def seed_demo_command(cases: int) -> None:
    """Create demo users with new passwords and, once, months of worked demo cases."""
    from sqlalchemy import func, select

    from cases.records import Case
    from tasks.demo import DEMO_USERS, seed_demo
    from tasks.demo_cases import build_demo, stage_counts
    from tasks.wiring import build_engine

    factory = make_session_factory(make_engine(default_url()))
    try:
        with unit_of_work(factory) as session:
            logins = seed_demo(session)
            existing = session.scalar(select(func.count()).select_from(Case)) or 0
        if cases and not existing:
            officers = [n for n, role, *_ in DEMO_USERS if role == "officer"]
            leaders = [n for n, role, *_ in DEMO_USERS if role == "team_leader"]
            stats = build_demo(factory, build_engine(), cases=cases, officers=officers,
                               leaders=leaders)
            click.echo(f"Demo cases: {stats.cases} reported, {stats.completed_tasks} tasks "
                       f"completed, {stats.new_incidents} new incidents, over five months.")
            with unit_of_work(factory) as session:
                for where, count in sorted(stage_counts(session).items()):
                    click.echo(f"  {where:<24} {count}")
        elif existing:
            click.echo(f"{existing} cases already exist: no new demo cases made.")
    except SQLAlchemyError as exc:
        _fail(f"database error (run 'asb init-db' first?): {getattr(exc, 'orig', None) or exc}")
    click.echo("Demo users (passwords are new each time this runs):")
    for login in logins:
        click.echo(f"  {login.name:<16} {login.role:<14} {login.password}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Run the web app (with the in-process worker on the embedded SQLite default)."""
    from . import ConfigError, create_app

    try:
        app = create_app()
    except ConfigError as exc:
        _fail(str(exc))
    app.run(host=host, port=port, use_reloader=False, threaded=True)


@main.command()
@click.option("--batch", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--poll", default=1.0, show_default=True, type=click.FloatRange(0.05, 60))
@click.option("--once", is_flag=True, help="Process what is due now, then exit.")
def worker(batch: int, poll: float, once: bool) -> None:
    """Fire due timers and retry failed service tasks (run several on PostgreSQL)."""
    from engine.worker import Worker
    from tasks.files import StoreMisconfigured, file_store_from
    from tasks.wiring import build_engine, worker_jobs

    from .cli_privacy import DEFAULT_FILES
    from .heartbeat import heartbeat_job

    try:
        store = file_store_from(os.environ, DEFAULT_FILES)
    except StoreMisconfigured as exc:
        _fail(str(exc))
    factory = make_session_factory(make_engine(default_url()))
    w = Worker(build_engine(), factory, batch=batch, poll_seconds=poll,
               name=f"worker-{os.getpid()}",
               jobs=[*worker_jobs(os.environ, store), heartbeat_job()])
    if once:
        click.echo(f"woke {w.drain()} instance(s)")
        return

    def _stop(_sig: int, _frame: FrameType | None) -> None:
        w.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    w.run_forever()


@main.group()
def diagrams() -> None:
    """Work with BPMN and DMN files."""


def _session_here() -> Session | None:
    """A session on this installation's database, if there is one with the schema; else None."""
    from cases import config as council_config
    from engine.models import DefinitionVersion

    instance = Path(os.environ.get("ASB_INSTANCE", "instance")).resolve() / "asb.sqlite"
    if not os.environ.get("DATABASE_URL") and not instance.is_file():
        return None
    session = make_session_factory(make_engine(default_url()))()
    try:
        session.scalars(select(DefinitionVersion.id).limit(1)).first()
        council_config.get_setting(session, "first_contact_working_days")
    except SQLAlchemyError:
        session.close()
        return None
    return session


@diagrams.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check diagrams against every rule and promise; print one line per problem."""
    from engine.forms import load_directory as load_forms
    from tasks.diagram_checks import check_diagram
    from tasks.wiring import build_engine

    sources: dict[str, bytes] = {}
    for name in files:
        path = Path(name)
        if not path.is_file():
            _fail(f"{name}: no such file", 2)
        sources[path.name] = path.read_bytes()
    # Task forms live in a forms/ folder beside the diagrams, as in bpmn/forms/.
    forms = {**load_forms(BPMN_DIR / "forms"), **load_forms(Path(files[0]).parent / "forms")}
    failed = False
    session = _session_here()
    try:
        for name in files:
            raw = sources[Path(name).name]
            if name.endswith(".dmn"):
                continue
            others = {k: v for k, v in sources.items() if k != Path(name).name}
            for p in check_diagram(session, raw, bpmn_dir=BPMN_DIR, forms=forms, others=others):
                failed = failed or p.severity == "error"
                note = "" if p.severity == "error" else f"{p.severity}: "
                click.echo(f"{name}: {p.element_id} ({p.element_type}): {note}{p.message}",
                           err=True)
    finally:
        if session is not None:
            session.rollback()
            session.close()
    if failed:
        sys.exit(1)
    ours = {pid for raw in sources.values() for pid in _process_ids(raw)}
    shipped = {f"shipped/{p.name}": p.read_bytes() for p in sorted(BPMN_DIR.glob("*"))
               if p.suffix in (".bpmn", ".dmn") and p.name not in sources
               and not ours & set(_process_ids(p.read_bytes()))}
    try:
        parsed = build_engine().definitions.parse({**shipped, **sources}, forms)
    except DiagramInvalid as exc:
        for problem in exc.problems:
            where = next((n for n in files if f'id="{problem["element_id"]}"'.encode()
                          in sources[Path(n).name]), files[0])
            click.echo(f"{where}: {problem['element_id']} ({problem['element_type']}): "
                       f"{problem['message']}", err=True)
        sys.exit(1)
    for proc in parsed:
        if proc.process_id in ours:
            click.echo(f"{proc.process_id}: can run (content {proc.content_hash[:12]})")


def _process_ids(raw: bytes) -> list[str]:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError:
        return []
    return [p.get("id") for p in root.iter("{*}process") if p.get("id")]
