"""One observable effect for each promise of the service commitment that part 1 carries."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf
import pytest
from sqlalchemy import select

from cases.audit import AuditEvent
from cases.operations import add_party, case_by_reference, record_disclosure, reporter_of
from cases.records import Disclosure
from tasks import cases_service
from tasks.notify.outbox_sender import letter_pdf
from tasks.warning import warning_letter
from tests.lifecycle_support import new_life

XMAS_EVE = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
ASSESSMENT = {"harm": "medium", "community_impact": "low"}


@pytest.fixture
def life(db_session):
    return new_life(db_session)


def pdf_text(pdf: bytes) -> str:
    return " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_promise_1_how_to_contact_safely_is_recorded_and_the_case_is_confidential(life):
    prefs = {"channels": ["email"], "unsafe_channels": ["letter"],
             "safe_times": [{"days": "mon-fri", "from": "18:00", "to": "20:00"}],
             "no_voicemail": True, "confidential": True}
    case = life.open(XMAS_EVE, reporter={"name": "Rita Reporter", "email": "rita@example.org",
                                         "address": "12 Mill Lane", "contact_preferences": prefs})
    _person, party = reporter_of(life.session, case)
    assert party.contact_preferences["no_voicemail"] is True
    assert party.contact_preferences["unsafe_channels"] == ["letter"]
    assert case.confidential
    (ack,) = life.outbox(case.reference)
    assert ack.channel == "email"  # never the unsafe letter
    assert ack.not_before == datetime(2026, 12, 24, 18, 0, tzinfo=UTC)  # safe time
    assert "Rita" not in ack.subject and "anti-social" not in ack.subject.lower()


def test_promise_2_reply_within_one_or_five_working_days_and_escalate_when_missed(life):
    serious = life.open(XMAS_EVE, vulnerability={"threat_of_violence": True})
    other = life.open(XMAS_EVE, reporter={"name": "Omar Other", "email": "omar@example.org",
                                          "address": "3 Park Road, Chesterfield S41 7AA"})
    assert (serious.priority, serious.first_contact_due_at) == (
        1, datetime(2026, 12, 29, 17, 0, tzinfo=UTC))
    assert (other.priority, other.first_contact_due_at) == (
        2, datetime(2027, 1, 5, 17, 0, tzinfo=UTC))
    life.complete(serious.reference, "assess_risk", ASSESSMENT)
    life.at(datetime(2026, 12, 29, 17, 1, tzinfo=UTC))
    assert life.task(serious.reference, "first_contact_overdue").assignee == "tara"
    life.complete(serious.reference, "first_contact", {
        "contacted_at": "2026-12-29T17:30:00+00:00", "method": "phone", "summary": "Called"})
    assert serious.first_contact_in_time is False  # measured for the SLA report


def test_promise_3_a_named_officer_with_contact_details_and_why_evidence_is_asked(life):
    case = life.open(XMAS_EVE, reporter={"name": "Rita Reporter", "address": "12 Mill Lane, "
                                         "Chesterfield S40 1AB"})
    (letter,) = life.outbox(case.reference)
    assert letter.channel == "letter"  # the only written channel known
    text = " ".join(pdf_text(letter_pdf(letter)).split())
    for promised in (case.reference, "Olivia Officer", "01246 111222",
                     "olivia@council.example.org", "What happens next", "Diary sheets",
                     "Evidence we may ask for, and why"):
        assert promised in text


def test_promise_5_nothing_about_the_reporter_reaches_the_reported_person(life):
    case = life.open(XMAS_EVE, reporter={"name": "Rita Quayle-Reporter",
                                         "phone": "07700 900123", "email": "rita.q@example.org",
                                         "address": "12 Mill Lane, Chesterfield S40 1AB"})
    suspect = add_party(life.session, case, "reported_person",
                        {"name": "Nigel Neighbour", "address": "14 Mill Lane, Chesterfield"})
    letter = warning_letter(life.session, case, suspect.person, behaviours=["noise"],
                            behaviour_summary="Loud music late at night",
                            period="December 2026", now=XMAS_EVE)
    everything = " ".join([letter.letter.subject, letter.letter.text, letter.letter.html,
                           pdf_text(letter.pdf)]).casefold()
    reporter, _ = reporter_of(life.session, case)
    for field in (reporter.name, "Quayle", reporter.phone, "07700 900123", reporter.email,
                  "12 Mill Lane", "S40 1AB", case.incidents[0].description):
        assert field.casefold() not in everything
    assert "nigel neighbour" in everything  # the letter does go to the right person
    record_disclosure(life.session, case, at=XMAS_EVE, by="olivia", recipient="police",
                      what="Incident dates", legal_basis="crime_and_disorder_act_s115")
    (disclosure,) = life.session.scalars(select(Disclosure)).all()
    assert str(disclosure.legal_basis) == "crime_and_disorder_act_s115"
    assert life.session.scalars(select(AuditEvent.action).where(
        AuditEvent.case_reference == case.reference, AuditEvent.action == "case.disclosed")).all()


def test_promise_6_updates_as_agreed_and_news_of_major_developments(life):
    case = life.open(XMAS_EVE)
    ref = case.reference
    life.complete(ref, "assess_risk", ASSESSMENT)
    life.complete(ref, "first_contact", {"contacted_at": "2026-12-24T11:00:00+00:00",
                                         "method": "phone", "summary": "Called"})
    life.complete(ref, "agree_action_plan", {"actions": ["Diary sheets"],
                                             "update_frequency": "fortnightly",
                                             "agreed_with_reporter": True})
    assert case.update_cadence_days == 10
    life.at(case.next_update_due_at.replace(minute=1))
    assert life.task(ref, "update_reporter").due_at == case.next_update_due_at
    cases_service.send_event(life.session, life.engine, ref, "major_development",
                             {"summary": "We have applied for an injunction."}, actor="olivia")
    news = life.outbox(ref)[-1]
    assert news.template == "major_development"
    assert "We have applied for an injunction." in news.body_text
    assert case_by_reference(life.session, ref).case_officer == "olivia"
