"""The ``asb retention`` commands: list closed cases past their date, anonymise the due ones.

A scheduled job runs ``asb retention dispose --due`` (nightly, say): every closed case past its
retention date that is not on legal hold is anonymised in its own transaction, so one failure
leaves the others done. Output names only case references and counts, never a person.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cases.config import LOCAL_TZ
from cases.operations import case_by_reference
from cases.retention import RetentionError, review_list
from engine import clock
from engine.database import default_url, make_engine, make_session_factory, unit_of_work
from tasks.files import file_store_from
from tasks.retention import dispose_case

ACTOR = "retention"
DEFAULT_FILES = Path(__file__).resolve().parent.parent / "instance" / "files"


def _factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(default_url()))


def _today() -> date:
    return clock.now().astimezone(LOCAL_TZ).date()


@click.group()
def retention() -> None:
    """Retention of closed cases: review and anonymise those past their date."""


@retention.command("review")
def review() -> None:
    """List closed cases past their retention date, with any legal hold."""
    try:
        with unit_of_work(_factory()) as session:
            rows = review_list(session, _today())
            lines = [f"{row.case.reference}  kept until {row.case.retention_until:%Y-%m-%d}  "
                     + (f"ON HOLD since {row.hold.set_at:%Y-%m-%d} (set by {row.hold.set_by})"
                        if row.hold else "due") for row in rows]
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database error: {getattr(exc, 'orig', None) or exc}"
                                   ) from None
    for line in lines:
        click.echo(line)
    click.echo(f"{len(rows)} case(s) past their retention date, "
               f"{sum(1 for r in rows if r.due)} due")


@retention.command("dispose")
@click.option("--due", is_flag=True, help="Anonymise every due case (required).")
def dispose(due: bool) -> None:
    """Anonymise every closed case past its retention date that is not on legal hold."""
    if not due:
        raise click.UsageError("say --due to anonymise every case that is due")
    factory = _factory()
    store = file_store_from(os.environ, DEFAULT_FILES)
    with unit_of_work(factory) as session:
        references = [row.case.reference for row in review_list(session, _today()) if row.due]
    done, failed = 0, 0
    for reference in references:
        try:
            with unit_of_work(factory) as session:
                case = case_by_reference(session, reference)
                result = dispose_case(session, case, store, by=ACTOR, at=clock.now(),
                                      today=_today())
            click.echo(f"{reference} anonymised ({sum(result.counts.values())} rows, "
                       f"{result.files_deleted} file(s) deleted)")
            done += 1
        except (RetentionError, SQLAlchemyError) as exc:
            click.echo(f"{reference} not anonymised: {type(exc).__name__}", err=True)
            failed += 1
    click.echo(f"{done} case(s) anonymised, {failed} failed")
    if failed:
        raise SystemExit(1)
