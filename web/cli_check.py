"""``asb check``: is the system consistent after a crash, a restart or a restore?"""

from __future__ import annotations

import os
import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from engine import clock
from engine.database import default_url, make_engine, make_session_factory, unit_of_work
from tasks.consistency import check_system
from tasks.files import StoreMisconfigured, StoreUnavailable, file_store_from
from tasks.wiring import build_engine

from .cli_privacy import DEFAULT_FILES


@click.command("check")
@click.option("--no-files", is_flag=True, help="Skip looking for every evidence file.")
def check(no_files: bool) -> None:
    """Check instances against their states, the audit chain, closed cases and files."""
    try:
        store = file_store_from(os.environ, DEFAULT_FILES)
    except StoreMisconfigured as exc:
        click.echo(f"asb: {exc}", err=True)
        sys.exit(2)
    database = make_engine(default_url())
    try:
        with unit_of_work(make_session_factory(database)) as session:
            report = check_system(session, build_engine(audit=False),
                                  store=None if no_files else store, now=clock.now())
            session.rollback()  # a check never writes
    except SQLAlchemyError as exc:
        click.echo(f"asb: database error: {getattr(exc, 'orig', None) or exc}", err=True)
        sys.exit(2)
    except StoreUnavailable as exc:
        click.echo(f"asb: the file store did not answer ({exc.reason}); "
                   "run again, or with --no-files", err=True)
        sys.exit(2)
    finally:
        database.dispose()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        click.echo("asb: the system is NOT consistent (see above)", err=True)
        sys.exit(1)
    click.echo("OK: consistent")
