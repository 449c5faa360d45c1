"""What the dashboard shows: each figure as a table (with links and an optional chart).

A ``Table`` is what the page renders, what the CSV export writes, and what the tests read.
``Figures`` holds the request's session and filters and runs each query once per request
(nothing is kept between requests, so nothing can go stale). The builders of the figures
about "now" are here; those about the period are in ``tables_period``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flask import url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.enums import Category, Stage
from cases.figures import (
    Filters,
    first_contact_by_month,
    first_contact_now,
    month_label,
    open_by_officer,
    open_officer_count,
    open_snapshot,
    share,
    updates_overdue,
)
from cases.figures_cases import NOT_SET
from cases.people import User
from web.admin.common import uk_time

from . import charts
from .task_figures import officer_tasks, overdue_tasks

# (breakdown, measure) pairs the snapshot is rolled up to.
ROLLUPS = (("priority", "cases"), ("stage", "cases"), ("category", "cases"),
           ("area", "cases"), ("priority", "repeat"), ("priority", "vulnerable"),
           ("priority", "both"))
# The page shows the officers with the most open cases; the CSV has every one.
WORKLOAD_SHOWN = 20
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Cell:
    """One cell: its text, the list of cases behind it if any, and whether it is a number."""

    text: str
    href: str | None = None
    numeric: bool = False


@dataclass
class Table:
    """One figure: a title, what it counts, its columns and rows, and a chart if it has one."""

    key: str
    title: str
    description: str
    columns: list[str]
    rows: list[list[Cell]]
    when: str = "now"                       # "now" (open cases today) or "period"
    chart: Markup | None = None
    notes: list[str] = field(default_factory=list)


class Figures:
    """The figures of one request: its session, its filters, and its query results.

    ``for_page``: links on every number and the longest tables cut to their top rows (the
    page); otherwise no links and every row (the CSV export).
    """

    def __init__(self, session: Session, filters: Filters, *, for_page: bool = True) -> None:
        self.session, self.f, self.for_page = session, filters, for_page

    @cached_property
    def snapshot(self) -> list[Any]:
        """The open cases grouped by priority, stage, category and area (one pass)."""
        return self.rows(open_snapshot(self.f))

    @cached_property
    def rollups(self) -> dict[tuple[str, str], dict[Any, int]]:
        """Every breakdown of the snapshot, added up in one walk over its rows."""
        found: dict[tuple[str, str], dict[Any, int]] = {}
        for row in self.snapshot:
            for dimension, measure in ROLLUPS:
                totals = found.setdefault((dimension, measure), {})
                key = getattr(row, dimension)
                totals[key] = totals.get(key, 0) + int(getattr(row, measure) or 0)
        return found

    def open_by(self, dimension: str, measure: str = "cases") -> dict[Any, int]:
        """Open cases by one breakdown of the snapshot: key -> how many."""
        return self.rollups.get((dimension, measure), {})

    def display_names(self, names: list[str]) -> dict[str, str]:
        """Staff user names -> display names (staff, not people in cases)."""
        return {name: shown for name, shown in self.session.execute(
            select(User.name, User.display_name).where(User.name.in_(names)))}

    def rows(self, query: Any) -> list[Any]:
        """Run one figure's query."""
        return list(self.session.execute(query))

    def link(self, figure: str, /, **params: Any) -> str:
        """The address of the cases behind a figure: its key, codes and the filters."""
        clean = {k: str(v) for k, v in params.items() if v is not None}
        return url_for("dashboard.cases", figure=figure, **self.f.args(), **clean)

    def count(self, n: int | None, figure: str, /, **params: Any) -> Cell:
        """A number, linked to its cases (on the page) unless it is nought."""
        number = int(n or 0)
        linked = number and self.for_page
        return Cell(str(number), self.link(figure, **params) if linked else None, True)


def text(value: str) -> Cell:
    """A cell of words."""
    return Cell(value)


def number(value: Any) -> Cell:
    """A number with no list behind it."""
    return Cell("" if value is None else str(value), None, True)


def percent(value: float | None) -> Cell:
    """A percentage to one decimal place, or a dash when nothing was measured."""
    return Cell("–" if value is None else f"{value:.1f}", None, True)


def month_name(label: str) -> str:
    """``2027-01`` as ``Jan 2027``."""
    year, month = label.split("-")
    return f"{MONTHS[int(month) - 1]} {year}"


def code_label(value: Any, unset: str = "Not set") -> str:
    """A code as people read it: ``legal_action`` -> ``Legal action``."""
    if value is None:
        return unset
    return str(getattr(value, "value", value)).replace("_", " ").capitalize()


def code(value: Any) -> str:
    """The code of a value in a link (``none`` for not set)."""
    return NOT_SET if value is None else str(getattr(value, "value", value))


# -- promise 2 -----------------------------------------------------------------------------

def first_contact_table(fig: Figures) -> Table:
    """Promise 2 by month and priority, with the trend chart."""
    found: dict[tuple[str, Any], dict[str, int]] = {}
    for r in fig.rows(first_contact_by_month(fig.f)):
        contacted, met_n, overdue = int(r.contacted or 0), int(r.met or 0), int(r.overdue or 0)
        found[(r.month, r.priority)] = {
            "met": met_n, "missed": contacted - met_n + overdue,
            "pending": int(r.received) - contacted - overdue}
    columns = ["Month"]
    for p in (1, 2):
        columns += [f"Priority {p} on time", f"Priority {p} late", f"Priority {p} % on time"]
    columns += ["All % on time", "Not yet due"]
    rows: list[list[Cell]] = []
    trend: dict[Any, list[float | None]] = {1: [], 2: [], "all": []}
    months = [month_label(m) for m in fig.f.months()]

    def total(label: str | None, priority: int | None, measure: str) -> int:
        return sum(v[measure] for (m, p), v in found.items()
                   if (label is None or m == label) and (priority is None or p == priority))

    for label in [*months, None]:
        row = [text(month_name(label) if label else "Whole period")]
        for p in (1, 2):
            met_n, missed_n = total(label, p, "met"), total(label, p, "missed")
            row += [fig.count(met_n, "first_contact", month=label, priority=p, outcome="met"),
                    fig.count(missed_n, "first_contact", month=label, priority=p,
                              outcome="missed"),
                    percent(share(met_n, met_n + missed_n))]
            if label:
                trend[p].append(share(met_n, met_n + missed_n))
        met_all, missed_all = total(label, None, "met"), total(label, None, "missed")
        row += [percent(share(met_all, met_all + missed_all)),
                fig.count(total(label, None, "pending"), "first_contact", month=label,
                          outcome="pending")]
        if label:
            trend["all"].append(share(met_all, met_all + missed_all))
        rows.append(row)
    chart = charts.line_chart(
        "chart-first-contact", "First contact on time, by month received",
        "Percentage of cases whose first contact met its deadline, for each month of the "
        "period, for priority 1, priority 2 and all cases. The table beside it has the numbers.",
        [month_name(m) for m in months],
        [charts.Series("Priority 1", trend[1]), charts.Series("Priority 2", trend[2]),
         charts.Series("All cases", trend["all"])],
        y_label="% on time", x_label="Month the report was received")
    return Table("first_contact", "Promise 2: first contact within 1 or 5 working days",
                 "Cases received in each month whose first contact was made by its deadline "
                 "(priority 1: 1 working day, priority 2: 5). Late includes cases not yet "
                 "contacted whose deadline has passed; cases still within their deadline are "
                 "not yet due and not counted in the percentage.",
                 columns, rows, when="period", chart=chart)


def first_contact_now_table(fig: Figures) -> Table:
    """Cases breaching first contact now, and due for it later today."""
    found = {r.priority: r for r in fig.rows(first_contact_now(fig.f))}
    rows = []
    for p in (1, 2, None):
        r = found.get(p)
        if p is None and r is None:
            continue
        rows.append([text(f"Priority {p}" if p else "Priority not set"),
                     fig.count(r.breaching if r else 0, "first_contact_now", when="breaching",
                               priority=code(p)),
                     fig.count(r.due_today if r else 0, "first_contact_now", when="due_today",
                               priority=code(p))])
    rows.append([text("All"),
                 fig.count(sum(int(r.breaching or 0) for r in found.values()),
                           "first_contact_now", when="breaching"),
                 fig.count(sum(int(r.due_today or 0) for r in found.values()),
                           "first_contact_now", when="due_today")])
    return Table("first_contact_now", "First contact: breaching now and due today",
                 "Open cases not yet contacted whose deadline has passed (breaching now), and "
                 "those whose deadline falls later today.",
                 ["Priority", "Breaching now", "Due later today"], rows)


# -- open cases ------------------------------------------------------------------------------

OPEN_TITLES = {"priority": "Priority", "stage": "Stage", "category": "Category",
               "area": "Area"}
LABELS: dict[str, Callable[[Any], str]] = {
    "priority": lambda v: f"Priority {v}" if v else "Not set",
    "area": lambda v: v or "Not set"}
ORDERS: dict[str, list[Any]] = {"priority": [1, 2], "stage": list(Stage),
                                 "category": list(Category)}


def _ordered(totals: dict[Any, int], dimension: str) -> list[tuple[Any, int]]:
    order = ORDERS.get(dimension)
    if order is not None:
        known = [(k, totals[k]) for k in order if k in totals]
        return known + [(k, v) for k, v in totals.items() if k not in order]
    return sorted(totals.items(), key=lambda kv: (kv[0] is None, str(kv[0] or "")))


def open_table(dimension: str) -> Callable[[Figures], Table]:
    """The builder of "open cases by ``dimension``"."""

    def build(fig: Figures) -> Table:
        totals = _ordered(fig.open_by(dimension), dimension)
        label = LABELS.get(dimension, code_label)
        rows = [[text(label(key)), fig.count(n, "open", by=dimension, value=code(key))]
                for key, n in totals]
        rows.append([text("All open cases"), number(sum(n for _k, n in totals))])
        chart = None
        if dimension == "stage" and totals:
            chart = charts.bar_chart(
                "chart-open-stage", "Open cases by stage",
                "A bar for each stage with the number of open cases at it. The table beside "
                "it has the numbers.", [label(k) for k, _n in totals],
                [n for _k, n in totals], axis_label="Open cases")
        name = OPEN_TITLES[dimension]
        return Table(f"open_{dimension}", f"Open cases by {name.lower()}",
                     f"Cases open now, by {name.lower()}.", [name, "Open cases"], rows,
                     chart=chart)

    return build


def workload_table(fig: Figures) -> Table:
    """Open cases by officer (the most first) and the open and overdue tasks each holds."""
    limit = WORKLOAD_SHOWN if fig.for_page else None
    ranked = fig.rows(open_by_officer(fig.f, limit))
    officers = [r.officer for r in ranked if r.officer is not None]
    tasks = {r.assignee: r for r in fig.rows(officer_tasks(fig.f, officers))} if officers \
        else {}
    shown = fig.display_names(officers)
    rows = []
    for r in ranked:
        name, held = r.officer, tasks.get(r.officer)
        rows.append([text(shown.get(name, name) if name else "No officer"),
                     fig.count(r.cases, "open", by="officer", value=code(name)),
                     fig.count(r.p1, "open", by="officer", value=code(name), priority=1),
                     fig.count(held.tasks if held else 0, "workload", officer=name)
                     if name else number(0),
                     fig.count(held.overdue if held else 0, "workload", officer=name,
                               overdue="yes") if name else number(0)])
    notes = []
    if limit is not None and len(ranked) == limit:
        everyone = int(fig.session.scalar(open_officer_count(fig.f)) or 0)
        if everyone > limit:
            notes.append(f"The {limit} officer{'s' if limit != 1 else ''} with the most open "
                         f"cases, of {everyone:,}: the CSV file has every one.")
    return Table("workload", "Open cases by officer, and officer workload",
                 "Each case officer's open cases (in all and priority 1), the most first, and "
                 "the open tasks on cases they hold, in all and past their due date.",
                 ["Officer", "Open cases", "Priority 1", "Open tasks", "Overdue tasks"], rows,
                 notes=notes)


def overdue_tasks_table(fig: Figures) -> Table:
    """Open tasks past their due date, by task."""
    rows = [[text(r.title), number(r.tasks),
             fig.count(r.cases, "overdue_tasks", task=r.name),
             text(uk_time(r.oldest))]
            for r in fig.rows(overdue_tasks(fig.f))]
    return Table("overdue_tasks", "Overdue tasks",
                 "Open tasks on cases whose due date has passed, by task.",
                 ["Task", "Overdue tasks", "Cases", "Oldest due date"], rows)


def victims_table(fig: Figures) -> Table:
    """Open cases with a repeat victim, a vulnerable victim, or both."""
    rows = [[text(label), fig.count(sum(fig.open_by("priority", kind).values()), "victims",
                                    kind=kind)]
            for label, kind in (
                ("Repeat victim", "repeat"),
                ("Vulnerable victim (child or vulnerable adult at risk)", "vulnerable"),
                ("Both", "both"))]
    return Table("victims", "Repeat and vulnerable victims",
                 "Open cases whose victim is a repeat victim, or a child or vulnerable adult "
                 "at risk (the safeguarding flag), or both.", ["Victim", "Open cases"], rows)


def updates_overdue_table(fig: Figures) -> Table:
    """Open cases whose agreed update to the reporter is overdue, by agreed frequency."""
    found = fig.rows(updates_overdue(fig.f))
    rows = [[text(code_label(r.update_frequency, "No frequency recorded")),
             fig.count(r.cases, "updates_overdue", frequency=code(r.update_frequency)),
             text(uk_time(r.oldest))] for r in found]
    rows.append([text("All"), fig.count(sum(int(r.cases) for r in found), "updates_overdue"),
                 text(uk_time(min((r.oldest for r in found), default=None)))])
    return Table("updates_overdue", "Updates to the reporter overdue",
                 "Open cases whose next update, at the frequency agreed with the reporter, is "
                 "past due.", ["Agreed frequency", "Cases", "Oldest due date"], rows)
