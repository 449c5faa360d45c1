"""The public report form, following a case by code or link, and the reporter's case page.

URL map (blueprint ``reporter``):
    GET, POST /report                 report()
    GET, POST /follow                 follow()
    GET       /follow/<key>           follow_link()   (exchanged for a session, redirected)
    GET       /my-case                my_case()
    POST      /my-case/sign-out       sign_out()
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from cases.checks import check_report
from cases.records import CaseDataInvalid
from cases.reporter_access import AccessRefused, access_by_code, access_by_token
from engine import clock
from tasks import reporter_portal
from tasks.reporter_portal_view import case_page, evidence_kinds
from web.extensions import case_engine, db, rollback_only
from web.officer.reports import _ordered, build_report, map_errors

from . import bp
from .access import (
    SESSION_KEY,
    locked_out,
    open_session,
    refuse,
    reporter_case,
    reporter_required,
    setting,
)
from .forms import FollowForm, PublicReportForm

LOCKED = ("Too many wrong attempts. For your safety, following this case is paused for a "
          "while: try again later, or call us.")


def _yours(message: str) -> str:
    """The officer form's wording, addressed to the reporter."""
    return message.replace("the reporter's ", "your ").replace("The reporter's ", "Your ")


def _report_page(form: PublicReportForm, errors: dict[str, str]) -> tuple[str, int]:
    return render_template("reporter/report.html", form=form, errors=errors,
                           summary=_ordered(errors)), 400 if errors else 200


@bp.route("/report", methods=["GET", "POST"])
def report() -> tuple[str, int]:
    """Report anti-social behaviour, named or anonymously; the case opens as an officer's does."""
    form = PublicReportForm()
    if request.method == "GET":
        return _report_page(form, {})
    if not form.validate():
        abort(400)
    form.channel.data = "online"
    anonymous = form.anonymous.data == "yes"
    errors: dict[str, str] = {}
    if form.anonymous.data not in ("yes", "no"):
        errors["anonymous"] = "Select whether you want to give your name and contact details"
    built, roles = build_report(form, errors)
    if anonymous:
        built["reporter"] = reporter_portal.anonymous_reporter()
    now = clock.now()
    try:
        check_report(built, now)
    except CaseDataInvalid as exc:
        map_errors(exc.errors, roles, errors)
    if errors:
        rollback_only()
        return _report_page(form, {k: _yours(v) for k, v in errors.items()})
    made = reporter_portal.open_public_report(
        db(), case_engine(), built, valid=int(setting("ASB_REPORTER_ACCESS_DAYS")),
        link_for=lambda token: url_for("reporter.follow_link", key=token, _external=True))
    open_session(made.issued.access, made.case, "report")
    return render_template("reporter/confirmation.html", case=made.case, code=made.code,
                           emailed=made.emailed, anonymous=anonymous), 200


def _follow_page(form: FollowForm, errors: dict[str, str], status: int = 200
                 ) -> tuple[str, int]:
    summary = [(name, text) for name, text in errors.items()]
    return render_template("reporter/follow.html", form=form, errors=errors, summary=summary,
                           ended=False), status


@bp.route("/follow", methods=["GET", "POST"])
def follow() -> Response | tuple[str, int]:
    """Open a case with its reference and follow-up code."""
    form = FollowForm()
    if request.method == "GET":
        return _follow_page(form, {})
    if not form.validate():
        abort(400)
    reference = " ".join((form.reference.data or "").split()).upper()[:20]
    code = (form.code.data or "").strip()[:40]
    errors: dict[str, str] = {}
    if not reference:
        errors["reference"] = "Enter your case reference"
    if not code:
        errors["code"] = "Enter your follow-up code"
    if errors:
        return _follow_page(form, errors, 400)
    now = clock.now()
    if locked_out(db(), reference, now):
        refuse("locked_out", reference=reference)
        return _follow_page(form, {"code": LOCKED}, 429)
    try:
        access, case = access_by_code(db(), reference, code, now)
    except AccessRefused as exc:
        refuse(f"wrong_{exc}", reference=reference)
        return _follow_page(form, {"code": "The reference and code do not match a case you "
                                            "can follow. Check them and try again."}, 400)
    open_session(access, case, "code")
    return redirect(url_for("reporter.my_case"))


def follow_link(key: str) -> Response | tuple[str, int]:
    """Exchange a private link for a session, then send the browser to a URL without it."""
    now = clock.now()
    if locked_out(db(), None, now):
        refuse("locked_out", reference=None)
        return _follow_page(FollowForm(), {"code": LOCKED}, 429)
    try:
        access, case = access_by_token(db(), key[:100], now)
    except AccessRefused:
        refuse("bad_link", reference=None)
        return _follow_page(FollowForm(), {"code": "This link has expired or does not work. "
                                                    "Enter your reference and code instead, "
                                                    "or call us for new ones."}, 404)
    open_session(access, case, "link")
    return redirect(url_for("reporter.my_case"))


@bp.get("/my-case")
@reporter_required
def my_case() -> str:
    """The reporter's own case: officer, stage, updates, evidence asked for, dates promised."""
    case = reporter_case()
    page = case_page(db(), case)
    reporter_portal.audit(db(), "reporter.case_viewed", case)
    return render_template("reporter/my_case.html", page=page, case=case,
                           evidence_kinds=evidence_kinds,
                           anonymous=reporter_portal.is_anonymous(db(), case))


@bp.post("/my-case/sign-out")
def sign_out() -> Response:
    """Forget the reporter's session in this browser."""
    session.pop(SESSION_KEY, None)
    return redirect(url_for("reporter.follow"))


def throttle(app: Any) -> None:
    """Wrap the guessable views in the app's limiter (the database lockout is the real guard)."""
    limiter = app.extensions["asb"]["limiter"]
    for endpoint, name, methods in (("reporter.follow", "ASB_REPORTER_FOLLOW_RATE", ["POST"]),
                                    ("reporter.follow_link", "ASB_REPORTER_FOLLOW_RATE", None),
                                    ("reporter.report", "ASB_REPORT_RATE", ["POST"])):
        limit = limiter.limit(lambda name=name: str(setting(name)), methods=methods)
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])


bp.add_url_rule("/follow/<key>", "follow_link", follow_link)
