"""The subject access download: one ZIP with the export and the files the person supplied.

Layout of the archive::

    subject-access.json     the export as the JSON download has it
    subject-access.html     the export as the readable page shows it
    manifest.json           every file on the person's cases: included, withheld or missing
    files/<REF>-<id>.<ext>  each file the person supplied, named by the server

A file is withheld when someone else supplied it (``third party``), when the virus scanner
found something in it or has not passed it yet (``quarantined``); a file the store no
longer has (or cannot give just now) is listed as ``missing``. The bytes are read with
``FileStore.read`` only.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy.orm import Session

from cases.evidence import TYPES
from cases.subject_access import EvidenceFile
from tasks import virus_scan
from tasks.files import FileStore, StoredFileMissing

SPOOL_BYTES = 16 * 1024 * 1024  # archives larger than this go to a temporary file
THIRD_PARTY = "third party: supplied by someone else"
QUARANTINED = {virus_scan.ScanStatus.INFECTED: "quarantined: the virus scan found something",
               virus_scan.ScanStatus.PENDING: "quarantined: awaiting a virus scan"}
MISSING = "missing: the file is no longer in the file store"
UNREADABLE = "missing: the file store could not be read just now"


@dataclass
class Package:
    """The archive (positioned at its start) and what went into it, for the audit."""

    archive: IO[bytes]
    included: list[int] = field(default_factory=list)
    withheld: list[int] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)


def safe_name(entry: EvidenceFile) -> str:
    """The file's name in the archive: reference, item id and the extension of its real type."""
    endings = TYPES.get(entry.item.content_type, ("", ("bin",)))[1]
    return f"files/{entry.reference}-{entry.item.id}.{endings[0]}"


def _listing(entry: EvidenceFile) -> dict[str, Any]:
    return {"reference": entry.reference, "item_id": entry.item.id,
            "kind": str(entry.item.kind.value)}


def build_package(session: Session, store: FileStore, clamd: str | None, data: dict[str, Any],
                  html: str, files: list[EvidenceFile]) -> Package:
    """Write the archive: the export, the person's own files and the manifest of them all."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned open)
    package = Package(spool)
    manifest: dict[str, Any] = {"generated_at": data["generated_at"], "files": [],
                                "withheld": [], "missing": []}
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("subject-access.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("subject-access.html", html)
        for entry in files:
            row = _listing(entry)
            if not entry.theirs:
                manifest["withheld"].append({**row, "reason": THIRD_PARTY})
                package.withheld.append(entry.item.id)
                continue
            held = virus_scan.held_back(session, entry.item, clamd)
            if held is not None:
                manifest["withheld"].append({**row, "reason": QUARANTINED[held]})
                package.withheld.append(entry.item.id)
                continue
            try:
                content = store.read(entry.item.stored_name)
            except (StoredFileMissing, OSError) as exc:  # OSError: the store is unavailable
                reason = MISSING if isinstance(exc, StoredFileMissing) else UNREADABLE
                manifest["missing"].append({**row, "reason": reason})
                package.missing.append(entry.item.id)
                continue
            name = safe_name(entry)
            archive.writestr(name, content, compress_type=zipfile.ZIP_STORED)
            manifest["files"].append({
                **row, "name": name, "sha256": hashlib.sha256(content).hexdigest(),
                "size": len(content), "content_type": entry.item.content_type,
                "uploaded_at": entry.item.uploaded_at.isoformat(),
                "description": entry.description})
            package.included.append(entry.item.id)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
    spool.seek(0)
    return package
