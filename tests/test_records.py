"""The case record: references, report validation, contact preferences, wards, the schema."""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cases.audit import AuditEvent
from cases.config import set_setting
from cases.operations import case_by_reference, next_reference, open_case, reporter_of
from cases.records import (
    REFERENCE_RE,
    AssessmentKind,
    Case,
    CaseDataInvalid,
    CaseNotFound,
    CaseParty,
    CaseSequence,
    CaseStatus,
    Incident,
    IncidentSource,
    PartyRole,
    Person,
    RiskAssessment,
    Stage,
    normalise_address,
    postcode_at_end,
    validate_contact_preferences,
)
from engine.database import make_session_factory, unit_of_work

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_report(**overrides: Any) -> dict[str, Any]:
    """Return a valid POST /api/v1/cases body; ``section__field=value`` overrides one field."""
    body: dict[str, Any] = {
        "channel": "phone",
        "reporter": {"name": "Ann Smith", "phone": "07700 900123",
                     "email": "ann@example.org", "address": "12 High Street, Chesterfield"},
        "incident": {"occurred_at": "2026-03-01T21:00:00+00:00", "location": "12 High Street",
                     "description": "Loud music every night.", "category": "nuisance",
                     "hate_strands": []},
        "vulnerability": {"child_at_risk": False, "vulnerable_adult": False,
                          "repeat_victim": False, "threat_of_violence": False},
    }
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        if field:
            body[section][field] = value
        else:
            body[section] = value
    return body


def open_report(session: Session, at: datetime = WHEN, actor: str = "api", **overrides: Any
                ) -> Case:
    """Open a case from ``make_report(**overrides)`` received at ``at``."""
    report = make_report(**overrides)
    if "incident__occurred_at" not in overrides:
        report["incident"]["occurred_at"] = (at - timedelta(hours=1)).isoformat()
    return open_case(session, report, received_at=at, now=at, actor=actor)


def _counts(session: Session) -> dict[str, int]:
    models = {"cases": Case, "persons": Person, "parties": CaseParty, "incidents": Incident,
              "assessments": RiskAssessment, "sequences": CaseSequence}
    return {k: session.scalar(select(func.count()).select_from(m)) or 0
            for k, m in models.items()}


# --- references ----------------------------------------------------------------------------

def test_reference_format_and_yearly_sequence(db_session: Session) -> None:
    first = open_report(db_session, at=datetime(2081, 5, 1, 10, tzinfo=UTC))
    second = open_report(db_session, at=datetime(2081, 5, 2, 10, tzinfo=UTC))
    other_year = open_report(db_session, at=datetime(2082, 1, 5, 10, tzinfo=UTC))
    assert first.reference == "ASB-2081-000001"
    assert second.reference == "ASB-2081-000002"
    assert other_year.reference == "ASB-2082-000001"
    assert REFERENCE_RE.fullmatch(first.reference)
    assert case_by_reference(db_session, second.reference) is second


def test_reference_year_is_the_london_year_of_receipt(db_session: Session) -> None:
    # In winter London is on GMT: 23:30 UTC on 31 December is still that day in London.
    late = open_report(db_session, at=datetime(2083, 12, 31, 23, 30, tzinfo=UTC))
    assert late.reference.startswith("ASB-2083-")
    early = open_report(db_session, at=datetime(2084, 1, 1, 0, 30, tzinfo=UTC))
    assert early.reference.startswith("ASB-2084-")
    # 00:30 London on 1 January in a zone ahead of UTC is still 31 December in UTC.
    paris = ZoneInfo("Europe/Paris")
    assert next_reference(db_session, datetime(2085, 1, 1, 0, 30, tzinfo=paris)) \
        == "ASB-2084-000002"


def test_case_by_reference_unknown(db_session: Session) -> None:
    with pytest.raises(CaseNotFound):
        case_by_reference(db_session, "ASB-1999-000001")


def test_next_reference_needs_an_aware_time(db_session: Session) -> None:
    with pytest.raises(CaseDataInvalid) as info:
        next_reference(db_session, datetime(2026, 1, 1))
    assert info.value.field == "received_at"


@pytest.mark.postgres
@pytest.mark.slow
def test_twenty_concurrent_openings_get_twenty_references(pg_engine) -> None:
    factory = make_session_factory(pg_engine)
    year, count = 2093, 20
    received = datetime(year, 6, 1, 12, tzinfo=UTC)
    barrier = threading.Barrier(count)
    references: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(factory) as session:
                case = open_case(session, make_report(
                    reporter__name=f"Concurrent Reporter {n}",
                    reporter__email=f"concurrent{n}@example.org",
                    incident__occurred_at="2093-06-01T11:00:00+00:00"),
                    received_at=received, now=received, actor=f"thread{n}")
                ref = case.reference
            with lock:
                references.append(ref)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(count)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        assert sorted(references) == [f"ASB-{year}-{n:06d}" for n in range(1, count + 1)]
    finally:
        with unit_of_work(factory) as session:
            pattern = f"ASB-{year}-%"
            people = list(session.scalars(select(CaseParty.person_id).join(Case)
                                          .where(Case.reference.like(pattern))))
            session.execute(delete(Case).where(Case.reference.like(pattern)))
            session.execute(delete(Person).where(Person.id.in_(people)))
            # Audit rows stay: the table refuses DELETE (cases/audit_chain.py).
            session.execute(delete(CaseSequence).where(CaseSequence.year == year))


# --- opening a case ------------------------------------------------------------------------

def test_open_case_records_case_reporter_incident_and_initial_decision(db_session):
    case = open_report(db_session, incident__hate_strands=["race", "religion", "race"],
                       vulnerability={"child_at_risk": True})
    assert case.status is CaseStatus.OPEN
    assert case.stage is Stage.INTAKE
    assert case.priority is None and case.first_contact_due_at is None
    assert case.hate is True and case.hate_strands == ["race", "religion"]
    assert case.safeguarding is True and case.confidential is True
    assert case.received_at == WHEN and case.reopened_count == 0
    person, party = reporter_of(db_session, case)
    assert person.name == "Ann Smith" and person.phone == "07700900123"
    assert person.normalised_name == "ann smith"
    assert person.normalised_address == "12 high street chesterfield"
    assert {p.role for p in case.parties} == {PartyRole.REPORTER, PartyRole.VICTIM}
    assert {p.person_id for p in case.parties} == {person.id}
    assert party.contact_preferences["confidential"] is True
    [incident] = case.incidents
    assert incident.source is IncidentSource.REPORT and incident.reported_at == WHEN
    assert incident.hate_strands == ["race", "religion"]
    initial = db_session.scalars(select(RiskAssessment)
                                 .where(RiskAssessment.case_id == case.id)).one()
    assert initial.kind is AssessmentKind.INITIAL_DECISION
    assert initial.child_at_risk is True and initial.priority_after is None
    audit = db_session.scalars(select(AuditEvent)
                               .where(AuditEvent.case_reference == case.reference)).one()
    assert audit.action == "case.opened" and "Ann" not in str(audit.summary)


def test_time_without_offset_means_london(db_session: Session) -> None:
    at = datetime(2026, 7, 1, 12, tzinfo=UTC)
    case = open_report(db_session, at=at, incident__occurred_at="2026-07-01T10:00:00")
    assert case.incidents[0].occurred_at == datetime(2026, 7, 1, 9, tzinfo=UTC)


def test_every_field_error_is_reported_at_once_and_nothing_written(db_session):
    open_report(db_session, at=datetime(2085, 1, 2, tzinfo=UTC))
    before = _counts(db_session)
    bad = {
        "channel": "fax", "surprise": 1,
        "reporter": {"name": " ", "email": "not-an-email", "phone": "call me",
                     "contact_preferences": {"safe_times": [{"days": "any", "from": "9am",
                                                             "to": "17:00"}]}},
        "incident": {"occurred_at": "yesterday", "category": "noise",
                     "hate_strands": ["race", "height"], "postcode": "NOT A CODE"},
        "vulnerability": {"child_at_risk": "yes"},
    }
    with pytest.raises(CaseDataInvalid) as info:
        open_case(db_session, bad, received_at=datetime(2085, 1, 3, tzinfo=UTC),
                  now=datetime(2085, 1, 3, tzinfo=UTC), actor="api")
    assert info.value.errors.keys() == {
        "channel", "surprise", "reporter.name", "reporter.email", "reporter.phone",
        "reporter.contact_preferences.safe_times.0.from", "incident.occurred_at",
        "incident.location", "incident.description", "incident.category",
        "incident.hate_strands.1", "incident.postcode", "vulnerability.child_at_risk"}
    assert _counts(db_session) == before
    again = open_report(db_session, at=datetime(2085, 1, 4, tzinfo=UTC))
    assert again.reference == "ASB-2085-000002"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"reporter": None}, "reporter"),
    ({"incident": "text"}, "incident"),
    ({"reporter__phone": None, "reporter__email": None, "reporter__address": None},
     "reporter.phone"),
    ({"incident__occurred_at": "2026-03-03T09:00:00+00:00"}, "incident.occurred_at"),
    ({"incident__hate_strands": "race"}, "incident.hate_strands"),
    ({"reporter__surname": "x"}, "reporter.surname"),
])
def test_report_shape_errors(db_session: Session, overrides, field) -> None:
    with pytest.raises(CaseDataInvalid) as info:
        open_case(db_session, make_report(**overrides), received_at=WHEN, now=WHEN,
                  actor="api")
    assert field in info.value.errors


def test_report_must_be_an_object(db_session: Session) -> None:
    with pytest.raises(CaseDataInvalid) as info:
        open_case(db_session, ["not", "a", "body"], received_at=WHEN, now=WHEN, actor="api")
    assert info.value.errors == {"body": "must be an object"}


def test_vulnerability_is_optional(db_session: Session) -> None:
    report = make_report()
    del report["vulnerability"]
    case = open_case(db_session, report, received_at=WHEN, now=WHEN, actor="api")
    assert case.safeguarding is False and case.repeat_victim is False


# --- contact preferences -------------------------------------------------------------------

def test_contact_preferences_defaults_and_normalisation() -> None:
    assert validate_contact_preferences(None) == {
        "channels": [], "unsafe_channels": [], "safe_times": [], "no_voicemail": False,
        "confidential": True}
    clean = validate_contact_preferences({
        "channels": ["sms", "email"], "unsafe_channels": ["letter"],
        "safe_times": [{"days": "mon-fri", "from": "09:00", "to": "17:00"},
                       {"from": "10:00", "to": "12:00"}],
        "no_voicemail": True, "confidential": False})
    assert clean["channels"] == ["sms", "email"]
    assert clean["safe_times"][1] == {"days": "any", "from": "10:00", "to": "12:00"}
    assert clean["no_voicemail"] is True and clean["confidential"] is False


def test_contact_preferences_errors_use_dotted_paths() -> None:
    with pytest.raises(CaseDataInvalid) as info:
        validate_contact_preferences({
            "channels": ["email", "pigeon", "email"], "unsafe_channels": ["email"],
            "safe_times": [{"days": "weekdays", "from": "25:00", "to": "17:00"},
                           {"days": "any", "from": "18:00", "to": "08:00"}, "noon"],
            "no_voicemail": "yes", "colour": "blue"})
    prefix = "reporter.contact_preferences"
    assert info.value.errors == {
        f"{prefix}.colour": "is not a known field",
        f"{prefix}.channels.0": "is also listed as unsafe",
        f"{prefix}.channels.1": "must be one of email, sms, phone, letter",
        f"{prefix}.channels.2": "appears twice",
        f"{prefix}.safe_times.0.days": "must be one of mon-fri, sat-sun, any",
        f"{prefix}.safe_times.0.from": "must be a time as HH:MM (24-hour)",
        f"{prefix}.safe_times.1.to": "must be later than from",
        f"{prefix}.safe_times.2": "must be an object with days, from and to",
        f"{prefix}.no_voicemail": "must be true or false",
    }
    with pytest.raises(CaseDataInvalid) as info:
        validate_contact_preferences("email please")
    assert info.value.field == prefix


def test_contact_preferences_are_stored_and_set_confidentiality(db_session: Session) -> None:
    prefs = {"channels": ["phone"], "no_voicemail": True, "confidential": False}
    case = open_report(db_session, reporter__contact_preferences=copy.deepcopy(prefs))
    _, party = reporter_of(db_session, case)
    assert party.contact_preferences["no_voicemail"] is True
    assert case.confidential is False


# --- places --------------------------------------------------------------------------------

def test_address_and_postcode_normalisation() -> None:
    assert normalise_address("  12, HIGH  Street.\nChesterfield  s40 1ab ") \
        == "12 high street chesterfield"
    assert normalise_address(None) is None
    assert postcode_at_end("Flat 2, 3 Elm Road, s41 7ab.") == "S41 7AB"
    assert postcode_at_end("the park by the S40 bus stop") is None


def test_ward_from_given_postcode_location_or_reporter_address(db_session: Session) -> None:
    given = open_report(db_session, incident__postcode="s41 7ab")
    assert given.area == "Brimington" and given.incidents[0].postcode == "S41 7AB"
    in_text = open_report(db_session, incident__location="Alley behind 4 Elm Rd, S43 3AA")
    assert in_text.area == "Staveley North"
    assert in_text.incidents[0].normalised_address == "alley behind 4 elm rd"
    from_home = open_report(db_session, reporter__address="9 Oak Close, S40 4XY")
    assert from_home.area == "Walton" and from_home.incidents[0].ward is None
    person, _ = reporter_of(db_session, from_home)
    assert person.postcode == "S40 4XY"
    assert open_report(db_session).area is None


def test_ward_uses_the_table_in_force_at_receipt(db_session: Session) -> None:
    change = datetime(2026, 6, 1, tzinfo=UTC)
    set_setting(db_session, "postcode_wards", {"S41": "New Ward"}, change,
                now=lambda: change)
    before = open_report(db_session, at=change - timedelta(days=1), incident__postcode="S41 1AA")
    after = open_report(db_session, at=change + timedelta(days=1), incident__postcode="S41 1AA")
    assert before.area == "Loundsley Green & Newbold"
    assert after.area == "New Ward"
