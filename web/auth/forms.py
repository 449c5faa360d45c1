"""The sign-in form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class SignInForm(FlaskForm):
    """User name and password."""

    user_name = StringField(
        "User name", widget=GovTextInput(), filters=[_strip],
        validators=[DataRequired(message="Enter your user name"),
                    Length(max=64, message="User name must be 64 characters or fewer")],
    )
    password = PasswordField(
        "Password", widget=GovPasswordInput(),
        validators=[DataRequired(message="Enter your password"),
                    Length(max=1024, message="Password must be 1024 characters or fewer")],
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    """The 6-digit code from an authenticator app, or a recovery code."""

    code = StringField(
        "Code", widget=GovTextInput(), filters=[_strip],
        validators=[DataRequired(message="Enter the code from your authenticator app"),
                    Length(max=32, message="Enter the 6-digit code or a recovery code")],
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class ChangePasswordForm(FlaskForm):
    """The current password and a new one, typed twice."""

    current = PasswordField(
        "Current password", widget=GovPasswordInput(),
        validators=[DataRequired(message="Enter your current password"),
                    Length(max=1024, message="Password must be 1024 characters or fewer")],
    )
    new = PasswordField(
        "New password", widget=GovPasswordInput(),
        validators=[DataRequired(message="Enter a new password")],
    )
    confirm = PasswordField(
        "Type the new password again", widget=GovPasswordInput(),
        validators=[DataRequired(message="Type the new password again")],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class SignOutOthersForm(FlaskForm):
    """Only the CSRF token: sign out of every other session."""

    submit = SubmitField("Sign out of all other sessions", widget=GovSubmitInput())


class NewRecoveryCodesForm(FlaskForm):
    """The current password again, before new recovery codes replace the old ones."""

    current = PasswordField(
        "Your password", widget=GovPasswordInput(),
        validators=[DataRequired(message="Enter your password"),
                    Length(max=1024, message="Password must be 1024 characters or fewer")],
    )
    submit = SubmitField("Make new recovery codes", widget=GovSubmitInput())
