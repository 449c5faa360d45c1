"""Task forms as GOV.UK pages: fields from a task's JSON Schema, typed values back to form data.

The browser sends strings; ``parse`` turns them into the JSON the schema describes and
``check`` validates that with the same schema the engine uses on completion, in words an
officer understands. The raw strings are kept (``raw_values``) so that a page shown again
with errors, or a saved draft, gives back exactly what was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from werkzeug.datastructures import MultiDict

from engine.forms import FORMAT_CHECKER

LONDON = ZoneInfo("Europe/London")
MAX_RADIOS = 6
LONG_TEXT = 200
_TIME_RE = re.compile(r"([01]?[0-9]|2[0-3])[:.]([0-5][0-9])")


@dataclass(frozen=True)
class Option:
    """One radio, select option or checkbox."""

    value: str
    label: str
    hint: str | None = None


@dataclass(frozen=True)
class Field:
    """One question of a task form and how to show it."""

    name: str
    # radios, select, yes_no, confirm, text, textarea, number, date, datetime, lines, checkboxes
    kind: str
    label: str
    hint: str | None
    required: bool
    options: tuple[Option, ...] = ()
    schema: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The names of the HTML inputs this field sends."""
        if self.kind == "datetime":
            return tuple(f"{self.name}-{part}" for part in ("day", "month", "year", "time"))
        if self.kind == "date":
            return tuple(f"{self.name}-{part}" for part in ("day", "month", "year"))
        return (self.name,)

    @property
    def first_id(self) -> str:
        """The id the error summary links to."""
        if self.kind in ("datetime", "date"):
            return f"{self.name}-day"
        return self.name


def humanise(value: str) -> str:
    """``face_to_face`` -> ``Face to face``."""
    text = value.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _kind(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if kind == "string" and "enum" in prop:
        return "radios" if len(prop["enum"]) <= MAX_RADIOS else "select"
    if kind == "boolean":
        return "confirm" if prop.get("const") is True else "yes_no"
    if kind == "string" and prop.get("format") == "date-time":
        return "datetime"
    if kind == "string" and prop.get("format") == "date":
        return "date"
    if kind == "array" and (prop.get("items") or {}).get("type") == "string":
        return "lines"
    if kind == "object" and all(p.get("type") == "boolean"
                                for p in (prop.get("properties") or {}).values()):
        return "checkboxes"
    if kind in ("integer", "number"):
        return "number"
    if kind == "string" and int(prop.get("maxLength", 0)) > LONG_TEXT:
        return "textarea"
    return "text"


def fields_for(schema: dict[str, Any] | None) -> list[Field]:
    """The fields of a form schema, in the order the schema lists its properties."""
    if not schema:
        return []
    required = set(schema.get("required") or [])
    found = []
    for name, prop in (schema.get("properties") or {}).items():
        kind = _kind(prop)
        options: tuple[Option, ...] = ()
        if kind in ("radios", "select"):
            options = tuple(Option(str(v), humanise(str(v))) for v in prop["enum"])
        elif kind == "checkboxes":
            options = tuple(Option(key, sub.get("title") or humanise(key), sub.get("description"))
                            for key, sub in (prop.get("properties") or {}).items())
        found.append(Field(name, kind, prop.get("title") or humanise(name),
                           prop.get("description"), name in required, options, prop))
    return found


def raw_values(fields: list[Field], form: MultiDict[str, str]) -> dict[str, Any]:
    """What was typed, by input name: strings, or a list for a checkbox group."""
    raw: dict[str, Any] = {}
    for f in fields:
        if f.kind == "checkboxes":
            raw[f.name] = [v for v in form.getlist(f.name) if v in {o.value for o in f.options}]
            continue
        for name in f.inputs:
            raw[name] = str(form.get(name, ""))[:20_000]
    return raw


def _text(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _parse_date(f: Field, raw: dict[str, Any]) -> date | None:
    parts = [_text(raw, f"{f.name}-{p}") for p in ("day", "month", "year")]
    try:
        day, month, year = (int(p) for p in parts)
        if year < 1900:
            raise ValueError
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{f.label} must be a real date, for example 27 3 2026") from None


def _parse_datetime(f: Field, raw: dict[str, Any]) -> str:
    day = _parse_date(f, raw)
    match = _TIME_RE.fullmatch(_text(raw, f"{f.name}-time"))
    if match is None:
        raise ValueError(f"{f.label} must include a time, for example 14:30")
    assert day is not None
    local = datetime.combine(day, time(int(match.group(1)), int(match.group(2))), LONDON)
    return local.isoformat()


def _blank(f: Field, raw: dict[str, Any]) -> bool:
    return all(not _text(raw, name) for name in f.inputs)


def _parse_one(f: Field, raw: dict[str, Any]) -> Any:
    """The JSON value of one field; ``None`` when nothing was given (the key is left out)."""
    if f.kind == "checkboxes":
        ticked = set(raw.get(f.name) or [])
        return {o.value: o.value in ticked for o in f.options}
    if _blank(f, raw):
        return None
    value = _text(raw, f.name)
    if f.kind == "yes_no":
        return {"yes": True, "no": False}.get(value)
    if f.kind == "confirm":
        return True if value == "yes" else None
    if f.kind == "datetime":
        return _parse_datetime(f, raw)
    if f.kind == "date":
        found = _parse_date(f, raw)
        return found.isoformat() if found else None
    if f.kind == "lines":
        return [line.strip() for line in str(raw.get(f.name, "")).splitlines() if line.strip()]
    if f.kind == "number":
        try:
            return int(value) if f.schema.get("type") == "integer" else float(value)
        except ValueError:
            raise ValueError(f"{f.label} must be a number") from None
    if f.kind in ("text", "textarea"):
        return str(raw.get(f.name, "")).strip()
    return value


def parse(fields: list[Field], raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn typed values into form data; return it and the fields that could not be read."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        try:
            value = _parse_one(f, raw)
        except ValueError as exc:
            errors[f.name] = str(exc)
            continue
        if value is not None:
            data[f.name] = value
    return data, errors


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:]


def _missing_message(f: Field) -> str:
    if f.kind == "confirm":
        return f"Tick the box to confirm: {_lower(f.label)}"
    if f.kind in ("radios", "select", "yes_no", "checkboxes"):
        return f"Select {_lower(f.label)}"
    return f"Enter {_lower(f.label)}"


def _message(f: Field | None, error: ValidationError, name: str) -> str:
    label = f.label if f else humanise(name)
    rule, limit = error.validator, error.validator_value
    path = list(error.absolute_path)
    if rule in ("required", "const") and f is not None:
        return _missing_message(f)
    if rule == "minLength" and limit == 1 and f is not None and len(path) == 1:
        return _missing_message(f)
    if len(path) > 1 and isinstance(path[1], int):
        label = f"{label}, line {path[1] + 1}"
    messages = {
        "enum": f"Select one of the options for {_lower(label)}",
        "maxLength": f"{label} must be {limit} characters or fewer",
        "minLength": f"{label} must be at least {limit} characters",
        "maxItems": f"{label}: enter {limit} lines or fewer",
        "minItems": f"{label}: enter at least {limit} line{'s' if limit != 1 else ''}",
        "format": f"{label} must be a real date and time",
        "additionalProperties": "This field is not part of the form",
    }
    return messages.get(str(rule), f"{label} is not valid")


def _field_of(error: ValidationError) -> str:
    path = [str(p) for p in error.absolute_path]
    if path:
        return path[0]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        return str(missing[0]) if missing else "form"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        return extra[0] if extra else "form"
    return "form"


def check(schema: dict[str, Any] | None, fields: list[Field], data: dict[str, Any]
          ) -> dict[str, str]:
    """Validate ``data`` against ``schema``; one plain-English message per field name."""
    if not schema:
        return {}
    by_name = {f.name: f for f in fields}
    errors: dict[str, str] = {}
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path]):
        if error.validator == "required" and not error.path and isinstance(data, dict):
            for name in error.validator_value:
                if name not in data:
                    errors.setdefault(name, _message(by_name.get(name), error, name))
            continue
        name = _field_of(error)
        errors.setdefault(name, _message(by_name.get(name), error, name))
    return {f.name: errors.pop(f.name) for f in fields if f.name in errors} | errors


def engine_errors(fields: list[Field], errors: dict[str, str]) -> dict[str, str]:
    """The engine's dotted-path messages, by field name (for a mismatch ``check`` missed)."""
    names = {f.name: f for f in fields}
    out: dict[str, str] = {}
    for path, message in errors.items():
        name = path.split(".", 1)[0]
        label = names[name].label if name in names else humanise(name)
        out.setdefault(name, f"{label}: {message}")
    return out


def display_value(f: Field, value: Any) -> str:
    """A submitted value as the read-only summary shows it."""
    if value is None:
        return "Not given"
    if f.kind in ("yes_no", "confirm"):
        return "Yes" if value else "No"
    if f.kind == "checkboxes" and isinstance(value, dict):
        ticked = [o.label for o in f.options if value.get(o.value)]
        return ", ".join(ticked) if ticked else "None"
    if f.kind in ("radios", "select"):
        return humanise(str(value))
    if f.kind == "datetime" and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value).astimezone(LONDON)
        except ValueError:
            return value
        return moment.strftime("%-d %B %Y at %H:%M")
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)
