"""The dry run's form: which diagram, which sample case, how fast people act, own answers."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)

from cases.config import LOCAL_TZ
from engine.models import DefinitionVersion
from tasks.dry_run_samples import (
    CATEGORIES,
    CONTACT_CHANNELS,
    DEMO_SAMPLES,
    FLAG_LABELS,
    FLAGS,
    HATE_STRANDS,
    REPORT_CHANNELS,
    STREET_NAMES,
    Sample,
)

HAND = "hand"
MAX_ID = 2**31 - 1
MAX_ANSWERS = 20_000
MAX_DRAFTS = 100
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the working-day calendar knows these years' holidays
PACE_LABELS = {
    "prompt": "Everyone acts at once (deadlines are shown, not reached)",
    "late": "Each task is done just after its deadline (escalations show)",
}
_WHEN_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})")

Errors = dict[str, str]
WHAT = {
    "category": "a category",
    "hate_strands": "hate strands",
    "flags": "vulnerability and risk flags",
    "contact": "channels",
    "unsafe": "unsafe channels",
    "channel": "how the report reached us",
    "street": "where it happens",
}


def words(value: str) -> str:
    """A code as words: ``child_at_risk`` reads 'child at risk'."""
    return value.replace("_", " ")


class DryRunForm(FlaskForm):
    """Fields and CSRF only; ``read`` checks what was chosen."""

    version = SelectField("Diagram to try", validate_choice=False)
    sample = RadioField("Sample case", validate_choice=False)
    category = RadioField("Category", validate_choice=False, default="nuisance")
    hate_strands = SelectMultipleField("Hate strands (optional)", validate_choice=False)
    flags = SelectMultipleField("Vulnerability and risk (optional)", validate_choice=False)
    contact = SelectMultipleField(
        "How the reporter wants to hear from us", validate_choice=False, default=["email"]
    )
    unsafe = SelectMultipleField(
        "Channels that are not safe for the reporter (optional)", validate_choice=False
    )
    no_voicemail = BooleanField("Do not leave voicemail")
    channel = SelectField("How the report reached us", validate_choice=False, default="phone")
    street = SelectField("Where it happens", validate_choice=False, default="0")
    raise_priority = BooleanField("The officer raises the priority at the risk assessment")
    pace = RadioField("How fast people act", validate_choice=False, default="prompt")
    received = StringField("When the report is received (optional)")
    answers = TextAreaField("Your own answers to tasks (optional)")


def version_choices(session: Session) -> list[tuple[str, str]]:
    """Drafts newest first, then the version of each process new cases start on."""
    rows = session.execute(
        select(
            DefinitionVersion.id,
            DefinitionVersion.process_id,
            DefinitionVersion.version,
            DefinitionVersion.published,
            DefinitionVersion.created_by,
        ).order_by(DefinitionVersion.published, DefinitionVersion.id.desc())
    ).all()
    drafts = [
        (
            str(r.id),
            f"Draft: {r.process_id} version {r.version}"
            f"{f' by {r.created_by}' if r.created_by else ''}",
        )
        for r in rows
        if not r.published
    ][:MAX_DRAFTS]
    newest: dict[str, tuple[str, str]] = {}
    for r in rows:
        if r.published and r.process_id not in newest:
            newest[r.process_id] = (str(r.id), f"Published: {r.process_id} version {r.version}")
    return drafts + [newest[p] for p in sorted(newest)]


def sample_choices() -> list[tuple[str, str]]:
    """The demo samples and describing one by hand."""
    return [(key, s.title) for key, s in DEMO_SAMPLES.items()] + [
        (HAND, "Describe a case by hand (the fields below)")
    ]


OPTIONS: dict[str, list[tuple[str, str]]] = {
    "category": [(c, words(c).capitalize()) for c in CATEGORIES],
    "hate_strands": [(h, words(h).capitalize()) for h in HATE_STRANDS],
    "flags": [(f, FLAG_LABELS[f]) for f in FLAGS],
    "contact": [(c, {"sms": "Text message"}.get(c, c.capitalize())) for c in CONTACT_CHANNELS],
    "unsafe": [(c, {"sms": "Text message"}.get(c, c.capitalize())) for c in CONTACT_CHANNELS],
    "channel": [(c, words(c).capitalize()) for c in REPORT_CHANNELS],
    "street": [(str(i), s) for i, s in enumerate(STREET_NAMES)],
    "pace": list(PACE_LABELS.items()),
}


def _subset(form: DryRunForm, name: str, errors: Errors) -> tuple[str, ...]:
    allowed = {value for value, _label in OPTIONS[name]}
    chosen = [str(v) for v in form[name].data or []]
    if any(v not in allowed for v in chosen):
        errors[name] = f"Choose {WHAT[name]} from the list"
    return tuple(v for v in chosen if v in allowed)


def _one(form: DryRunForm, name: str, errors: Errors) -> str:
    value = str(form[name].data or "")
    if value not in {v for v, _label in OPTIONS[name]}:
        errors[name] = f"Choose {WHAT[name]} from the list"
    return value


def _hand(form: DryRunForm, errors: Errors) -> Sample:
    """The sample described in the form's fields."""
    contact = _subset(form, "contact", errors)
    unsafe = _subset(form, "unsafe", errors)
    if set(contact) & set(unsafe) and "unsafe" not in errors:
        errors["unsafe"] = "A channel the reporter wants cannot also be unsafe for them"
    category = _one(form, "category", errors)
    hate = _subset(form, "hate_strands", errors)
    if hate and category != "personal" and "category" not in errors:
        errors["category"] = "Hate is personal anti-social behaviour: choose Personal"
    flags = _subset(form, "flags", errors)
    street = _one(form, "street", errors)
    facts = [category, *(f"hate ({words(h)})" for h in hate), *(words(f) for f in flags)]
    return Sample(
        title="Described by hand: " + ", ".join(facts),
        category=category,
        hate_strands=hate,
        flags=flags,
        contact=contact,
        unsafe=unsafe,
        no_voicemail=bool(form.no_voicemail.data),
        channel=_one(form, "channel", errors),
        street=int(street) if street.isdecimal() else 0,
        raise_priority=bool(form.raise_priority.data),
    )


def _answers(text: str, errors: Errors) -> dict[str, dict[str, Any]]:
    text = text.strip()
    if not text:
        return {}
    if len(text) > MAX_ANSWERS:
        errors["answers"] = f"Answers must be {MAX_ANSWERS} characters or fewer"
        return {}
    try:
        found = json.loads(text)
    except ValueError:
        errors["answers"] = (
            'Write answers as JSON, like {"assess_risk": {"harm": "high"}}: '
            "a task id, then its form's fields and values"
        )
        return {}
    if not isinstance(found, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) for k, v in found.items()
    ):
        errors["answers"] = (
            "Answers must be an object of tasks, each an object of fields, "
            'like {"assess_risk": {"harm": "high"}}'
        )
        return {}
    if any(str(f).startswith("_") for v in found.values() for f in v):
        errors["answers"] = "Field names may not start with an underscore"
        return {}
    return found


def _received(text: str, errors: Errors) -> datetime | None:
    text = text.strip()
    if not text:
        return None
    found = _WHEN_RE.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        year, month, day, hour, minute = (int(g) for g in found.groups())
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(text)
        return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)
    except ValueError:
        errors["received"] = (
            "Enter the day and time like 2026-12-24 10:00, or leave it empty for now"
        )
        return None


def read(form: DryRunForm, session: Session) -> tuple[dict[str, Any], Errors]:
    """What the form asks for (version row, sample, answers, pace, start) and its errors."""
    errors: Errors = {}
    version = None
    raw = str(form.version.data or "")
    if raw.isdecimal() and 0 < int(raw) <= MAX_ID:
        version = session.get(DefinitionVersion, int(raw))
    if version is None:
        errors["version"] = "Choose the diagram to try"
    key = str(form.sample.data or "")
    if key == HAND:
        sample = _hand(form, errors)
    elif key in DEMO_SAMPLES:
        sample = DEMO_SAMPLES[key]
    else:
        errors["sample"] = "Choose a sample case, or describe one by hand"
        sample = Sample()
    if str(form.pace.data or "") not in PACE_LABELS:
        errors["pace"] = "Choose how fast people act"
    chosen = {
        "version": version,
        "sample_key": key,
        "sample": sample,
        "pace": str(form.pace.data or "prompt"),
        "received": _received(str(form.received.data or ""), errors),
        "answers": _answers(str(form.answers.data or ""), errors),
    }
    return chosen, errors
