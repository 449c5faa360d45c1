"""The council's configuration: every setting in force with its provenance, its history, and
new values scheduled from a date (today or later). Values already in force never change.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.config import (
    DEFAULTS,
    LOCAL_TZ,
    ConfigInvalid,
    CouncilSetting,
    cancel_scheduled,
    get_setting,
    history,
    schedule_setting,
    settings_in_force,
    validate,
)
from engine import clock
from web.extensions import db

from .common import Errors, audit, checked, me, page, refuse, sentence, text
from .forms import ConfirmForm, SettingForm

FORM = "admin/setting.html"
LONGEST_VALUE = 100_000
_WHOLE_RE = re.compile(r"-?[0-9]{1,9}")

# key: (label, what it means). The order is the order of the configuration page.
SETTINGS: dict[str, tuple[str, str]] = {
    "council_details": ("Council details", "How the council signs its letters and pages: "
                        "name, phone, email, address lines, website, Case Review and "
                        "complaints pages."),
    "close_of_business": ("Close of business", "The time (24-hour HH:MM, UK time) by which a "
                          "deadline 'within N working days' falls due."),
    "first_contact_working_days": ("First contact deadlines", "Working days to make first "
                                   "contact, by priority: \"1\" and \"2\"."),
    "update_cadence_working_days": ("Default update cadence", "Working days between updates "
                                    "to the reporter, by priority: \"1\" and \"2\"."),
    "update_cadence_choices": ("Update cadence choices", "The update frequencies an officer "
                               "can agree with a reporter, each in working days."),
    "repeat_victim_rules": ("Repeat victim rules", "How many reports within how many days "
                            "make a repeat victim: a short and a long window."),
    "case_review_threshold": ("Case Review threshold", "Qualifying complaints that meet the "
                              "Case Review threshold (the law allows at most 3)."),
    "case_review_window_months": ("Case Review window", "Months before an application in "
                                  "which qualifying complaints count (at least 6)."),
    "case_review_qualifying_months": ("Case Review qualifying period", "Months after the "
                                      "behaviour within which a complaint must be made to "
                                      "qualify."),
    "case_review_timescales_working_days": ("Case Review timescales", "Working days to "
                                            "acknowledge, decide and give the outcome."),
    "complaint_timescales_working_days": ("Complaint timescales", "Working days for each "
                                          "step of the two-stage complaints procedure and the "
                                          "longest extension."),
    "reopen_window_days": ("Re-open window", "Days after closure within which a new report "
                           "re-opens the case."),
    "retention_years": ("Retention period", "Years a closed case is kept before it is "
                        "reviewed for deletion (1 to 10)."),
    "homes_count": ("Homes owned", "Homes the council owns, for the Tenant Satisfaction "
                    "Measures per 1,000 homes (0 if none)."),
    "partner_directory": ("Partner directory", "The agencies cases are referred to or shared "
                          "with: code, name, email and kinds of work."),
    "postcode_wards": ("Postcode to ward table", "Postcode prefixes and the ward each one "
                       "falls in; the longest matching prefix wins."),
}


def kind_of(key: str) -> str:
    """How a setting is typed in: "number", "text", or "json" for structured values."""
    default = DEFAULTS[key]
    if isinstance(default, int) and not isinstance(default, bool):
        return "number"
    return "text" if isinstance(default, str) else "json"


def shown(value: Any, kind: str) -> str:
    """A value as it is typed in: structured ones as indented JSON."""
    if kind == "json":
        return json.dumps(value, indent=2, ensure_ascii=False)
    return str(value)


def _label(key: str) -> tuple[str, str]:
    return SETTINGS.get(key, (key.replace("_", " ").capitalize(), ""))


def configuration() -> str:
    """Every setting: the value in force now, where it came from, and any scheduled change."""
    session = db()
    now = clock.now()
    in_force = settings_in_force(session, now=clock.now)
    upcoming: dict[str, list[CouncilSetting]] = {}
    for row in session.scalars(select(CouncilSetting).where(CouncilSetting.effective_from > now)
                               .order_by(CouncilSetting.effective_from)):
        upcoming.setdefault(row.key, []).append(row)
    keys = [k for k in SETTINGS if k in DEFAULTS] + sorted(set(DEFAULTS) - set(SETTINGS))
    items = [{"key": key, "label": _label(key)[0], "description": _label(key)[1],
              "kind": kind_of(key), "shown": shown(in_force[key]["value"], kind_of(key)),
              "in_force": in_force[key], "upcoming": upcoming.get(key, [])} for key in keys]
    return page("admin/configuration.html", items=items)


def _context(key: str, form: SettingForm) -> dict[str, Any]:
    session = db()
    now = clock.now()
    rows = history(session, key)
    current = next((row for row in rows if row.effective_from <= now), None)
    return {"form": form, "key": key, "label": _label(key)[0], "description": _label(key)[1],
            "kind": kind_of(key), "rows": rows, "current": current, "now": now,
            "shown": lambda value: shown(value, kind_of(key)),
            "default": shown(DEFAULTS[key], kind_of(key)),
            "today": now.astimezone(LOCAL_TZ).date()}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _value(form: SettingForm, kind: str, errors: Errors) -> Any:
    raw = str(form.value.data or "")
    if len(raw) > LONGEST_VALUE:
        errors["value"] = f"The value must be {LONGEST_VALUE:,} characters or fewer"
        return None
    if "\x00" in raw:
        errors["value"] = "The value must not contain control characters"
        return None
    if not raw.strip():
        errors["value"] = "Enter the new value"
        return None
    if kind == "number":
        if not _WHOLE_RE.fullmatch(raw.strip()):
            errors["value"] = "Enter a whole number, like 6"
            return None
        return int(raw.strip())
    if kind == "text":
        return raw.strip()
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        errors["value"] = (f"Enter the value as valid JSON: {exc.msg.lower()} at line "
                           f"{exc.lineno}, column {exc.colno}")
    except ValueError as exc:
        errors["value"] = f"Enter the value as valid JSON: {exc}"
    except RecursionError:
        errors["value"] = "Enter the value as valid JSON: it is nested too deeply"
    return None


def _starts(form: SettingForm, today: date, errors: Errors) -> date | None:
    parts = [str(getattr(form, name).data or "").strip() for name in ("day", "month", "year")]
    if not any(parts):
        errors["effective_from"] = "Enter the date the new value takes effect"
        return None
    if not all(parts):
        missing = [name for name, part in zip(("day", "month", "year"), parts, strict=True)
                   if not part]
        errors["effective_from"] = f"The date the new value takes effect must include a " \
                                   f"{' and '.join(missing)}"
        return None
    if not all(part.isdecimal() and len(part) <= 4 for part in parts) or len(parts[2]) != 4:
        errors["effective_from"] = "The date must be a real date, like 1 4 2027"
        return None
    try:
        starts = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        errors["effective_from"] = "The date must be a real date, like 1 4 2027"
        return None
    if starts < today:
        errors["effective_from"] = ("The date must be today or in the future: values already in "
                                    "force are never changed")
        return None
    return starts


def setting(key: str) -> str | Response | tuple[str, int]:
    """One setting's history, and a new value scheduled from a date."""
    if key not in DEFAULTS:
        abort(404)
    session = db()
    form = SettingForm()
    context = _context(key, form)
    if request.method == "GET":
        form.value.data = shown(get_setting(session, key, now=clock.now), context["kind"])
        return page(FORM, **context)
    checked(form)
    errors: Errors = {}
    value = _value(form, context["kind"], errors)
    if "value" not in errors:
        try:
            value = validate(key, value)
        except ConfigInvalid as exc:
            errors["value"] = sentence(exc.message)
    starts = _starts(form, context["today"], errors)
    note = text(form, "note", errors, "The reason", longest=500)
    if errors or starts is None:
        return refuse(FORM, errors, **context)
    try:
        row = schedule_setting(session, key, value, starts, me().name, note or None,
                               now=clock.now)
    except ConfigInvalid as exc:
        errors["effective_from" if exc.field == "effective_from" else "value"] = (
            sentence(exc.message))
        return refuse(FORM, errors, **context)
    audit("config.scheduled", "council_setting", row.id, key=key,
          effective_from=row.effective_from.isoformat(), value=row.value)
    flash(f"{_label(key)[0]}: the new value takes effect {_when(row.effective_from)}.", "success")
    return redirect(url_for("admin.setting", key=key))


def _when(moment: datetime) -> str:
    local = moment.astimezone(LOCAL_TZ)
    if local.date() == clock.now().astimezone(LOCAL_TZ).date() and moment <= clock.now():
        return "now"
    return f"on {local.day} {local:%B %Y}" + ("" if local.hour == local.minute == 0
                                              else f" at {local:%H:%M}")


def cancel_setting(key: str, setting_id: int) -> Response | tuple[str, int]:
    """Withdraw a value that has not taken effect yet; one in force stays in the history."""
    checked(ConfirmForm())
    session = db()
    row = session.get(CouncilSetting, setting_id)
    if key not in DEFAULTS or row is None or row.key != key:
        abort(404)
    starts, value = row.effective_from, row.value
    try:
        cancel_scheduled(session, setting_id, now=clock.now)
    except ConfigInvalid as exc:
        form = SettingForm()
        context = _context(key, form)
        form.value.data = shown(get_setting(session, key, now=clock.now), context["kind"])
        return refuse(FORM, {"history": sentence(exc.message)}, **context)
    audit("config.cancelled", "council_setting", setting_id, key=key,
          effective_from=starts.isoformat(), value=value)
    flash(f"{_label(key)[0]}: the value that was to take effect {_when(starts)} was withdrawn.",
          "success")
    return redirect(url_for("admin.setting", key=key))
