"""The subject access ZIP: the person's own files in it; others' and quarantined ones withheld."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.evidence import EvidenceKind, add_evidence
from cases.operations import case_by_reference
from cases.records import Person
from tasks.files import LocalFileStore
from tasks.virus_scan import EvidenceScan, ScanStatus
from tests.api.support import Api, make_api
from tests.lifecycle_support import Lifecycle
from tests.officer.support import browser
from tests.privacy.support import closed_case
from web.extensions import unit

AT = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)
RITAS = b"Rita's own photo of the party, sent through the portal"
INFECTED = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
GONE = b"a file the store has lost"
OFFICERS = b"ID3fake mp3 of the noise"  # closed_case's recording, uploaded by olivia


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))


@pytest.fixture
def built(api: Api, tmp_path: Path) -> dict[str, int | str]:
    """The closed case, plus three portal uploads: kept, quarantined and lost from the store."""
    store = LocalFileStore(tmp_path / "files")
    ids: dict[str, int | str] = {}
    with api.app.app_context(), unit() as session:
        _life, ref = closed_case(session, store, Lifecycle(session))
        case = case_by_reference(session, ref)
        for key, data, description in (
                ("kept", RITAS, "Dave Lowther's party, taken by Rita"),
                ("infected", INFECTED, "A file with a virus"),
                ("gone", GONE, "A file that went missing")):
            stored = store.save(data)
            item = add_evidence(session, case, kind=EvidenceKind.DOCUMENT,
                                original_name="../../etc/passwd.txt", stored_name=stored.name,
                                content_type="text/plain", size=stored.size,
                                sha256=stored.sha256, actor="reporter", at=AT,
                                description=description)
            ids[key] = item.id
            if key == "gone":
                store.delete(stored.name)
        session.add(EvidenceScan(evidence_id=ids["infected"], status=ScanStatus.INFECTED,
                                 signature="Eicar-Test-Signature", scanned_at=AT))
        ids["ref"] = ref
        for name in ("Rita Reporter", "Dave Lowther"):
            ids[name] = session.scalar(select(Person.id).where(Person.name == name))
    return ids


def _download(api: Api, person: int) -> tuple[zipfile.ZipFile, dict[str, str]]:
    response = browser(api, "maria").post("/privacy/subject-access/export",
                                          {"person": str(person), "format": "zip"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data()
    response.close()  # the archive is streamed from a temporary file
    return zipfile.ZipFile(io.BytesIO(body)), dict(response.headers)


def _exports(api: Api) -> list[AuditEvent]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "privacy.subject_access_export").order_by(AuditEvent.id)))
        session.expunge_all()
        return rows


def test_the_reporters_zip_holds_her_own_file_and_withholds_the_rest(api, built):
    archive, _headers = _download(api, int(built["Rita Reporter"]))
    ref, kept = built["ref"], built["kept"]
    name = f"files/{ref}-{kept}.txt"
    assert sorted(archive.namelist()) == sorted([
        "subject-access.json", "subject-access.html", "manifest.json", name])
    assert archive.read(name) == RITAS
    everything = b"".join(archive.read(n) for n in archive.namelist())
    assert OFFICERS not in everything and INFECTED not in everything
    manifest = json.loads(archive.read("manifest.json"))
    (entry,) = manifest["files"]
    assert entry["name"] == name and entry["size"] == len(RITAS)
    assert entry["sha256"] == hashlib.sha256(RITAS).hexdigest()
    assert entry["description"] == "[redacted: reported person]'s party, taken by Rita"
    withheld = {w["item_id"]: w["reason"] for w in manifest["withheld"]}
    assert withheld[built["infected"]].startswith("quarantined")
    assert [w for i, w in withheld.items() if i != built["infected"]] == [
        "third party: supplied by someone else"]
    assert [m["item_id"] for m in manifest["missing"]] == [built["gone"]]
    assert json.loads(archive.read("subject-access.json"))["cases"][0]["reference"] == ref
    assert "Lowther" not in archive.read("subject-access.html").decode()
    (audit,) = _exports(api)
    assert audit.summary["format"] == "zip" and audit.summary["files"] == [kept]
    assert sorted(audit.summary["withheld"]) == sorted(withheld)
    assert audit.summary["missing"] == [built["gone"]]


def test_the_reported_persons_zip_holds_no_one_elses_file(api, built):
    archive, _headers = _download(api, int(built["Dave Lowther"]))
    assert not [n for n in archive.namelist() if n.startswith("files/")]
    everything = b"".join(archive.read(n) for n in archive.namelist())
    for secret in (RITAS, OFFICERS, INFECTED, GONE, b"Rita"):
        assert secret not in everything
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["files"] == [] and manifest["missing"] == []
    assert {w["reason"] for w in manifest["withheld"]} == {
        "third party: supplied by someone else"}
    assert len(manifest["withheld"]) == 4
    assert "description" not in json.dumps(manifest["withheld"])


def test_with_a_scanner_configured_an_unscanned_file_is_withheld(tmp_path, built, api):
    with api.app.app_context(), unit() as session:
        session.add(EvidenceScan(evidence_id=int(built["kept"]), status=ScanStatus.PENDING))
    api.app.config["ASB_CLAMD"] = "127.0.0.1:9"
    archive, _headers = _download(api, int(built["Rita Reporter"]))
    assert not [n for n in archive.namelist() if n.startswith("files/")]
    withheld = {w["item_id"]: w["reason"]
                for w in json.loads(archive.read("manifest.json"))["withheld"]}
    assert withheld[built["kept"]] == "quarantined: awaiting a virus scan"
