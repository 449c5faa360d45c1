"""The reporters' forms: the public report, following a case, and what they send later."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from web.officer.forms import CATEGORIES, CONTACT_CHANNELS, KINDS, SAFE_DAYS, ReportForm

ANONYMOUS = [SelectChoice("no", "Yes, I will give my name and how to contact me"),
             SelectChoice("yes", "No, I want to report anonymously")]


class PublicReportForm(ReportForm):
    """The officer's report form, asked of the reporter themselves, with an anonymous choice."""

    anonymous = RadioField("Do you want to give your name and contact details?",
                           choices=ANONYMOUS, default="no", validate_choice=False)


class FollowForm(FlaskForm):
    """A case reference and its follow-up code."""

    reference = StringField("Case reference")
    code = StringField("Follow-up code")


class IncidentForm(FlaskForm):
    """A new incident, as the reporter tells it."""

    incident_day = StringField("Day")
    incident_month = StringField("Month")
    incident_year = StringField("Year")
    incident_time = StringField("Time (24-hour, HH:MM)")
    location = TextAreaField("Where did it happen?")
    description = TextAreaField("What happened?")
    category = RadioField("What kind of problem is it?", choices=CATEGORIES,
                          validate_choice=False)


class DiaryForm(FlaskForm):
    """One diary entry."""

    incident_day = StringField("Day")
    incident_month = StringField("Month")
    incident_year = StringField("Year")
    incident_time = StringField("Time (24-hour, HH:MM)")
    what_happened = TextAreaField("What happened?")
    effect = TextAreaField("How did it affect you? (optional)")


class EvidenceUploadForm(FlaskForm):
    """One file of evidence."""

    kind = RadioField("What kind of evidence is it?", choices=KINDS, validate_choice=False)
    description = TextAreaField("Tell us what it shows (optional)")
    file = FileField("File")


class TextForm(FlaskForm):
    """A change of circumstances, a Case Review application or a complaint, in their words."""

    details = TextAreaField("Details")
    outcome_sought = TextAreaField("What would put things right? (optional)")


class PreferencesForm(FlaskForm):
    """How, when and how often the reporter wants to hear from the council."""

    pref_channels = SelectMultipleField("How do you want us to contact you?",
                                        choices=CONTACT_CHANNELS, validate_choice=False)
    unsafe_channels = SelectMultipleField("Is any of these not safe for you?",
                                          choices=CONTACT_CHANNELS, validate_choice=False)
    safe_days = RadioField("Safe days", choices=SAFE_DAYS, default="any",
                           validate_choice=False)
    safe_from = StringField("Safe from (HH:MM)")
    safe_to = StringField("Safe until (HH:MM)")
    no_voicemail = BooleanField("Do not leave voicemail messages")
    frequency = RadioField("How often do you want an update?", validate_choice=False)
