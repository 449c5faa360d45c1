"""The ``asb audit`` commands: check the audit trail's hash chain."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from cases.audit_chain import verify
from engine.database import default_url, make_engine


@click.group()
def audit() -> None:
    """Work with the audit trail."""


@audit.command("verify")
def verify_command() -> None:
    """Walk the sealed hash chain: OK with the count, or the first broken row and why (exit 1)."""
    try:
        with make_engine(default_url()).connect() as conn:
            report = verify(conn)
    except SQLAlchemyError as exc:
        click.echo(f"asb: database error: {getattr(exc, 'orig', None) or exc}", err=True)
        sys.exit(2)
    if report.ok:
        waiting = (f"; {report.unsealed} newer row(s) not yet sealed by the worker"
                   if report.unsealed else "")
        click.echo(f"OK: {report.rows} audit rows, chain head {report.head}{waiting}")
        return
    click.echo(f"BROKEN at audit row {report.broken_id} (row {report.rows} of the chain): "
               f"{report.reason}", err=True)
    sys.exit(1)
