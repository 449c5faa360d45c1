"""People: users, teams, agencies, API tokens, passwords, task permissions and `asb users`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

import cases.people as people
from cases.people import (
    DEFAULT_TEAM,
    ApiToken,
    PartnerAgency,
    PeopleError,
    Role,
    Team,
    User,
    UserExists,
    UserNotFound,
    can_act_on_task,
    check_password,
    create_user,
    ensure_agency,
    ensure_area,
    ensure_team,
    find_user,
    get_user,
    issue_token,
    revoke_token,
    set_password,
    user_for_token,
)
from engine.database import make_engine, make_session_factory, unit_of_work
from migrations.runner import upgrade
from web.cli_users import users

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
GOOD_PASSWORD = "correct horse battery"


def _counts(session: Session) -> dict[str, int]:
    models = {"users": User, "teams": Team, "agencies": PartnerAgency, "tokens": ApiToken}
    return {key: session.scalar(select(func.count()).select_from(m)) or 0
            for key, m in models.items()}


# --- creating users ---------------------------------------------------------------------

def test_create_user_defaults(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    assert user.id is not None
    assert user.role is Role.OFFICER
    assert user.display_name == "alice"
    assert user.active is True
    assert user.password_hash is None
    assert user.agency is None
    assert user.team.name == DEFAULT_TEAM
    assert user.created_at.tzinfo is not None
    stored = db_session.execute(text("SELECT role FROM users WHERE name = 'alice'")).scalar_one()
    assert stored == "officer"
    assert find_user(db_session, "alice") is user


def test_default_team_is_created_once(db_session: Session) -> None:
    first = create_user(db_session, "alice", Role.OFFICER)
    second = create_user(db_session, "bob", Role.MANAGER)
    assert first.team_id == second.team_id
    teams = db_session.scalars(select(Team).where(Team.name == DEFAULT_TEAM)).all()
    assert len(teams) == 1


def test_named_team_is_created_on_demand_and_reused(db_session: Session) -> None:
    lead = create_user(db_session, "lead", "team_leader", team="north")
    officer = create_user(db_session, "off1", "officer", team="north")
    assert lead.team.name == "north"
    assert officer.team_id == lead.team_id
    assert ensure_team(db_session, "north").id == lead.team_id


def test_create_user_with_everything(db_session: Session) -> None:
    team = ensure_team(db_session, "east")
    user = create_user(db_session, "j.smith-2", "process_owner", password=GOOD_PASSWORD,
                       team=team, display_name="Jo Smith", email="jo@council.gov.uk",
                       phone="+44 (0)20 7946-0000")
    assert (user.display_name, user.email, user.phone) == (
        "Jo Smith", "jo@council.gov.uk", "+44 (0)20 7946-0000")
    assert user.team is team
    assert check_password(user, GOOD_PASSWORD)


@pytest.mark.parametrize("name", ["ab", "a.b_c-d9", "x" * 64])
def test_valid_names(db_session: Session, name: str) -> None:
    assert create_user(db_session, name, "officer").name == name


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "a"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": ""}, "name"),
        ({"name": "bad name"}, "name"),
        ({"name": "bad/name"}, "name"),
        ({"name": "émile"}, "name"),
        ({"role": "wizard"}, "role"),
        ({"role": ""}, "role"),
        ({"password": "elevenchars"}, "password"),
        ({"password": "x" * 1025}, "password"),
        ({"email": "not-an-address"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"display_name": "   "}, "display_name"),
        ({"team": "   "}, "team"),
        ({"role": "partner"}, "agency"),
        ({"role": "partner", "agency": "nowhere"}, "agency"),
        ({"role": "officer", "agency": "police"}, "agency"),
    ],
)
def test_validation_errors_change_nothing(
    db_session: Session, kwargs: dict[str, str], field: str
) -> None:
    ensure_agency(db_session, "police")
    before = _counts(db_session)
    args = {"name": "valid.name", "role": "officer", "team": "brand-new-team", **kwargs}
    name, role = args.pop("name"), args.pop("role")
    with pytest.raises(PeopleError) as caught:
        create_user(db_session, name, role, **args)
    assert caught.value.field == field
    assert caught.value.message == str(caught.value)
    assert "\n" not in caught.value.message
    assert _counts(db_session) == before
    assert find_user(db_session, name) is None


def test_unknown_role_message_lists_valid_roles(db_session: Session) -> None:
    with pytest.raises(PeopleError, match="wizard") as caught:
        create_user(db_session, "alice", "wizard")
    for role in Role:
        assert role.value in caught.value.message


def test_password_of_exactly_twelve_characters_is_accepted(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer", password="plum ox jazz")
    assert check_password(user, "plum ox jazz")


@pytest.mark.parametrize("second", ["alice", "Alice", "ALICE"])
def test_duplicate_name(db_session: Session, second: str) -> None:
    create_user(db_session, "alice", "officer")
    before = _counts(db_session)
    with pytest.raises(UserExists) as caught:
        create_user(db_session, second, "manager", team="other")
    assert caught.value.field == "name"
    assert _counts(db_session) == before


def test_duplicate_found_only_at_insert_leaves_session_usable(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_user(db_session, "alice", "officer")
    before = _counts(db_session)
    answers = iter([False, True])
    monkeypatch.setattr(people, "_name_taken", lambda _session, _name: next(answers))
    with pytest.raises(UserExists):
        create_user(db_session, "alice", "officer", team="racing")
    assert _counts(db_session) == before
    monkeypatch.undo()
    assert create_user(db_session, "bob", "officer").name == "bob"


def test_partner_needs_existing_agency(db_session: Session) -> None:
    agency = ensure_agency(db_session, "police", "Metropolitan Police")
    by_code = create_user(db_session, "pc.jones", "partner", agency="police")
    by_row = create_user(db_session, "pc.evans", Role.PARTNER, agency=agency)
    assert by_code.agency is agency
    assert by_row.agency_id == agency.id
    assert by_code.team.name == DEFAULT_TEAM


def test_ensure_agency_area_and_team_are_idempotent(db_session: Session) -> None:
    agency = ensure_agency(db_session, "housing")
    assert agency.name == "housing"
    assert ensure_agency(db_session, "housing", "Other name") is agency
    area = ensure_area(db_session, "Riverside", "E05000001")
    assert ensure_area(db_session, "Riverside") is area
    assert area.code == "E05000001"
    assert ensure_team(db_session, " west ") is ensure_team(db_session, "west")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: ensure_agency(s, ""), "agency"),
        (lambda s: ensure_agency(s, "has space"), "agency"),
        (lambda s: ensure_area(s, " "), "area"),
        (lambda s: ensure_team(s, "t" * 65), "team"),
    ],
)
def test_ensure_validation(db_session: Session, call: Callable[[Session], object],
                           field: str) -> None:
    with pytest.raises(PeopleError) as caught:
        call(db_session)
    assert caught.value.field == field


def test_user_covers_areas(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    user.areas.append(ensure_area(db_session, "Riverside"))
    user.areas.append(ensure_area(db_session, "Hillside"))
    db_session.flush()
    db_session.expire(user)
    assert sorted(a.name for a in user.areas) == ["Hillside", "Riverside"]


def test_get_user(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    assert get_user(db_session, "alice") is user
    with pytest.raises(UserNotFound) as caught:
        get_user(db_session, "nobody")
    assert caught.value.field == "name"
    assert find_user(db_session, "nobody") is None


# --- tokens -----------------------------------------------------------------------------

def test_token_is_stored_as_hash_only(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    token = issue_token(db_session, user, now=NOW)
    assert len(token) >= 43
    row = db_session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:8]
    assert row.created_at == NOW
    assert row.last_used_at is None
    assert row.revoked_at is None
    raw = db_session.execute(
        select(*ApiToken.__table__.columns).where(ApiToken.id == row.id)
    ).one()
    assert all(token not in str(value) for value in raw)


def test_token_lookup_and_last_used(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    token = issue_token(db_session, user)
    other = issue_token(db_session, user)
    assert token != other
    assert user_for_token(db_session, token, NOW) is user
    row = db_session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest())
    ).one()
    assert row.last_used_at == NOW


@pytest.mark.parametrize("bad", ["", "nope", "x" * 5000])
def test_unknown_token(db_session: Session, bad: str) -> None:
    issue_token(db_session, create_user(db_session, "alice", "officer"))
    assert user_for_token(db_session, bad, NOW) is None


def test_revoke_token(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    token = issue_token(db_session, user)
    keep = issue_token(db_session, user)
    assert revoke_token(db_session, token, now=NOW) is True
    assert user_for_token(db_session, token, NOW) is None
    assert revoke_token(db_session, token, now=NOW) is False
    assert revoke_token(db_session, "never-issued") is False
    assert user_for_token(db_session, keep, NOW) is user
    row = db_session.scalars(select(ApiToken).where(ApiToken.prefix == keep[:8])).one()
    assert revoke_token(db_session, row) is True
    assert row.revoked_at is not None
    assert user_for_token(db_session, keep, NOW) is None


def test_inactive_user_token_is_refused(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    token = issue_token(db_session, user)
    user.active = False
    db_session.flush()
    assert user_for_token(db_session, token, NOW) is None


# --- passwords --------------------------------------------------------------------------

def test_password_is_hashed_with_argon2id(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer", password=GOOD_PASSWORD)
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in user.password_hash
    assert check_password(user, GOOD_PASSWORD)
    assert not check_password(user, GOOD_PASSWORD + "!")
    assert not check_password(user, "")


def test_set_password(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    assert not check_password(user, GOOD_PASSWORD)
    set_password(user, GOOD_PASSWORD)
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert check_password(user, GOOD_PASSWORD)
    with pytest.raises(PeopleError) as caught:
        set_password(user, "short")
    assert caught.value.field == "password"
    assert check_password(user, GOOD_PASSWORD)


def test_outdated_hash_is_upgraded_on_login(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(GOOD_PASSWORD)
    user.password_hash = weak
    assert check_password(user, GOOD_PASSWORD)
    assert user.password_hash != weak
    assert user.password_hash.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(user.password_hash)
    assert check_password(user, GOOD_PASSWORD)


def test_wrong_password_does_not_upgrade_hash(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(GOOD_PASSWORD)
    user.password_hash = weak
    assert not check_password(user, "wrong password!")
    assert user.password_hash == weak


def test_corrupt_hash_is_a_failed_check(db_session: Session) -> None:
    user = create_user(db_session, "alice", "officer")
    user.password_hash = "not-a-hash"
    assert not check_password(user, GOOD_PASSWORD)


# --- who may act on a task --------------------------------------------------------------

def _person(name: str, role: Role, team: str = "north", *, active: bool = True) -> User:
    return User(name=name, role=role, team=Team(name=team), active=active)


OFFICER = _person("olive", Role.OFFICER)
OTHER_OFFICER = _person("oscar", Role.OFFICER)
LEADER = _person("lena", Role.TEAM_LEADER)
SOUTH_LEADER = _person("sam", Role.TEAM_LEADER, "south")
PARTNER = _person("pc.jones", Role.PARTNER)
RETIRED = _person("rita", Role.OFFICER, active=False)


@pytest.mark.parametrize(
    ("user", "task_role", "assignee", "task_team", "allowed"),
    [
        (OFFICER, "officer", "olive", "north", True),
        (OFFICER, "manager", "olive", None, True),
        (OFFICER, "officer", None, "north", True),
        (OFFICER, "officer", None, None, True),
        (OFFICER, "officer", "oscar", "north", False),
        (OFFICER, "manager", None, "north", False),
        (OTHER_OFFICER, "officer", "olive", "north", False),
        (LEADER, "officer", "olive", "north", True),
        (LEADER, "officer", None, "north", True),
        (LEADER, "manager", None, "north", True),
        (LEADER, "officer", "olive", "south", False),
        (LEADER, "officer", None, None, False),
        (LEADER, "team_leader", None, None, True),
        (SOUTH_LEADER, "officer", "olive", "north", False),
        (PARTNER, "partner", None, "north", True),
        (PARTNER, "officer", None, "north", False),
        (RETIRED, "officer", "rita", "north", False),
        (RETIRED, "officer", None, None, False),
    ],
)
def test_can_act_on_task(user: User, task_role: str, assignee: str | None,
                         task_team: str | None, allowed: bool) -> None:
    assert can_act_on_task(user, task_role=task_role, assignee=assignee,
                           task_team=task_team) is allowed


# --- asb users --------------------------------------------------------------------------

@pytest.fixture
def cli_url(tmp_path: Path) -> str:
    """A migrated SQLite file for the command line, named by DATABASE_URL."""
    url = f"sqlite:///{tmp_path}/x.sqlite"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def cli_db(cli_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on the command line's database, for checking what it wrote."""
    engine = make_engine(cli_url)
    yield make_session_factory(engine)
    engine.dispose()


def _run(url: str, *args: str) -> Result:
    return CliRunner().invoke(users, list(args), env={"DATABASE_URL": url})


def test_cli_add(cli_url: str, cli_db: sessionmaker[Session]) -> None:
    result = _run(cli_url, "add", "alice", "--role", "officer", "--email", "a@x.gov.uk",
                  "--display-name", "Alice A")
    assert result.exit_code == 0, result.output
    assert result.stdout == "created user alice: role officer, team default, no password\n"
    assert result.stderr == ""
    with unit_of_work(cli_db) as session:
        user = get_user(session, "alice")
        assert (user.role, user.email, user.display_name) == (Role.OFFICER, "a@x.gov.uk",
                                                               "Alice A")


def test_cli_add_partner_creates_agency(cli_url: str, cli_db: sessionmaker[Session]) -> None:
    result = _run(cli_url, "add", "pc.jones", "--role", "partner", "--agency", "police",
                  "--team", "partners", "--password", GOOD_PASSWORD)
    assert result.exit_code == 0, result.output
    assert result.stdout == ("created user pc.jones: role partner, team partners, "
                             "agency police (new), password set\n")
    again = _run(cli_url, "add", "pc.evans", "--role", "partner", "--agency", "police")
    assert "agency police," in again.stdout
    with unit_of_work(cli_db) as session:
        assert check_password(get_user(session, "pc.jones"), GOOD_PASSWORD)
        assert _counts(session)["agencies"] == 1


def test_cli_token_authenticates(cli_url: str, cli_db: sessionmaker[Session]) -> None:
    assert _run(cli_url, "add", "alice", "--role", "officer").exit_code == 0
    result = _run(cli_url, "token", "alice")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert result.stdout == lines[0] + "\n"
    with unit_of_work(cli_db) as session:
        user = user_for_token(session, lines[0], NOW)
        assert user is not None
        assert user.name == "alice"


BAD_COMMANDS = [
    (["add", "bob", "--role", "wizard"], 2, "unknown role"),
    (["add", "alice", "--role", "manager"], 1, "already exists"),
    (["add", "bob", "--role", "officer", "--password", "short"], 2, "12 characters"),
    (["add", "bob", "--role", "partner"], 2, "partner agency"),
    (["add", "bob", "--role", "partner", "--agency", "fire", "--password", "short"], 2, "12"),
    (["add", "bob", "--role", "officer", "--agency", "police"], 2, "partner agency"),
    (["add", "b", "--role", "officer"], 2, "user name"),
    (["add", "bob"], 2, "--role"),
    (["add", "bob", "--role", "officer", "extra"], 2, "extra"),
    (["token", "nobody"], 1, "no user named 'nobody'"),
    (["token"], 2, "NAME"),
]


@pytest.mark.parametrize(("args", "code", "says"), BAD_COMMANDS)
def test_cli_bad_arguments(cli_url: str, cli_db: sessionmaker[Session], args: list[str],
                           code: int, says: str) -> None:
    assert _run(cli_url, "add", "alice", "--role", "officer").exit_code == 0
    with unit_of_work(cli_db) as session:
        before = _counts(session)
    result = _run(cli_url, *args)
    assert result.exit_code == code
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert says in lines[0]
    with unit_of_work(cli_db) as session:
        assert _counts(session) == before


def test_cli_token_for_inactive_user(cli_url: str, cli_db: sessionmaker[Session]) -> None:
    assert _run(cli_url, "add", "alice", "--role", "officer").exit_code == 0
    with unit_of_work(cli_db) as session:
        get_user(session, "alice").active = False
    result = _run(cli_url, "token", "alice")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["Error: user 'alice' is inactive"]
    with unit_of_work(cli_db) as session:
        assert _counts(session)["tokens"] == 0


@pytest.mark.parametrize("args", [["add", "alice", "--role", "officer"], ["token", "alice"]])
def test_cli_without_schema(tmp_path: Path, args: list[str]) -> None:
    result = _run(f"sqlite:///{tmp_path}/empty.sqlite", *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert "asb init-db" in lines[0]

