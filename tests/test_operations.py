"""Operations on the case record: links, repeat victims, priority, contact, plans, closure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.audit import AuditEvent
from cases.operations import (
    add_incident,
    add_party,
    assign_officer,
    close_case,
    current_plan,
    find_related_open_cases,
    is_repeat_victim,
    link_cases,
    links_of,
    mark_repeat_victim,
    officer_workload_query,
    open_case,
    open_cases_by_officer,
    record_assessment,
    record_breach,
    record_contact,
    record_disclosure,
    record_plan,
    reopen_case,
    reopen_or_new,
    reporter_of,
    set_next_update,
    set_priority,
    set_stage,
)
from cases.people import create_user, ensure_agency
from cases.records import (
    AssessmentKind,
    CaseDataInvalid,
    CaseLink,
    CaseStatus,
    CaseStatusConflict,
    ClosureReason,
    ContactLogEntry,
    IncidentSource,
    LegalBasis,
    LinkReason,
    RiskAssessment,
    Stage,
)
from tests.test_records import WHEN, make_report, open_report

RULES = {"short": {"reports": 2, "days": 14}, "long": {"reports": 5, "days": 180}}
DUE = datetime(2026, 3, 9, 17, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
ASSESSMENT = {"harm": "medium", "community_impact": "low", "notes": "Spoke to neighbours."}


def _stranger(session: Session, at: datetime, n: int, **overrides):
    """Open a case by a different reporter at a different address."""
    overrides.setdefault("incident__location", f"{n} Far Lane")
    return open_report(session, at=at, reporter__name=f"Other Person {n}",
                       reporter__phone=f"0114 496 {n:04d}", reporter__email=None,
                       reporter__address=f"{n} Far Lane", **overrides)


# --- related cases and links ---------------------------------------------------------------

def test_related_open_cases_by_address_postcode_and_reported_person(db_session: Session):
    case = open_report(db_session, incident__location="12 High Street, S40 1AB")
    same_address = _stranger(db_session, WHEN - DAY, 1,
                             incident__location="12, HIGH  street.")
    same_postcode = _stranger(db_session, WHEN - DAY, 2, incident__location="3 Low Rd S40 1AB")
    same_person = _stranger(db_session, WHEN - DAY, 3)
    closed = _stranger(db_session, WHEN - DAY, 4, incident__location="12 High Street")
    close_case(db_session, closed, at=WHEN, reason="resolved", retention_years=6)
    for target in (case, same_person):
        add_party(db_session, target, "reported_person",
                  {"name": "Rob  Noisy", "address": "14 High Street"})
    add_party(db_session, _stranger(db_session, WHEN, 6), "reported_person",
              {"name": "Rob Noisy", "address": "99 Other Street"})
    related = find_related_open_cases(db_session, case)
    assert [(c.id, reason) for c, reason in related] == sorted(
        [(same_address.id, LinkReason.SAME_ADDRESS), (same_postcode.id, LinkReason.SAME_POSTCODE),
         (same_person.id, LinkReason.SAME_REPORTED_PERSON)])


def test_a_district_alone_does_not_make_cases_related(db_session: Session) -> None:
    _stranger(db_session, WHEN, 1, incident__postcode="S40")
    case = _stranger(db_session, WHEN, 2, incident__postcode="S40")
    assert case.incidents[0].postcode == "S40"
    assert find_related_open_cases(db_session, case) == []


def test_link_cases_is_idempotent_and_symmetric(db_session: Session) -> None:
    a, b = open_report(db_session), _stranger(db_session, WHEN, 1)
    first = link_cases(db_session, b, a, "same_address")
    assert link_cases(db_session, a, b, LinkReason.SAME_POSTCODE) is first
    assert first.reason is LinkReason.SAME_ADDRESS
    assert (first.case_id, first.linked_case_id) == (a.id, b.id)
    count = select(func.count()).select_from(CaseLink).where(CaseLink.case_id == a.id)
    assert db_session.scalar(count) == 1
    assert links_of(db_session, a) == [(b, LinkReason.SAME_ADDRESS)]
    assert links_of(db_session, b) == [(a, LinkReason.SAME_ADDRESS)]
    with pytest.raises(CaseDataInvalid) as info:
        link_cases(db_session, a, a, "wrong")
    assert info.value.errors.keys() == {"reason", "linked_case"}


def test_new_case_opened_from_a_closed_one_is_linked(db_session: Session) -> None:
    old = open_report(db_session)
    close_case(db_session, old, at=WHEN + DAY, reason="resolved", retention_years=6)
    at = WHEN + 60 * DAY
    new = open_case(db_session, make_report(incident__occurred_at=at.isoformat()),
                    received_at=at, now=at, actor="api", linked_from=old)
    assert new.linked_from == old.reference
    assert links_of(db_session, new) == [(old, LinkReason.REOPENED_AS_NEW)]


# --- repeat victims ------------------------------------------------------------------------

def test_repeat_victim_short_window_edge_same_reporter(db_session: Session) -> None:
    at = datetime(2026, 5, 20, 12, tzinfo=UTC)
    open_report(db_session, at=at - 14 * DAY, reporter__address="1 Old Road",
                incident__location="1 Old Road")
    case = open_report(db_session, at=at, reporter__address="2 New Road",
                       incident__location="2 New Road")
    assert is_repeat_victim(db_session, case, RULES, at) is True
    assert is_repeat_victim(db_session, case, RULES, at + SECOND) is False


def test_repeat_victim_long_window_edge(db_session: Session) -> None:
    at = datetime(2026, 9, 30, 12, tzinfo=UTC)
    for n, days in enumerate((180, 130, 90, 45)):
        open_report(db_session, at=at - days * DAY, reporter__address=f"{n} Old Road",
                    incident__location=f"{n} Old Road")
    case = open_report(db_session, at=at, reporter__address="New Road",
                       incident__location="New Road")
    assert is_repeat_victim(db_session, case, RULES, at) is True
    assert is_repeat_victim(db_session, case, RULES, at + SECOND) is False


def test_repeat_victim_by_address_and_new_incidents_not_diary(db_session: Session) -> None:
    at = datetime(2026, 5, 20, 12, tzinfo=UTC)
    neighbour = _stranger(db_session, at - 10 * DAY, 1, incident__location="12 High Street")
    # Someone else's report about the place of this incident is the same problem, not
    # repeat victimisation of this reporter.
    elsewhere = open_report(db_session, at=at, reporter__address="7 Low Road",
                            incident__location="12 High Street")
    assert is_repeat_victim(db_session, elsewhere, RULES, at) is False
    # An incident at the reporter's own home, reported by anyone, does count.
    case = open_report(db_session, at=at, reporter__address="12 High St.",
                       reporter__name="Bea Jones", reporter__phone="0114 496 7777",
                       reporter__email=None, incident__location="the car park")
    assert is_repeat_victim(db_session, case, RULES, at) is False  # "St" is not "Street"
    reporter_of(db_session, case)[0].normalised_address = "12 high street"
    assert is_repeat_victim(db_session, case, RULES, at) is True
    lone = _stranger(db_session, at, 2)
    add_incident(db_session, lone, {"occurred_at": at.isoformat(), "description": "again",
                                    "location": "elsewhere"}, at=at, source="diary")
    assert is_repeat_victim(db_session, lone, RULES, at) is False
    add_incident(db_session, lone, {"occurred_at": at.isoformat(), "description": "again",
                                    "location": "elsewhere"}, at=at)
    assert is_repeat_victim(db_session, lone, RULES, at) is True
    assert neighbour.status is CaseStatus.OPEN


def test_same_name_with_other_contact_details_is_another_reporter(db_session: Session) -> None:
    at = datetime(2026, 5, 20, 12, tzinfo=UTC)
    open_report(db_session, at=at - DAY, reporter__phone="0114 496 0000",
                reporter__email="someone@example.org", reporter__address="1 Old Road",
                incident__location="1 Old Road")
    case = open_report(db_session, at=at, reporter__address="2 New Road",
                       incident__location="2 New Road")
    assert is_repeat_victim(db_session, case, RULES, at) is False
    mark_repeat_victim(db_session, case, at=at)
    assert case.repeat_victim is True


# --- priority and assessment ---------------------------------------------------------------

def test_set_priority_raises_but_never_lowers(db_session: Session) -> None:
    case = open_report(db_session)
    set_priority(db_session, case, 2, DUE, by="triage", reason="triage_priority")
    assert (case.priority, case.first_contact_due_at, case.stage) == (2, DUE, Stage.TRIAGE)
    initial = db_session.scalars(select(RiskAssessment).where(
        RiskAssessment.case_id == case.id)).one()
    assert initial.kind is AssessmentKind.INITIAL_DECISION and initial.priority_after == 2
    sooner = datetime(2026, 3, 3, 17, tzinfo=UTC)
    set_priority(db_session, case, 1, sooner, by="olivia", reason="officer raised")
    with pytest.raises(CaseDataInvalid) as info:
        set_priority(db_session, case, 2, DUE, by="olivia", reason="calmer now")
    assert info.value.field == "priority"
    assert (case.priority, case.first_contact_due_at) == (1, sooner)
    for bad in (0, 3, True):
        with pytest.raises(CaseDataInvalid):
            set_priority(db_session, case, bad, DUE, by="x", reason="x")
    actions = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.case_reference == case.reference)).all()
    assert actions.count("case.priority_set") == 2


def test_officer_assessment_raises_priority_and_flags_safeguarding(db_session: Session) -> None:
    case = open_report(db_session)
    set_priority(db_session, case, 2, DUE, by="triage", reason="triage_priority")
    with pytest.raises(CaseDataInvalid) as info:
        record_assessment(db_session, case, {**ASSESSMENT, "raise_priority": True}, at=WHEN,
                          by="olivia")
    assert info.value.field == "first_contact_due_at"
    assert case.priority == 2
    sooner = datetime(2026, 3, 3, 17, tzinfo=UTC)
    row = record_assessment(db_session, case, {**ASSESSMENT, "child_at_risk": True,
                                               "vulnerability": {"personal": True}},
                            at=WHEN + SECOND, by="olivia", first_contact_due_at=sooner)
    assert (row.priority_before, row.priority_after) == (2, 1)
    assert row.vulnerability == {"personal": True} and row.kind is AssessmentKind.OFFICER
    assert case.priority == 1 and case.safeguarding is True
    assert case.first_contact_due_at == sooner
    with pytest.raises(CaseDataInvalid) as info:
        record_assessment(db_session, case, ASSESSMENT, at=WHEN, by="olivia", priority=2,
                          first_contact_due_at=DUE)
    assert info.value.field == "priority"
    review = record_assessment(db_session, case, ASSESSMENT, at=WHEN, by="olivia",
                               kind="review")
    assert (review.priority_before, review.priority_after) == (1, 1)


def test_assessment_field_errors_all_at_once(db_session: Session) -> None:
    case = open_report(db_session)
    with pytest.raises(CaseDataInvalid) as info:
        record_assessment(db_session, case, {"harm": "severe", "child_at_risk": "no",
                                             "vulnerability": {"personal": 1}, "x": 1},
                          at=WHEN, by="olivia", kind="gut_feeling", priority=7)
    assert info.value.errors.keys() == {"harm", "community_impact", "child_at_risk",
                                        "vulnerability.personal", "x", "kind", "priority"}


# --- officers and workload -----------------------------------------------------------------

def test_assign_officer_and_workload(db_session: Session) -> None:
    create_user(db_session, "wl.alice", "officer", team="wl-north")
    create_user(db_session, "wl.bob", "officer")
    ensure_agency(db_session, "wl-police")
    create_user(db_session, "wl.paul", "partner", agency="wl-police")
    cases = [open_report(db_session) for _ in range(4)]
    assign_officer(db_session, cases[0], "wl.alice", None)
    assign_officer(db_session, cases[1], "wl.alice", "wl-special")
    assign_officer(db_session, cases[2], "wl.bob", None)
    assign_officer(db_session, cases[3], "wl.bob", None)
    close_case(db_session, cases[3], at=WHEN, reason="resolved", retention_years=3)
    assert (cases[0].case_officer, cases[0].team, cases[1].team) == (
        "wl.alice", "wl-north", "wl-special")
    workload = open_cases_by_officer(db_session)
    assert (workload["wl.alice"], workload["wl.bob"]) == (2, 1)
    assert dict(db_session.execute(officer_workload_query()).all()) == workload
    for who in ("wl.nobody", "wl.paul"):
        with pytest.raises(CaseDataInvalid) as info:
            assign_officer(db_session, cases[0], who, None)
        assert info.value.field == "case_officer"
    assert cases[0].case_officer == "wl.alice"


# --- contact, plans, disclosures, incidents ------------------------------------------------

def test_first_contact_and_breach(db_session: Session) -> None:
    case = open_report(db_session)
    set_priority(db_session, case, 2, DUE, by="triage", reason="triage_priority")
    assert record_breach(db_session, case, DUE) is True
    assert record_breach(db_session, case, DUE + DAY) is False
    assert case.first_contact_breached_at == DUE
    with pytest.raises(CaseDataInvalid) as info:
        record_contact(db_session, case, at=WHEN - DAY, by="olivia", method="pigeon",
                       kind="first_contact", summary=" ")
    assert info.value.errors.keys() == {"at", "method", "summary"}
    entry = record_contact(db_session, case, at=DUE + DAY, by="olivia", method="phone",
                           kind="first_contact", summary="Called Ann.")
    record_contact(db_session, case, at=DUE + 2 * DAY, by="olivia", method="email",
                   kind="first_contact", summary="Again.", direction="in")
    assert case.first_contact_at == entry.at == DUE + DAY
    assert case.first_contact_in_time is False and case.stage is Stage.CONTACT
    count = select(func.count()).select_from(ContactLogEntry).where(
        ContactLogEntry.case_id == case.id)
    assert db_session.scalar(count) == 2


def test_action_plan_versions(db_session: Session) -> None:
    case = open_report(db_session)
    assert current_plan(db_session, case) is None
    with pytest.raises(CaseDataInvalid) as info:
        record_plan(db_session, case, at=WHEN, by="olivia", actions=["ok", ""],
                    update_frequency="hourly", agreed_with_reporter="yes")
    assert info.value.errors.keys() == {"actions.1", "update_frequency", "agreed_with_reporter"}
    first = record_plan(db_session, case, at=WHEN, by="olivia", actions=["Warning letter"],
                        update_frequency="fortnightly", agreed_with_reporter=True)
    second = record_plan(db_session, case, at=WHEN + DAY, by="olivia",
                         actions=["Warning letter", "Mediation"], update_frequency="weekly",
                         agreed_with_reporter=True, update_cadence_days=4)
    assert (first.version, first.update_cadence_days) == (1, 10)
    assert current_plan(db_session, case) is second and second.version == 2
    assert (case.update_frequency, case.update_cadence_days, case.stage) == (
        "weekly", 4, Stage.SUPPORT)
    set_next_update(db_session, case, DUE)
    set_stage(db_session, case, "evidence")
    assert (case.next_update_due_at, case.stage) == (DUE, Stage.EVIDENCE)
    with pytest.raises(CaseDataInvalid):
        set_stage(db_session, case, "limbo")


def test_disclosure_is_recorded_with_its_legal_basis(db_session: Session) -> None:
    case = open_report(db_session)
    with pytest.raises(CaseDataInvalid) as info:
        record_disclosure(db_session, case, at=WHEN, by="olivia", recipient="police",
                          what="", legal_basis="because")
    assert info.value.errors.keys() == {"what", "legal_basis"}
    row = record_disclosure(db_session, case, at=WHEN, by="olivia", recipient="police",
                            what="Incident log", legal_basis="crime_and_disorder_act_s115")
    assert row.legal_basis is LegalBasis.CRIME_AND_DISORDER_ACT_S115
    audit = db_session.scalars(select(AuditEvent).where(
        AuditEvent.case_reference == case.reference, AuditEvent.action == "case.disclosed")).one()
    assert audit.summary["legal_basis"] == "crime_and_disorder_act_s115"


def test_add_incident(db_session: Session) -> None:
    case = open_report(db_session)
    with pytest.raises(CaseDataInvalid) as info:
        add_incident(db_session, case, {"occurred_at": "soon", "colour": "red"}, at=WHEN)
    assert info.value.errors.keys() == {"occurred_at", "location", "description", "colour"}
    with pytest.raises(CaseDataInvalid) as info:
        add_incident(db_session, case, "noise", at=WHEN)
    assert info.value.field == "body"
    added = add_incident(db_session, case, {
        "occurred_at": "2026-03-04T20:00:00+00:00", "description": "Shouting, slurs.",
        "location": "Outside 12 High Street, S41 7AB", "hate_strands": ["disability"]},
        at=WHEN + 3 * DAY)
    assert added.source is IncidentSource.NEW_INCIDENT and added.ward == "Brimington"
    assert added.category == case.category
    assert case.hate is True and case.hate_strands == ["disability"]
    assert case.area == "Brimington" and len(case.incidents) == 2
    close_case(db_session, case, at=WHEN + 4 * DAY, reason="resolved", retention_years=6)
    with pytest.raises(CaseStatusConflict):
        add_incident(db_session, case, {"occurred_at": WHEN.isoformat(), "description": "x",
                                        "location": "y"}, at=WHEN + 5 * DAY)


# --- closing and re-opening ----------------------------------------------------------------

@pytest.mark.parametrize(("closed_at", "years", "until"), [
    (datetime(2026, 3, 10, 15, tzinfo=UTC), 6, date(2032, 3, 10)),
    (datetime(2028, 2, 29, 12, tzinfo=UTC), 1, date(2029, 2, 28)),
    (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), 3, date(2029, 4, 1)),  # 00:30 BST, 1 April
])
def test_retention_date(db_session: Session, closed_at, years, until) -> None:
    case = open_report(db_session)
    close_case(db_session, case, at=closed_at, reason="no_further_action",
               retention_years=years)
    assert (case.status, case.stage, case.closed_at) == (CaseStatus.CLOSED, Stage.CLOSURE,
                                                         closed_at)
    assert case.closure_reason is ClosureReason.NO_FURTHER_ACTION
    assert case.retention_until == until


def test_close_case_refusals(db_session: Session) -> None:
    case = open_report(db_session)
    with pytest.raises(CaseDataInvalid) as info:
        close_case(db_session, case, at=WHEN, reason="bored", retention_years=0)
    assert info.value.errors.keys() == {"closure_reason", "retention_years"}
    assert case.status is CaseStatus.OPEN
    close_case(db_session, case, at=WHEN, reason="resolved", retention_years=6)
    with pytest.raises(CaseStatusConflict):
        close_case(db_session, case, at=WHEN, reason="resolved", retention_years=6)
    with pytest.raises(CaseStatusConflict):
        set_priority(db_session, case, 1, DUE, by="x", reason="x")


def test_reopen_decision_at_the_28_day_edge(db_session: Session) -> None:
    case = open_report(db_session)
    with pytest.raises(CaseStatusConflict):
        reopen_or_new(db_session, case, at=WHEN, window_days=28)
    closed = WHEN + DAY
    close_case(db_session, case, at=closed, reason="resolved", retention_years=6)
    edge = closed + 28 * DAY
    assert reopen_or_new(db_session, case, at=edge, window_days=28) == "reopen"
    assert reopen_or_new(db_session, case, at=edge + SECOND, window_days=28) == "new"
    assert reopen_or_new(db_session, case, at=closed, window_days=0) == "reopen"
    with pytest.raises(CaseDataInvalid):
        reopen_or_new(db_session, case, at=edge, window_days=-1)


def test_reopen_case(db_session: Session) -> None:
    case = open_report(db_session)
    with pytest.raises(CaseStatusConflict):
        reopen_case(db_session, case, at=WHEN)
    close_case(db_session, case, at=WHEN + DAY, reason="resolved", retention_years=6)
    reopen_case(db_session, case, at=WHEN + 10 * DAY, by="api")
    assert (case.status, case.stage, case.reopened_count) == (CaseStatus.OPEN, Stage.TRIAGE, 1)
    assert case.closed_at is None and case.retention_until is None
    assert case.closure_reason is None and case.updated_at == WHEN + 10 * DAY
