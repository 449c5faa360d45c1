"""Sample cases and sample answers for a dry run of a diagram (``tasks.dry_run``).

A sample is a made-up report (a fictional reporter on one of the demo's streets, see
``tasks.demo_cases``) with the facts routing depends on: category, hate strands,
vulnerability flags and how the reporter wants to be contacted. Answers to user tasks come
from each task's form schema (the first value of a list, ``false`` for a tick box, now for a
time) unless the process owner gave their own; when a form or a handler refuses an answer,
the next candidate for that field is tried.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.forms import validate

from .demo_cases import BEHAVIOURS, HATE, STREETS

REPORT_CHANNELS = ("phone", "online", "email", "face_to_face")
CONTACT_CHANNELS = ("email", "sms", "letter", "phone")
CATEGORIES = ("personal", "nuisance", "environmental")
HATE_STRANDS = HATE
FLAGS = ("child_at_risk", "vulnerable_adult", "threat_of_violence", "high_risk", "repeat_victim")
FLAG_LABELS = {
    "child_at_risk": "A child is at risk",
    "vulnerable_adult": "A vulnerable adult is at risk",
    "threat_of_violence": "Threat of violence",
    "high_risk": "High risk",
    "repeat_victim": "Repeat victim",
}
STREET_NAMES = tuple(f"{street}, Chesterfield {postcode}" for street, postcode in STREETS)
TEXT_ANSWER = "Sample answer written by the dry run"
RESPONDENT = "Rory Respondent"  # the sample's reported person, named by legal-action forms
MAX_TEXT = 2000


@dataclass(frozen=True)
class Sample:
    """What a sample case is made of; personal details are fictional and fixed."""

    category: str = "nuisance"
    description: str = ""
    hate_strands: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    contact: tuple[str, ...] = ("email",)
    unsafe: tuple[str, ...] = ()
    no_voicemail: bool = False
    channel: str = "phone"
    street: int = 0
    raise_priority: bool = False
    title: str = "Described by hand"

    def report(self, received_at: datetime) -> dict[str, Any]:
        """The report as ``tasks.cases_service.open_case`` takes it."""
        street, postcode = STREETS[self.street % len(STREETS)]
        description = self.description or next(
            (text for category, text in BEHAVIOURS if category == self.category), "ASB"
        )
        prefs: dict[str, Any] = {
            "channels": list(self.contact),
            "unsafe_channels": list(self.unsafe),
            "no_voicemail": self.no_voicemail,
            "confidential": False,
        }
        return {
            "channel": self.channel,
            "reporter": {
                "name": "Jo Reporter",
                "phone": "07700 900000",
                "email": "jo.reporter@example.org",
                "address": f"10 {street}, Chesterfield {postcode}",
                "contact_preferences": prefs,
            },
            "incident": {
                "occurred_at": (received_at - timedelta(hours=3)).isoformat(),
                "location": f"12 {street}, Chesterfield {postcode}",
                "description": description,
                "category": self.category,
                "hate_strands": list(self.hate_strands),
            },
            "vulnerability": {flag: flag in self.flags for flag in FLAGS},
            "people": [
                {
                    "role": "reported_person",
                    "name": RESPONDENT,
                    "phone": "07700 900999",
                    "email": "rory.respondent@example.org",
                    "address": f"14 {street}, Chesterfield {postcode}",
                }
            ],
        }

    def answers(self) -> dict[str, dict[str, Any]]:
        """Answers the sample itself implies: a raised priority, who the referral is about."""
        implied: dict[str, dict[str, Any]] = {}
        if self.raise_priority:
            implied["assess_risk"] = {"raise_priority": True}
        if "vulnerable_adult" in self.flags and "child_at_risk" not in self.flags:
            implied["make_safeguarding_referral"] = {"at_risk": "adult"}
        return implied

    def describe(self) -> dict[str, Any]:
        """The facts of the sample, for the trace and the audit trail (nothing personal)."""
        return {
            "title": self.title,
            "category": self.category,
            "hate_strands": list(self.hate_strands),
            "flags": list(self.flags),
            "contact": list(self.contact),
            "unsafe": list(self.unsafe),
            "no_voicemail": self.no_voicemail,
            "channel": self.channel,
            "street": STREET_NAMES[self.street % len(STREETS)],
            "raise_priority": self.raise_priority,
        }


# Cases like the demo's (tasks/demo_cases.py): one for each route the lifecycle takes.
DEMO_SAMPLES: dict[str, Sample] = {
    "hate_high_risk": Sample(
        "personal",
        "Racist abuse and threats shouted at my door; my children are scared",
        ("race",),
        ("child_at_risk", "threat_of_violence", "high_risk"),
        ("email", "letter"),
        title="Racist abuse with threats, a child at risk (priority 1, hate, safeguarding)",
    ),
    "noise": Sample(
        "nuisance",
        "Loud music and parties late into the night",
        contact=("email",),
        street=1,
        title="Loud music at night (priority 2)",
    ),
    "vulnerable_adult": Sample(
        "personal",
        "Young people gathering and intimidating residents",
        flags=("vulnerable_adult",),
        contact=("sms", "email"),
        street=3,
        title="Intimidation of a vulnerable adult (safeguarding, text and e-mail)",
    ),
    "letters_unsafe": Sample(
        "personal",
        "Threats and shouting in the street outside my home",
        contact=("phone",),
        unsafe=("letter",),
        no_voicemail=True,
        street=5,
        title="Reporter who must not get letters and has no e-mail (officer phones instead)",
    ),
    "rubbish_by_letter": Sample(
        "environmental",
        "Rubbish dumped in the shared garden every week",
        contact=("letter",),
        street=7,
        title="Fly-tipping, reporter wants letters (priority 2)",
    ),
}


# -- answers ---------------------------------------------------------------------------------


@dataclass
class AnswerContext:
    """What sample answers may draw on: the product clock and the partner directory."""

    now: datetime
    agencies: list[str] = field(default_factory=list)


def _text(schema: Mapping[str, Any]) -> list[str]:
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", MAX_TEXT))
    base = TEXT_ANSWER if high >= len(TEXT_ANSWER) else "Sample"
    return [(base * (1 + low // len(base)))[: max(low, min(high, len(base)))]]


def _pattern(pattern: str, name: str, ctx: AnswerContext) -> list[str]:
    tries = (
        [*ctx.agencies, "DRY-RUN-1", "sample", "A1", "1", "sample_1"]
        if "agenc" in name
        else ["DRY-RUN-1", "sample", "A1", "1", "sample_1", *ctx.agencies]
    )
    try:
        compiled = re.compile(pattern)
    except re.error:
        return tries
    return [t for t in tries if compiled.search(t)] or tries


def _strings(schema: Mapping[str, Any], name: str, ctx: AnswerContext) -> list[Any]:
    fmt = schema.get("format")
    if fmt == "date-time":
        return [
            (ctx.now + delta).isoformat()
            for delta in (
                timedelta(0),
                timedelta(days=1),
                timedelta(days=14),
                timedelta(hours=-1),
                timedelta(days=-7),
            )
        ]
    if fmt == "date" and "birth" in name:
        return ["1990-05-17"]
    if fmt == "date":
        today = ctx.now.date()
        return [(today + timedelta(days=d)).isoformat() for d in (0, 1, 14, -1, 28)]
    if "pattern" in schema:
        return _pattern(str(schema["pattern"]), name, ctx)
    if "agenc" in name and ctx.agencies:
        return list(ctx.agencies)
    if "respondent" in name or "tenant" in name:
        return [RESPONDENT, *_text(schema)]
    if "reference" in name:
        return ["DRY-RUN-1", *_text(schema)]
    return _text(schema)


def _numbers(schema: Mapping[str, Any]) -> list[Any]:
    if "minimum" in schema:
        low = schema["minimum"]
    elif "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"] + 1
    else:
        low = 1
    high = schema.get("maximum")
    value = low if high is None or low <= high else high
    return [int(value) if schema.get("type") == "integer" else value]


def candidates(schema: Any, name: str, ctx: AnswerContext) -> list[Any]:
    """Values to try for one field, best first (never empty)."""
    if not isinstance(schema, Mapping):
        return [TEXT_ANSWER]
    if "const" in schema:
        return [schema["const"]]
    first = [schema["default"]] if "default" in schema else []
    if "enum" in schema:
        return first + [v for v in schema["enum"] if v not in first]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if kind == "boolean":
        return first + [v for v in (False, True) if v not in first]
    if kind in ("integer", "number"):
        return first + _numbers(schema)
    if kind == "array":
        return first + _arrays(schema, name, ctx)
    if kind == "object" or "properties" in schema:
        return first + _objects(schema, ctx)
    return first + _strings(schema, name, ctx)


def _arrays(schema: Mapping[str, Any], name: str, ctx: AnswerContext) -> list[Any]:
    items = schema.get("items", {})
    count = max(int(schema.get("minItems", 1)), 1)
    count = min(count, int(schema.get("maxItems", count)))
    options = candidates(items, name, ctx)
    distinct = schema.get("uniqueItems") or isinstance(items, Mapping) and "enum" in items
    if distinct and len(options) >= count:
        return [options[:count], options[-count:]]
    return [[options[0]] * count]


def _objects(schema: Mapping[str, Any], ctx: AnswerContext) -> list[Any]:
    """The object with its required fields; then with every tick box ticked as well."""
    built = build(schema, ctx)
    boxes = {
        k
        for k, sub in (schema.get("properties") or {}).items()
        if isinstance(sub, Mapping) and sub.get("type") == "boolean" and "const" not in sub
    }
    ticked = {**built, **{k: True for k in boxes}}
    return [built, ticked] if ticked != built else [built]


def _branch_fields(schema: Mapping[str, Any]) -> tuple[set[str], dict[str, Any]]:
    """Fields the first branch of ``anyOf``/``oneOf`` requires, and the values it fixes."""
    required: set[str] = set()
    fixed: dict[str, Any] = {}
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and branches and isinstance(branches[0], Mapping):
            required.update(branches[0].get("required", []))
            for prop, sub in (branches[0].get("properties") or {}).items():
                if isinstance(sub, Mapping) and "const" in sub:
                    fixed[prop] = sub["const"]
    return required, fixed


def build(
    schema: Mapping[str, Any],
    ctx: AnswerContext,
    given: Mapping[str, Any] | None = None,
    choice: Mapping[str, int] | None = None,
    wanted: Iterable[str] = (),
) -> dict[str, Any]:
    """Answers to a form: its required fields (those its conditions require, and ``wanted``)."""
    props: Mapping[str, Any] = schema.get("properties") or {}
    required, fixed = _branch_fields(schema)
    required.update(schema.get("required", []))
    required.update(w for w in wanted if w in props)
    data: dict[str, Any] = {}
    for _ in range(3):  # an if/then may require more once the first answers are in
        order = list(props)
        for prop in sorted(
            required - set(data), key=lambda p: (order.index(p) if p in order else len(order), p)
        ):
            options = candidates(props.get(prop, {}), prop, ctx)
            data[prop] = options[min((choice or {}).get(prop, 0), len(options) - 1)]
        data.update(fixed)
        data.update(given or {})
        more = {
            field.split(".")[0]
            for field, message in validate(schema, data).items()
            if message == "this field is required" and field.split(".")[0] in props
        }
        if not more - required:
            break
        required |= more
    return data


@dataclass
class Attempts:
    """What earlier tries at one task learnt: each field's candidate, fields to fill in."""

    choice: dict[str, int] = field(default_factory=dict)
    wanted: set[str] = field(default_factory=set)
    last: dict[str, Any] = field(default_factory=dict)


def answers_for(
    schema: Mapping[str, Any] | None,
    ctx: AnswerContext,
    given: Mapping[str, Any] | None = None,
    refused: Iterable[str] = (),
    tried: Attempts | None = None,
) -> dict[str, Any]:
    """Answers for a task: a refused field moves on to its next candidate, a missing one is
    filled in (handlers may need more than the form requires)."""
    if not schema:
        return dict(given or {})
    tried = tried if tried is not None else Attempts()
    for name in refused:
        top = name.split(".")[0]
        if top in (given or {}):
            continue
        if top in tried.last:
            tried.choice[top] = tried.choice.get(top, 0) + 1
        else:
            tried.wanted.add(top)
    tried.last = build(schema, ctx, given, tried.choice, tried.wanted)
    return tried.last
