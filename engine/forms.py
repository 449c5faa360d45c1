"""Task forms: JSON Schemas (2020-12) that completing a user task must satisfy."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec

FORMAT_CHECKER = FormatChecker()


@FORMAT_CHECKER.checks("date-time", raises=ValueError)  # type: ignore[untyped-decorator]
def _is_date_time(value: object) -> bool:
    """RFC 3339 date-time: a date, a time and an offset (or Z)."""
    if not isinstance(value, str):
        return True  # the "type" keyword reports non-strings
    from datetime import datetime

    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a date-time needs an offset, e.g. Z or +01:00")
    return True


@FORMAT_CHECKER.checks("date", raises=ValueError)  # type: ignore[untyped-decorator]
def _is_date(value: object) -> bool:
    """An ISO 8601 calendar date, e.g. 2026-12-24."""
    if isinstance(value, str):
        from datetime import date

        date.fromisoformat(value)
    return True


def load_directory(directory: Path) -> dict[str, Any]:
    """Read every ``<form key>.json`` under ``directory`` (missing folder: no forms)."""
    if not directory.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(directory.glob("*.json"))}


def form_keys(specs: Iterable[BpmnProcessSpec]) -> dict[str, str]:
    """Map each form key used by a user task to the id of (one) task that uses it."""
    keys: dict[str, str] = {}
    for spec in specs:
        for ts in spec.task_specs.values():
            props = (getattr(ts, "extensions", None) or {}).get("properties", {})
            if props.get("form"):
                keys.setdefault(props["form"], getattr(ts, "bpmn_id", None) or ts.name)
    return keys


def check_schema(schema: Any) -> str | None:
    """Return why ``schema`` is not a usable JSON Schema 2020-12 object, or None."""
    if not isinstance(schema, dict):
        return "the form schema must be a JSON object"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"the form schema is invalid: {exc.message}"
    return None


def _path(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [f for f in error.validator_value if f not in error.instance]
        parts.append(str(missing[0]) if missing else "")
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            parts.append(extra[0])
            return ".".join(parts)
    return ".".join(p for p in parts if p) or "data"


def _message(error: ValidationError) -> str:
    if error.validator == "required":
        return "this field is required"
    if error.validator == "additionalProperties":
        return "this field is not part of the form"
    if error.validator == "const":
        return f"must be {json.dumps(error.validator_value)}"
    if error.validator == "enum":
        return "must be one of: " + ", ".join(str(v) for v in error.validator_value)
    return str(error.message)


def validate(schema: Mapping[str, Any], data: Any) -> dict[str, str]:
    """Return one message per offending field (dotted path); empty when ``data`` is valid."""
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        errors.setdefault(_path(error), _message(error))
    return errors
