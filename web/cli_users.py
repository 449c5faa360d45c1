"""The ``asb users`` commands: add a user, set a user's password, issue a personal API token."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cases import staff
from cases.audit import AuditRecord, record
from cases.people import (
    PeopleError,
    Role,
    UserExists,
    UserNotFound,
    create_user,
    ensure_agency,
    find_agency,
    get_user,
    issue_token,
    parse_role,
    set_password,
)
from engine import clock
from engine.database import default_url, make_engine, make_session_factory, unit_of_work

from .auth.breached import breach_problem
from .auth.notices import tell_user

_PEOPLE_TABLES = ("teams", "partner_agencies", "users", "api_tokens")


class UsageProblem(click.ClickException):
    """A bad argument: exit code 2 and one line on stderr, without the usage text."""

    exit_code = 2


class _OneLineCommand(click.Command):
    """A command whose argument errors take one line on stderr instead of usage and a hint."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse as click does, turning any usage error into a one-line ``UsageProblem``."""
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise UsageProblem(exc.format_message()) from None


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _database_problem(exc: SQLAlchemyError) -> click.ClickException:
    return click.ClickException(f"database error: {_one_line(getattr(exc, 'orig', None) or exc)}")


def _people_problem(exc: PeopleError) -> click.ClickException:
    if isinstance(exc, UserExists | UserNotFound):
        return click.ClickException(_one_line(exc.message))
    return UsageProblem(_one_line(exc.message))


def _refuse_breached(password: str | None) -> None:
    """Stop (exit 2, one line) when the range service (``ASB_HIBP_URL``) knows ``password``."""
    base = os.environ.get("ASB_HIBP_URL", "").strip()
    if password and base and (problem := breach_problem(password, base)) is not None:
        raise UsageProblem(problem)


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    """Open the configured database, check that its schema exists, and run one unit of work."""
    engine = make_engine(default_url())
    try:
        tables = set(inspect(engine).get_table_names())
        if not tables.issuperset(_PEOPLE_TABLES):
            raise click.ClickException("the database has no schema yet: run `asb init-db`")
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@click.group("users")
def users() -> None:
    """Manage the people who use the product."""


@users.command("add", cls=_OneLineCommand)
@click.argument("name")
@click.option("--role", required=True,
              help="officer, team_leader, process_owner, manager, admin or partner.")
@click.option("--password", default=None, help="At least 12 characters; omit for token-only.")
@click.option("--team", default=None, help="Team name, created if missing (default: 'default').")
@click.option("--agency", default=None, help="Partner agency code, created if missing.")
@click.option("--email", default=None, help="Email address.")
@click.option("--display-name", default=None, help="Name shown to others (default: NAME).")
def add_user(name: str, role: str, password: str | None, team: str | None,
             agency: str | None, email: str | None, display_name: str | None) -> None:
    """Add a user; a partner's --agency is created as a partner agency when it does not exist."""
    _refuse_breached(password)
    try:
        with _unit_of_work() as session:
            user_role = parse_role(role)
            new_agency = False
            if user_role is Role.PARTNER and agency is not None:
                new_agency = find_agency(session, agency) is None
                ensure_agency(session, agency)
            user = create_user(session, name, user_role, password=password, team=team,
                               agency=agency, display_name=display_name, email=email)
            summary = [f"role {user.role}", f"team {user.team.name}"]
            if user.agency is not None:
                summary.append(f"agency {user.agency.code}" + (" (new)" if new_agency else ""))
            summary.append("password set" if password is not None else "no password")
    except PeopleError as exc:
        raise _people_problem(exc) from None
    except SQLAlchemyError as exc:
        raise _database_problem(exc) from None
    click.echo(f"created user {user.name}: " + ", ".join(summary))


@users.command("set-password", cls=_OneLineCommand)
@click.argument("name")
@click.option("--password", prompt="New password", hide_input=True, confirmation_prompt=True,
              help="At least 12 characters (asked for when left out, not echoed).")
def set_user_password(name: str, password: str) -> None:
    """Give NAME a new password: their sessions end and they are told by e-mail."""
    _refuse_breached(password)
    try:
        with _unit_of_work() as session:
            user, now = get_user(session, name), clock.now()
            set_password(user, password, now=now)
            ended = staff.revoke_browser_sessions(session, user, now=now)
            record(session, AuditRecord(at=now, actor="cli", action="user.password_reset",
                                        object_type="user", object_id=user.name,
                                        summary={"via": "cli", "sessions_ended": ended}))
            told = tell_user(session, user, "password_reset", now=now, by="cli")
    except PeopleError as exc:
        raise _people_problem(exc) from None
    except SQLAlchemyError as exc:
        raise _database_problem(exc) from None
    click.echo(f"new password set for {user.name}: their sessions ended; "
               + ("e-mail notice queued" if told else "no e-mail address to tell them"))


@users.command("token", cls=_OneLineCommand)
@click.argument("name")
def issue_user_token(name: str) -> None:
    """Issue a new personal API token for NAME and print it alone on its line."""
    try:
        with _unit_of_work() as session:
            user = get_user(session, name)
            if not user.active:
                raise click.ClickException(f"user '{name}' is inactive")
            token = issue_token(session, user, now=clock.now())
    except PeopleError as exc:
        raise _people_problem(exc) from None
    except SQLAlchemyError as exc:
        raise _database_problem(exc) from None
    click.echo(token)
