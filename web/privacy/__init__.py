"""Privacy pages for managers and admins: subject access exports and the retention review.

URL map (blueprint ``privacy``; managers and admins only, everyone else 403, strangers sign in):
    GET  /privacy/subject-access          the search form
    POST /privacy/subject-access          find a person's records (the name stays out of URLs)
    POST /privacy/subject-access/export   the chosen records' export, as a JSON download
                                          (``format=json``), a readable page (``html``) or
                                          a ZIP of both with the files the person supplied
                                          (``zip``, see ``package.py``)
    GET  /privacy/retention               closed cases past their retention date, with holds
    POST /privacy/retention/hold          put a closed case on legal hold (reference, reason)
    POST /privacy/retention/release       lift a legal hold (reference, reason)
    POST /privacy/retention/dispose       anonymise one due case (reference, confirm)

Every search, export, hold and disposal is audited with ids and counts, never a name or the
words of a reason. Refused input shows the page again (400) and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.audit import AuditRecord, record
from cases.config import LOCAL_TZ
from cases.operations import case_by_reference
from cases.people import Role
from cases.records import Case, CaseNotFound
from cases.retention import (
    RetentionError,
    RetentionHold,
    clear_hold,
    holds_of,
    review_list,
    set_hold,
)
from cases.subject_access import (
    SubjectAccessError,
    evidence_files,
    find_people,
    subject_access_export,
)
from engine import clock
from tasks import virus_scan
from tasks.retention import dispose_case
from web.auth.guards import roles_required
from web.extensions import db, rollback_only
from web.officer.case_access import file_store

from .package import build_package

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
PRIVACY_ROLES = (Role.MANAGER, Role.ADMIN)
NO_STORE = {"Cache-Control": "no-store"}


@bp.before_request
@roles_required(*PRIVACY_ROLES)
def _managers_and_admins() -> None:
    """Every page: strangers sign in first, every role but manager and admin gets 403."""
    return None


def _audit(action: str, object_id: str | None = None, case: Case | None = None,
           **summary: Any) -> None:
    record(db(), AuditRecord(at=clock.now(), actor=g.user.name, action=f"privacy.{action}",
                             object_type="case" if case else "person", object_id=object_id,
                             case_reference=case.reference if case else None,
                             summary={"via": "web", **summary}))


def _refused(template: str, errors: dict[str, str], **context: Any) -> tuple[str, int]:
    rollback_only()
    error_list = [{"text": message, "href": f"#{name}"} for name, message in errors.items()]
    return render_template(template, errors=errors, error_list=error_list, **context), 400


@bp.get("/subject-access")
def search_form() -> str:
    """The search for a person's records."""
    return render_template("privacy/search.html", errors={}, error_list=[], query="",
                           matches=None)


@bp.post("/subject-access")
def search() -> tuple[str, int] | str:
    """Find the records that match a name, e-mail address, phone number or postcode."""
    query = request.form.get("query", "")
    try:
        matches = find_people(db(), query)
    except SubjectAccessError as exc:
        return _refused("privacy/search.html", {exc.field: exc.message}, query=query,
                        matches=None)
    _audit("subject_access_search", found=len(matches))
    return render_template("privacy/search.html", errors={}, error_list=[], query=query,
                           matches=matches), 200


@bp.post("/subject-access/export")
def export() -> Response | tuple[str, int] | str:
    """The chosen records' export: a JSON file to download, or a page to read and print."""
    chosen = request.form.getlist("person")
    kind = request.form.get("format", "html")
    try:
        if kind not in ("json", "html", "zip"):
            raise SubjectAccessError("format", "Choose JSON, a readable page or a ZIP")
        data = subject_access_export(db(), chosen, at=clock.now())
    except SubjectAccessError as exc:
        return _refused("privacy/search.html", {exc.field: exc.message}, query="",
                        matches=None)
    if kind == "zip":
        return _zip(data)
    _audit("subject_access_export", ",".join(str(r["id"]) for r in data["records"])[:100],
           people=[r["id"] for r in data["records"]], cases=len(data["cases"]), format=kind)
    if kind == "json":
        body = json.dumps(data, indent=2, ensure_ascii=False)
        return Response(body, mimetype="application/json", headers={
            **NO_STORE, "Content-Disposition": "attachment; filename=subject-access.json"})
    return render_template("privacy/export.html", data=data), 200


def _zip(data: dict[str, Any]) -> Response:
    """The export, the readable page and the person's own files as one ZIP; audited."""
    people = [r["id"] for r in data["records"]]
    package = build_package(db(), file_store(), virus_scan.clamd_address(current_app.config),
                            data, render_template("privacy/export.html", data=data),
                            evidence_files(db(), people))
    _audit("subject_access_export", ",".join(str(i) for i in people)[:100], people=people,
           cases=len(data["cases"]), format="zip", files=package.included,
           withheld=package.withheld, missing=package.missing)
    response = send_file(package.archive, mimetype="application/zip", as_attachment=True,
                         download_name="subject-access.zip", conditional=False, etag=False)
    response.headers["Cache-Control"] = "no-store"
    return response


def _today() -> Any:
    return clock.now().astimezone(LOCAL_TZ).date()


def _review(errors: dict[str, str] | None = None, status: int = 200,
            **values: str) -> tuple[str, int]:
    if errors:
        rollback_only()
    rows = review_list(db(), _today())
    held = [(case, holds_of(db(), case)[0]) for case in _held_cases()]
    error_list = [{"text": m, "href": f"#{n}"} for n, m in (errors or {}).items()]
    return render_template("privacy/retention.html", rows=rows, held=held, today=_today(),
                           errors=errors or {}, error_list=error_list, values=values), status


def _held_cases() -> list[Case]:
    return list(db().scalars(select(Case).where(Case.id.in_(
        select(RetentionHold.case_id).where(RetentionHold.cleared_at.is_(None))))
        .order_by(Case.reference)))


@bp.get("/retention")
def retention() -> tuple[str, int]:
    """The review list: closed cases past their retention date, and every legal hold."""
    page = _review()
    _audit("retention_reviewed")
    return page


def _case_from_form() -> Case:
    reference = request.form.get("reference", "").strip().upper()
    if not reference:
        raise RetentionError("reference", "Enter the case reference")
    try:
        return case_by_reference(db(), reference)
    except CaseNotFound:
        raise RetentionError("reference", f"There is no case {reference}") from None


def _act(run: Any, done: str) -> Response | tuple[str, int]:
    values = {k: request.form.get(k, "") for k in ("reference", "reason")}
    try:
        case = _case_from_form()
        run(case)
    except RetentionError as exc:
        return _review({exc.field: exc.message}, 400, **values)
    flash(done.format(reference=case.reference))
    return redirect(url_for("privacy.retention"))


@bp.post("/retention/hold")
def hold() -> Response | tuple[str, int]:
    """Put a closed case on legal hold: it will not be anonymised until the hold is lifted."""
    return _act(lambda case: set_hold(db(), case, request.form.get("reason"), by=g.user.name,
                                      at=clock.now()),
                "Case {reference} is on legal hold.")


@bp.post("/retention/release")
def release() -> Response | tuple[str, int]:
    """Lift a case's legal hold, with the reason."""
    return _act(lambda case: clear_hold(db(), case, request.form.get("reason"), by=g.user.name,
                                        at=clock.now()),
                "The legal hold on case {reference} is lifted.")


@bp.post("/retention/dispose")
def dispose() -> Response | tuple[str, int]:
    """Anonymise one case that is past its retention date and not on hold."""
    def run(case: Case) -> None:
        if request.form.get("confirm") != "yes":
            raise RetentionError("confirm", "Confirm that the case's personal data may be "
                                            "removed for good")
        dispose_case(db(), case, file_store(), by=g.user.name, at=clock.now(), today=_today())

    return _act(run, "Case {reference} is anonymised; its figures are kept.")
