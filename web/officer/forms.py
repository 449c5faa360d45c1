"""The case pages' forms: break-glass reason, evidence upload and the officer's new report."""

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

from cases.checks import FLAGS
from cases.enums import Category, HateStrand
from cases.evidence import EvidenceKind


def _choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


CHANNELS = _choices([("phone", "Phone"), ("face_to_face", "Face to face"), ("email", "Email")])
CONTACT_CHANNELS = _choices([("phone", "Phone"), ("email", "Email"), ("sms", "Text message"),
                             ("letter", "Letter")])
SAFE_DAYS = _choices([("any", "Any day"), ("mon-fri", "Monday to Friday"),
                      ("sat-sun", "Weekends")])
CATEGORIES = _choices([(c.value, c.value.capitalize()) for c in Category])
STRANDS = _choices([(s.value, s.value.replace("_", " ").capitalize()) for s in HateStrand])
FLAG_LABELS = {"child_at_risk": "A child is at risk", "vulnerable_adult": "A vulnerable adult",
               "repeat_victim": "Repeat victim", "threat_of_violence": "Threat of violence",
               "high_risk": "High risk"}
VULNERABILITIES = _choices([(f, FLAG_LABELS[f]) for f in FLAGS])
KINDS = _choices([(k.value, k.value.replace("_", " ").capitalize()) for k in EvidenceKind])


class BreakGlassForm(FlaskForm):
    """Why an officer needs a case they are not allowed to see."""

    reason = TextAreaField("Why do you need this case now?")


class EvidenceForm(FlaskForm):
    """One file of evidence."""

    kind = RadioField("What kind of evidence is it?", choices=KINDS, validate_choice=False)
    description = TextAreaField("Description (optional)")
    file = FileField("File")


class ReportForm(FlaskForm):
    """A report taken by an officer on the phone or face to face (checked by the case record)."""

    channel = RadioField("How was it reported?", choices=CHANNELS, validate_choice=False)
    reporter_name = StringField("Full name")
    reporter_phone = StringField("Phone number")
    reporter_email = StringField("Email address")
    reporter_address = TextAreaField("Address")
    pref_channels = SelectMultipleField("How they want to be contacted",
                                        choices=CONTACT_CHANNELS, validate_choice=False)
    unsafe_channels = SelectMultipleField("Ways it is not safe to contact them",
                                          choices=CONTACT_CHANNELS, validate_choice=False)
    safe_days = RadioField("Safe days", choices=SAFE_DAYS, default="any",
                           validate_choice=False)
    safe_from = StringField("Safe from (HH:MM)")
    safe_to = StringField("Safe until (HH:MM)")
    no_voicemail = BooleanField("Do not leave voicemail messages")
    confidential = BooleanField("Keep the reporter's identity confidential", default=True)
    incident_day = StringField("Day")
    incident_month = StringField("Month")
    incident_year = StringField("Year")
    incident_time = StringField("Time (24-hour, HH:MM)")
    location = TextAreaField("Where did it happen?")
    postcode = StringField("Postcode (if known)")
    description = TextAreaField("What happened?")
    category = RadioField("Category", choices=CATEGORIES, validate_choice=False)
    hate_strands = SelectMultipleField("Was it motivated by hostility towards…",
                                       choices=STRANDS, validate_choice=False)
    vulnerability = SelectMultipleField("Vulnerability and risk", choices=VULNERABILITIES,
                                        validate_choice=False)
    reported_name = StringField("Name of the reported person")
    reported_address = TextAreaField("Address of the reported person")
    witness_name = StringField("Witness's name")
    witness_phone = StringField("Witness's phone number")
