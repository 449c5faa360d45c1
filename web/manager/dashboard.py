"""The manager's dashboard: promises kept, where cases are, what to publish; and the cases behind.

URL map (blueprint ``dashboard``, managers only; everyone else 403, strangers sign in):
    GET  /dashboard                   every figure for a period (``from``, ``to`` as YYYY-MM)
                                      and an ``area`` or ``team``, as at when they were
                                      worked out (``snapshot``: at most 5 minutes ago)
    POST /dashboard/refresh           work the figures of those filters out again now
    GET  /dashboard/cases             the cases behind one figure (``figure`` and its codes),
                                      25 a page
    GET  /dashboard/<figure>.csv      one figure's table as CSV

Each view and export is audited with its filters and counts, never anything about a person.
Bad filters answer 400 with the reason on the page. ``build_dashboard`` is what the page and
the scale benchmark (bench/scale.py) call.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from cases.audit import AuditRecord, record
from cases.figures import Filters, FiltersInvalid, read_filters
from cases.figures_cases import CASE_FIGURES, FigureInvalid, cases_behind, reviews_behind
from cases.people import Area, Role, Team
from engine import clock
from web.admin.common import uk_time
from web.auth.guards import roles_required
from web.extensions import db, rollback_only

from .describe import describe
from .snapshot import figure_cache
from .tables import Figures, Table
from .tables_period import BUILDERS, SECTIONS
from .task_figures import TASK_FIGURES, cases_with_tasks

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
bp.add_app_template_filter(uk_time, "dashboard_time")
PER_PAGE = 25
FILTER_NAMES = ("from", "to", "area", "team")
# A cell starting with one of these would be read as a formula by a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@bp.before_request
@roles_required(Role.MANAGER)
def _managers_only() -> None:
    """Every page: strangers sign in first, every role but manager gets 403."""
    return None


def _audit(action: str, figure: str, **summary: Any) -> None:
    record(db(), AuditRecord(at=clock.now(), actor=g.user.name, action=f"dashboard.{action}",
                             object_type="dashboard", object_id=figure,
                             summary={"via": "web", **summary}))


def _choices(session: Session) -> dict[str, list[str]]:
    return {"areas": list(session.scalars(select(Area.name).order_by(Area.name))),
            "teams": list(session.scalars(select(Team.name).order_by(Team.name)))}


def _filters(session: Session, choices: dict[str, list[str]],
             values: Mapping[str, str] | None = None) -> Filters:
    return read_filters(request.args if values is None else values, clock.now(),
                        areas=choices["areas"], teams=choices["teams"])


def _refused(template: str, errors: Mapping[str, str], **context: Any) -> tuple[str, int]:
    """Show the page again with what was wrong (400), and keep nothing the request did."""
    rollback_only()
    anchor = "#filter-{}" if template.endswith("dashboard.html") else "#manager-problem-{}"
    error_list = [{"text": message, "href": anchor.format(name)}
                  for name, message in errors.items()]
    return render_template(template, errors=dict(errors), summary=list(errors.items()),
                           error_list=error_list, args=request.args, now_text="", **context), 400


def build_dashboard(session: Session, filters: Filters) -> list[tuple[str, list[Table]]]:
    """Every figure of the dashboard for ``filters``, by section (the bench times this)."""
    figures = Figures(session, filters)
    sections = []
    for title, builders in SECTIONS:
        tables = [table for _key, build in builders if (table := build(figures)) is not None]
        sections.append((title, tables))
    return sections


def _headline(sections: list[tuple[str, list[Table]]]) -> dict[str, Any]:
    tables = {t.key: t for _title, tables in sections for t in tables}
    now_all = tables["first_contact_now"].rows[-1]
    period = tables["first_contact"].rows[-1]
    return {"breaching": now_all[1], "due_today": now_all[2], "on_time": period[-2]}


def index() -> str | tuple[str, int]:
    """The dashboard: every figure for the chosen months, area and team."""
    session = db()
    choices = _choices(session)
    try:
        filters = _filters(session, choices)
    except FiltersInvalid as exc:
        return _refused("manager/dashboard.html", exc.errors, sections=[], choices=choices,
                        filters=None, headline=None)
    cache = figure_cache()
    snapshot = cache.fresh(filters) or cache.keep(filters, build_dashboard(session, filters))
    sections = snapshot.sections
    _audit("viewed", "all", filters=filters.args(), as_at=snapshot.at.isoformat(),
           figures=sum(len(tables) for _title, tables in sections))
    return render_template("manager/dashboard.html", sections=sections, choices=choices,
                           filters=filters, headline=_headline(sections), errors={},
                           summary=[], args=request.args, now_text=uk_time(filters.now),
                           as_at=uk_time(snapshot.at),
                           max_age_minutes=max(1, round(cache.max_age.total_seconds() / 60)))


def refresh() -> Response | tuple[str, int]:
    """Forget the figures of the posted filters and show them worked out again."""
    session = db()
    choices = _choices(session)
    values = {name: request.form.get(name, "") for name in FILTER_NAMES}
    try:
        filters = _filters(session, choices, values)
    except FiltersInvalid as exc:
        return _refused("manager/dashboard.html", exc.errors, sections=[], choices=choices,
                        filters=None, headline=None)
    figure_cache().drop(filters)
    _audit("refreshed", "all", filters=filters.args())
    return redirect(url_for("dashboard.index", **filters.args()))


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdecimal() or not 1 <= int(raw) <= 100_000:
        raise FigureInvalid({"page": "The page must be a whole number from 1"})
    return int(raw)


def _behind(figure: str, params: dict[str, str], filters: Filters) -> tuple[Select[Any], str]:
    if figure == "case_reviews":
        return reviews_behind(params, filters), "reviews"
    if figure in TASK_FIGURES:
        return cases_with_tasks(figure, params, filters), "cases"
    if figure not in CASE_FIGURES:
        raise FigureInvalid({"figure": "Choose a figure from the dashboard"})
    return cases_behind(figure, params, filters), "cases"


def _pagination(page: int, pages: int, args: Mapping[str, str]) -> dict[str, Any] | None:
    """GOV.UK pagination: the first, last and nearby pages, with ellipses between."""
    if pages <= 1:
        return None

    def href(n: int) -> str:
        query = {**args, "page": str(n)}
        return f"{request.path}?{urlencode(query)}"

    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    items: list[dict[str, Any]] = []
    for n in shown:
        if items and n - items[-1].get("number", n) > 1:
            items.append({"ellipsis": True})
        items.append({"number": n, "href": href(n), "current": n == page})
    params: dict[str, Any] = {"items": items}
    if page > 1:
        params["previous"] = {"href": href(page - 1)}
    if page < pages:
        params["next"] = {"href": href(page + 1)}
    return params


def cases() -> str | tuple[str, int]:
    """The cases (or Case Review applications) behind one figure, 25 a page."""
    session = db()
    choices = _choices(session)
    figure = request.args.get("figure", "")
    params = {k: v for k, v in request.args.items()
              if k not in (*FILTER_NAMES, "figure", "page")}
    try:
        filters = _filters(session, choices)
        page = _page()
        stmt, kind = _behind(figure, params, filters)
    except (FiltersInvalid, FigureInvalid) as exc:
        return _refused("manager/cases.html", exc.errors, rows=[], kind="cases",
                        described=None, total=0, pagination=None, filters=None, page=1,
                        pages=0)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    total = int(total or 0)
    per_page = int(current_app.config.get("ASB_DASHBOARD_PER_PAGE", PER_PAGE))
    pages = max(1, -(-total // per_page))
    rows = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    _audit("cases_listed", figure, filters=filters.args(), params=params, page=page,
           total=total, shown=len(rows))
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("manager/cases.html", rows=rows, kind=kind, total=total, page=page,
                           pages=pages, pagination=_pagination(page, pages, args),
                           described=describe(session, figure, params, filters),
                           filters=filters, errors={}, summary=[], args=request.args)


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(table: Table) -> str:
    """The table as CSV: a header row, then one line per row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([safe_cell(cell.text) for cell in row])
    return out.getvalue()


def export(figure: str) -> Response | tuple[str, int]:
    """One figure's table as a CSV file."""
    if figure not in BUILDERS:
        abort(404)
    session = db()
    try:
        filters = _filters(session, _choices(session))
    except FiltersInvalid as exc:
        rollback_only()
        message = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return Response(f"The filters were refused. {message}\n", status=400,
                        mimetype="text/plain")
    table = BUILDERS[figure](Figures(session, filters, for_page=False))
    if table is None:
        abort(404)
    _audit("exported", figure, filters=filters.args(), rows=len(table.rows))
    args = filters.args()
    name = f"asb-{figure.replace('_', '-')}-{args['from']}-to-{args['to']}.csv"
    return Response(to_csv(table), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


bp.add_url_rule("", "index", index)
bp.add_url_rule("/refresh", "refresh", refresh, methods=["POST"])
bp.add_url_rule("/cases", "cases", cases)
bp.add_url_rule("/<figure>.csv", "export", export)
