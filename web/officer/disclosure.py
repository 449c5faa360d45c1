"""Disclosure packs and court bundles: choose, preview redacted, download, and log the disclosure.

URL map (blueprint ``disclosure``; the case officer, a team leader who sees the case, a
manager; other officers 403, anyone who may not see the case 404, other roles 403):
    GET  /cases/<reference>/disclosure            the form (``?for=<recipient kind>`` presets
                                                  the default redactions for that recipient)
    POST /cases/<reference>/disclosure/preview    the redacted pack on screen
    POST /cases/<reference>/disclosure/download   the pack as HTML or PDF (``format``), written
                                                  to the case's disclosure log

The form, the preview and the download are audited (``disclosure.opened``, ``.previewed``,
``.downloaded``, plus ``case.disclosed`` from the log); a refused attempt on a case the user
may not prepare packs for is audited as ``disclosure.refused``. Refused input re-shows the
form (400) and records nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, make_response, render_template, request
from werkzeug.wrappers import Response

from cases.disclosure_pack import (
    RECIPIENT_LABELS,
    PackChoice,
    PackInvalid,
    RecipientKind,
    build_pack,
    default_redactions,
    options,
    parse_choice,
    parties_of,
    record_pack,
)
from cases.enums import LegalBasis
from cases.people import Role
from cases.records import Case
from engine import clock
from tasks.notify.letters import to_pdf
from web.access import can_view_case
from web.auth.guards import roles_required
from web.extensions import db, rollback_only

from .case_access import audit, find_case, user

bp = Blueprint("disclosure", __name__)
PACK_ROLES = (Role.OFFICER, Role.TEAM_LEADER, Role.MANAGER)
FORMATS = ("html", "pdf")
LIST_FIELDS = ("include", "evidence", "contact", "diary", "redact")
_guard = roles_required(*PACK_ROLES)


def _case(reference: str) -> Case:
    """The case if this user may prepare packs for it; else audited, then 404 or 403."""
    case = find_case(reference)
    if case is None:
        abort(404)
    if not can_view_case(db(), user(), case):
        audit("disclosure.refused", case, reason="case_not_visible")
        abort(404)
    if user().role is Role.OFFICER and case.case_officer != user().name:
        audit("disclosure.refused", case, reason="not_case_officer")
        abort(403)
    return case


def _values() -> dict[str, Any]:
    """The posted choices, each list field as a list and the rest as text."""
    values: dict[str, Any] = {k: request.form.getlist(k) for k in LIST_FIELDS}
    values.update({k: request.form.get(k, "") for k in
                   ("recipient_kind", "recipient", "legal_basis", "note")})
    return values


def _form(case: Case, values: dict[str, Any], errors: dict[str, str] | None = None
          ) -> tuple[str, int]:
    if errors:
        rollback_only()
    error_list = [{"text": m, "href": f"#{n}"} for n, m in (errors or {}).items()]
    page = render_template(
        "officer/disclosure.html", case=case, values=values, errors=errors or {},
        error_list=error_list, parties=parties_of(db(), case), found=options(db(), case),
        recipient_kinds=RECIPIENT_LABELS, legal_bases=list(LegalBasis))
    return page, 400 if errors else 200


def _counts(choice: PackChoice, pack: dict[str, Any]) -> dict[str, Any]:
    return {"recipient_kind": str(choice.recipient_kind), "sections": sorted(choice.sections),
            "evidence": choice.evidence_ids, "contacts": choice.contact_ids,
            "diary": choice.diary_ids, "redacted": pack["redacted"]}


def form(reference: str) -> tuple[str, int]:
    """The choices, with the default redactions for the recipient named in ``?for=``."""
    case = _case(reference)
    kind = next((k for k in RecipientKind if k.value == request.args.get("for")),
                RecipientKind.REPORTED_PERSON)
    defaults = default_redactions(parties_of(db(), case), kind)
    values = {"recipient_kind": kind.value, "recipient": "", "legal_basis": "", "note": "",
              "include": ["summary", "incidents"], "evidence": [], "contact": [], "diary": [],
              "redact": [str(i) for i in sorted(defaults)]}
    audit("disclosure.opened", case, recipient_kind=kind.value)
    return _form(case, values)


def preview(reference: str) -> tuple[str, int]:
    """The pack as it will go out, redacted, with the buttons to download it."""
    case = _case(reference)
    values = _values()
    try:
        choice = parse_choice(db(), case, request.form.to_dict(flat=False))
    except PackInvalid as exc:
        return _form(case, values, exc.errors)
    pack = build_pack(db(), case, choice, clock.now())
    audit("disclosure.previewed", case, **_counts(choice, pack))
    return render_template("officer/disclosure_preview.html", case=case, pack=pack,
                           values=values, list_fields=LIST_FIELDS), 200


def download(reference: str) -> Response | tuple[str, int]:
    """The pack as an HTML or PDF attachment, recorded in the case's disclosure log."""
    case = _case(reference)
    values = _values()
    kind = request.form.get("format", "")
    try:
        choice = parse_choice(db(), case, request.form.to_dict(flat=False))
        if kind not in FORMATS:
            raise PackInvalid({"format": "Choose HTML or PDF"})
    except PackInvalid as exc:
        return _form(case, values, exc.errors)
    now = clock.now()
    pack = build_pack(db(), case, choice, now)
    disclosure = record_pack(db(), case, choice, pack, by=user().name, at=now)
    html = render_template("officer/disclosure_document.html", pack=pack)
    audit("disclosure.downloaded", case, object_type="disclosure",
          object_id=str(disclosure.id), format=kind, **_counts(choice, pack))
    body = to_pdf(html) if kind == "pdf" else html.encode()
    response = make_response(body)
    response.headers["Content-Type"] = ("application/pdf" if kind == "pdf"
                                        else "text/html; charset=utf-8")
    name = "court-bundle" if choice.court_bundle else "disclosure"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{case.reference}-{name}-{disclosure.id}.{kind}"')
    response.headers["Cache-Control"] = "no-store"
    return response


bp.add_url_rule("/cases/<reference>/disclosure", "form", _guard(form))
bp.add_url_rule("/cases/<reference>/disclosure/preview", "preview", _guard(preview),
                methods=["POST"])
bp.add_url_rule("/cases/<reference>/disclosure/download", "download", _guard(download),
                methods=["POST"])
