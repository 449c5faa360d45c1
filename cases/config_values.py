"""The council settings' defaults and validators: what each setting may hold, and why not.

``cases.config`` records the values with their dates and re-exports what is public here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from datetime import time
from typing import Any

Validator = Callable[[Any], Any]

PARTNER_KINDS = (
    "referral",
    "joint_action",
    "information_sharing",
    "victim_support",
    "safeguarding_children",
    "safeguarding_adults",
)

_HHMM_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_CODE_RE = re.compile(r"[A-Za-z0-9._-]{1,32}")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# The outward code of a UK postcode ("S40", "SW1A"); cases.config matches postcodes with it.
OUTWARD_CODE = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_PREFIX_RE = re.compile(rf"[A-Z]{{1,2}}|{OUTWARD_CODE}( [0-9]([A-Z]{{1,2}})?)?")

# code, name, e-mail (reserved example domains), kinds: the agencies the seed names.
_PARTNERS = (
    ("police", "Derbyshire Police", "asb@police.example.org",
     "referral joint_action information_sharing"),
    ("fire", "Derbyshire Fire & Rescue Service", "asb@fire.example.org", "referral joint_action"),
    ("youth", "Youth services", "youth@council.example.org", "referral joint_action"),
    ("education", "Schools and education welfare", "ews@county.example.org",
     "referral joint_action information_sharing"),
    ("environmental", "Environmental services", "env@council.example.org",
     "referral joint_action"),
    ("county", "Derbyshire County Council", "asb@county.example.org",
     "referral joint_action information_sharing"),
    ("victim_support", "Victim Support", "referrals@victims.example.org",
     "referral victim_support"),
    ("children_safeguarding", "Children's safeguarding", "children@safeguarding.example.org",
     "referral safeguarding_children"),
    ("adult_safeguarding", "Adult safeguarding", "adults@safeguarding.example.org",
     "referral safeguarding_adults"),
    ("mediation", "Community mediation service", "mediation@council.example.org",
     "referral"),
    ("housing", "Housing services", "housing@council.example.org",
     "referral joint_action information_sharing"),
)

DEFAULTS: dict[str, Any] = {
    "close_of_business": "17:00",
    "first_contact_working_days": {"1": 1, "2": 5},
    "update_cadence_working_days": {"1": 10, "2": 10},
    "update_cadence_choices": {"weekly": 5, "fortnightly": 10, "monthly": 20},
    "case_review_threshold": 3,
    "case_review_window_months": 6,
    "case_review_qualifying_months": 1,
    "case_review_timescales_working_days": {"acknowledge": 5, "decide": 15, "outcome": 25},
    "complaint_timescales_working_days": {"stage1_acknowledge": 5, "stage1_answer": 10,
                                          "stage2_acknowledge": 5, "stage2_answer": 20,
                                          "extension_max": 10},
    "reopen_window_days": 28,
    "repeat_victim_rules": {"short": {"reports": 2, "days": 14},
                            "long": {"reports": 5, "days": 180}},
    "retention_years": 6,
    "homes_count": 0,
    # Follow-up of lifecycle part 2 (docs/stages/): chasers, reminders and review intervals.
    "referral_chaser_working_days": 5,
    "referral_max_chasers": 2,
    "conference_chaser_working_days": 5,
    "conference_max_chasers": 2,
    "evidence_due_working_days": 10,
    "evidence_reminder_working_days": 5,
    "evidence_max_reminders": 2,
    "case_review_chase_working_days": 5,
    "case_review_second_report_months": 6,
    "complaint_escalation_working_days": 20,
    "legal_warning_review_working_days": 20,
    "aba_review_interval_days": 28,
    "closure_extension_review_working_days": 10,
    # How the council signs its letters; every council sets its own on day one.
    "council_details": {
        "name": "Chesterfield Borough Council",
        "phone": "01246 000000",
        "email": "asb@council.example.org",
        "address": ["Town Hall", "Rose Hill", "Chesterfield", "S40 1LP"],
        "website": "https://council.example.org",
        "case_review_url": "https://council.example.org/asb-case-review",
        "complaints_url": "https://council.example.org/complaints",
    },
    "partner_directory": [
        {"code": code, "name": name, "email": email, "kinds": kinds.split()}
        for code, name, email, kinds in _PARTNERS
    ],
    # Illustrative only, not an authoritative postcode-to-ward lookup: a council loads its
    # own table. Keys are an area, a district ("S43"), a sector ("S40 1") or longer; the
    # longest key matching a postcode wins.
    "postcode_wards": {
        "S40": "Spire", "S40 1": "St Helen's", "S40 3": "Brockwell", "S40 4": "Walton",
        "S41": "Loundsley Green & Newbold", "S41 0": "Hasland", "S41 7": "Brimington",
        "S41 8": "Whittington Moor", "S41 9": "Old Whittington",
        "S43": "Staveley Central", "S43 2": "Barrow Hill & New Whittington",
        "S43 3": "Staveley North",
    },
}


class ConfigInvalid(Exception):  # noqa: N818 - the name the brief fixes
    """A setting was refused; ``field`` names the setting (or argument) and ``message`` why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message



# Validators: each returns the normalised value or raises ValueError with the reason.

def _whole(value: Any, low: int, high: int, what: str = "the value") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{what} must be between {low} and {high} (got {value})")
    return value


def _whole_in(low: int, high: int) -> Validator:
    return lambda value: _whole(value, low, high)


def _mapping(value: Any, what: str = "the value") -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be an object (a mapping), not {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _fixed_keys(value: Any, keys: tuple[str, ...], what: str = "the value") -> dict[str, Any]:
    given = _mapping(value, what)
    if set(given) != set(keys):
        raise ValueError(f"{what} must have exactly the keys {', '.join(keys)}")
    return given


def _days_by_key(keys: tuple[str, ...], low: int, high: int) -> Validator:
    def check(value: Any) -> dict[str, int]:
        given = _fixed_keys(value, keys)
        return {k: _whole(given[k], low, high, k) for k in keys}

    return check


def _close_of_business(value: Any) -> str:
    if isinstance(value, time) and value.tzinfo is None:
        return value.strftime("%H:%M")
    if isinstance(value, str) and _HHMM_RE.fullmatch(value.strip()):
        return value.strip()
    raise ValueError(f"close of business must be 'HH:MM' (24-hour), not {value!r}")


def _cadence_choices(value: Any) -> dict[str, int]:
    given = _mapping(value)
    if not given:
        raise ValueError("at least one update cadence is needed")
    for name in given:
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"cadence name {name!r} must be lower-case letters, digits or '_'")
    return {name: _whole(days, 1, 60, name) for name, days in given.items()}


def _case_review_timescales(value: Any) -> dict[str, int]:
    checked: dict[str, int] = _days_by_key(("acknowledge", "decide", "outcome"), 1, 60)(value)
    if not checked["acknowledge"] <= checked["decide"] <= checked["outcome"]:
        raise ValueError("acknowledge, decide and outcome must come in that order")
    return checked


def _repeat_victim_rules(value: Any) -> dict[str, dict[str, int]]:
    given = _fixed_keys(value, ("short", "long"))
    rules = {}
    for name in ("short", "long"):
        rule = _fixed_keys(given[name], ("reports", "days"), name)
        rules[name] = {
            "reports": _whole(rule["reports"], 2, 100, f"{name}.reports"),
            "days": _whole(rule["days"], 1, 3650, f"{name}.days"),
        }
    return rules


def _text(value: Any, what: str, longest: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= longest:
        raise ValueError(f"{what} must be text of 1 to {longest} characters")
    return value.strip()


def _partner_entry(entry: Any, index: int) -> dict[str, Any]:
    item = _mapping(entry, f"partner {index + 1}")
    if set(item) - {"code", "name", "email", "kinds"} or not {"code", "name"} <= set(item):
        raise ValueError(f"partner {index + 1} needs code and name, and may have email and kinds")
    code = item["code"]
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        raise ValueError(f"partner code {code!r} must be 1 to 32 letters, digits, '.', '_' or '-'")
    email = item.get("email")
    if email is not None and (not isinstance(email, str) or not _EMAIL_RE.fullmatch(email)):
        raise ValueError(f"partner {code}: {email!r} is not an email address")
    kinds = item.get("kinds", [])
    if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds) or len(
        set(kinds)) != len(kinds) or any(kind not in PARTNER_KINDS for kind in kinds):
        raise ValueError(f"partner {code}: kinds must be distinct, from {', '.join(PARTNER_KINDS)}")
    return {"code": code, "name": _text(item["name"], f"partner {code} name", 128),
            "email": email, "kinds": list(kinds)}


def _council_details(value: Any) -> dict[str, Any]:
    given = _mapping(value)
    required = ("name", "phone", "email", "address")
    known = (*required, "website", "case_review_url", "complaints_url")
    missing = [k for k in required if not given.get(k)]
    if missing:
        raise ValueError(f"council details need {', '.join(missing)}")
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(f"unknown council detail(s): {', '.join(unknown)}")
    address = given["address"]
    if (not isinstance(address, list) or not address
            or not all(isinstance(line, str) and line.strip() for line in address)):
        raise ValueError("the council's address must be a list of lines")
    for key in known:
        if key != "address" and key in given and not isinstance(given[key], str):
            raise ValueError(f"{key} must be text")
    return {k: given[k] for k in known if k in given}


def _partner_directory(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list | tuple):
        raise ValueError("the partner directory must be a list of agencies")
    entries = [_partner_entry(entry, i) for i, entry in enumerate(value)]
    codes = [entry["code"] for entry in entries]
    if len(set(codes)) != len(codes):
        raise ValueError("each partner code may appear only once")
    return entries


def _postcode_wards(value: Any) -> dict[str, str]:
    table = {}
    for prefix, ward in _mapping(value).items():
        key = " ".join(prefix.upper().split())
        if not _PREFIX_RE.fullmatch(key):
            raise ValueError(f"{prefix!r} is not a postcode area, district or sector prefix")
        if key in table:
            raise ValueError(f"the prefix {key!r} appears twice")
        table[key] = _text(ward, f"the ward for {key}", 128)
    return table


VALIDATORS: dict[str, Validator] = {
    "close_of_business": _close_of_business,
    "first_contact_working_days": _days_by_key(("1", "2"), 0, 60),
    "update_cadence_working_days": _days_by_key(("1", "2"), 1, 60),
    "update_cadence_choices": _cadence_choices,
    # The statute fixes 3; a council may set a lower number, never a higher one.
    "case_review_threshold": _whole_in(1, 3),
    # s104: at most 3 complaints in 6 months may be required; a longer window is more
    # generous to applicants and allowed, a shorter one would raise the bar and is not.
    "case_review_window_months": _whole_in(6, 24),
    "case_review_qualifying_months": _whole_in(1, 12),
    "case_review_timescales_working_days": _case_review_timescales,
    "complaint_timescales_working_days": _days_by_key(tuple(DEFAULTS[
        "complaint_timescales_working_days"]), 0, 60),
    "reopen_window_days": _whole_in(0, 366),
    "repeat_victim_rules": _repeat_victim_rules,
    # Councils typically keep closed cases 3 to 6 years; 1 to 10 leaves room for local policy.
    "retention_years": _whole_in(1, 10),
    "homes_count": _whole_in(0, 10_000_000),
    "referral_chaser_working_days": _whole_in(1, 60),
    "referral_max_chasers": _whole_in(0, 10),
    "conference_chaser_working_days": _whole_in(1, 60),
    "conference_max_chasers": _whole_in(0, 10),
    "evidence_due_working_days": _whole_in(1, 60),
    "evidence_reminder_working_days": _whole_in(1, 60),
    "evidence_max_reminders": _whole_in(0, 10),
    "case_review_chase_working_days": _whole_in(1, 60),
    # The 2025 guidance: a victim reporting again within 6 months is told; longer is kinder.
    "case_review_second_report_months": _whole_in(6, 24),
    "complaint_escalation_working_days": _whole_in(5, 120),
    "legal_warning_review_working_days": _whole_in(1, 120),
    "aba_review_interval_days": _whole_in(7, 91),
    "closure_extension_review_working_days": _whole_in(1, 40),
    "council_details": _council_details,
    "partner_directory": _partner_directory,
    "postcode_wards": _postcode_wards,
}


def validate(key: str, value: Any) -> Any:
    """Return ``value`` normalised for ``key``, or raise ``ConfigInvalid`` saying why not."""
    validator = VALIDATORS[known_key(key)]
    try:
        return validator(copy.deepcopy(value))
    except ValueError as exc:
        raise ConfigInvalid(key, str(exc)) from None
    except (TypeError, RecursionError):
        # A shape no validator foresaw (or nesting deeper than any setting has) is refused too.
        raise ConfigInvalid(key, "the value does not have the shape this setting needs") from None


def known_key(key: str) -> str:
    """Return ``key`` if it names a setting, else raise ``ConfigInvalid`` listing them."""
    if not isinstance(key, str) or key not in DEFAULTS:
        raise ConfigInvalid("key", f"unknown setting {key!r}; known: {', '.join(sorted(DEFAULTS))}")
    return key
