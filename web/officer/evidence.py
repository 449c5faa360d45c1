"""Evidence on a case: upload (type checked by content, size limited) and audited download."""

from __future__ import annotations

import re
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from cases.evidence import (
    ALLOWED,
    TYPES,
    EvidenceItem,
    EvidenceKind,
    add_evidence,
    describe_types,
    extension_of,
    sniff_type,
)
from cases.records import Case
from engine import clock
from tasks.evidence_requests import evidence_added
from tasks.files import StoredFileMissing
from web.extensions import case_engine, db, rollback_only

from .case_access import audit, file_store, user, viewable_case
from .forms import EvidenceForm

DEFAULT_MAX_UPLOAD = 25 * 1024 * 1024
FORM_OVERHEAD = 64 * 1024  # room for the other fields and the multipart framing
MAX_DESCRIPTION = 2000
_UNSAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._ -]+")


def max_upload() -> int:
    """The largest evidence file accepted, in bytes (``ASB_MAX_UPLOAD``, default 25 MB)."""
    config = current_app.config
    return int(config.get("ASB_MAX_UPLOAD") or config.get("MAX_UPLOAD") or DEFAULT_MAX_UPLOAD)


def set_request_limit(state: BlueprintSetupState) -> None:
    """Cap every request body at the upload limit plus the form's overhead (Flask answers 413)."""
    config = state.app.config
    if config.get("MAX_CONTENT_LENGTH") is None:
        limit = config.get("ASB_MAX_UPLOAD") or config.get("MAX_UPLOAD") or DEFAULT_MAX_UPLOAD
        config["MAX_CONTENT_LENGTH"] = int(limit) + FORM_OVERHEAD


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _page(case: Case, form: EvidenceForm, errors: dict[str, str], status: int = 200
          ) -> tuple[str, int]:
    kinds = {str(k): describe_types(ALLOWED[k]) for k in EvidenceKind}
    return render_template("casefile/evidence_form.html", case=case, form=form, errors=errors,
                           kinds=kinds, limit=_megabytes(max_upload())), status


def upload_form(reference: str) -> tuple[str, int]:
    """The upload form."""
    case, _ = viewable_case(reference)
    return _page(case, EvidenceForm(), {})


def _check_file(kind: EvidenceKind | None, storage: FileStorage | None, errors: dict[str, str]
                ) -> tuple[bytes, str] | None:
    if storage is None or not storage.filename:
        errors["file"] = "Select a file"
        return None
    data = storage.stream.read(max_upload() + 1)
    if len(data) > max_upload():
        errors["file"] = f"The selected file must be smaller than {_megabytes(max_upload())}"
        return None
    if not data:
        errors["file"] = "The selected file is empty"
        return None
    found = sniff_type(data)
    if found is None:
        errors["file"] = ("The selected file is not a type we accept: use a photo, recording, "
                          "video, PDF, Word or OpenDocument file, or plain text")
        return None
    label, endings = TYPES[found]
    ending = extension_of(storage.filename)
    if ending not in endings:
        errors["file"] = (f"The selected file's name ends in “.{ending or '(nothing)'}” but it "
                          f"contains a {label}: check you chose the right file")
        return None
    if kind is not None and found not in ALLOWED[kind]:
        errors["file"] = (f"The selected file is a {label}: a {kind.value.replace('_', ' ')} "
                          f"must be a {describe_types(ALLOWED[kind])}")
        return None
    return data, found


def upload(reference: str) -> Any:
    """Check and store one file of evidence; refuse with inline errors and store nothing."""
    case, _ = viewable_case(reference)
    form = EvidenceForm()
    if not form.validate():
        abort(400)
    errors: dict[str, str] = {}
    try:
        kind = EvidenceKind(form.kind.data) if form.kind.data else None
    except ValueError:
        kind = None
    if kind is None:
        errors["kind"] = "Select what kind of evidence this is"
    description = (form.description.data or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Description must be {MAX_DESCRIPTION} characters or fewer"
    checked = _check_file(kind, request.files.get("file"), errors)
    if errors or checked is None or kind is None:
        rollback_only()
        too_big = errors.get("file", "").endswith(_megabytes(max_upload()))
        return _page(case, form, errors, 413 if too_big else 400)
    data, content_type = checked
    store = file_store()
    stored = store.save(data)
    try:
        name = _base_name(request.files["file"].filename)
        item = add_evidence(db(), case, kind=kind, original_name=name,
                            stored_name=stored.name, content_type=content_type,
                            size=stored.size, sha256=stored.sha256, actor=user().name,
                            at=clock.now(), description=description)
        # A request for evidence waiting on this case now reviews the file.
        evidence_added(db(), case_engine(), case.reference, item.id, actor=user().name)
    except Exception:
        store.delete(stored.name)
        raise
    flash("Evidence added to the case", "success")
    return redirect(url_for("casefile.case_file", reference=case.reference) + "#evidence")


def _base_name(name: str | None) -> str:
    return (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"


def safe_download_name(item: EvidenceItem) -> str:
    """The client's name reduced to safe characters, with the ending its content really has."""
    ending = TYPES.get(item.content_type, ("", ("bin",)))[1][0]
    base = item.original_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = _UNSAFE_NAME_RE.sub("_", stem).strip(" ._-")[:80] or f"evidence-{item.id}"
    return f"{stem}.{ending}"


def download(reference: str, item_id: int) -> Response:
    """Download one file of evidence as an attachment; audited."""
    case, _ = viewable_case(reference)
    item = db().get(EvidenceItem, item_id)
    if item is None or item.case_id != case.id:
        abort(404)
    try:
        path = file_store().path_of(item.stored_name)
    except StoredFileMissing:
        current_app.logger.error("evidence %s: stored file is missing", item.id)
        abort(404)
    audit("evidence.downloaded", case, object_type="evidence", object_id=str(item.id))
    response = send_file(path, mimetype=item.content_type, as_attachment=True,
                         download_name=safe_download_name(item), conditional=False,
                         etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
