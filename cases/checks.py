"""Checking input for the case record: each helper notes problems in ``errors`` by dotted path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cases.config import LOCAL_TZ, normalise_postcode
from cases.enums import AssessmentKind, Category, Channel, HateStrand, Level
from cases.records import (
    CaseDataInvalid,
    contact_preference_errors,
    normalise_address,
    normalise_text,
    postcode_at_end,
)

__all__ = ["FLAGS", "Errors", "check_incident", "check_person", "check_report"]

Errors = dict[str, str]
FLAGS = ("child_at_risk", "vulnerable_adult", "repeat_victim", "threat_of_violence", "high_risk")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE_RE = re.compile(r"\+?[0-9]{6,20}")
_INCIDENT_KEYS = ("occurred_at", "location", "description", "category", "hate_strands",
                  "postcode")


# --- checking input: each helper notes problems in ``errors`` and returns a clean value ----

def _aware(field: str, value: Any) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise CaseDataInvalid(field, "must be a date-time with a time zone or offset")
    return value.astimezone(UTC)


def _time(value: Any, path: str, errors: Errors) -> datetime | None:
    """Read an ISO 8601 time; one without an offset is Europe/London (API.md)."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if not isinstance(moment, datetime):
        errors[path] = "must be an ISO 8601 date-time"
        return None
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


def _text(value: Any, path: str, errors: Errors, longest: int, required: bool = True
          ) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[path] = "is required"
        return None
    if not isinstance(value, str) or len(value.strip()) > longest:
        errors[path] = f"must be text of at most {longest} characters"
        return None
    return " ".join(value.split()) if longest <= 500 else value.strip()


def _choice(value: Any, kind: Any, path: str, errors: Errors, required: bool = True) -> Any:
    if value is None:
        if required:
            errors[path] = "is required"
        return None
    try:
        return kind(value)
    except ValueError:
        errors[path] = f"must be one of {', '.join(m.value for m in kind)}"
        return None


def _section(body: Mapping[str, Any], key: str, known: tuple[str, ...], errors: Errors,
             required: bool = True) -> dict[str, Any]:
    value = body.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        errors[key or "body"] = "must be an object" if value is not None else "is required"
        return {}
    prefix = f"{key}." if key else ""
    for name in sorted(set(value) - set(known), key=str):
        errors[f"{prefix}{name}"] = "is not a known field"
    return dict(value)


def _body(value: Any, known: tuple[str, ...], errors: Errors) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise CaseDataInvalid("body", "must be an object")
    return _section({"": value}, "", known, errors)


def _strands(value: Any, path: str, errors: Errors) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        errors[path] = "must be a list of hate strands"
        return []
    for i, strand in enumerate(value):
        _choice(strand, HateStrand, f"{path}.{i}", errors)
    return sorted(set(value))


def _phone(value: Any, path: str, errors: Errors) -> str | None:
    raw = _text(value, path, errors, 32, required=False)
    if raw is None:
        return None
    compact = re.sub(r"[\s().-]", "", raw)
    compact = "0" + compact[3:] if compact.startswith("+44") else compact
    if not _PHONE_RE.fullmatch(compact):
        errors[path] = "is not a phone number"
    return compact


def check_person(data: Mapping[str, Any], path: str, errors: Errors) -> dict[str, Any]:
    """Return a person's fields cleaned, with matching keys, noting problems in ``errors``."""
    email = _text(data.get("email"), f"{path}.email", errors, 254, required=False)
    if email is not None and not _EMAIL_RE.fullmatch(email):
        errors[f"{path}.email"] = "is not an email address"
    address = _text(data.get("address"), f"{path}.address", errors, 500, required=False)
    postcode = data.get("postcode")
    if postcode is not None and normalise_postcode(postcode) is None:
        errors[f"{path}.postcode"] = "is not a UK postcode"
    born = data.get("date_of_birth")
    if born is not None and not isinstance(born, date):
        try:
            born = date.fromisoformat(str(born))
        except ValueError:
            errors[f"{path}.date_of_birth"] = "must be a date as YYYY-MM-DD"
    name = _text(data.get("name"), f"{path}.name", errors, 200)
    if name is not None and normalise_text(name) is None:
        errors[f"{path}.name"] = "must contain a letter or a digit"
    return {"name": name, "normalised_name": normalise_text(name),
            "phone": _phone(data.get("phone"), f"{path}.phone", errors),
            "email": email.lower() if email else None, "address": address,
            "postcode": normalise_postcode(postcode or "") or postcode_at_end(address),
            "normalised_address": normalise_address(address), "date_of_birth": born}


def check_incident(data: Mapping[str, Any], path: str, errors: Errors, *, reported_at: datetime,
                   category_required: bool) -> dict[str, Any]:
    """Return an incident's fields cleaned, noting problems in ``errors`` by dotted path."""
    prefix = f"{path}." if path else ""
    occurred = _time(data.get("occurred_at"), f"{prefix}occurred_at", errors)
    if occurred is not None and occurred > reported_at + timedelta(minutes=5):
        errors[f"{prefix}occurred_at"] = "must not be later than the report"
    location = _text(data.get("location"), f"{prefix}location", errors, 500)
    given = data.get("postcode")
    postcode = normalise_postcode(given) if given is not None else postcode_at_end(location)
    if given is not None and postcode is None:
        errors[f"{prefix}postcode"] = "is not a UK postcode"
    return {"occurred_at": occurred, "location": location, "postcode": postcode,
            "description": _text(data.get("description"), f"{prefix}description", errors,
                                 10_000),
            "category": _choice(data.get("category"), Category, f"{prefix}category", errors,
                                required=category_required),
            "hate_strands": _strands(data.get("hate_strands"), f"{prefix}hate_strands", errors),
            "normalised_address": normalise_address(location)}


def check_report(report: Any, received_at: datetime) -> dict[str, Any]:
    """Return the POST /api/v1/cases body cleaned, or raise ``CaseDataInvalid`` with all errors."""
    errors: Errors = {}
    body = _body(report, ("received_at", "channel", "reporter", "incident", "vulnerability",
                          "people"), errors)
    channel = _choice(body.get("channel"), Channel, "channel", errors)
    raw_reporter = _section(body, "reporter", ("name", "phone", "email", "address",
                                               "contact_preferences"), errors)
    reporter = check_person(raw_reporter, "reporter", errors)
    if raw_reporter and not any(reporter[k] for k in ("phone", "email", "address")):
        errors.setdefault("reporter.phone", "give a phone number, email address or address")
    prefs, pref_errors = contact_preference_errors(raw_reporter.get("contact_preferences"),
                                                   "reporter.contact_preferences")
    errors.update(pref_errors)
    incident = check_incident(
        _section(body, "incident", _INCIDENT_KEYS, errors),
        "incident", errors, reported_at=received_at, category_required=True)
    flags = _section(body, "vulnerability", FLAGS, errors, required=False)
    for name in FLAGS:
        if not isinstance(flags.get(name, False), bool):
            errors[f"vulnerability.{name}"] = "must be true or false"
    people = _people(body.get("people"), errors)
    if errors:
        raise CaseDataInvalid(errors)
    return {"channel": channel, "reporter": reporter, "contact_preferences": prefs,
            "incident": incident, "flags": {name: flags.get(name, False) for name in FLAGS},
            "people": people}


PEOPLE_ROLES = ("victim", "witness", "reported_person")
MAX_PEOPLE = 20


def _people(value: Any, errors: Errors) -> list[tuple[str, dict[str, Any]]]:
    """Other people involved, as (role, person): victims, witnesses, reported people."""
    if value is None:
        return []
    if not isinstance(value, list):
        errors["people"] = "must be a list of people"
        return []
    if len(value) > MAX_PEOPLE:
        errors["people"] = f"at most {MAX_PEOPLE} people"
        return []
    found = []
    for index, item in enumerate(value):
        path = f"people.{index}"
        if not isinstance(item, dict):
            errors[path] = "must be an object"
            continue
        role = item.get("role")
        if role not in PEOPLE_ROLES:
            errors[f"{path}.role"] = "must be one of: " + ", ".join(PEOPLE_ROLES)
        details = {k: v for k, v in item.items() if k != "role"}
        found.append((str(role), check_person(_body(details, ("name", "phone", "email",
                                                                "address"), errors), path,
                                              errors)))
    return found


def _check_assessment(data: Any, kind: Any, priority: int | None) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    known = ("harm", "vulnerability", "community_impact", "raise_priority", "notes", *FLAGS)
    given = _body(data, known, errors)
    how = _choice(kind, AssessmentKind, "kind", errors)
    needed = how is not AssessmentKind.INITIAL_DECISION
    clean: dict[str, Any] = {
        "kind": how, "harm": _choice(given.get("harm"), Level, "harm", errors, needed),
        "community_impact": _choice(given.get("community_impact"), Level, "community_impact",
                                    errors, needed),
        "notes": _text(given.get("notes"), "notes", errors, 2000, required=False),
        "vulnerability": _section(given, "vulnerability",
                                  ("personal", "situational", "incidental"), errors, False),
    }
    for path, value in [*((f"vulnerability.{k}", v) for k, v in clean["vulnerability"].items()),
                        *((k, given.get(k, False)) for k in (*FLAGS, "raise_priority"))]:
        if not isinstance(value, bool):
            errors[path] = "must be true or false"
        elif "." not in path:
            clean[path] = value
    if priority is not None and (isinstance(priority, bool) or priority not in (1, 2)):
        errors["priority"] = "must be 1 or 2"
    return clean, errors
