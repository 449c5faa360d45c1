"""The admin pages' forms: fields and CSRF only; the pages check what was typed."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    PasswordField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from cases.people import Role

ROLE_LABELS = {
    Role.OFFICER: "Officer",
    Role.TEAM_LEADER: "Team leader",
    Role.MANAGER: "Manager",
    Role.PROCESS_OWNER: "Process owner",
    Role.ADMIN: "Administrator",
    Role.PARTNER: "Partner agency user",
}
ROLE_HINTS = {
    Role.OFFICER: "Works cases in their inbox",
    Role.TEAM_LEADER: "Oversees their team's cases and can reassign them",
    Role.MANAGER: "Sees deadlines and outcomes across the service",
    Role.PROCESS_OWNER: "Edits and publishes the process diagrams",
    Role.ADMIN: "Manages users, teams and the council's settings",
    Role.PARTNER: "Answers the referrals sent to their agency",
}


class UserDetailsForm(FlaskForm):
    """What an administrator may change about a user."""

    display_name = StringField("Full name")
    email = StringField("Email address (optional)")
    phone = StringField("Phone number (optional)")
    role = RadioField("Role", choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in Role],
                      validate_choice=False)
    agency = StringField("Partner agency")
    team = StringField("Team")
    areas = SelectMultipleField("Areas covered (optional)", validate_choice=False)


class NewUserForm(UserDetailsForm):
    """A new user: the details plus a user name and an optional first password."""

    name = StringField("User name")
    password = PasswordField("Password (optional)")


class PasswordForm(FlaskForm):
    """A new password for a user, or none to generate one."""

    password = PasswordField("New password (optional)")


class DisableForm(FlaskForm):
    """Why a user is being disabled."""

    reason = TextAreaField("Why are you disabling this user?")


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF only."""


class TeamForm(FlaskForm):
    """A team's name."""

    name = StringField("Team name")


class AreaForm(FlaskForm):
    """A ward or other area."""

    name = StringField("Area name")
    code = StringField("Code (optional)")


class AgencyForm(FlaskForm):
    """A partner agency."""

    code = StringField("Code")
    name = StringField("Name")
    email = StringField("Contact email address (optional)")


class SettingForm(FlaskForm):
    """A new value of one council setting and the day it takes effect."""

    value = TextAreaField("New value")
    day = StringField("Day")
    month = StringField("Month")
    year = StringField("Year")
    note = TextAreaField("Reason for the change (optional)")
