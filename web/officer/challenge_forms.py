"""The forms of ASB Case Review applications and complaints, and their errors in plain words.

An officer or team leader records what someone asks for by phone, letter or at the counter;
the records in ``cases.challenge`` check it, and their dotted error paths are put back on the
form's fields here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField

from cases.challenge import ApplicantRelationship

from .case_access import LONDON
from .forms import CONTACT_CHANNELS, _choices

RELATIONSHIPS = _choices([
    (ApplicantRelationship.VICTIM.value, "The victim"),
    (ApplicantRelationship.ON_BEHALF_OF_VICTIM.value,
     "Someone on the victim's behalf (family, carer, friend)"),
    (ApplicantRelationship.ELECTED_REPRESENTATIVE.value, "A councillor or MP"),
    (ApplicantRelationship.BUSINESS_OR_COMMUNITY.value, "A business or community group"),
    (ApplicantRelationship.OTHER.value, "Someone else"),
])
MADE_TO = _choices([("", "Not given"), ("police", "The police"),
                    ("social_landlord", "A social landlord")])
OTHER_ROWS = 3
DATE_FORMAT = "%d/%m/%Y"


class PersonFields(FlaskForm):
    """Who is asking, and how they want to hear back."""

    person_name = StringField("Full name")
    person_phone = StringField("Phone number")
    person_email = StringField("Email address")
    person_address = TextAreaField("Address")
    pref_channels = SelectMultipleField("How they want to hear from us",
                                        choices=CONTACT_CHANNELS, validate_choice=False)
    case_reference = StringField("Case reference (if there is one)")


class CaseReviewForm(PersonFields):
    """An application for an ASB Case Review (s104 of the 2014 Act)."""

    relationship = RadioField("Who is applying?", choices=RELATIONSHIPS, default="victim",
                              validate_choice=False)
    description = TextAreaField("What is the problem, and why are they asking for a review?")
    location = TextAreaField("Where does it happen?")
    postcode = StringField("Postcode (if known)")
    reported_name = StringField("Who causes it (if known)")
    other_made_to_0 = RadioField("Reported to", choices=MADE_TO, default="",
                                 validate_choice=False)
    other_occurred_0 = StringField("Date of the behaviour")
    other_reported_0 = StringField("Date reported")
    other_made_to_1 = RadioField("Reported to", choices=MADE_TO, default="",
                                 validate_choice=False)
    other_occurred_1 = StringField("Date of the behaviour")
    other_reported_1 = StringField("Date reported")
    other_made_to_2 = RadioField("Reported to", choices=MADE_TO, default="",
                                 validate_choice=False)
    other_occurred_2 = StringField("Date of the behaviour")
    other_reported_2 = StringField("Date reported")


class ComplaintForm(PersonFields):
    """A formal complaint about the ASB service."""

    about = TextAreaField("What is the complaint about?")
    outcome_sought = TextAreaField("What would put it right for them? (optional)")
    council_home = BooleanField("It is about the council as their landlord")


class ExtensionForm(FlaskForm):
    """More time to answer the open stage, once, with the reason the complainant is told."""

    days = StringField("How many more working days?")
    reason = TextAreaField("Why is more time needed?")


class EscalationForm(FlaskForm):
    """The complainant is still unhappy and asks for stage 2."""

    reason = TextAreaField("Why are they still unhappy?")


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def person_of(form: PersonFields) -> dict[str, Any]:
    """The applicant or complainant as the records take them."""
    given = {key: _clean(getattr(form, f"person_{key}").data)
             for key in ("name", "phone", "email", "address")}
    return {**{k: v for k, v in given.items() if v},
            "contact_preferences": {"channels": list(form.pref_channels.data or [])}}


def _date(text: str | None, name: str, label: str, errors: dict[str, str]) -> str | None:
    try:
        day = datetime.strptime((text or "").strip(), DATE_FORMAT)
    except ValueError:
        errors[name] = f"Enter the {label} as day/month/year, for example 3/11/2026"
        return None
    return day.replace(hour=12, tzinfo=LONDON).isoformat()


def other_reports_of(form: CaseReviewForm, errors: dict[str, str]) -> list[dict[str, str]]:
    """The reports made to the police or a landlord that the form lists (rows left blank are
    skipped); a half-filled row is an error on that row."""
    found = []
    for i in range(OTHER_ROWS):
        made_to = getattr(form, f"other_made_to_{i}").data or ""
        occurred = _clean(getattr(form, f"other_occurred_{i}").data)
        reported = _clean(getattr(form, f"other_reported_{i}").data)
        if not (made_to or occurred or reported):
            continue
        if not made_to:
            errors[f"other_made_to_{i}"] = f"Select who report {i + 1} was made to"
            continue
        when = _date(occurred, f"other_occurred_{i}", "date of the behaviour", errors)
        told = _date(reported, f"other_reported_{i}", "date it was reported", errors)
        if when and told:
            found.append({"made_to": made_to, "occurred_at": when, "reported_at": told})
    return found


def application_of(form: CaseReviewForm, errors: dict[str, str]) -> dict[str, Any]:
    """The form as ``tasks.case_review.apply_for_case_review`` takes it."""
    reported = _clean(form.reported_name.data)
    return {"applicant": person_of(form), "relationship": form.relationship.data or "victim",
            "description": _clean(form.description.data) or "",
            "location": _clean(form.location.data), "postcode": _clean(form.postcode.data),
            "reported_person": {"name": reported} if reported else None,
            "other_reports": other_reports_of(form, errors),
            "case_reference": _clean(form.case_reference.data)}


def complaint_of(form: ComplaintForm) -> dict[str, Any]:
    """The form as ``tasks.complaints.make_complaint`` takes it."""
    return {"complainant": person_of(form), "about": _clean(form.about.data) or "",
            "outcome_sought": _clean(form.outcome_sought.data),
            "council_home": bool(form.council_home.data),
            "case_reference": _clean(form.case_reference.data)}


# dotted path of the record -> (form field, what people call it)
FIELDS = {
    "applicant": ("person_name", "the applicant's details"),
    "complainant": ("person_name", "the complainant's details"),
    "name": ("person_name", "their full name"),
    "phone": ("person_phone", "their phone number"),
    "email": ("person_email", "their email address"),
    "address": ("person_address", "their address"),
    "contact_preferences": ("pref_channels", "how they want to hear from us"),
    "case_reference": ("case_reference", "the case reference"),
    "relationship": ("relationship", "who is applying"),
    "description": ("description", "what the problem is"),
    "location": ("location", "where it happens"),
    "postcode": ("postcode", "the postcode"),
    "reported_person": ("reported_name", "who causes it"),
    "about": ("about", "what the complaint is about"),
    "outcome_sought": ("outcome_sought", "what would put it right"),
    "council_home": ("council_home", "whether it is about their home"),
}
SELECTS = {"relationship", "pref_channels"}


def _field_of(path: str) -> tuple[str, str]:
    head, _, rest = path.partition(".")
    if head == "other_reports":
        index, _, part = rest.partition(".")
        if index.isdecimal():
            name = {"made_to": "other_made_to", "occurred_at": "other_occurred"}.get(
                part, "other_reported")
            return f"{name}_{index}", f"report {int(index) + 1}"
        return "other_made_to_0", "the other reports"
    if head in ("applicant", "complainant") and rest:
        return FIELDS.get(rest.partition(".")[0], FIELDS[head])
    return FIELDS.get(head, ("form", "the form"))


def map_errors(found: dict[str, str], into: dict[str, str]) -> None:
    """Put the record's errors (dotted paths) on the fields, in words people use."""
    for path, message in found.items():
        name, label = _field_of(path)
        if name in into:
            continue
        if message == "is required":
            text = f"{'Select' if name in SELECTS else 'Enter'} {label}"
        elif message.startswith(("must ", "is ", "has ", "cannot ")):
            text = f"{label[:1].upper()}{label[1:]} {message}"
        else:
            text = message[:1].upper() + message[1:]
        into[name] = text


def ordered(form: FlaskForm, errors: dict[str, str]) -> list[tuple[str, str]]:
    """The errors in the order their fields stand on the page."""
    order = [field.name for field in form]
    return sorted(errors.items(),
                  key=lambda item: order.index(item[0]) if item[0] in order else len(order))
