"""Subject access exports and redaction of disclosures and court bundles."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from cases.evidence import EvidenceItem
from cases.legal import LegalTool, open_action
from cases.operations import case_by_reference
from cases.privacy_redact import (
    Redactee,
    case_redactees,
    redact_text,
    redacted_bundle,
    redacted_disclosure,
)
from cases.records import CaseParty, Disclosure, PartyRole
from cases.subject_access import SubjectAccessError, find_people, subject_access_export
from tasks.files import LocalFileStore
from tests.privacy.support import REPORTED, WITNESS, closed_case

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def case_ref(db_session, tmp_path):
    _life, ref = closed_case(db_session, LocalFileStore(tmp_path / "files"))
    return ref


def _person_id(session, ref, role):
    case = case_by_reference(session, ref)
    return session.scalar(select(CaseParty.person_id).where(
        CaseParty.case_id == case.id, CaseParty.role == role))


def test_redaction_blanks_names_phones_emails_and_addresses_once():
    rita = Redactee("reporter", "Rita Reporter", "07700 900123", "rita@example.org",
                    "12 Mill Lane, Chesterfield S40 1AB")
    text = ("Rita Reporter (rita@example.org, +44 7700 900 123) of 12 Mill Lane said Rita "
            "heard it; reporter Rita called 07700900123.")
    assert redact_text(text, [rita]) == (
        "[redacted: reporter] ([redacted: reporter], [redacted: reporter]) of "
        "[redacted: reporter] said [redacted: reporter] heard it; [redacted: reporter] "
        "[redacted: reporter] called [redacted: reporter].")
    assert redact_text("Nothing personal here", [rita]) == "Nothing personal here"


def test_a_disclosure_is_copied_with_only_the_chosen_people_redacted(db_session, case_ref):
    case = case_by_reference(db_session, case_ref)
    disclosure = db_session.scalars(select(Disclosure).where(Disclosure.case_id == case.id)).one()
    reported = _person_id(db_session, case_ref, PartyRole.REPORTED_PERSON)
    reporter = _person_id(db_session, case_ref, PartyRole.REPORTER)
    copy = redacted_disclosure(db_session, disclosure, [reporter])
    assert copy["what"] == "[redacted: reporter] told the police about Dave Lowther"
    both = redacted_disclosure(db_session, disclosure, [reporter, reported])
    assert both["what"] == "[redacted: reporter] told the police about [redacted: reported person]"
    assert disclosure.what == "Rita told the police about Dave Lowther"  # the record is unchanged


def test_a_court_bundle_is_copied_with_the_witnesses_redacted(db_session, case_ref):
    case = case_by_reference(db_session, case_ref)
    action = open_action(db_session, case, LegalTool.CIVIL_INJUNCTION, at=NOW, by="olivia",
                         respondent=REPORTED["name"])
    item = db_session.scalars(select(EvidenceItem).where(EvidenceItem.case_id == case.id)).one()
    action.details = {"bundle": {"documents": ["Statement of Wendy Witness, 16 Mill Lane",
                                               "Diary of Rita Reporter"],
                                 "evidence_ids": [item.id]}}
    db_session.flush()
    witness = _person_id(db_session, case_ref, PartyRole.WITNESS)
    reporter = _person_id(db_session, case_ref, PartyRole.REPORTER)
    copy = redacted_bundle(db_session, action, [witness, reporter])
    assert copy["documents"] == ["Statement of [redacted: witness], [redacted: witness]",
                                 "Diary of [redacted: reporter]"]
    assert copy["respondent"] == "Dave Lowther"  # not chosen, so kept
    assert copy["evidence"][0]["name"] == "[redacted: reporter]-noise.mp3"
    assert copy["evidence"][0]["description"] == "Recording [redacted: reporter] made"
    assert {t.label for t in case_redactees(db_session, case.id)} == {
        "reporter", "witness", "reported person"}


def test_a_reporters_export_holds_their_data_and_redacts_the_others(db_session, case_ref):
    (match,) = find_people(db_session, "rita reporter")
    assert "reporter" in [role for _ref, role in match.roles]
    assert [m.person.id for m in find_people(db_session, "07700900123")] == [match.person.id]
    export = subject_access_export(db_session, [match.person.id], at=NOW)
    text = json.dumps(export)
    assert export["records"][0]["email"] == "rita@example.org"
    (case,) = export["cases"]
    assert case["reference"] == case_ref and sorted(case["your_roles"]) == ["reporter", "victim"]
    assert sorted(case["other_people"]) == ["[redacted: reported person]", "[redacted: witness]"]
    assert case["incidents"][0]["description"] == "Loud music and shouting every night"
    summaries = [c["summary"] for c in case["contact_log"]]
    assert "Talked through the diary sheets with Rita" in summaries
    assert case["diary_entries"][0]["what_happened"] == "Rita's diary: bass until 3am"
    assert case["your_submissions"][0]["text"] == "Rita's own words to the portal"
    assert case["disclosures"][0]["what"] == (
        "Rita told the police about [redacted: reported person]")
    assert case["messages_sent_to_you"] and all(
        m["channel"] == "email" for m in case["messages_sent_to_you"])
    for other in (WITNESS["name"], WITNESS["phone"], REPORTED["name"], "16 Mill Lane",
                  "Dave", "Wendy"):
        assert other not in text


def test_a_reported_persons_export_redacts_the_reporter_and_witnesses(db_session, case_ref):
    (match,) = find_people(db_session, "dave lowther")
    export = subject_access_export(db_session, [match.person.id], at=NOW)
    text = json.dumps(export)
    (case,) = export["cases"]
    assert case["your_roles"] == ["reported person"]
    assert sorted(case["other_people"]) == [
        "[redacted: reporter]", "[redacted: victim]", "[redacted: witness]"]
    assert case["disclosures"][0]["what"] == (
        "[redacted: reporter] told the police about Dave Lowther")
    assert "contact_log" not in case and "diary_entries" not in case
    assert case["messages_sent_to_you"] == []
    for other in ("Rita", "07700 900123", "rita@example.org", "12 Mill Lane", "Wendy",
                  "16 Mill Lane", "wendy@example.org"):
        assert other not in text


def test_bad_searches_and_choices_are_refused(db_session, case_ref):
    with pytest.raises(SubjectAccessError, match="at least 3"):
        find_people(db_session, "ab")
    assert find_people(db_session, "nobody at all") == []
    with pytest.raises(SubjectAccessError, match="Choose"):
        subject_access_export(db_session, ["999999"], at=NOW)
    with pytest.raises(SubjectAccessError, match="Choose"):
        subject_access_export(db_session, ["x"], at=NOW)
