"""The cases behind each figure: the same conditions as the count, as a list to page through.

A figure's link carries only its key and codes (a month, a priority, a stage, an agency
code, an officer's user name), never anything about a person in a case. ``cases_behind``
checks every parameter and answers a ``Select`` of cases, newest first;
``reviews_behind`` does the same for the Case Review figures, which count applications.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from cases.challenge import CaseReview
from cases.enums import CaseStatus, Category, HateStrand, Stage
from cases.figures import (
    Filters,
    in_period,
    in_scope,
    met,
    missed,
    month_label,
    month_start,
    next_month,
    pending,
    waiting_for_first_contact,
)
from cases.figures_period import CASE_REVIEW_MEASURES, case_review_condition, strand_condition
from cases.legal import LegalAction, LegalStatus, LegalTool
from cases.records import Case
from cases.referrals import Referral, ReferralStatus

__all__ = ["CASE_FIGURES", "NOT_SET", "REVIEW_PARAMS", "FigureInvalid", "case_conditions",
           "cases_behind", "check_params", "newest_first", "reviews_behind"]

NOT_SET = "none"      # the code of "not set" (no priority yet, no officer, no area)
_LONGEST = 128
Params = Mapping[str, str]
Conditions = list[ColumnElement[bool]]


class FigureInvalid(ValueError):
    """A figure's key or parameters were refused; ``errors`` maps each parameter to why."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def _choice(params: Params, name: str, allowed: Mapping[str, Any], *, required: bool = False
            ) -> Any:
    """The parameter's value from ``allowed`` (by code), None when absent and optional."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise FigureInvalid({name: f"Choose {name.replace('_', ' ')}"})
        return None
    if value not in allowed:
        raise FigureInvalid({name: f"“{value[:40]}” is not a known {name.replace('_', ' ')}"})
    return allowed[value]


def _code(params: Params, name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise FigureInvalid({name: f"Choose {name.replace('_', ' ')}"})
        return None
    if len(value) > _LONGEST or any(ord(ch) < 32 for ch in value):
        raise FigureInvalid({name: f"The {name.replace('_', ' ')} is not a known one"})
    return value


def _codes(kind: type[enum.StrEnum]) -> dict[str, Any]:
    return {member.value: member for member in kind}


def _equals_or_unset(column: Any, value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value == NOT_SET else column == value


PRIORITIES: dict[str, Any] = {"1": 1, "2": 2, NOT_SET: NOT_SET}
OPEN_COLUMNS = {"priority": Case.priority, "stage": Case.stage, "category": Case.category,
                "area": Case.area, "officer": Case.case_officer}
OPEN_VALUES: dict[str, dict[str, Any] | None] = {
    "priority": PRIORITIES, "stage": {**_codes(Stage), NOT_SET: NOT_SET},
    "category": _codes(Category), "area": None, "officer": None}


def _first_contact(params: Params, f: Filters) -> Conditions:
    months = {month_label(m): m for m in f.months()}
    month = _choice(params, "month", months)
    priority = _choice(params, "priority", PRIORITIES)
    outcome = _choice(params, "outcome", {"met": met(), "missed": missed(f.now),
                                          "pending": pending(f.now)})
    start, end = (month_start(month), month_start(next_month(month))) if month else \
        (f.start, f.end)
    found = [in_period(Case.received_at, start, end), Case.first_contact_due_at.is_not(None)]
    if priority is not None:
        found.append(_equals_or_unset(Case.priority, priority))
    if outcome is not None:
        found.append(outcome)
    return found


def _first_contact_now(params: Params, f: Filters) -> Conditions:
    when = _choice(params, "when", {"breaching": Case.first_contact_due_at < f.now,
                                    "due_today": Case.first_contact_due_at >= f.now},
                   required=True)
    priority = _choice(params, "priority", PRIORITIES)
    found = [*waiting_for_first_contact(), Case.first_contact_due_at < f.today_ends, when]
    if priority is not None:
        found.append(_equals_or_unset(Case.priority, priority))
    return found


def _open(params: Params, f: Filters) -> Conditions:
    by = _choice(params, "by", {k: k for k in OPEN_COLUMNS}, required=True)
    allowed = OPEN_VALUES[by]
    value = _choice(params, "value", allowed, required=True) if allowed is not None \
        else _code(params, "value", required=True)
    found = [Case.status == CaseStatus.OPEN, _equals_or_unset(OPEN_COLUMNS[by], value)]
    priority = _choice(params, "priority", PRIORITIES)
    if priority is not None:
        found.append(_equals_or_unset(Case.priority, priority))
    return found


def _victims(params: Params, f: Filters) -> Conditions:
    kinds = {"repeat": [Case.repeat_victim.is_(True)],
             "vulnerable": [Case.safeguarding.is_(True)],
             "both": [Case.repeat_victim.is_(True), Case.safeguarding.is_(True)]}
    return [Case.status == CaseStatus.OPEN, *_choice(params, "kind", kinds, required=True)]


def _updates_overdue(params: Params, f: Filters) -> Conditions:
    found = [Case.status == CaseStatus.OPEN, Case.next_update_due_at < f.now]
    frequency = _code(params, "frequency")
    if frequency is not None:
        found.append(_equals_or_unset(Case.update_frequency, frequency))
    return found


def _hate(params: Params, f: Filters) -> Conditions:
    found = [in_period(Case.received_at, f.start, f.end), Case.hate.is_(True)]
    strand = _choice(params, "strand", _codes(HateStrand))
    if strand is not None:
        found.append(strand_condition(strand))
    return found


def _legal(params: Params, f: Filters) -> Conditions:
    tool = _choice(params, "tool", _codes(LegalTool))
    outcome = _code(params, "outcome")
    actions = select(LegalAction.case_id).where(
        in_period(LegalAction.started_at, f.start, f.end))
    if tool is not None:
        actions = actions.where(LegalAction.tool == tool)
    if outcome == "open":
        actions = actions.where(LegalAction.status == LegalStatus.OPEN)
    elif outcome is not None:
        actions = actions.where(LegalAction.status == LegalStatus.ENDED,
                                _equals_or_unset(LegalAction.outcome, outcome))
    return [Case.id.in_(actions)]


def _referrals(params: Params, f: Filters) -> Conditions:
    agency = _code(params, "agency")
    status = _choice(params, "status", _codes(ReferralStatus))
    made = select(Referral.case_id).where(in_period(Referral.referred_at, f.start, f.end))
    if agency is not None:
        made = made.where(Referral.agency_code == agency)
    if status is not None:
        made = made.where(Referral.status == status)
    return [Case.id.in_(made)]


def _nm01(params: Params, f: Filters) -> Conditions:
    measure = _choice(params, "measure", {"1": [], "2": [Case.hate.is_(True)]}, required=True)
    return [in_period(Case.received_at, f.start, f.end), *measure]


# Figure key -> (conditions, whether the area and team filters apply, the parameters it reads).
CASE_FIGURES: dict[str, tuple[Callable[[Params, Filters], Conditions], bool, tuple[str, ...]]] = {
    "first_contact": (_first_contact, True, ("month", "priority", "outcome")),
    "first_contact_now": (_first_contact_now, True, ("when", "priority")),
    "open": (_open, True, ("by", "value", "priority")),
    "victims": (_victims, True, ("kind",)),
    "updates_overdue": (_updates_overdue, True, ("frequency",)),
    "hate": (_hate, True, ("strand",)),
    "legal": (_legal, True, ("tool", "outcome")),
    "referrals": (_referrals, True, ("agency", "status")),
    "nm01": (_nm01, False, ("measure",)),
}
REVIEW_PARAMS = ("measure",)


def check_params(params: Params, known: tuple[str, ...]) -> None:
    """Refuse a parameter the figure does not read (a mistyped one would show every case)."""
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise FigureInvalid({unknown[0]: f"“{unknown[0][:40]}” is not a filter of this figure"})


def case_conditions(figure: str, params: Params, f: Filters) -> Conditions:
    """The conditions on ``Case`` behind ``figure`` with ``params``, or ``FigureInvalid``."""
    if figure not in CASE_FIGURES:
        raise FigureInvalid({"figure": "Choose a figure from the dashboard"})
    conditions, scoped, known = CASE_FIGURES[figure]
    check_params(params, known)
    return [*conditions(params, f), *(in_scope(f) if scoped else [])]


def newest_first(query: Select[Any]) -> Select[Any]:
    """Order a list of cases newest first, ties broken by id (stable pages)."""
    return query.order_by(Case.received_at.desc(), Case.id.desc())


def cases_behind(figure: str, params: Params, f: Filters) -> Select[tuple[Case]]:
    """Select the cases counted by ``figure``, newest first, for the caller to paginate."""
    return newest_first(select(Case).where(*case_conditions(figure, params, f)))


def reviews_behind(params: Params, f: Filters) -> Select[tuple[CaseReview]]:
    """Select the Case Review applications counted by one publication figure, newest first."""
    check_params(params, REVIEW_PARAMS)
    measure = _choice(params, "measure", {k: k for k in CASE_REVIEW_MEASURES}, required=True)
    return (select(CaseReview)
            .where(in_period(CaseReview.received_at, f.start, f.end),
                   case_review_condition(measure))
            .order_by(CaseReview.received_at.desc(), CaseReview.id.desc()))
