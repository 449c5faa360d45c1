"""Administering people: change, disable and enable users; add and rename teams, wards, agencies.

``cases.people`` creates users and checks credentials; this module holds what an
administrator changes afterwards. Every function validates first and changes nothing when
it refuses (``PeopleError`` naming the field); none commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, String, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.base import Base, Timestamp
from cases.people import (
    ApiToken,
    Area,
    PartnerAgency,
    PeopleError,
    Role,
    Team,
    User,
    check_agency_code,
    check_contact,
    check_team_name,
    parse_role,
    resolve_agency,
)
from cases.records import Case

_AREA_CODE_RE = re.compile(r"[A-Za-z0-9._-]{1,32}")
GENERATED_PASSWORD_BYTES = 15  # 20 characters of URL-safe base64


def generate_password() -> str:
    """Return a new random password (20 characters), to be shown to the administrator once."""
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def update_user(
    session: Session,
    user: User,
    *,
    display_name: str,
    email: str | None,
    phone: str | None,
    role: str | Role,
    team: Team,
    agency: PartnerAgency | None,
    areas: list[Area],
) -> dict[str, tuple[Any, Any]]:
    """Change a user's details, role, team, agency and areas; return ``{field: (old, new)}``.

    ``agency`` is ignored for a role other than partner (a partner needs one). The user name
    never changes: audit rows, tasks and cases refer to it.
    """
    new_role = parse_role(role)
    check_contact(email, phone, display_name)
    new_agency = resolve_agency(session, new_role, agency if new_role is Role.PARTNER else None)
    wanted: dict[str, Any] = {
        "display_name": display_name.strip(), "email": email, "phone": phone,
        "role": new_role, "team": team, "agency": new_agency,
    }
    changes: dict[str, tuple[Any, Any]] = {}
    for field, value in wanted.items():
        old = getattr(user, field)
        if old != value:
            changes[field] = (_plain(old), _plain(value))
            setattr(user, field, value)
    old_areas = sorted(a.name for a in user.areas)
    new_areas = sorted({a.name: a for a in areas}.values(), key=lambda a: a.name)
    if old_areas != [a.name for a in new_areas]:
        changes["areas"] = (old_areas, [a.name for a in new_areas])
        user.areas = list(new_areas)
    session.flush()
    return changes


def _plain(value: Any) -> Any:
    if isinstance(value, Role):
        return value.value
    if isinstance(value, Team | PartnerAgency):
        return value.name
    return value


def disable_user(session: Session, user: User, *, now: datetime) -> int:
    """Stop ``user`` signing in and revoke their live API tokens; return how many were live.

    Their open sessions end at their next request, which checks ``active``.
    """
    user.active = False
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch"))
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def enable_user(session: Session, user: User) -> None:
    """Let ``user`` sign in again (their revoked tokens stay revoked; issue new ones)."""
    user.active = True
    session.flush()


def live_token_count(session: Session, user: User) -> int:
    """How many unrevoked API tokens ``user`` holds."""
    found = session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    return int(found or 0)


def _taken(session: Session, column: Any, value: str, exclude_id: int | None = None) -> bool:
    query = select(column.class_.id).where(func.lower(column) == value.lower())
    if exclude_id is not None:
        query = query.where(column.class_.id != exclude_id)
    return session.scalars(query).first() is not None


def _add(session: Session, row: Any, field: str, message: str) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise PeopleError(field, message) from None


def add_team(session: Session, name: str) -> Team:
    """Add a team called ``name``; refuse a name another team has (in any letter case)."""
    clean = _team_name(name)
    if _taken(session, Team.name, clean):
        raise PeopleError("name", f"a team called '{clean}' already exists")
    team = Team(name=clean)
    _add(session, team, "name", f"a team called '{clean}' already exists")
    return team


def _team_name(name: str) -> str:
    try:
        return check_team_name(name)
    except PeopleError as exc:
        raise PeopleError("name", exc.message) from None


def rename_team(session: Session, team: Team, name: str) -> str:
    """Rename ``team`` (its cases follow the new name, so access is unchanged); return the old."""
    clean = _team_name(name)
    if _taken(session, Team.name, clean, exclude_id=team.id):
        raise PeopleError("name", f"a team called '{clean}' already exists")
    old = team.name
    if old != clean:
        team.name = clean
        session.execute(update(Case).where(Case.team == old).values(team=clean)
                        .execution_options(synchronize_session="fetch"))
        session.flush()
    return old


def team_leaders(session: Session, team: Team) -> list[User]:
    """The team's active team leaders; the first by user name leads its new cases."""
    return list(session.scalars(select(User).where(
        User.team_id == team.id, User.role == Role.TEAM_LEADER, User.active.is_(True))
        .order_by(User.name)))


def add_area(session: Session, name: str, code: str | None = None) -> Area:
    """Add a ward (or other area) with an optional code; refuse a name or code in use."""
    clean = name.strip()
    if not 1 <= len(clean) <= 128:
        raise PeopleError("name", "an area name must have 1 to 128 characters")
    code = (code or "").strip() or None
    if code is not None and not _AREA_CODE_RE.fullmatch(code):
        raise PeopleError("code", "an area code must have 1 to 32 letters, digits, '.', '_' or "
                                  "'-'")
    if _taken(session, Area.name, clean):
        raise PeopleError("name", f"an area called '{clean}' already exists")
    if code is not None and _taken(session, Area.code, code):
        raise PeopleError("code", f"an area with the code '{code}' already exists")
    area = Area(name=clean, code=code)
    _add(session, area, "name", f"an area called '{clean}' already exists")
    return area


def _agency_details(name: str, email: str | None) -> tuple[str, str | None]:
    clean = name.strip()
    if not 1 <= len(clean) <= 128:
        raise PeopleError("name", "an agency name must have 1 to 128 characters")
    email = (email or "").strip() or None
    check_contact(email, None, None)
    return clean, email


def add_agency(session: Session, code: str, name: str, email: str | None = None
               ) -> PartnerAgency:
    """Add a partner agency; refuse a code or a name another agency has."""
    code = code.strip()
    try:
        check_agency_code(code)
    except PeopleError as exc:
        raise PeopleError("code", exc.message) from None
    clean, email = _agency_details(name, email)
    if _taken(session, PartnerAgency.code, code):
        raise PeopleError("code", f"an agency with the code '{code}' already exists")
    if _taken(session, PartnerAgency.name, clean):
        raise PeopleError("name", f"an agency called '{clean}' already exists")
    agency = PartnerAgency(code=code, name=clean, email=email)
    _add(session, agency, "code", f"an agency with the code '{code}' already exists")
    return agency


def update_agency(session: Session, agency: PartnerAgency, name: str, email: str | None
                  ) -> dict[str, tuple[Any, Any]]:
    """Change an agency's name and contact e-mail (its code is fixed); return what changed."""
    clean, email = _agency_details(name, email)
    if _taken(session, PartnerAgency.name, clean, exclude_id=agency.id):
        raise PeopleError("name", f"an agency called '{clean}' already exists")
    changes: dict[str, tuple[Any, Any]] = {}
    for field, value in (("name", clean), ("email", email)):
        if getattr(agency, field) != value:
            changes[field] = (getattr(agency, field), value)
            setattr(agency, field, value)
    session.flush()
    return changes


# -- browser sessions (ASVS 3.3.4): one row per sign-in, found by the digest of its id ------

TOUCH_EVERY = timedelta(minutes=1)


class BrowserSession(Base):
    """A signed-in browser session: the SHA-256 of its random id, never the id itself."""

    __tablename__ = "browser_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp())
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp())
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp())
    # Coarse only: "Firefox on Windows" and the first two octets of the address ("192.168.x.x").
    browser: Mapped[str] = mapped_column(String(80), default="")
    network: Mapped[str] = mapped_column(String(40), default="")


def session_digest(session_id: str) -> str:
    """The stored form of a browser session's id."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start_browser_session(session: Session, user: User, session_id: str, *, now: datetime,
                          browser: str = "", network: str = "") -> BrowserSession:
    """Record a new browser session of ``user`` (or the existing row of the same id)."""
    digest = session_digest(session_id)
    try:
        with session.begin_nested():
            row = BrowserSession(token_hash=digest, user_id=user.id, created_at=now,
                                 last_seen_at=now, browser=browser[:80], network=network[:40])
            session.add(row)
            session.flush()
    except IntegrityError:  # the same id recorded by a request running alongside
        found = find_browser_session(session, session_id)
        if found is None:
            raise
        return found
    return row


def find_browser_session(session: Session, session_id: str) -> BrowserSession | None:
    """The row of a session id: one lookup on a unique index."""
    found: BrowserSession | None = session.scalar(
        select(BrowserSession).where(BrowserSession.token_hash == session_digest(session_id)))
    return found


def touch_browser_session(row: BrowserSession, now: datetime) -> None:
    """Note that the session was used, writing at most once a minute."""
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now


def revoke_browser_sessions(session: Session, user: User, *, now: datetime,
                            keep: int | None = None, only: int | None = None) -> int:
    """End ``user``'s open sessions (all, all but ``keep``, or just ``only``); return how many."""
    query = (update(BrowserSession)
             .where(BrowserSession.user_id == user.id, BrowserSession.revoked_at.is_(None))
             .values(revoked_at=now).execution_options(synchronize_session=False))
    if keep is not None:
        query = query.where(BrowserSession.id != keep)
    if only is not None:
        query = query.where(BrowserSession.id == only)
    session.flush()
    result = session.execute(query)
    for row in list(session.identity_map.values()):  # loaded rows read the change afresh
        if isinstance(row, BrowserSession) and row.user_id == user.id:
            session.expire(row, ["revoked_at"])
    return int(getattr(result, "rowcount", 0) or 0)


def open_browser_sessions(session: Session, user: User, *, now: datetime, idle: timedelta,
                          longest: timedelta) -> list[BrowserSession]:
    """``user``'s sessions still open at ``now`` (not revoked, not timed out), newest first."""
    query = (select(BrowserSession)
             .where(BrowserSession.user_id == user.id, BrowserSession.revoked_at.is_(None),
                    BrowserSession.last_seen_at > now - idle - TOUCH_EVERY,
                    BrowserSession.created_at > now - longest)
             .order_by(BrowserSession.created_at.desc(), BrowserSession.id.desc()))
    if user.sessions_revoked_at is not None:
        query = query.where(BrowserSession.created_at >= user.sessions_revoked_at)
    return list(session.scalars(query))


def revoked_since(session: Session, user: User, moment: datetime) -> bool:
    """Tell whether any session of ``user`` was ended at or after ``moment``."""
    found = session.scalar(select(BrowserSession.id).where(
        BrowserSession.user_id == user.id, BrowserSession.revoked_at >= moment).limit(1))
    return found is not None


KEEP_SESSION_RECORDS = timedelta(days=7)  # far beyond any absolute session timeout


def purge_browser_sessions(session: Session, now: datetime) -> int:
    """Delete session records begun more than ``KEEP_SESSION_RECORDS`` ago; return how many.

    Such sessions ended long since by the absolute timeout, so no cookie can bring one back.
    """
    result = session.execute(
        delete(BrowserSession).where(BrowserSession.created_at < now - KEEP_SESSION_RECORDS)
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
