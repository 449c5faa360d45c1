"""The dashboard's figures about the chosen period, and the list of every figure by key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cases.enums import HateStrand
from cases.figures_period import (
    CASE_REVIEW_MEASURES,
    case_review_figures,
    hate_by_strand,
    homes_count,
    legal_by_tool,
    nm01_counts,
    per_thousand_homes,
    referrals_by_agency,
)
from cases.legal import LegalStatus, LegalTool
from cases.referrals import ReferralStatus

from . import charts
from .tables import (
    Cell,
    Figures,
    Table,
    code_label,
    first_contact_now_table,
    first_contact_table,
    number,
    open_table,
    overdue_tasks_table,
    text,
    updates_overdue_table,
    victims_table,
    workload_table,
)

STRANDS = {HateStrand.DISABILITY: "Disability", HateStrand.RACE: "Race",
           HateStrand.RELIGION: "Religion", HateStrand.SEXUAL_ORIENTATION: "Sexual orientation",
           HateStrand.TRANSGENDER: "Transgender identity"}
TOOLS = {LegalTool.WARNING_LETTER: "Warning letter",
         LegalTool.ACCEPTABLE_BEHAVIOUR_AGREEMENT: "Acceptable behaviour agreement",
         LegalTool.COMMUNITY_PROTECTION: "Community protection warning and notice",
         LegalTool.CIVIL_INJUNCTION: "Civil injunction",
         LegalTool.CLOSURE: "Closure notice and order",
         LegalTool.POSSESSION: "Possession (absolute ground)"}
COUNCIL_WIDE = "Council-wide: the area and team filters do not apply."


def hate_table(fig: Figures) -> Table:
    """Hate cases received in the period, by strand, with a bar chart."""
    row = fig.rows(hate_by_strand(fig.f))[0]
    counts = [int(getattr(row, s.value) or 0) for s in STRANDS]
    rows = [[text(label), fig.count(n, "hate", strand=s.value)]
            for (s, label), n in zip(STRANDS.items(), counts, strict=True)]
    rows.append([text("All hate cases"), fig.count(row.cases, "hate")])
    chart = charts.bar_chart(
        "chart-hate", "Hate cases by strand",
        "A bar for each of the five monitored strands with the number of hate cases received "
        "in the period. The table beside it has the numbers.", list(STRANDS.values()), counts,
        axis_label="Cases received")
    return Table("hate", "Hate cases by strand",
                 "Cases received in the period that are hate-related, by monitored strand. A "
                 "case may name more than one strand, so the strands can add up to more than "
                 "the cases.", ["Strand", "Cases"], rows, when="period", chart=chart)


def _outcome(status: LegalStatus, outcome: str | None) -> tuple[str, str]:
    if status is LegalStatus.OPEN:
        return "open", "Still open"
    return (outcome or "none"), code_label(outcome, "No outcome recorded")


def legal_table(fig: Figures) -> Table:
    """Legal actions started in the period, by tool and outcome."""
    merged: dict[tuple[LegalTool, str], list[Any]] = {}
    for r in fig.rows(legal_by_tool(fig.f)):
        key, label = _outcome(r.status, r.outcome)
        merged.setdefault((r.tool, key), [label, 0])[1] += int(r.actions)
    rows = [[text(TOOLS.get(tool, code_label(tool))), text(label),
             fig.count(n, "legal", tool=tool.value, outcome=key)]
            for (tool, key), (label, n) in sorted(merged.items(), key=lambda kv: (
                list(TOOLS).index(kv[0][0]), kv[0][1] != "open", kv[0][1]))]
    rows.append([text("All"), text(""), fig.count(sum(v[1] for v in merged.values()), "legal")])
    return Table("legal", "Legal actions by type and outcome",
                 "Legal actions started in the period, by tool, with their outcome (or still "
                 "open).", ["Tool", "Outcome", "Actions"], rows, when="period")


STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.DECLINED,
            ReferralStatus.DONE, ReferralStatus.WITHDRAWN)


def referrals_table(fig: Figures) -> Table:
    """Referrals made in the period, by agency and where each stands."""
    agencies: dict[str, dict[str, Any]] = {}
    for r in fig.rows(referrals_by_agency(fig.f)):
        entry = agencies.setdefault(r.agency_code, {"name": r.agency})
        entry[r.status] = int(r.referrals)
    rows = []
    for agency_code, entry in sorted(agencies.items(), key=lambda kv: kv[1]["name"]):
        rows.append([text(entry["name"]),
                     *[fig.count(entry.get(s, 0), "referrals", agency=agency_code,
                                 status=s.value) for s in STATUSES],
                     fig.count(sum(entry.get(s, 0) for s in STATUSES), "referrals",
                               agency=agency_code)])
    return Table("referrals", "Referrals by agency and outcome",
                 "Referrals to partner agencies made in the period, by where each stands now: "
                 "awaiting an answer, accepted, declined, done or withdrawn.",
                 ["Agency", "Awaiting answer", "Accepted", "Declined", "Done", "Withdrawn",
                  "All"], rows, when="period")


def case_reviews_table(fig: Figures) -> Table:
    """The four Case Review figures a council publishes."""
    row = fig.rows(case_review_figures(fig.f))[0]
    rows = [[text(label), Cell(str(int(getattr(row, key) or 0)),
                               fig.link("case_reviews", measure=key)
                               if getattr(row, key) else None, True)]
            for key, label in CASE_REVIEW_MEASURES.items()]
    return Table("case_reviews", "ASB Case Review figures for publication",
                 "Applications for an ASB Case Review received in the period: how many, the "
                 "times the threshold was not met, the reviews carried out and those that made "
                 "recommendations.", ["Figure", "Number"], rows, when="period",
                 notes=[COUNCIL_WIDE])


def nm01_table(fig: Figures) -> Table | None:
    """Tenant Satisfaction Measures NM01(1) and NM01(2), for councils that own homes."""
    homes = homes_count(fig.session, fig.f)
    if homes <= 0:
        return None
    row = fig.rows(nm01_counts(fig.f))[0]
    rows = [[text("NM01(1) anti-social behaviour cases"),
             fig.count(row.cases, "nm01", measure=1),
             number(per_thousand_homes(int(row.cases or 0), homes))],
            [text("NM01(2) hate-related anti-social behaviour cases"),
             fig.count(row.hate, "nm01", measure=2),
             number(per_thousand_homes(int(row.hate or 0), homes))]]
    return Table("nm01", "Tenant Satisfaction Measures NM01 per 1,000 homes",
                 f"Cases opened (received) in the period per 1,000 homes the council owns "
                 f"({homes:,} homes, as configured).",
                 ["Measure", "Cases opened", "Per 1,000 homes"], rows, when="period",
                 notes=[COUNCIL_WIDE])


# Every figure by key, in the dashboard's order, grouped in its sections.
SECTIONS: tuple[tuple[str, tuple[tuple[str, Callable[[Figures], Table | None]], ...]], ...] = (
    ("Promise 2: responding quickly", (
        ("first_contact_now", first_contact_now_table),
        ("first_contact", first_contact_table))),
    ("Open cases now", (
        ("open_priority", open_table("priority")),
        ("open_stage", open_table("stage")),
        ("open_category", open_table("category")),
        ("open_area", open_table("area")),
        ("workload", workload_table),
        ("overdue_tasks", overdue_tasks_table),
        ("victims", victims_table),
        ("updates_overdue", updates_overdue_table))),
    ("Hate, legal action and partners in the period", (
        ("hate", hate_table),
        ("legal", legal_table),
        ("referrals", referrals_table))),
    ("For publication", (
        ("case_reviews", case_reviews_table),
        ("nm01", nm01_table))),
)
BUILDERS: dict[str, Callable[[Figures], Table | None]] = {
    key: build for _title, figures in SECTIONS for key, build in figures}
