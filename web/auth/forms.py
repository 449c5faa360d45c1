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
