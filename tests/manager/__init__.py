"""Tests of the manager's dashboard; the helpers below build cases through the real processes.

The promise 2 world (``promise_two``), with the product clock, all in January 2027 (GMT):
    A  priority 2, received Mon 4 Jan 10:00, due Mon 11 Jan 17:00, contacted Tue 5 Jan 11:00
       -> on time
    B  priority 1, received Mon 4 Jan 10:00, due Tue 5 Jan 17:00, contacted Wed 6 Jan 09:00
       -> late
    C  priority 1, received Mon 4 Jan 10:00, due Tue 5 Jan 17:00, never contacted
       -> late, and breaching now
    E  priority 1, received Tue 5 Jan 10:00, due Wed 6 Jan 17:00 -> due later today
    D  priority 2, received Wed 6 Jan 10:00, due Wed 13 Jan 17:00 -> not yet due
and "now" is Wednesday 6 January 2027, 12:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from cases.figures import Filters
from cases.records import Case

ASSESS = {"harm": "medium", "community_impact": "low"}
NOW = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)
SERIOUS = {"threat_of_violence": True}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def january(now: datetime = NOW, **scope: Any) -> Filters:
    """The filters for January 2027 alone."""
    return Filters(date(2027, 1, 1), date(2027, 1, 1), now, **scope)


def reporter(n: int) -> dict[str, Any]:
    """A different reporter for each case (the same one twice makes a repeat victim)."""
    return {"name": f"Reporter {n}", "email": f"reporter{n}@example.org",
            "address": f"{n} Elm Road, Chesterfield S40 2AA",
            "contact_preferences": {"channels": ["email"]}}


def incident(category: str = "nuisance", strands: tuple[str, ...] = (),
             location: str = "14 Mill Lane, Chesterfield S40 1AB") -> dict[str, Any]:
    return {"occurred_at": "2026-12-20T22:00:00+00:00", "location": location,
            "description": "Shouting in the street at night", "category": category,
            "hate_strands": list(strands)}


def open_case(life: Any, at: datetime, n: int, *, assess: bool = True, **report: Any) -> Case:
    """A report received ``at`` from reporter ``n``, with the officer's risk assessment done."""
    report.setdefault("reporter", reporter(n))
    report.setdefault("incident", incident())
    case = life.open(at, **report)
    if assess:
        life.complete(case.reference, "assess_risk", ASSESS)
    return case


def contact(life: Any, case: Case, at: datetime) -> None:
    """The officer makes first contact at ``at`` (the clock moves there first)."""
    life.at(at)
    life.complete(case.reference, "first_contact", {
        "contacted_at": at.isoformat(), "method": "phone", "summary": "Called the reporter"})


def promise_two(life: Any) -> dict[str, Case]:
    """Build the five cases of the module docstring; the clock ends at ``NOW``."""
    a = open_case(life, utc(2027, 1, 4, 10), 1)
    b = open_case(life, utc(2027, 1, 4, 10), 2, vulnerability=SERIOUS)
    c = open_case(life, utc(2027, 1, 4, 10), 3, vulnerability=SERIOUS)
    life.at(utc(2027, 1, 5, 10))
    e = open_case(life, utc(2027, 1, 5, 10), 5, vulnerability=SERIOUS)
    contact(life, a, utc(2027, 1, 5, 11))
    life.at(utc(2027, 1, 5, 17, 1))           # B's and C's deadlines pass
    contact(life, b, utc(2027, 1, 6, 9))
    life.at(utc(2027, 1, 6, 10))
    d = open_case(life, utc(2027, 1, 6, 10), 4)
    life.at(NOW)
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


def refs(session: Any, query: Any) -> list[str]:
    """The references a list query selects, in its order."""
    return [case.reference for case in session.scalars(query)]


def names(found: dict[str, Case], query_refs: list[str]) -> set[str]:
    """Which of the world's cases (by letter) a list holds; an unknown one fails."""
    by_ref = {case.reference: letter for letter, case in found.items()}
    return {by_ref[ref] for ref in query_refs}


def references(session: Any, letters: str, found: dict[str, Case]) -> list[str]:
    """The references of some of the world's cases, newest first as the lists order them."""
    rows = session.scalars(select(Case).where(Case.reference.in_(
        [found[x].reference for x in letters])).order_by(Case.received_at.desc(),
                                                         Case.id.desc()))
    return [row.reference for row in rows]
