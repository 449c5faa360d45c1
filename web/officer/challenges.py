"""ASB Case Reviews and complaints (promise 8): record one, follow it, extend or escalate it.

    GET       /case-reviews               open Case Reviews (``?show=all`` for every one)
    GET/POST  /case-reviews/new           record an application, with or without a case
    GET       /case-reviews/<reference>   where a Case Review stands
    GET       /complaints                 open complaints (``?show=all``)
    GET/POST  /complaints/new             record a complaint
    GET       /complaints/<reference>     where a complaint stands
    POST      /complaints/<reference>/extension   more time for the open stage, with a reason
    POST      /complaints/<reference>/escalation  the complainant asks for stage 2

Team leaders run Case Reviews and stage 1 of complaints, managers stage 2: they see every one,
as their tasks wait in the role's queue. Officers take applications and complaints by phone or
at the counter, so they may record one (linked only to a case they may see) but not read them:
a complaint may well be about them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from cases.challenge import (
    CaseReview,
    CaseReviewStatus,
    ChallengeNotFound,
    Complaint,
    ComplaintStatus,
    audit,
    complaint_by_reference,
    review_by_reference,
)
from cases.people import Role
from cases.records import CaseDataInvalid
from engine import clock
from engine.models import HumanTask, TaskStatus
from tasks.case_review import apply_for_case_review
from tasks.complaints import escalate_complaint, extend_complaint, make_complaint
from web.access import can_view_case
from web.auth.guards import roles_required
from web.extensions import case_engine, db, rollback_only

from .case_access import find_case, user
from .challenge_forms import (
    CaseReviewForm,
    ComplaintForm,
    EscalationForm,
    ExtensionForm,
    application_of,
    complaint_of,
    map_errors,
    ordered,
)

bp = Blueprint("challenges", __name__)
READERS = (Role.TEAM_LEADER, Role.MANAGER)
RECORDERS = (Role.OFFICER, Role.TEAM_LEADER, Role.MANAGER)
LIST_LIMIT = 200
FINISHED_REVIEWS = (CaseReviewStatus.THRESHOLD_NOT_MET, CaseReviewStatus.COMPLETED)


def _note(action: str, reference: str, **summary: Any) -> None:
    audit(db(), at=clock.now(), actor=user().name, action=action, reference=reference,
          via="web", **summary)


def _open_tasks(reference: str) -> list[HumanTask]:
    return list(db().scalars(select(HumanTask).where(
        HumanTask.business_key == reference, HumanTask.state == TaskStatus.OPEN)
        .order_by(HumanTask.created_at)))


def _linked_case_error(reference: str | None) -> str | None:
    """Refuse a case the recorder may not see exactly as one that does not exist."""
    if not reference:
        return None
    case = find_case(reference)
    if case is None or not can_view_case(db(), user(), case):
        return "No case you can see has this reference: check it, or leave it blank"
    return None


def _after_recording(kind: str, reference: str, case_reference: str | None,
                     endpoint: str, key: str) -> Response:
    flash(f"{kind} {reference} recorded. The team leaders' queue has its first task.",
          "success")
    if user().role in READERS:
        return redirect(url_for(endpoint, **{key: reference}))
    if case_reference:
        return redirect(url_for("casefile.case_file", reference=case_reference))
    return redirect(url_for("inbox.index"))


# -- Case Reviews ---------------------------------------------------------------------------

@bp.get("/case-reviews")
@roles_required(*READERS)
def reviews() -> str:
    """Case Reviews, open ones first by the date their outcome is due."""
    show_all = request.args.get("show") == "all"
    query = select(CaseReview)
    if not show_all:
        query = query.where(CaseReview.status.not_in(FINISHED_REVIEWS))
    rows = list(db().scalars(query.order_by(CaseReview.outcome_due_at.desc() if show_all
                                            else CaseReview.outcome_due_at)
                             .limit(LIST_LIMIT)))
    _note("listed", "CR-list", count=len(rows), show="all" if show_all else "open")
    return render_template("challenges/reviews.html", rows=rows, show_all=show_all,
                           now=clock.now())


def _review_form_page(form: CaseReviewForm, errors: dict[str, str]) -> tuple[str, int]:
    return render_template("challenges/review_new.html", form=form, errors=errors,
                           summary=ordered(form, errors)), 400 if errors else 200


@bp.route("/case-reviews/new", methods=["GET", "POST"])
@roles_required(*RECORDERS)
def new_review() -> Response | tuple[str, int]:
    """Record an application for a Case Review; refused forms come back with messages."""
    form = CaseReviewForm()
    if request.method == "GET":
        form.case_reference.data = (request.args.get("case") or "")[:20]
        return _review_form_page(form, {})
    if not form.validate():
        abort(400)
    errors: dict[str, str] = {}
    application = application_of(form, errors)
    if (why := _linked_case_error(application["case_reference"])) is not None:
        errors["case_reference"] = why
    if not errors:
        try:
            review = apply_for_case_review(db(), case_engine(), **application,
                                           actor=user().name)
        except CaseDataInvalid as exc:
            map_errors(exc.errors, errors)
    if errors:
        rollback_only()
        return _review_form_page(form, errors)
    return _after_recording("Case Review application", review.reference,
                            application["case_reference"], "challenges.review", "review_ref")


@bp.get("/case-reviews/<review_ref>")
@roles_required(*READERS)
def review(review_ref: str) -> str:
    """Where one Case Review stands: its dates, decision, panel and recommendations."""
    try:
        row = review_by_reference(db(), review_ref[:20])
    except ChallengeNotFound:
        abort(404)
    _note("viewed", row.reference)
    return render_template("challenges/review.html", review=row, tasks=_open_tasks(
        row.reference), case_visible=row.case is not None and can_view_case(
        db(), user(), row.case), now=clock.now())


# -- complaints -----------------------------------------------------------------------------

@bp.get("/complaints")
@roles_required(*READERS)
def complaints() -> str:
    """Complaints, open ones first (oldest first: the longest waiting)."""
    show_all = request.args.get("show") == "all"
    query = select(Complaint)
    if not show_all:
        query = query.where(Complaint.status != ComplaintStatus.CLOSED)
    rows = list(db().scalars(query.order_by(Complaint.received_at.desc() if show_all
                                            else Complaint.received_at).limit(LIST_LIMIT)))
    _note("listed", "CMP-list", count=len(rows), show="all" if show_all else "open")
    return render_template("challenges/complaints.html", rows=rows, show_all=show_all)


def _complaint_form_page(form: ComplaintForm, errors: dict[str, str]) -> tuple[str, int]:
    return render_template("challenges/complaint_new.html", form=form, errors=errors,
                           summary=ordered(form, errors)), 400 if errors else 200


@bp.route("/complaints/new", methods=["GET", "POST"])
@roles_required(*RECORDERS)
def new_complaint() -> Response | tuple[str, int]:
    """Record a complaint and start stage 1; refused forms come back with messages."""
    form = ComplaintForm()
    if request.method == "GET":
        form.case_reference.data = (request.args.get("case") or "")[:20]
        return _complaint_form_page(form, {})
    if not form.validate():
        abort(400)
    errors: dict[str, str] = {}
    given = complaint_of(form)
    if (why := _linked_case_error(given["case_reference"])) is not None:
        errors["case_reference"] = why
    if not errors:
        try:
            row = make_complaint(db(), case_engine(), **given, actor=user().name)
        except CaseDataInvalid as exc:
            map_errors(exc.errors, errors)
    if errors:
        rollback_only()
        return _complaint_form_page(form, errors)
    return _after_recording("Complaint", row.reference, given["case_reference"],
                            "challenges.complaint", "complaint_ref")


def _complaint_page(row: Complaint, *, extension: ExtensionForm | None = None,
                    escalation: EscalationForm | None = None,
                    errors: dict[str, str] | None = None, status: int = 200
                    ) -> tuple[str, int]:
    errors = errors or {}
    return render_template(
        "challenges/complaint.html", complaint=row, tasks=_open_tasks(row.reference),
        case_visible=row.case is not None and can_view_case(db(), user(), row.case),
        extension=extension or ExtensionForm(formdata=None),
        escalation=escalation or EscalationForm(formdata=None), errors=errors,
        summary=list(errors.items()), now=clock.now()), status


def _complaint(reference: str) -> Complaint:
    try:
        return complaint_by_reference(db(), reference[:20])
    except ChallengeNotFound:
        abort(404)


@bp.get("/complaints/<complaint_ref>")
@roles_required(*READERS)
def complaint(complaint_ref: str) -> tuple[str, int]:
    """Where one complaint stands, stage by stage, with the extension and stage 2 forms."""
    row = _complaint(complaint_ref)
    _note("viewed", row.reference)
    return _complaint_page(row)


@bp.post("/complaints/<complaint_ref>/extension")
@roles_required(*READERS)
def extend(complaint_ref: str) -> Response | tuple[str, int]:
    """Extend the open stage once, telling the complainant why."""
    row = _complaint(complaint_ref)
    form = ExtensionForm()
    if not form.validate():
        abort(400)
    text = (form.days.data or "").strip()
    days: Any = int(text) if text.isdecimal() and len(text) <= 3 else text
    try:
        stage = extend_complaint(db(), case_engine(), row.reference, days=days,
                                 reason=form.reason.data or "", actor=user().name)
    except CaseDataInvalid as exc:
        rollback_only()
        errors = {("extension_" + key if key in ("days", "reason") else "extension_days"):
                  message[:1].upper() + message[1:] for key, message in exc.errors.items()}
        return _complaint_page(row, extension=form, errors=errors, status=400)
    flash(f"Stage {stage.stage} of {row.reference} extended by {stage.extended_days} working "
          "days; the complainant has been told why.", "success")
    return redirect(url_for("challenges.complaint", complaint_ref=row.reference))


@bp.post("/complaints/<complaint_ref>/escalation")
@roles_required(*READERS)
def escalate(complaint_ref: str) -> Response | tuple[str, int]:
    """The complainant asks for stage 2 within the time allowed."""
    row = _complaint(complaint_ref)
    form = EscalationForm()
    if not form.validate():
        abort(400)
    try:
        escalate_complaint(db(), case_engine(), row.reference, reason=form.reason.data or "",
                           actor=user().name)
    except CaseDataInvalid as exc:
        rollback_only()
        errors = {"escalation_reason": exc.message[:1].upper() + exc.message[1:]}
        return _complaint_page(row, escalation=form, errors=errors, status=400)
    flash(f"{row.reference} is now at stage 2; the managers' queue has its first task.",
          "success")
    return redirect(url_for("challenges.complaint", complaint_ref=row.reference))
