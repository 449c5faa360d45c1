"""Say in words which figure a list of cases is behind, from its key and codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.figures import Filters
from cases.figures_period import CASE_REVIEW_MEASURES
from cases.people import User

from .tables import code_label, month_name
from .tables_period import STRANDS, TOOLS

TITLES = {
    "first_contact": "First contact within 1 or 5 working days (cases received in the period)",
    "first_contact_now": "Open cases waiting for first contact",
    "open": "Open cases",
    "workload": "Open cases with open tasks held by one officer",
    "overdue_tasks": "Open cases with overdue tasks",
    "victims": "Open cases with repeat or vulnerable victims",
    "updates_overdue": "Open cases with an update to the reporter overdue",
    "hate": "Hate cases received in the period",
    "legal": "Cases with legal action started in the period",
    "referrals": "Cases with referrals made in the period",
    "nm01": "Cases opened in the period (NM01)",
    "case_reviews": "ASB Case Review applications received in the period",
}
WORDS = {
    "outcome": {"met": "on time", "missed": "late (or not made by the deadline)",
                "pending": "not yet due", "open": "still open"},
    "when": {"breaching": "breaching now", "due_today": "due later today"},
    "kind": {"repeat": "repeat victim", "vulnerable": "vulnerable victim",
             "both": "repeat and vulnerable victim"},
    "measure": {"1": "NM01(1) all cases", "2": "NM01(2) hate-related cases",
                **{k: v.lower() for k, v in CASE_REVIEW_MEASURES.items()}},
    "overdue": {"yes": "overdue tasks only"},
    "strand": {s.value: label for s, label in STRANDS.items()},
    "tool": {t.value: label for t, label in TOOLS.items()},
}
LABELS = {"by": "Breakdown", "value": "Value", "month": "Month received", "task": "Task"}


def _value(session: Session, name: str, value: str, params: Mapping[str, str]) -> str:
    """One code in words; ``value`` is read as the breakdown ``by`` names."""
    kind = params.get("by", "") if name == "value" else name
    if value == "none":
        return "No officer" if kind == "officer" else "Not set"
    if kind == "month":
        return month_name(value)
    if kind == "officer":
        return session.scalar(select(User.display_name).where(User.name == value)) or value
    if kind == "priority":
        return f"Priority {value}"
    if kind in WORDS:
        return WORDS[kind].get(value, code_label(value))
    if kind in ("by", "stage", "category", "status", "frequency"):
        return code_label(value)
    return value


def describe(session: Session, figure: str, params: Mapping[str, str], f: Filters
             ) -> dict[str, Any]:
    """The figure's title, its codes in words, and the period and scope it was counted in."""
    pairs = [(LABELS.get(name, code_label(name)), _value(session, name, value, params))
             for name, value in params.items()]
    scope = [("Period", f"{month_name(f.args()['from'])} to {month_name(f.args()['to'])}")]
    if f.area:
        scope.append(("Area", f.area))
    if f.team:
        scope.append(("Team", f.team))
    return {"title": TITLES.get(figure, "Cases"), "pairs": pairs, "scope": scope}
