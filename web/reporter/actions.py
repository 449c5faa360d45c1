"""What a reporter sends from their case page: each a form, each a message to the case.

URL map (blueprint ``reporter``; every page needs a live reporter session, else 401):
    GET, POST /my-case/incident       incident()
    GET, POST /my-case/diary          diary()
    GET, POST /my-case/evidence       evidence()
    GET, POST /my-case/circumstances  circumstances()
    GET, POST /my-case/preferences    preferences()
    GET, POST /my-case/case-review    case_review()
    GET, POST /my-case/complaint      complaint()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, render_template, request
from werkzeug.wrappers import Response

from cases.config import get_setting
from cases.evidence import ALLOWED, EvidenceKind, describe_types
from cases.records import CaseDataInvalid
from engine import clock
from tasks import reporter_portal
from tasks.files import StoreUnavailable
from web.extensions import case_engine, db, rollback_only
from web.officer.evidence import (
    STORE_UNAVAILABLE,
    _megabytes,
    check_upload,
    max_upload,
    store_upload,
)
from web.officer.reports import _occurred_at

from . import bp
from .access import reporter_case, reporter_required
from .forms import DiaryForm, EvidenceUploadForm, IncidentForm, PreferencesForm, TextForm

MAX_TEXT = 2000
TEXT_PAGES = {
    "circumstances": ("Tell us about a change in your circumstances",
                      "For example new threats, a health change, or the problem getting worse. "
                      "Your case officer will look at the risk to you again.",
                      "What has changed?"),
    "case_review": ("Ask for an ASB Case Review",
                    "If you have reported the problem several times and feel nothing has been "
                    "done, you can ask for a Case Review. We will tell you within a few working "
                    "days whether it goes ahead.",
                    "Why are you asking for a Case Review?"),
    "complaint": ("Make a complaint",
                  "Tell us what went wrong with the service you received. We will acknowledge "
                  "your complaint and reply by the dates shown on your case page.",
                  "What is your complaint about?"),
}


def _page(template: str, form: Any, errors: dict[str, str], **extra: Any) -> tuple[str, int]:
    return render_template(f"reporter/{template}.html", form=form, errors=errors,
                           summary=list(errors.items()), case=reporter_case(),
                           **extra), 400 if errors else 200


def _done(what: str, **extra: Any) -> tuple[str, int]:
    return render_template("reporter/done.html", case=reporter_case(), what=what,
                           **extra), 200


def _field_errors(exc: CaseDataInvalid, names: dict[str, str], into: dict[str, str],
                  default: str) -> None:
    for path, message in exc.errors.items():
        leaf = path.rpartition(".")[2]
        name = names.get(leaf, default)
        if leaf == "reference":  # about the case itself, e.g. it has closed
            into.setdefault(name, message[:1].upper() + message[1:])
        else:
            into.setdefault(name, f"{names.get(leaf + ':label', 'This')} {message}")


@reporter_required
def incident() -> tuple[str, int]:
    """A new incident."""
    form = IncidentForm()
    if request.method == "GET":
        return _page("incident", form, {})
    if not form.validate():
        abort(400)
    errors: dict[str, str] = {}
    occurred = _occurred_at(form, errors)  # type: ignore[arg-type]
    given = {"occurred_at": occurred, "location": (form.location.data or "").strip() or None,
             "description": (form.description.data or "").strip() or None,
             "category": form.category.data or None}
    if not errors:
        try:
            outcome = reporter_portal.report_incident(db(), case_engine(), reporter_case(),
                                                      given)
        except CaseDataInvalid as exc:
            rollback_only()
            _field_errors(exc, {"occurred_at": "incident_date", "location": "location",
                                "description": "description", "category": "category",
                                "location:label": "Where it happened",
                                "description:label": "What happened",
                                "category:label": "The kind of problem",
                                "occurred_at:label": "When it happened"}, errors,
                          "description")
        else:
            return _done("Your new incident has been sent to your case officer.",
                         new_reference=(outcome.case.reference
                                        if outcome.how == "new_case" else None))
    rollback_only()
    return _page("incident", form, errors)


@reporter_required
def diary() -> tuple[str, int]:
    """A diary entry."""
    form = DiaryForm()
    if request.method == "GET":
        return _page("diary", form, {})
    if not form.validate():
        abort(400)
    errors: dict[str, str] = {}
    occurred = _occurred_at(form, errors)  # type: ignore[arg-type]
    what = (form.what_happened.data or "").strip()
    if not what:
        errors["what_happened"] = "Enter what happened"
    if not errors:
        try:
            reporter_portal.add_diary(db(), case_engine(), reporter_case(), {
                "occurred_at": occurred, "what_happened": what,
                "effect": (form.effect.data or "").strip() or None})
        except CaseDataInvalid as exc:
            rollback_only()
            _field_errors(exc, {"occurred_at": "incident_date", "what_happened": "what_happened",
                                "effect": "effect", "reference": "what_happened",
                                "occurred_at:label": "When it happened",
                                "what_happened:label": "What happened",
                                "effect:label": "How it affected you"}, errors,
                          "what_happened")
        else:
            return _done("Your diary entry has been sent to your case officer.")
    rollback_only()
    return _page("diary", form, errors)


@reporter_required
def evidence() -> tuple[str, int]:
    """Upload one file of evidence (the officers' checks and file store)."""
    form = EvidenceUploadForm()
    kinds = {str(k): describe_types(ALLOWED[k]) for k in EvidenceKind}
    if request.method == "GET":
        return _page("evidence", form, {}, kinds=kinds, limit=_megabytes(max_upload()))
    if not form.validate():
        abort(400)
    checked, errors = check_upload(form.kind.data, form.description.data)
    if checked is None:
        rollback_only()
        return _page("evidence", form, errors, kinds=kinds, limit=_megabytes(max_upload()))
    case = reporter_case()
    try:
        store_upload(case, checked, reporter_portal.ACTOR,
                     lambda item: reporter_portal.evidence_sent(db(), case_engine(), case,
                                                                item.id))
    except StoreUnavailable:
        rollback_only()
        page, _ = _page("evidence", form, {"file": STORE_UNAVAILABLE}, kinds=kinds,
                        limit=_megabytes(max_upload()))
        return page, 503
    return _done("Your evidence has been added to your case.")


def _text_view(kind: str, send: Callable[[str, str | None], None]) -> tuple[str, int]:
    form = TextForm()
    title, intro, label = TEXT_PAGES[kind]
    extra = {"title": title, "intro": intro, "label": label, "kind": kind}
    if request.method == "GET":
        return _page("text", form, {}, **extra)
    if not form.validate():
        abort(400)
    details = (form.details.data or "").strip()
    sought = (form.outcome_sought.data or "").strip() or None
    errors: dict[str, str] = {}
    if not details:
        errors["details"] = f"Enter {label[0].lower()}{label[1:-1]}"
    elif len(details) > MAX_TEXT:
        errors["details"] = f"Details must be {MAX_TEXT} characters or fewer"
    if sought and len(sought) > MAX_TEXT:
        errors["outcome_sought"] = f"This must be {MAX_TEXT} characters or fewer"
    if not errors:
        try:
            send(details, sought)
        except CaseDataInvalid as exc:
            rollback_only()
            errors["details"] = "; ".join(exc.errors.values()).capitalize()
        else:
            return _done(f"{title}: sent. It appears on your case page.")
    rollback_only()
    return _page("text", form, errors, **extra)


@reporter_required
def circumstances() -> tuple[str, int]:
    """A change of circumstances (the officer reviews the risk assessment again)."""
    return _text_view("circumstances", lambda text, _sought: reporter_portal.change_circumstances(
        db(), case_engine(), reporter_case(), text))


@reporter_required
def case_review() -> tuple[str, int]:
    """An application for an ASB Case Review."""
    return _text_view("case_review", lambda text, _sought: reporter_portal.ask_case_review(
        db(), case_engine(), reporter_case(), text))


@reporter_required
def complaint() -> tuple[str, int]:
    """A complaint about the service."""
    return _text_view("complaint", lambda text, sought: reporter_portal.complain(
        db(), case_engine(), reporter_case(), text, sought))


@reporter_required
def preferences() -> Response | tuple[str, int]:
    """How, when and how often to hear from the council."""
    case = reporter_case()
    if reporter_portal.is_anonymous(db(), case):
        abort(404)  # nothing is ever sent to an anonymous reporter
    form = PreferencesForm()
    choices: dict[str, int] = get_setting(db(), "update_cadence_choices", at=clock.now())
    form.frequency.choices = [(name, name.replace("_", " ").capitalize()) for name in choices]
    if request.method == "GET":
        _person, party = reporter_portal.ops.reporter_of(db(), case)
        prefs = party.contact_preferences or {}
        form.pref_channels.data = list(prefs.get("channels") or [])
        form.unsafe_channels.data = list(prefs.get("unsafe_channels") or [])
        form.no_voicemail.data = bool(prefs.get("no_voicemail"))
        window = (prefs.get("safe_times") or [{}])[0]
        form.safe_days.data = window.get("days", "any")
        form.safe_from.data, form.safe_to.data = window.get("from"), window.get("to")
        form.frequency.data = case.update_frequency
        return _page("preferences", form, {})
    if not form.validate():
        abort(400)
    prefs: dict[str, Any] = {"channels": list(form.pref_channels.data or []),
                             "unsafe_channels": list(form.unsafe_channels.data or []),
                             "no_voicemail": bool(form.no_voicemail.data)}
    start, end = (form.safe_from.data or "").strip(), (form.safe_to.data or "").strip()
    if start or end:
        prefs["safe_times"] = [{"days": form.safe_days.data or "any", "from": start or None,
                                "to": end or None}]
    errors: dict[str, str] = {}
    try:
        asked = reporter_portal.change_preferences(db(), case_engine(), case, prefs,
                                                   form.frequency.data or None)
    except CaseDataInvalid as exc:
        rollback_only()
        for path, message in exc.errors.items():
            name = ("safe_from" if "safe_times" in path else "frequency" if "frequency" in path
                    else "unsafe_channels" if "unsafe" in path else "pref_channels")
            errors.setdefault(name, f"Check this answer: it {message}")
        return _page("preferences", form, errors)
    return _done("Your contact preferences are saved and apply to every message from now on."
                 + (" Your case officer will call you to agree how often you hear from them."
                    if asked else ""))


for _rule, _view in (("incident", incident), ("diary", diary), ("evidence", evidence),
                     ("circumstances", circumstances), ("preferences", preferences),
                     ("case-review", case_review), ("complaint", complaint)):
    bp.add_url_rule(f"/my-case/{_rule}", _view.__name__, _view, methods=["GET", "POST"])
