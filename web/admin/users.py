"""Users: the list, adding one, changing one, disabling and enabling, and password resets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import flash, g, redirect, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

from cases import staff
from cases.audit import AuditEvent
from cases.people import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    USER_NAME_RE,
    Area,
    PartnerAgency,
    PeopleError,
    Role,
    Team,
    User,
    check_contact,
    check_new_password,
    create_user,
    set_password,
)
from engine import clock
from web.auth import notices, sessions, totp
from web.auth.breached import breach_problem
from web.auth.lockout import SIGNED_IN
from web.extensions import db
from web.templating import council_name

from .common import (
    Errors,
    audit,
    checked,
    email,
    get_or_404,
    me,
    page,
    people_error,
    refuse,
    text,
)
from .forms import (
    ROLE_HINTS,
    ROLE_LABELS,
    ConfirmForm,
    DisableForm,
    NewUserForm,
    PasswordForm,
    UserDetailsForm,
)

FORM = "admin/user_form.html"
STATUSES = {"active": "Can sign in", "disabled": "Disabled"}


def _choices(session: Session) -> dict[str, Any]:
    return {
        "teams": list(session.scalars(select(Team).order_by(Team.name))),
        "agencies": list(session.scalars(select(PartnerAgency).order_by(PartnerAgency.name))),
        "areas": list(session.scalars(select(Area).order_by(Area.name))),
        "role_labels": ROLE_LABELS, "role_hints": ROLE_HINTS,
    }


def last_sign_ins(session: Session, names: list[str]) -> dict[str, datetime]:
    """When each of the named users last signed in, from the audit trail (if known)."""
    if not names:
        return {}
    rows = session.execute(
        select(AuditEvent.object_id, func.max(AuditEvent.at))
        .where(AuditEvent.action == SIGNED_IN, AuditEvent.object_id.in_(names))
        .group_by(AuditEvent.object_id))
    return {str(name): at for name, at in rows if at is not None}


def users() -> str:
    """Every user, filtered by role and by whether they can sign in."""
    session = db()
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    query = (select(User).options(selectinload(User.areas), selectinload(User.team),
                                  selectinload(User.agency)).order_by(User.name))
    if role in {r.value for r in Role}:
        query = query.where(User.role == Role(role))
    else:
        role = ""
    if status in STATUSES:
        query = query.where(User.active.is_(status == "active"))
    else:
        status = ""
    found = list(session.scalars(query))
    return page("admin/users.html", users=found, role=role, status=status,
                role_labels=ROLE_LABELS, statuses=STATUSES,
                last=last_sign_ins(session, [u.name for u in found]))


def _pick(session: Session, model: Any, raw: Any) -> Any:
    value = str(raw or "").strip()
    if not value.isdecimal() or len(value) > 12:
        return None
    return session.get(model, int(value))


def _read_details(form: UserDetailsForm, session: Session, errors: Errors) -> dict[str, Any]:
    """The user's details from the form, with an error for each field that is not right."""
    display = text(form, "display_name", errors, "Full name", longest=128,
                   required="Enter the person's full name")
    address = email(form, "email", errors, "Email address")
    phone = text(form, "phone", errors, "Phone number", longest=32)
    if phone and "phone" not in errors:
        try:
            check_contact(None, phone, None)
        except PeopleError:
            errors["phone"] = ("Enter a phone number using digits, spaces and brackets only, "
                               "like 01246 345 345")
    role = Role(form.role.data) if form.role.data in {r.value for r in Role} else None
    if role is None:
        errors.setdefault("role", "Select the user's role")
    agency = None
    if role is Role.PARTNER:
        agency = _pick(session, PartnerAgency, form.agency.data)
        if agency is None:
            errors.setdefault("agency", "Select the partner agency the user works for")
    team = _pick(session, Team, form.team.data)
    if team is None:
        errors.setdefault("team", "Select a team")
    picked = [_pick(session, Area, raw) for raw in (form.areas.data or [])]
    if any(area is None for area in picked):
        errors.setdefault("areas", "Select areas from the list")
    return {"display_name": display, "email": address, "phone": phone or None,
            "role": role, "agency": agency, "team": team,
            "areas": [a for a in picked if a is not None]}


def _password(form: NewUserForm | PasswordForm, errors: Errors,
              context: tuple[str | None, ...]) -> str:
    """The typed password, refused when short, long, common, personal or known breached."""
    password = str(form.password.data or "")
    if password and len(password) < MIN_PASSWORD_LENGTH:
        errors.setdefault("password", f"Password must be {MIN_PASSWORD_LENGTH} characters or "
                                      "more, or leave it empty to generate one")
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors.setdefault("password", f"Password must be {MAX_PASSWORD_LENGTH} characters or "
                                      "fewer")
    elif password:
        try:
            check_new_password(password, (*context, council_name()))
        except PeopleError as exc:
            errors.setdefault("password", exc.message[:1].upper() + exc.message[1:])
        else:
            if (breached := breach_problem(password)) is not None:
                errors.setdefault("password", breached[:1].upper() + breached[1:])
    return password


def new_user() -> str | Response | tuple[str, int]:
    """Add a user; show a generated password once, or go back to the list."""
    session = db()
    form = NewUserForm()
    context = {"form": form, "user": None, **_choices(session)}
    if request.method == "GET":
        return page(FORM, **context)
    checked(form)
    errors: Errors = {}
    name = text(form, "name", errors, "User name", longest=64, required="Enter a user name")
    if name and not USER_NAME_RE.fullmatch(name):
        errors.setdefault("name", "User name must be 2 to 64 letters, digits, full stops, "
                                  "hyphens or underscores, with no spaces")
    details = _read_details(form, session, errors)
    password = _password(form, errors, (name, details["display_name"], details["email"]))
    if errors:
        return refuse(FORM, errors, **context)
    chosen = password or staff.generate_password()
    try:
        user = create_user(session, name, details["role"], password=chosen,
                           team=details["team"], agency=details["agency"],
                           display_name=details["display_name"], email=details["email"],
                           phone=details["phone"])
    except PeopleError as exc:
        people_error(exc, errors)
        return refuse(FORM, errors, **context)
    user.areas = details["areas"]
    session.flush()
    audit("user.created", "user", user.id, user=user.name, role=user.role.value,
          team=user.team.name, agency=user.agency.code if user.agency else None,
          areas=sorted(a.name for a in user.areas), generated=not password)
    if not password:
        return page("admin/password_shown.html", user=user, password=chosen, created=True)
    flash(f"{user.display_name} ({user.name}) was added and can sign in now.", "success")
    return redirect(url_for("admin.users"))


def _fill(form: UserDetailsForm, user: User) -> None:
    form.display_name.data = user.display_name
    form.email.data = user.email or ""
    form.phone.data = user.phone or ""
    form.role.data = user.role.value
    form.team.data = str(user.team_id)
    form.agency.data = str(user.agency_id or "")
    form.areas.data = [str(a.id) for a in user.areas]


def edit_user(user_id: int) -> str | Response | tuple[str, int]:
    """Change a user's details, role, team, agency and areas (never their user name)."""
    session = db()
    user: User = get_or_404(session, User, user_id)
    form = UserDetailsForm()
    context = {"form": form, "user": user, "itself": user.id == me().id,
               "tokens": staff.live_token_count(session, user),
               "sessions": sessions.open_sessions(user), **_choices(session)}
    if request.method == "GET":
        _fill(form, user)
        return page(FORM, **context)
    checked(form)
    errors: Errors = {}
    details = _read_details(form, session, errors)
    if user.id == me().id and details["role"] not in (None, Role.ADMIN):
        errors.setdefault("role", "You cannot change your own role: ask another administrator")
    if errors:
        return refuse(FORM, errors, **context)
    try:
        changes = staff.update_user(session, user, **details)
    except PeopleError as exc:
        people_error(exc, errors)
        return refuse(FORM, errors, **context)
    if changes:
        moved = {field: {"from": old, "to": new} for field, (old, new) in changes.items()
                 if field in ("role", "team", "agency", "areas")}
        audit("user.updated", "user", user.id, user=user.name, changed=sorted(changes), **moved)
        flash(f"The changes to {user.display_name} ({user.name}) were saved.", "success")
    else:
        flash(f"Nothing was changed for {user.display_name} ({user.name}).", "success")
    return redirect(url_for("admin.users"))


def disable_user(user_id: int) -> str | Response | tuple[str, int]:
    """Stop a user signing in, with a reason: their sessions end and their tokens stop."""
    session = db()
    user: User = get_or_404(session, User, user_id)
    form = DisableForm()
    context = {"form": form, "user": user, "itself": user.id == me().id}
    if request.method == "GET":
        return page("admin/user_disable.html", **context)
    checked(form)
    errors: Errors = {}
    if user.id == me().id:
        errors["reason"] = "You cannot disable your own account: ask another administrator"
    elif not user.active:
        errors["reason"] = f"{user.display_name} ({user.name}) is already disabled"
    reason = text(form, "reason", errors, "The reason", longest=500,
                  required="Enter why you are disabling this user")
    if errors:
        return refuse("admin/user_disable.html", errors, **context)
    revoked = staff.disable_user(session, user, now=clock.now())
    user.sessions_revoked_at = clock.now()  # re-enabling later must not revive old sessions
    staff.revoke_browser_sessions(session, user, now=clock.now())
    notices.tell_user(session, user, "disabled", now=clock.now(), by=me().name)
    audit("user.disabled", "user", user.id, user=user.name, reason=reason,
          revoked_api_access=revoked)
    flash(f"{user.display_name} ({user.name}) is disabled: they cannot sign in, any session "
          f"they had open has ended, and {revoked} API token{'' if revoked == 1 else 's'} "
          "stopped working.", "success")
    return redirect(url_for("admin.users"))


def enable_user(user_id: int) -> Response:
    """Let a disabled user sign in again."""
    session = db()
    user: User = get_or_404(session, User, user_id)
    checked(ConfirmForm())
    if user.active:
        flash(f"{user.display_name} ({user.name}) can already sign in.", "success")
    else:
        staff.enable_user(session, user)
        audit("user.enabled", "user", user.id, user=user.name)
        notices.tell_user(session, user, "enabled", now=clock.now(), by=me().name)
        flash(f"{user.display_name} ({user.name}) can sign in again. Their old API tokens "
              "stay revoked.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


def reset_password(user_id: int) -> str | Response | tuple[str, int]:
    """Give a user a new password: one typed here, or a generated one shown once."""
    session = db()
    user: User = get_or_404(session, User, user_id)
    form = PasswordForm()
    if request.method == "GET":
        return page("admin/user_password.html", form=form, user=user)
    checked(form)
    errors: Errors = {}
    password = _password(form, errors, (user.name, user.display_name, user.email))
    if errors:
        return refuse("admin/user_password.html", errors, form=form, user=user)
    chosen = password or staff.generate_password()
    try:
        set_password(user, chosen, now=clock.now())  # their open sessions end too
    except PeopleError as exc:
        people_error(exc, errors)
        return refuse("admin/user_password.html", errors, form=form, user=user)
    staff.revoke_browser_sessions(session, user, now=clock.now())
    audit("user.password_reset", "user", user.id, user=user.name, generated=not password)
    notices.tell_user(session, user, "password_reset", now=clock.now(), by=me().name)
    if not password:
        return page("admin/password_shown.html", user=user, password=chosen, created=False)
    flash(f"{user.display_name} ({user.name}) has a new password.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


def reset_two_factor(user_id: int) -> Response:
    """Forget a user's authenticator and recovery codes: they set up again at next sign-in."""
    session = db()
    user: User = get_or_404(session, User, user_id)
    checked(ConfirmForm())
    if user.totp_secret is None:
        flash(f"{user.display_name} ({user.name}) has not set up two-factor sign-in yet.",
              "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    totp.reset(user)
    user.sessions_revoked_at = clock.now()
    staff.revoke_browser_sessions(session, user, now=clock.now())
    audit("user.two_factor_reset", "user", user.id, user=user.name)
    notices.tell_user(session, user, "two_factor_reset", now=clock.now(), by=me().name)
    flash(f"Two-factor sign-in was reset for {user.display_name} ({user.name}): they set up "
          "their authenticator app again when they next sign in, and any session they had "
          "open has ended.", "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


def revoke_sessions(user_id: int) -> Response:
    """Sign a user out of every browser session (an administrator's own: all but this one)."""
    session = db()
    user: User = get_or_404(session, User, user_id)
    checked(ConfirmForm())
    now, itself = clock.now(), user.id == me().id
    if itself:
        ended = staff.revoke_browser_sessions(session, user, now=now,
                                              keep=g.get("browser_session_id"))
    else:
        ended = staff.revoke_browser_sessions(session, user, now=now)
        user.sessions_revoked_at = now  # sessions begun before their records existed too
        notices.tell_user(session, user, "sessions_revoked", now=now, by=me().name)
    audit("user.sessions_revoked", "user", user.id, user=user.name, ended=ended)
    flash(f"{user.display_name} ({user.name}) was signed out of {ended} "
          f"session{'' if ended == 1 else 's'}{' other than this one' if itself else ''}.",
          "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))
