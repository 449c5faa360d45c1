"""Disclosure packs and court bundles: redacted previews and downloads, logged and audited."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.contact import record_contact
from cases.disclosure_pack import (
    RecipientKind,
    build_pack,
    default_redactions,
    options,
    parse_choice,
    parties_of,
)
from cases.evidence import EvidenceItem
from cases.evidence_requests import DiaryEntry
from cases.operations import case_by_reference
from cases.records import Case, ContactLogEntry, Disclosure, Person
from cases.subject_access import evidence_files
from tasks.files import LocalFileStore
from tests.api.support import Api, make_api
from tests.lifecycle_support import Lifecycle
from tests.officer.support import browser
from tests.privacy.support import closed_case
from web.extensions import unit

AT = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)
GOSSIP = ("Rang Rita Reporter on 07700900123 and e-mailed rita@example.org from 12 Mill Lane; "
          "Wendy Witness (+44 7700 900555, WENDY@example.org, 16 Mill Lane) saw Dave too")
# Nothing of the reporter's or the witness's may reach the reported person (case-sensitive, so
# the "[redacted: reporter]" labels themselves do not count).
SECRETS = ("Rita", "Reporter", "07700 900123", "07700900123", "900123", "rita@example.org",
           "12 Mill Lane", "Wendy", "Witness", "900555", "wendy@example.org", "WENDY",
           "16 Mill Lane")


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return make_api(tmp_path, ASB_FILES=str(tmp_path / "files"))


@pytest.fixture
def case(api: Api, tmp_path: Path) -> dict[str, Any]:
    """The closed case (olivia's) with a contact note naming everyone, and its choosable ids."""
    with api.app.app_context(), unit() as session:
        _life, ref = closed_case(session, LocalFileStore(tmp_path / "files"), Lifecycle(session))
        found = case_by_reference(session, ref)
        record_contact(session, found, at=AT, by="olivia", method="phone", kind="update",
                       summary=GOSSIP)
        assert found.case_officer == "olivia"

        def ids(model: Any) -> list[str]:
            return [str(i) for i in session.scalars(select(model.id).where(
                model.case_id == found.id).order_by(model.id))]

        people = {name: str(session.scalar(select(Person.id).where(Person.name == name)))
                  for name in ("Rita Reporter", "Wendy Witness", "Dave Lowther")}
        return {"ref": ref, "evidence": ids(EvidenceItem), "contact": ids(ContactLogEntry),
                "diary": ids(DiaryEntry), "people": people}


def _choices(case: dict[str, Any], **changes: Any) -> dict[str, Any]:
    chosen = {"recipient_kind": "reported_person", "recipient": "", "legal_basis":
              "legal_obligation", "note": "Sent with the warning letter",
              "include": ["summary", "incidents"], "evidence": case["evidence"],
              "contact": case["contact"], "diary": case["diary"],
              "redact": [case["people"]["Rita Reporter"], case["people"]["Wendy Witness"]]}
    chosen.update(changes)
    return chosen


def _disclosures(api: Api, ref: str) -> list[Disclosure]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(Disclosure).join(Case, Case.id == Disclosure.case_id)
                                    .where(Case.reference == ref).order_by(Disclosure.id)))
        session.expunge_all()
        return rows


def _audit(api: Api, action: str) -> list[AuditEvent]:
    with api.app.app_context(), unit() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))
        session.expunge_all()
        return rows


def test_a_pack_for_the_reported_person_hides_the_reporter_and_witness(api, case):
    ref = case["ref"]
    olivia = browser(api, "olivia")
    assert f"/cases/{ref}/disclosure" in olivia.text(f"/cases/{ref}")
    form = olivia.text(f"/cases/{ref}/disclosure?for=reported_person")
    for name in ("Rita Reporter", "Wendy Witness"):
        assert f'value="{case["people"][name]}" checked' in form
    assert f'value="{case["people"]["Dave Lowther"]}">' in form  # not ticked by default
    before = len(_disclosures(api, ref))
    preview = olivia.post(f"/cases/{ref}/disclosure/preview", _choices(case))
    assert preview.status_code == 200
    shown = preview.get_data(as_text=True)
    assert "[redacted: reporter]" in shown and "[redacted: witness]" in shown
    assert "saw Dave too" in shown  # the reported person himself is not redacted
    assert len(_disclosures(api, ref)) == before  # a preview records nothing
    download = olivia.post(f"/cases/{ref}/disclosure/download",
                           {**_choices(case), "format": "html"})
    assert download.status_code == 200
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"].startswith(f'attachment; filename="{ref}-')
    document = download.get_data(as_text=True)
    assert "Disclosure pack" in document and "[redacted: reporter]" in document
    for secret in SECRETS:
        assert secret not in document, secret
        assert secret not in shown, secret
    (row,) = _disclosures(api, ref)[before:]
    assert row.recipient == "The reported person" and row.by == "olivia"
    assert str(row.legal_basis) == "legal_obligation" and row.note == "Sent with the warning letter"
    assert row.what.startswith("Disclosure pack: summary, incidents")
    assert "redacted: reporter, witness" in row.what
    assert "Disclosed to The reported person" in olivia.text(f"/cases/{ref}")
    (previewed,) = _audit(api, "disclosure.previewed")
    (downloaded,) = _audit(api, "disclosure.downloaded")
    assert previewed.actor == downloaded.actor == "olivia"
    assert downloaded.object_id == str(row.id) and downloaded.summary["format"] == "html"
    assert downloaded.summary["redacted"] == ["reporter", "witness"]


def test_a_court_bundle_by_default_redacts_the_reporter_and_witnesses_and_comes_as_pdf(api, case):
    ref = case["ref"]
    tara = browser(api, "tara")  # the case officer's team leader
    form = tara.text(f"/cases/{ref}/disclosure?for=court")
    for name in ("Rita Reporter", "Wendy Witness"):
        assert f'value="{case["people"][name]}" checked' in form
    chosen = _choices(case, recipient_kind="court", recipient="Chesterfield County Court",
                      legal_basis="legal_obligation")
    preview = tara.post(f"/cases/{ref}/disclosure/preview", chosen)
    text = preview.get_data(as_text=True)
    assert "Court bundle" in text and "Dave Lowther" in text  # the respondent is named
    for secret in SECRETS:
        assert secret not in text, secret
    pdf = tara.post(f"/cases/{ref}/disclosure/download", {**chosen, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert pdf.headers["Content-Type"] == "application/pdf"
    typeset = " ".join(page.extract_text() for page in
                       pypdf.PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert "Court bundle" in typeset and "redacted: witness" in typeset
    for secret in SECRETS:
        assert secret not in typeset, secret
    (row,) = _disclosures(api, ref)[-1:]
    assert row.recipient == "Chesterfield County Court" and row.what.startswith("Court bundle")


def test_officers_who_may_not_prepare_packs_are_refused_and_audited(api, case):
    ref = case["ref"]
    assert browser(api, "sam").get(f"/cases/{ref}/disclosure").status_code == 404
    oscar = browser(api, "oscar")  # same team, but not the case officer
    assert oscar.get(f"/cases/{ref}/disclosure").status_code == 403
    assert oscar.post(f"/cases/{ref}/disclosure/download",
                      {**_choices(case), "format": "html"}).status_code == 403
    assert browser(api, "adam").get(f"/cases/{ref}/disclosure").status_code == 403
    refused = _audit(api, "disclosure.refused")
    assert [(r.actor, r.summary["reason"]) for r in refused] == [
        ("sam", "case_not_visible"), ("oscar", "not_case_officer"),
        ("oscar", "not_case_officer")]
    assert all(r.case_reference == ref for r in refused)
    assert _audit(api, "disclosure.downloaded") == []


def test_bad_choices_show_the_form_again_and_record_nothing(api, case):
    ref = case["ref"]
    olivia = browser(api, "olivia")
    before = len(_disclosures(api, ref))
    logged = len(_audit(api, "case.disclosed"))
    empty = olivia.post(f"/cases/{ref}/disclosure/preview", {})
    assert empty.status_code == 400
    text = empty.get_data(as_text=True)
    for message in ("Select who the pack is for", "Select the legal basis for sharing",
                    "Choose at least one thing to include"):
        assert message in text
    unredacted = olivia.post(f"/cases/{ref}/disclosure/download",
                             {**_choices(case, redact=[]), "format": "html"})
    assert unredacted.status_code == 400
    assert "always redacted from anything for the reported person" in unredacted.get_data(True)
    wrong = olivia.post(f"/cases/{ref}/disclosure/download",
                        {**_choices(case, evidence=["999999"], note="x" * 2001),
                         "format": "docx"})
    assert wrong.status_code == 400
    assert "Choose only from the list" in wrong.get_data(as_text=True)
    assert "Note must be 2000 characters or fewer" in wrong.get_data(as_text=True)
    no_format = olivia.post(f"/cases/{ref}/disclosure/download",
                            {**_choices(case), "format": "docx"})
    assert no_format.status_code == 400 and "Choose HTML or PDF" in no_format.get_data(True)
    assert len(_disclosures(api, ref)) == before
    assert _audit(api, "disclosure.downloaded") == []
    assert len(_audit(api, "case.disclosed")) == logged


def test_a_pack_is_built_the_same_on_both_databases(db_session, tmp_path):
    _life, ref = closed_case(db_session, LocalFileStore(tmp_path / "files"))
    found = case_by_reference(db_session, ref)
    record_contact(db_session, found, at=AT, by="olivia", method="phone", kind="update",
                   summary=GOSSIP)
    parties = parties_of(db_session, found)
    redact = sorted(default_redactions(parties, RecipientKind.COURT))
    form = {"recipient_kind": ["court"], "recipient": ["Chesterfield County Court"],
            "legal_basis": ["legal_obligation"], "include": ["summary", "incidents"],
            "contact": [str(c.id) for c in options(db_session, found)["contacts"]],
            "redact": [str(i) for i in redact]}
    choice = parse_choice(db_session, found, form)
    pack = build_pack(db_session, found, choice, AT)
    text = json.dumps(pack)
    assert choice.court_bundle and pack["redacted"] == ["reporter", "witness"]
    assert "Dave Lowther" in text
    for secret in SECRETS:
        assert secret not in text, secret
    everyone = default_redactions(parties, RecipientKind.OTHER)
    assert everyone == {p.person_id for p in parties} and len(everyone) == 3
    rita = next(p.person_id for p in parties if p.name == "Rita Reporter")
    (recording,) = evidence_files(db_session, [rita])
    assert not recording.theirs  # uploaded by the officer, not through the reporters' door
