"""A new report taken by an officer (phone or face to face), opened as a case in one step."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from cases.checks import FLAGS, check_report
from cases.records import CaseDataInvalid
from engine import clock
from tasks import cases_service
from web.extensions import case_engine, db, rollback_only

from .case_access import LONDON, audit, london, user
from .forms import ReportForm

_HHMM_RE = re.compile(r"([01]?[0-9]|2[0-3])[:.]([0-5][0-9])")
# dotted path of the case record -> (form field, what the field is called in messages)
FIELDS: dict[str, tuple[str, str]] = {
    "channel": ("channel", "how it was reported"),
    "reporter.name": ("reporter_name", "the reporter's full name"),
    "reporter.phone": ("reporter_phone", "the reporter's phone number"),
    "reporter.email": ("reporter_email", "the reporter's email address"),
    "reporter.address": ("reporter_address", "the reporter's address"),
    "reporter.contact_preferences.channels": ("pref_channels", "how they want to be contacted"),
    "reporter.contact_preferences.unsafe_channels": ("unsafe_channels", "unsafe ways"),
    "reporter.contact_preferences.safe_times.0.days": ("safe_days", "safe days"),
    "reporter.contact_preferences.safe_times.0.from": ("safe_from", "the safe-from time"),
    "reporter.contact_preferences.safe_times.0.to": ("safe_to", "the safe-until time"),
    "reporter.contact_preferences.safe_times": ("safe_from", "the safe times"),
    "incident.occurred_at": ("incident_date", "when it happened"),
    "incident.location": ("location", "where it happened"),
    "incident.postcode": ("postcode", "the postcode"),
    "incident.description": ("description", "what happened"),
    "incident.category": ("category", "a category"),
    "incident.hate_strands": ("hate_strands", "the hate strands"),
    "vulnerability": ("vulnerability", "the vulnerability flags"),
}
PEOPLE_FIELDS = {"reported_person": {"name": "reported_name", "address": "reported_address"},
                 "witness": {"name": "witness_name", "phone": "witness_phone"}}
CHOICES = {"channel", "category", "safe_days"}
# The order of the error summary: the order of the fields on the page.
ORDER = [name for name in ReportForm.__dict__ if not name.startswith("_")]


def _occurred_at(form: ReportForm, errors: dict[str, str]) -> str | None:
    parts = [(getattr(form, f"incident_{p}").data or "").strip()
             for p in ("day", "month", "year")]
    when = (form.incident_time.data or "").strip()
    if not any(parts):
        errors["incident_date"] = "Enter the date the incident happened"
        return None
    try:
        day = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        errors["incident_date"] = "The date the incident happened must be a real date"
        return None
    if day.year < 1900:
        errors["incident_date"] = "The year must include 4 numbers"
        return None
    found = _HHMM_RE.fullmatch(when)
    if not found:
        errors["incident_time"] = ("Enter the time the incident happened, as HH:MM, "
                                   "for example 21:30" if when else
                                   "Enter the time the incident happened")
        return None
    moment = datetime(day.year, day.month, day.day, int(found.group(1)), int(found.group(2)),
                      tzinfo=LONDON)
    return moment.isoformat()


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def build_report(form: ReportForm, errors: dict[str, str]
                 ) -> tuple[dict[str, Any], dict[int, str]]:
    """The form as ``POST /api/v1/cases`` takes a report, and the role of each person in it."""
    prefs: dict[str, Any] = {"channels": list(form.pref_channels.data or []),
                             "unsafe_channels": list(form.unsafe_channels.data or []),
                             "no_voicemail": bool(form.no_voicemail.data),
                             "confidential": bool(form.confidential.data)}
    if _clean(form.safe_from.data) or _clean(form.safe_to.data):
        prefs["safe_times"] = [{"days": form.safe_days.data or "any",
                                "from": _clean(form.safe_from.data),
                                "to": _clean(form.safe_to.data)}]
    reporter = {key: _clean(getattr(form, f"reporter_{key}").data)
                for key in ("name", "phone", "email", "address")}
    incident: dict[str, Any] = {
        "occurred_at": _occurred_at(form, errors), "location": _clean(form.location.data),
        "description": _clean(form.description.data), "category": form.category.data or None,
        "hate_strands": list(form.hate_strands.data or [])}
    if _clean(form.postcode.data):
        incident["postcode"] = _clean(form.postcode.data)
    people, roles = [], {}
    for role, fields in PEOPLE_FIELDS.items():
        given = {key: _clean(getattr(form, name).data) for key, name in fields.items()}
        if any(given.values()):
            roles[len(people)] = role
            people.append({"role": role, **{k: v for k, v in given.items() if v}})
    report = {"channel": form.channel.data or None,
              "reporter": {**{k: v for k, v in reporter.items() if v},
                           "contact_preferences": prefs},
              "incident": incident,
              "vulnerability": {flag: flag in (form.vulnerability.data or []) for flag in FLAGS},
              "people": people}
    return report, roles


def _field_of(path: str, roles: dict[int, str]) -> tuple[str, str]:
    if path.startswith("people."):
        index, _, rest = path.removeprefix("people.").partition(".")
        fields = PEOPLE_FIELDS.get(roles.get(int(index) if index.isdecimal() else -1, ""), {})
        name = fields.get(rest) or next(iter(fields.values()), "reported_name")
        return name, "the " + name.replace("_", " ")
    while path:
        if path in FIELDS:
            return FIELDS[path]
        path = path.rpartition(".")[0]
    return "", "the report"


def map_errors(found: dict[str, str], roles: dict[int, str], into: dict[str, str]) -> None:
    """Put the case record's errors (dotted paths) on the form's fields, in words people use."""
    for path, message in found.items():
        name, label = _field_of(path, roles)
        if name in into:
            continue
        if message == "is required":
            text = f"{'Select' if name in CHOICES else 'Enter'} {label}"
        else:
            text = f"{label[0].upper()}{label[1:]} {message}"
        into[name or "form"] = text


def _ordered(errors: dict[str, str]) -> list[tuple[str, str]]:
    def rank(name: str) -> int:
        key = "incident_day" if name == "incident_date" else name
        return ORDER.index(key) if key in ORDER else len(ORDER)

    return sorted(errors.items(), key=lambda item: rank(item[0]))


def _page(form: ReportForm, errors: dict[str, str]) -> tuple[str, int]:
    status = 400 if errors else 200
    return render_template("casefile/new_report.html", form=form, errors=errors,
                           summary=_ordered(errors)), status


def new_report() -> Response | tuple[str, int]:
    """Take a report and open its case; on any error show the form again, writing nothing."""
    form = ReportForm()
    if request.method == "GET":
        return _page(form, {})
    if not form.validate():
        abort(400)
    errors: dict[str, str] = {}
    report, roles = build_report(form, errors)
    now = clock.now()
    try:
        check_report(report, now)
    except CaseDataInvalid as exc:
        map_errors(exc.errors, roles, errors)
    if errors:
        rollback_only()
        return _page(form, errors)
    try:
        case = cases_service.open_case(db(), case_engine(), report, actor=user().name,
                                       received_at=now)
    except CaseDataInvalid as exc:
        rollback_only()
        map_errors(exc.errors, roles, errors)
        return _page(form, errors)
    audit("case.opened_by_officer", case, priority=case.priority, channel=str(case.channel))
    flash(f"Case {case.reference} opened: priority {case.priority or 'not yet set'}, first "
          f"contact due by {london(case.first_contact_due_at)}", "success")
    return redirect(url_for("casefile.case_file", reference=case.reference))
