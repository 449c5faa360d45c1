"""Evidence on a case: upload (type checked by content, size limited) and audited download."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import (
    Flask,
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
from tasks import virus_scan
from tasks.evidence_requests import evidence_added
from tasks.files import (
    MetadataNotRemovable,
    StoredFileMissing,
    StoreUnavailable,
    strip_image_metadata,
)
from web.extensions import case_engine, db, rollback_only

from .case_access import audit, file_store, user, viewable_case
from .forms import EvidenceForm

MB = 1024 * 1024
DEFAULT_MAX_UPLOAD_MB = 100  # the largest kind, video
# Smaller caps for the kinds that never need to be big (the overall limit still applies).
KIND_CAPS = {EvidenceKind.PHOTO: 25 * MB, EvidenceKind.AUDIO: 50 * MB,
             EvidenceKind.DOCUMENT: 25 * MB, EvidenceKind.DIARY_SHEET: 25 * MB}
FORM_OVERHEAD = 64 * 1024  # room for the other fields and the multipart framing
MAX_DESCRIPTION = 2000
_UNSAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._ -]+")
# Text that a browser would render as a page or an image with scripts: never accepted.
_MARKUP_RE = re.compile(rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|object)",
                        re.IGNORECASE)
_CHOSEN = ("y", "yes", "on", "true", "1")
# A download opened in a tab anyway runs nothing, loads nothing and cannot be framed.
DOWNLOAD_CSP = ("default-src 'none'; object-src 'none'; base-uri 'none'; "
                "frame-ancestors 'none'; sandbox")
STORE_UNAVAILABLE = ("The evidence store is full or unavailable: the file was not saved. "
                     "Try again later or tell your administrator.")


def _overall(config: Any) -> int:
    """``ASB_MAX_UPLOAD`` (bytes) or ``ASB_MAX_UPLOAD_MB``, else 100 MB."""
    exact = config.get("ASB_MAX_UPLOAD") or config.get("MAX_UPLOAD")
    if exact:
        return int(exact)
    megabytes = config.get("ASB_MAX_UPLOAD_MB") or config.get("MAX_UPLOAD_MB")
    return int(float(megabytes or DEFAULT_MAX_UPLOAD_MB) * MB)


def max_upload(kind: EvidenceKind | None = None) -> int:
    """The largest file accepted, in bytes: for ``kind``, or of any kind."""
    overall = _overall(current_app.config)
    cap = KIND_CAPS.get(kind) if kind is not None else None
    return min(overall, cap) if cap else overall


def set_request_limit(state: BlueprintSetupState) -> None:
    """Cap every request body at the upload limit plus the form's overhead (Flask answers 413).

    An over-size body sent to an upload form gets that form again with a message.
    """
    config = state.app.config
    if config.get("MAX_CONTENT_LENGTH") is None:
        config["MAX_CONTENT_LENGTH"] = _overall(config) + FORM_OVERHEAD
    _add_too_large_pages(state.app)


def _too_large_message() -> str:
    return (f"The selected file is too large: it must be smaller than "
            f"{_megabytes(max_upload())}")


def _add_too_large_pages(app: Flask) -> None:
    from cases.people import Role
    from web.auth.guards import roles_required
    from web.reporter.access import reporter_case, reporter_required
    from web.reporter.forms import EvidenceUploadForm
    from web.security import add_too_large_page

    def officer_page(reference: str) -> tuple[str, int]:
        case, _ = viewable_case(reference)
        return _page(case, EvidenceForm(formdata=None), {"file": _too_large_message()}, 413)

    def reporter_page() -> tuple[str, int]:
        errors = {"file": _too_large_message()}
        return render_template("reporter/evidence.html", form=EvidenceUploadForm(formdata=None),
                               errors=errors, summary=list(errors.items()),
                               case=reporter_case(), kinds=kind_hints(),
                               limit=_megabytes(max_upload())), 413

    add_too_large_page(app, "casefile.upload",
                       roles_required(Role.OFFICER, Role.TEAM_LEADER)(officer_page))
    add_too_large_page(app, "reporter.evidence", reporter_required(reporter_page))


def kind_hints() -> dict[str, str]:
    """Each kind of evidence: the file types it takes and its size limit."""
    return {str(k): f"{describe_types(ALLOWED[k])} (up to {_megabytes(max_upload(k))})"
            for k in EvidenceKind}


def _megabytes(size: int) -> str:
    return f"{size / MB:.0f} MB" if size >= MB else f"{size} bytes"


def _page(case: Case, form: EvidenceForm, errors: dict[str, str], status: int = 200
          ) -> tuple[str, int]:
    return render_template("casefile/evidence_form.html", case=case, form=form, errors=errors,
                           kinds=kind_hints(), limit=_megabytes(max_upload())), status


def upload_form(reference: str) -> tuple[str, int]:
    """The upload form."""
    case, _ = viewable_case(reference)
    return _page(case, EvidenceForm(), {})


def _check_file(kind: EvidenceKind | None, storage: FileStorage | None, errors: dict[str, str]
                ) -> tuple[bytes, str] | None:
    if storage is None or not storage.filename:
        errors["file"] = "Select a file"
        return None
    limit = max_upload(kind)
    data = storage.stream.read(limit + 1)
    if len(data) > limit:
        what = f"a {kind.value.replace('_', ' ')}" if kind is not None else "the selected file"
        errors["file"] = f"The selected file must be smaller than {_megabytes(limit)}" + (
            f" for {what}" if limit < max_upload() else "")
        return None
    if not data:
        errors["file"] = "The selected file is empty"
        return None
    found = sniff_type(data)
    if found is None:
        errors["file"] = ("The selected file is not a type we accept: use a photo, recording, "
                          "video, PDF, Word or OpenDocument file, or plain text")
        return None
    if found == "text/plain" and _MARKUP_RE.match(data[:1024].lstrip(b"\xef\xbb\xbf")):
        errors["file"] = ("The selected file is a web page, SVG or XML file: we do not accept "
                          "those. Save it as a PDF or a plain text file")
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
    if request.form.get("remove_location", "").lower() in _CHOSEN and found.startswith("image/"):
        try:
            data = strip_image_metadata(data, found)
        except MetadataNotRemovable:
            errors["file"] = (f"We cannot remove the location from this {label}: save it as a "
                              f"JPG or PNG image, or untick “Remove the location”")
            return None
    return data, found


@dataclass(frozen=True)
class Upload:
    """A posted file of evidence that passed every check, ready to store."""

    kind: EvidenceKind
    description: str
    data: bytes
    content_type: str
    name: str


def check_upload(kind_value: str | None, description_value: str | None
                 ) -> tuple[Upload | None, dict[str, str]]:
    """Check the posted evidence form (kind, description, ``file``): the upload, or errors."""
    errors: dict[str, str] = {}
    try:
        kind = EvidenceKind(kind_value) if kind_value else None
    except ValueError:
        kind = None
    if kind is None:
        errors["kind"] = "Select what kind of evidence this is"
    description = (description_value or "").strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"Description must be {MAX_DESCRIPTION} characters or fewer"
    checked = _check_file(kind, request.files.get("file"), errors)
    if errors or checked is None or kind is None:
        return None, errors
    data, content_type = checked
    return Upload(kind, description, data, content_type,
                  _base_name(request.files["file"].filename)), {}


def too_big(errors: dict[str, str]) -> bool:
    """Tell whether the upload was refused for its size (the page answers 413)."""
    return errors.get("file", "").startswith("The selected file must be smaller")


def store_upload(case: Case, upload: Upload, actor: str,
                 then: Callable[[EvidenceItem], object]) -> virus_scan.ScanStatus | None:
    """Store the file, record it, call ``then`` (the process's message), scan it if clamd is
    configured; on any failure the stored file goes again. Returns the scan's verdict.

    ``StoreUnavailable`` if the store could not save it: then nothing at all was recorded.
    """
    store = file_store()
    try:
        stored = store.save(upload.data)
    except StoreUnavailable as exc:
        # No case, client name or content: only what failed.
        current_app.logger.error("evidence upload refused: file store unavailable (%s)",
                                 exc.reason)
        raise
    try:
        item = add_evidence(db(), case, kind=upload.kind, original_name=upload.name,
                            stored_name=stored.name, content_type=upload.content_type,
                            size=stored.size, sha256=stored.sha256, actor=actor,
                            at=clock.now(), description=upload.description)
        then(item)
        address = virus_scan.clamd_address(current_app.config)
        return virus_scan.scan_item(db(), store, address, item, clock.now()) if address else None
    except Exception:
        try:
            store.delete(stored.name)
        except StoreUnavailable as exc:
            current_app.logger.error("stored file of a failed upload not removed (%s)",
                                     exc.reason)
        raise


def upload(reference: str) -> Any:
    """Check and store one file of evidence; refuse with inline errors and store nothing."""
    case, _ = viewable_case(reference)
    form = EvidenceForm()
    if not form.validate():
        abort(400)
    checked, errors = check_upload(form.kind.data, form.description.data)
    if checked is None:
        rollback_only()
        return _page(case, form, errors, 413 if too_big(errors) else 400)
    actor = user().name
    try:
        # A request for evidence waiting on this case now reviews the file.
        status = store_upload(case, checked, actor, lambda item: evidence_added(
            db(), case_engine(), case.reference, item.id, actor=actor))
    except StoreUnavailable:
        rollback_only()
        return _page(case, form, {"file": STORE_UNAVAILABLE}, 503)
    _tell_scan(status)
    return redirect(url_for("casefile.case_file", reference=case.reference) + "#evidence")


def _tell_scan(status: virus_scan.ScanStatus | None) -> None:
    if status is virus_scan.ScanStatus.INFECTED:
        flash("Evidence added to the case, but the virus scanner found something in it: the "
              "file is quarantined and cannot be downloaded", "error")
    elif status is virus_scan.ScanStatus.PENDING:
        flash("Evidence added to the case. It is awaiting a virus scan and can be downloaded "
              "once the scan finds it clean", "success")
    else:
        flash("Evidence added to the case", "success")


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
    store = file_store()
    try:
        size = store.size(item.stored_name)
    except StoredFileMissing:
        current_app.logger.error("evidence %s: stored file is missing", item.id)
        abort(404)
    except StoreUnavailable as exc:
        current_app.logger.error("evidence %s: file store unavailable (%s)", item.id, exc.reason)
        abort(503)
    held = virus_scan.held_back(db(), item, virus_scan.clamd_address(current_app.config))
    if held is not None:
        flash("This file is quarantined: the virus scanner found something in it"
              if held is virus_scan.ScanStatus.INFECTED else
              "This file is awaiting a virus scan: try again in a few minutes", "error")
        return redirect(url_for("casefile.case_file", reference=case.reference) + "#evidence")
    try:
        stream = store.open(item.stored_name)  # streamed in chunks, never read whole
    except (StoredFileMissing, StoreUnavailable):
        current_app.logger.error("evidence %s: stored file could not be opened", item.id)
        abort(503)
    try:
        audit("evidence.downloaded", case, object_type="evidence", object_id=str(item.id))
        # Text is sent as plain text; nothing is ever sent as a type a browser would run.
        mimetype = (item.content_type if item.content_type in TYPES
                    else "application/octet-stream")
        response = send_file(stream, mimetype=mimetype, as_attachment=True,
                             download_name=safe_download_name(item), conditional=False,
                             etag=False, max_age=0)
    except BaseException:
        stream.close()
        raise
    response.content_length = size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response
