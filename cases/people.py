"""People who use the product: teams, wards, partner agencies, users, API tokens, passwords."""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from cases.base import Base, Timestamp
from cases.password_policy import MAX_PASSWORD_LENGTH as MAX_PASSWORD_LENGTH
from cases.password_policy import MIN_PASSWORD_LENGTH as MIN_PASSWORD_LENGTH
from cases.password_policy import WeakPassword, check_password_strength

DEFAULT_TEAM = "default"
TOKEN_PREFIX_LENGTH = 8

USER_NAME_RE = re.compile(r"[A-Za-z0-9._-]{2,64}")
_CODE_RE = re.compile(r"[A-Za-z0-9._-]{1,32}")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE_RE = re.compile(r"\+?[0-9 ()-]{3,32}")
_MAX_TOKEN_LENGTH = 256
_hasher = PasswordHasher()


class Role(enum.StrEnum):
    """What a user does in the product; BPMN lanes and task roles carry the same names."""

    OFFICER = "officer"
    TEAM_LEADER = "team_leader"
    PROCESS_OWNER = "process_owner"
    MANAGER = "manager"
    ADMIN = "admin"
    PARTNER = "partner"


class PeopleError(Exception):
    """A person, team or agency could not be created or changed; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UserExists(PeopleError):  # noqa: N818 - the name the API brief fixes
    """A user with this name already exists."""

    def __init__(self, name: str) -> None:
        super().__init__("name", f"a user named '{name}' already exists")


class UserNotFound(PeopleError):  # noqa: N818 - the name the API brief fixes
    """No user has this name."""

    def __init__(self, name: str) -> None:
        super().__init__("name", f"no user named '{name}'")


def _utcnow() -> datetime:
    return datetime.now(UTC)


user_areas = Table(
    "user_areas",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
)


class Team(Base):
    """A team of officers under a team leader; every user belongs to exactly one."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp(), default=_utcnow)


class Area(Base):
    """A ward (or other area) that officers cover."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)


class PartnerAgency(Base):
    """A partner organisation (police, housing provider) whose staff use the product."""

    __tablename__ = "partner_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(254))


class User(Base):
    """A person who signs in, by password in the browser or by API token."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("(role = 'partner') = (agency_id IS NOT NULL)", name="partner_agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=32, create_constraint=True, name="role",
             values_callable=lambda roles: [r.value for r in roles], validate_strings=True)
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("partner_agencies.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp(), default=_utcnow)
    # Two-factor sign-in: the TOTP secret (encrypted by the web layer), when it was confirmed,
    # the last time-step accepted (no replays), and the SHA-256 digests of unused recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(Timestamp())
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_codes: Mapped[str | None] = mapped_column(String(1024))
    # Browser sessions started before this moment are no longer valid (password change, disable).
    sessions_revoked_at: Mapped[datetime | None] = mapped_column(Timestamp())

    team: Mapped[Team] = relationship()
    agency: Mapped[PartnerAgency | None] = relationship()
    areas: Mapped[list[Area]] = relationship(secondary=user_areas)


class ApiToken(Base):
    """A personal API token, kept only as its SHA-256 digest and a short display prefix."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(TOKEN_PREFIX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(Timestamp(), default=_utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp())
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp())

    user: Mapped[User] = relationship()


def parse_role(value: str | Role) -> Role:
    """Return the role named ``value`` or raise ``PeopleError`` listing the valid roles."""
    try:
        return Role(value)
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise PeopleError("role", f"unknown role '{value}'; valid roles: {valid}") from None


def check_team_name(name: str) -> str:
    """Return the team name stripped, or raise ``PeopleError`` if it is empty or too long."""
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= 64:
        raise PeopleError("team", "a team name must have 1 to 64 characters")
    return cleaned


def check_agency_code(code: str) -> str:
    """Return ``code`` if it is a valid agency code, else raise ``PeopleError``."""
    if not _CODE_RE.fullmatch(code):
        raise PeopleError("agency", "an agency code must have 1 to 32 letters, digits, '.', '_' "
                                    "or '-'")
    return code


def check_new_password(password: str, context: tuple[str | None, ...] = ()) -> None:
    """Raise ``PeopleError`` unless ``password`` is allowed (length, common, name-based)."""
    try:
        check_password_strength(password, context)
    except WeakPassword as exc:
        raise PeopleError("password", str(exc)) from None


def ensure_team(session: Session, name: str) -> Team:
    """Return the team called ``name``, creating it when it does not exist yet."""
    name = check_team_name(name)
    team = session.scalars(select(Team).where(Team.name == name)).one_or_none()
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def ensure_area(session: Session, name: str, code: str | None = None) -> Area:
    """Return the area called ``name``, creating it (with ``code``) when it does not exist."""
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise PeopleError("area", "an area name must have 1 to 128 characters")
    area = session.scalars(select(Area).where(Area.name == name)).one_or_none()
    if area is None:
        area = Area(name=name, code=code)
        session.add(area)
        session.flush()
    return area


def find_agency(session: Session, code: str) -> PartnerAgency | None:
    """Return the partner agency with ``code``, or None."""
    return session.scalars(
        select(PartnerAgency).where(PartnerAgency.code == code)
    ).one_or_none()


def ensure_agency(session: Session, code: str, name: str | None = None) -> PartnerAgency:
    """Return the partner agency with ``code``, creating it (named ``name`` or its code)."""
    code = check_agency_code(code)
    agency = find_agency(session, code)
    if agency is None:
        agency = PartnerAgency(code=code, name=(name or code).strip()[:128] or code)
        session.add(agency)
        session.flush()
    return agency


def find_user(session: Session, name: str) -> User | None:
    """Return the user whose user name is exactly ``name``, or None."""
    return session.scalars(select(User).where(User.name == name)).one_or_none()


def get_user(session: Session, name: str) -> User:
    """Return the user called ``name`` or raise ``UserNotFound``."""
    user = find_user(session, name)
    if user is None:
        raise UserNotFound(name)
    return user


def _name_taken(session: Session, name: str) -> bool:
    # Case-insensitive, so "Alice" and "alice" can never be two different people.
    found = session.scalars(select(User.id).where(func.lower(User.name) == name.lower()))
    return found.first() is not None


def check_contact(email: str | None, phone: str | None, display_name: str | None) -> None:
    """Raise ``PeopleError`` naming the first of the contact details that is not valid."""
    if email is not None and (len(email) > 254 or not _EMAIL_RE.fullmatch(email)):
        raise PeopleError("email", f"'{email}' is not an email address")
    if phone is not None and not _PHONE_RE.fullmatch(phone):
        raise PeopleError("phone", f"'{phone}' is not a phone number")
    if display_name is not None and not 1 <= len(display_name.strip()) <= 128:
        raise PeopleError("display_name", "a display name must have 1 to 128 characters")


def resolve_agency(
    session: Session, role: Role, agency: str | PartnerAgency | None
) -> PartnerAgency | None:
    """Return the agency a user of ``role`` belongs to (partners only), or raise ``PeopleError``."""
    if role is not Role.PARTNER:
        if agency is not None:
            raise PeopleError("agency", "only partner users belong to a partner agency")
        return None
    if agency is None:
        raise PeopleError("agency", "a partner user needs a partner agency")
    if isinstance(agency, PartnerAgency):
        return agency
    found = find_agency(session, agency)
    if found is None:
        raise PeopleError("agency", f"no partner agency with code '{agency}'")
    return found


def create_user(
    session: Session,
    name: str,
    role: str | Role,
    *,
    password: str | None = None,
    team: str | Team | None = None,
    agency: str | PartnerAgency | None = None,
    display_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> User:
    """Validate and add a user (in the default team unless ``team`` is given), or change nothing."""
    if not isinstance(name, str) or not USER_NAME_RE.fullmatch(name):
        raise PeopleError("name", "a user name must have 2 to 64 letters, digits, '.', '_' or '-'")
    user_role = parse_role(role)
    if password is not None:
        check_new_password(password, (name, display_name, email))
    check_contact(email, phone, display_name)
    team_ref = team if isinstance(team, Team) else check_team_name(team or DEFAULT_TEAM)
    partner_agency = resolve_agency(session, user_role, agency)
    if _name_taken(session, name):
        raise UserExists(name)
    password_hash = _hasher.hash(password) if password is not None else None
    try:
        with session.begin_nested():
            user = User(
                name=name,
                display_name=(display_name or name).strip(),
                email=email,
                phone=phone,
                role=user_role,
                team=team_ref if isinstance(team_ref, Team) else ensure_team(session, team_ref),
                agency=partner_agency,
                password_hash=password_hash,
                active=True,
            )
            session.add(user)
            session.flush()
    except IntegrityError:
        if _name_taken(session, name):
            raise UserExists(name) from None
        raise
    return user


def set_password(user: User, password: str, *, now: datetime | None = None) -> None:
    """Give ``user`` a new password (argon2id hash) and end the sessions begun before ``now``."""
    check_new_password(password, (user.name, user.display_name, user.email))
    user.password_hash = _hasher.hash(password)
    user.sessions_revoked_at = now or _utcnow()


def check_password(user: User, password: str) -> bool:
    """Tell whether ``password`` is the user's, upgrading the stored hash when argon2 asks."""
    stored = user.password_hash
    if not stored or not isinstance(password, str):
        return False
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return True


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, *, now: datetime | None = None) -> str:
    """Create a new API token for ``user`` and return it in plain text, this once only."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_digest(token),
                         prefix=token[:TOKEN_PREFIX_LENGTH], created_at=now or _utcnow()))
    session.flush()
    return token


def _find_token(session: Session, token: str) -> ApiToken | None:
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _digest(token))
    ).one_or_none()


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    """Return the active user a live token belongs to (noting its use at ``now``), or None."""
    row = _find_token(session, token)
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    row.last_used_at = now
    session.flush()
    return row.user


def revoke_token(
    session: Session, token: str | ApiToken, *, now: datetime | None = None
) -> bool:
    """Revoke a token given in plain text or as its row; tell whether it was live until now."""
    row = token if isinstance(token, ApiToken) else _find_token(session, token)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now or _utcnow()
    session.flush()
    return True


def can_act_on_task(
    user: User, *, task_role: str, assignee: str | None, task_team: str | None
) -> bool:
    """Tell whether ``user`` may claim or complete a task, following the rule in API.md."""
    if not user.active:
        return False
    if assignee is not None and assignee == user.name:
        return True
    if assignee is None and str(user.role) == task_role:
        return True
    return (
        user.role == Role.TEAM_LEADER
        and task_team is not None
        and user.team is not None
        and user.team.name == task_team
    )
