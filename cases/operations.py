"""Operations on the case record for handlers and the API; each validates before it changes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from cases.audit import AuditRecord, record
from cases.config import LOCAL_TZ, get_setting, normalise_postcode, ward_for_postcode
from cases.people import Role, find_user
from cases.records import (
    ActionPlan,
    AssessmentKind,
    Case,
    CaseDataInvalid,
    CaseLink,
    CaseNotFound,
    CaseParty,
    CaseSequence,
    CaseStatus,
    CaseStatusConflict,
    Category,
    Channel,
    ClosureReason,
    ContactKind,
    ContactLogEntry,
    ContactMethod,
    Direction,
    Disclosure,
    HateStrand,
    Incident,
    IncidentSource,
    LegalBasis,
    Level,
    LinkReason,
    PartyRole,
    Person,
    RiskAssessment,
    Stage,
    contact_preference_errors,
    normalise_address,
    normalise_text,
    postcode_at_end,
)

Errors = dict[str, str]
FLAGS = ("child_at_risk", "vulnerable_adult", "repeat_victim", "threat_of_violence", "high_risk")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE_RE = re.compile(r"\+?[0-9]{6,20}")
_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_INCIDENT_KEYS = ("occurred_at", "location", "description", "category", "hate_strands",
                  "postcode")
_EARLY_STAGES = (Stage.INTAKE, Stage.TRIAGE, Stage.CONTACT)


# --- checking input: each helper notes problems in ``errors`` and returns a clean value ----

def _aware(field: str, value: Any) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise CaseDataInvalid(field, "must be a date-time with a time zone or offset")
    return value.astimezone(UTC)


def _time(value: Any, path: str, errors: Errors) -> datetime | None:
    """Read an ISO 8601 time; one without an offset is Europe/London (API.md)."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if not isinstance(moment, datetime):
        errors[path] = "must be an ISO 8601 date-time"
        return None
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


def _text(value: Any, path: str, errors: Errors, longest: int, required: bool = True
          ) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[path] = "is required"
        return None
    if not isinstance(value, str) or len(value.strip()) > longest:
        errors[path] = f"must be text of at most {longest} characters"
        return None
    return " ".join(value.split()) if longest <= 500 else value.strip()


def _choice(value: Any, kind: Any, path: str, errors: Errors, required: bool = True) -> Any:
    if value is None:
        if required:
            errors[path] = "is required"
        return None
    try:
        return kind(value)
    except ValueError:
        errors[path] = f"must be one of {', '.join(m.value for m in kind)}"
        return None


def _section(body: Mapping[str, Any], key: str, known: tuple[str, ...], errors: Errors,
             required: bool = True) -> dict[str, Any]:
    value = body.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        errors[key or "body"] = "must be an object" if value is not None else "is required"
        return {}
    prefix = f"{key}." if key else ""
    for name in sorted(set(value) - set(known), key=str):
        errors[f"{prefix}{name}"] = "is not a known field"
    return dict(value)


def _body(value: Any, known: tuple[str, ...], errors: Errors) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise CaseDataInvalid("body", "must be an object")
    return _section({"": value}, "", known, errors)


def _strands(value: Any, path: str, errors: Errors) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        errors[path] = "must be a list of hate strands"
        return []
    for i, strand in enumerate(value):
        _choice(strand, HateStrand, f"{path}.{i}", errors)
    return sorted(set(value))


def _phone(value: Any, path: str, errors: Errors) -> str | None:
    raw = _text(value, path, errors, 32, required=False)
    if raw is None:
        return None
    compact = re.sub(r"[\s().-]", "", raw)
    compact = "0" + compact[3:] if compact.startswith("+44") else compact
    if not _PHONE_RE.fullmatch(compact):
        errors[path] = "is not a phone number"
    return compact


def check_person(data: Mapping[str, Any], path: str, errors: Errors) -> dict[str, Any]:
    """Return a person's fields cleaned, with matching keys, noting problems in ``errors``."""
    email = _text(data.get("email"), f"{path}.email", errors, 254, required=False)
    if email is not None and not _EMAIL_RE.fullmatch(email):
        errors[f"{path}.email"] = "is not an email address"
    address = _text(data.get("address"), f"{path}.address", errors, 500, required=False)
    postcode = data.get("postcode")
    if postcode is not None and normalise_postcode(postcode) is None:
        errors[f"{path}.postcode"] = "is not a UK postcode"
    born = data.get("date_of_birth")
    if born is not None and not isinstance(born, date):
        try:
            born = date.fromisoformat(str(born))
        except ValueError:
            errors[f"{path}.date_of_birth"] = "must be a date as YYYY-MM-DD"
    name = _text(data.get("name"), f"{path}.name", errors, 200)
    return {"name": name, "normalised_name": normalise_text(name),
            "phone": _phone(data.get("phone"), f"{path}.phone", errors),
            "email": email.lower() if email else None, "address": address,
            "postcode": normalise_postcode(postcode or "") or postcode_at_end(address),
            "normalised_address": normalise_address(address), "date_of_birth": born}


def check_incident(data: Mapping[str, Any], path: str, errors: Errors, *, reported_at: datetime,
                   category_required: bool) -> dict[str, Any]:
    """Return an incident's fields cleaned, noting problems in ``errors`` by dotted path."""
    prefix = f"{path}." if path else ""
    occurred = _time(data.get("occurred_at"), f"{prefix}occurred_at", errors)
    if occurred is not None and occurred > reported_at + timedelta(minutes=5):
        errors[f"{prefix}occurred_at"] = "must not be later than the report"
    location = _text(data.get("location"), f"{prefix}location", errors, 500)
    given = data.get("postcode")
    postcode = normalise_postcode(given) if given is not None else postcode_at_end(location)
    if given is not None and postcode is None:
        errors[f"{prefix}postcode"] = "is not a UK postcode"
    return {"occurred_at": occurred, "location": location, "postcode": postcode,
            "description": _text(data.get("description"), f"{prefix}description", errors,
                                 10_000),
            "category": _choice(data.get("category"), Category, f"{prefix}category", errors,
                                required=category_required),
            "hate_strands": _strands(data.get("hate_strands"), f"{prefix}hate_strands", errors),
            "normalised_address": normalise_address(location)}


def check_report(report: Any, received_at: datetime) -> dict[str, Any]:
    """Return the POST /api/v1/cases body cleaned, or raise ``CaseDataInvalid`` with all errors."""
    errors: Errors = {}
    body = _body(report, ("received_at", "channel", "reporter", "incident", "vulnerability"),
                 errors)
    channel = _choice(body.get("channel"), Channel, "channel", errors)
    raw_reporter = _section(body, "reporter", ("name", "phone", "email", "address",
                                               "contact_preferences"), errors)
    reporter = check_person(raw_reporter, "reporter", errors)
    if raw_reporter and not any(reporter[k] for k in ("phone", "email", "address")):
        errors.setdefault("reporter.phone", "give a phone number, email address or address")
    prefs, pref_errors = contact_preference_errors(raw_reporter.get("contact_preferences"),
                                                   "reporter.contact_preferences")
    errors.update(pref_errors)
    incident = check_incident(
        _section(body, "incident", _INCIDENT_KEYS, errors),
        "incident", errors, reported_at=received_at, category_required=True)
    flags = _section(body, "vulnerability", FLAGS, errors, required=False)
    for name in FLAGS:
        if not isinstance(flags.get(name, False), bool):
            errors[f"vulnerability.{name}"] = "must be true or false"
    if errors:
        raise CaseDataInvalid(errors)
    return {"channel": channel, "reporter": reporter, "contact_preferences": prefs,
            "incident": incident, "flags": {name: flags.get(name, False) for name in FLAGS}}


# --- the record's small helpers ----------------------------------------------------------

def _touch(case: Case, at: datetime | None) -> datetime:
    moment = at or datetime.now(UTC)
    case.updated_at = moment
    return moment


def _audit(session: Session, case: Case, action: str, at: datetime, actor: str,
           **summary: Any) -> None:
    record(session, AuditRecord(at=at, actor=actor, action=f"case.{action}",
                                object_type="case", object_id=str(case.id),
                                case_reference=case.reference, summary=summary))


def _must_be_open(case: Case) -> None:
    if case.status is not CaseStatus.OPEN:
        raise CaseStatusConflict(f"case {case.reference} is closed")


def next_reference(session: Session, received_at: datetime) -> str:
    """Allocate the next reference of the London year of ``received_at`` in one atomic upsert."""
    year = _aware("received_at", received_at).astimezone(LOCAL_TZ).year
    dialect = session.get_bind().dialect.name
    if dialect not in _UPSERTS:
        raise NotImplementedError(f"case references need SQLite or PostgreSQL, not {dialect}")
    upsert = _UPSERTS[dialect](CaseSequence).values(year=year, last=1)
    # Concurrent writers queue on the year's row lock, each then sees the last committed value.
    statement = upsert.on_conflict_do_update(
        index_elements=[CaseSequence.year], set_={"last": CaseSequence.last + 1}
    ).returning(CaseSequence.last)
    number = session.execute(statement).scalar_one()
    return f"ASB-{year}-{number:06d}"


def _ward(session: Session, postcode: str | None, at: datetime) -> str | None:
    return ward_for_postcode(session, postcode, at) if postcode else None


def _incident(case: Case, clean: Mapping[str, Any], ward: str | None, *, at: datetime,
              source: IncidentSource) -> Incident:
    return Incident(case=case, occurred_at=clean["occurred_at"], reported_at=at,
                    description=clean["description"], location=clean["location"],
                    postcode=clean["postcode"], normalised_address=clean["normalised_address"],
                    ward=ward, category=clean["category"] or case.category,
                    hate_strands=clean["hate_strands"], source=source)


def open_case(session: Session, report: Mapping[str, Any], *, received_at: datetime,
              now: datetime, actor: str, linked_from: Case | None = None) -> Case:
    """Validate a report and record it as a new open case at intake; return it flushed."""
    received, created = _aware("received_at", received_at), _aware("now", now)
    clean = check_report(report, received)
    incident, reporter, flags = clean["incident"], clean["reporter"], clean["flags"]
    incident_ward = _ward(session, incident["postcode"], received)
    area = incident_ward or _ward(session, reporter["postcode"], received)
    case = Case(
        reference=next_reference(session, received), status=CaseStatus.OPEN,
        stage=Stage.INTAKE, channel=clean["channel"], received_at=received,
        category=incident["category"], hate_strands=incident["hate_strands"],
        hate=bool(incident["hate_strands"]),
        safeguarding=flags["child_at_risk"] or flags["vulnerable_adult"],
        repeat_victim=flags["repeat_victim"],
        confidential=clean["contact_preferences"]["confidential"], area=area,
        reopened_count=0, linked_from=linked_from.reference if linked_from else None,
        created_at=created, updated_at=created)
    person = Person(**reporter)
    case.parties = [
        CaseParty(person=person, role=PartyRole.REPORTER,
                  contact_preferences=clean["contact_preferences"]),
        CaseParty(person=person, role=PartyRole.VICTIM),
    ]
    _incident(case, incident, incident_ward, at=received, source=IncidentSource.REPORT)
    session.add(case)
    session.flush()
    session.add(RiskAssessment(case_id=case.id, assessed_at=received, assessed_by=actor,
                               kind=AssessmentKind.INITIAL_DECISION, **flags))
    if linked_from is not None:
        link_cases(session, case, linked_from, LinkReason.REOPENED_AS_NEW, at=created)
    _audit(session, case, "opened", created, actor, channel=case.channel.value, area=area)
    session.flush()
    return case


def case_by_reference(session: Session, ref: str) -> Case:
    """Return the case with reference ``ref`` or raise ``CaseNotFound``."""
    found = session.scalars(select(Case).where(Case.reference == ref)).one_or_none()
    if found is None:
        raise CaseNotFound(ref)
    return found


def reporter_of(session: Session, case: Case) -> tuple[Person, CaseParty]:
    """Return the case's reporter and their party row (with contact preferences)."""
    party = session.scalars(select(CaseParty).where(
        CaseParty.case_id == case.id, CaseParty.role == PartyRole.REPORTER)).first()
    if party is None:
        raise CaseDataInvalid("reporter", f"case {case.reference} has no reporter")
    return party.person, party


def add_party(session: Session, case: Case, role: PartyRole | str, person: Mapping[str, Any]
              ) -> CaseParty:
    """Add a victim, witness or reported person to a case."""
    errors: Errors = {}
    kind = _choice(role, PartyRole, "role", errors)
    if kind is PartyRole.REPORTER:
        errors["role"] = "a case has one reporter, recorded when it opens"
    clean = check_person(person, "person", errors)
    if errors:
        raise CaseDataInvalid(errors)
    party = CaseParty(case=case, person=Person(**clean), role=kind)
    session.add(party)
    session.flush()
    return party


def add_incident(session: Session, case: Case, payload: Mapping[str, Any], *, at: datetime,
                 source: IncidentSource | str = IncidentSource.NEW_INCIDENT) -> Incident:
    """Validate and attach a new incident (or diary entry) to an open case."""
    moment = _aware("at", at)
    errors: Errors = {}
    kind = _choice(source, IncidentSource, "source", errors)
    given = _body(payload, _INCIDENT_KEYS, errors)
    clean = check_incident(given, "", errors, reported_at=moment, category_required=False)
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    ward = _ward(session, clean["postcode"], moment)
    incident = _incident(case, clean, ward, at=moment, source=kind)
    session.add(incident)
    if clean["hate_strands"]:
        case.hate_strands = sorted(set(case.hate_strands) | set(clean["hate_strands"]))
        case.hate = True
    case.area = case.area or ward
    _touch(case, moment)
    session.flush()
    return incident


# --- related cases and repeat victims ----------------------------------------------------

def _reported_people(session: Session, case: Case) -> list[tuple[str, str]]:
    query = select(Person.normalised_name, Person.normalised_address).join(CaseParty).where(
        CaseParty.case_id == case.id, CaseParty.role == PartyRole.REPORTED_PERSON,
        Person.normalised_address.is_not(None))
    return [(name, address) for name, address in session.execute(query)]


def find_related_open_cases(session: Session, case: Case) -> list[tuple[Case, LinkReason]]:
    """Return other open cases about the same address, reported person or full postcode."""
    addresses = {i.normalised_address for i in case.incidents if i.normalised_address}
    postcodes = {i.postcode for i in case.incidents if i.postcode and " " in i.postcode}
    people = _reported_people(session, case)
    others = select(Case).where(Case.status == CaseStatus.OPEN, Case.id != case.id)
    checks: list[tuple[LinkReason, Select[tuple[int]]]] = []
    if addresses:
        checks.append((LinkReason.SAME_ADDRESS, select(Incident.case_id).where(
            Incident.normalised_address.in_(addresses))))
    if people:
        checks.append((LinkReason.SAME_REPORTED_PERSON, select(CaseParty.case_id).join(Person)
                       .where(CaseParty.role == PartyRole.REPORTED_PERSON, or_(*(
                           and_(Person.normalised_name == name,
                                Person.normalised_address == address)
                           for name, address in people)))))
    if postcodes:
        checks.append((LinkReason.SAME_POSTCODE, select(Incident.case_id).where(
            Incident.postcode.in_(postcodes))))
    found: dict[int, tuple[Case, LinkReason]] = {}
    for reason, case_ids in checks:
        for other in session.scalars(others.where(Case.id.in_(case_ids))):
            found.setdefault(other.id, (other, reason))
    return sorted(found.values(), key=lambda pair: (pair[0].received_at, pair[0].id))


def _link_query(low: int, high: int) -> Select[tuple[CaseLink]]:
    return select(CaseLink).where(CaseLink.case_id == low, CaseLink.linked_case_id == high)


def link_cases(session: Session, case: Case, other: Case, reason: LinkReason | str, *,
               at: datetime | None = None) -> CaseLink:
    """Link two cases once (a second call returns the existing link unchanged)."""
    errors: Errors = {}
    why = _choice(reason, LinkReason, "reason", errors)
    if case.id == other.id:
        errors["linked_case"] = "a case cannot be linked to itself"
    if errors:
        raise CaseDataInvalid(errors)
    low, high = sorted((case.id, other.id))
    existing = session.scalars(_link_query(low, high)).first()
    if existing is not None:
        return existing
    link = CaseLink(case_id=low, linked_case_id=high, reason=why,
                    created_at=at or datetime.now(UTC))
    try:
        with session.begin_nested():
            session.add(link)
            session.flush()
    except IntegrityError:
        return session.scalars(_link_query(low, high)).one()
    return link


def links_of(session: Session, case: Case) -> list[tuple[Case, LinkReason]]:
    """Return the cases linked to ``case`` with the reason, oldest case first."""
    query = select(Case, CaseLink.reason).join(CaseLink, or_(
        and_(CaseLink.case_id == case.id, CaseLink.linked_case_id == Case.id),
        and_(CaseLink.linked_case_id == case.id, CaseLink.case_id == Case.id),
    )).order_by(Case.received_at, Case.id)
    return [(other, reason) for other, reason in session.execute(query)]


def is_repeat_victim(session: Session, case: Case, rules: Mapping[str, Any], at: datetime
                     ) -> bool:
    """Tell whether the case's reporter or their address reached a repeat-victim rule by ``at``.

    Victimisation follows the victim: reports by the same person, or about or from the
    reporter's own address, count. Other people's reports about the same incident place do
    not (that is the same problem, found by ``find_related_open_cases``).
    """
    moment = _aware("at", at)
    person, _ = reporter_of(session, case)
    addresses = {person.normalised_address} - {None}
    reporter = aliased(Person)
    same = [Incident.case_id == case.id, Incident.normalised_address.in_(addresses),
            reporter.normalised_address.in_(addresses)]
    contact = []
    if person.phone:
        contact.append(reporter.phone == person.phone)
    if person.email:
        contact.append(reporter.email == person.email)
    if contact:
        same.append(and_(reporter.normalised_name == person.normalised_name, or_(*contact)))
    widest = max(rule["days"] for rule in rules.values())
    query = (select(Incident.id, Incident.reported_at)
             .join(CaseParty, and_(CaseParty.case_id == Incident.case_id,
                                   CaseParty.role == PartyRole.REPORTER))
             .join(reporter, CaseParty.person_id == reporter.id)
             .where(Incident.source.in_([IncidentSource.REPORT, IncidentSource.NEW_INCIDENT]),
                    Incident.reported_at <= moment,
                    Incident.reported_at >= moment - timedelta(days=widest), or_(*same))
             .distinct())
    times = [reported for _, reported in session.execute(query)]
    return any(sum(t >= moment - timedelta(days=rule["days"]) for t in times) >= rule["reports"]
               for rule in rules.values())


def mark_repeat_victim(session: Session, case: Case, *, at: datetime | None = None) -> Case:
    """Flag the case's victim as a repeat victim (the flag is never cleared)."""
    case.repeat_victim = True
    _touch(case, at)
    session.flush()
    return case


# --- triage, assessment and ownership ----------------------------------------------------

def _apply_priority(case: Case, priority: int, due: datetime) -> int | None:
    if case.priority is not None and priority > case.priority:
        raise CaseDataInvalid("priority", f"priority {case.priority} cannot be lowered to "
                                          f"{priority}")
    before = case.priority
    case.priority, case.first_contact_due_at = priority, due
    if case.stage is Stage.INTAKE:
        case.stage = Stage.TRIAGE
    return before


def set_priority(session: Session, case: Case, priority: int, first_contact_due_at: datetime,
                 *, by: str, reason: str, at: datetime | None = None) -> Case:
    """Record the priority and first-contact deadline, refusing to lower the priority."""
    if isinstance(priority, bool) or priority not in (1, 2):
        raise CaseDataInvalid("priority", "must be 1 or 2")
    due = _aware("first_contact_due_at", first_contact_due_at)
    _must_be_open(case)
    before = _apply_priority(case, priority, due)
    if before is None:
        initial = session.scalars(select(RiskAssessment).where(
            RiskAssessment.case_id == case.id,
            RiskAssessment.kind == AssessmentKind.INITIAL_DECISION,
            RiskAssessment.priority_after.is_(None))).first()
        if initial is not None:
            initial.priority_after = priority
    moment = _touch(case, at)
    _audit(session, case, "priority_set", moment, by, priority_before=before,
           priority_after=priority, reason=reason)
    session.flush()
    return case


def _check_assessment(data: Any, kind: Any, priority: int | None) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    known = ("harm", "vulnerability", "community_impact", "raise_priority", "notes", *FLAGS)
    given = _body(data, known, errors)
    how = _choice(kind, AssessmentKind, "kind", errors)
    needed = how is not AssessmentKind.INITIAL_DECISION
    clean: dict[str, Any] = {
        "kind": how, "harm": _choice(given.get("harm"), Level, "harm", errors, needed),
        "community_impact": _choice(given.get("community_impact"), Level, "community_impact",
                                    errors, needed),
        "notes": _text(given.get("notes"), "notes", errors, 2000, required=False),
        "vulnerability": _section(given, "vulnerability",
                                  ("personal", "situational", "incidental"), errors, False),
    }
    for path, value in [*((f"vulnerability.{k}", v) for k, v in clean["vulnerability"].items()),
                        *((k, given.get(k, False)) for k in (*FLAGS, "raise_priority"))]:
        if not isinstance(value, bool):
            errors[path] = "must be true or false"
        elif "." not in path:
            clean[path] = value
    if priority is not None and (isinstance(priority, bool) or priority not in (1, 2)):
        errors["priority"] = "must be 1 or 2"
    return clean, errors


def record_assessment(session: Session, case: Case, assessment: Mapping[str, Any], *,
                      at: datetime, by: str, kind: AssessmentKind | str = AssessmentKind.OFFICER,
                      priority: int | None = None, first_contact_due_at: datetime | None = None
                      ) -> RiskAssessment:
    """Store a risk assessment; raising it, or a child or vulnerable adult at risk, means P1."""
    moment = _aware("at", at)
    clean, errors = _check_assessment(assessment, kind, priority)
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    at_risk = clean["child_at_risk"] or clean["vulnerable_adult"]
    target = 1 if clean.pop("raise_priority") or at_risk else priority
    before = case.priority
    if target is not None and target != before:
        if first_contact_due_at is None:
            raise CaseDataInvalid("first_contact_due_at", "is needed when the priority changes")
        _apply_priority(case, target, _aware("first_contact_due_at", first_contact_due_at))
    case.safeguarding = case.safeguarding or at_risk
    case.repeat_victim = case.repeat_victim or clean["repeat_victim"]
    row = RiskAssessment(case_id=case.id, assessed_at=moment, assessed_by=by,
                         priority_before=before, priority_after=case.priority,
                         **{**clean, "vulnerability": clean["vulnerability"] or None})
    session.add(row)
    _touch(case, moment)
    if case.priority != before:
        _audit(session, case, "priority_raised", moment, by, priority_before=before,
               priority_after=case.priority, reason="risk assessment")
    session.flush()
    return row


def assign_officer(session: Session, case: Case, officer: str, team: str | None = None, *,
                   at: datetime | None = None, by: str = "system") -> Case:
    """Make ``officer`` (an active council user) the case officer, in ``team`` or theirs."""
    user = find_user(session, officer) if isinstance(officer, str) else None
    if user is None or not user.active or user.role is Role.PARTNER:
        raise CaseDataInvalid("case_officer", f"{officer!r} is not an active council user")
    _must_be_open(case)
    case.case_officer, case.team = user.name, team or user.team.name
    moment = _touch(case, at)
    _audit(session, case, "officer_assigned", moment, by, case_officer=user.name,
           team=case.team)
    session.flush()
    return case


# --- contact, plans, disclosures ---------------------------------------------------------

def record_contact(session: Session, case: Case, *, at: datetime, by: str,
                   method: ContactMethod | str, kind: ContactKind | str, summary: str,
                   direction: Direction | str = Direction.OUTBOUND) -> ContactLogEntry:
    """Log a contact with the reporter; the first ``first_contact`` sets the first contact time."""
    moment = _aware("at", at)
    errors: Errors = {}
    entry = ContactLogEntry(
        case_id=case.id, at=moment, by=_text(by, "by", errors, 64),
        method=_choice(method, ContactMethod, "method", errors),
        kind=_choice(kind, ContactKind, "kind", errors),
        direction=_choice(direction, Direction, "direction", errors),
        summary=_text(summary, "summary", errors, 2000))
    if moment < case.received_at:
        errors["at"] = "must not be before the report was received"
    if errors:
        raise CaseDataInvalid(errors)
    session.add(entry)
    if entry.kind is ContactKind.FIRST_CONTACT and case.first_contact_at is None:
        case.first_contact_at = moment
        if case.stage in (Stage.INTAKE, Stage.TRIAGE):
            case.stage = Stage.CONTACT
    _touch(case, moment)
    session.flush()
    return entry


def record_breach(session: Session, case: Case, at: datetime) -> bool:
    """Note that first contact missed its deadline at ``at``; tell whether it was new."""
    moment = _aware("at", at)
    if case.first_contact_breached_at is not None:
        return False
    case.first_contact_breached_at = moment
    _touch(case, moment)
    session.flush()
    return True


def record_plan(session: Session, case: Case, *, at: datetime, by: str, actions: list[str],
                update_frequency: str, agreed_with_reporter: bool,
                update_cadence_days: int | None = None) -> ActionPlan:
    """Add a new version of the action plan and the agreed update frequency."""
    moment = _aware("at", at)
    errors: Errors = {}
    choices: dict[str, int] = get_setting(session, "update_cadence_choices", moment)
    if not isinstance(actions, list) or not 1 <= len(actions) <= 20:
        errors["actions"] = "must be a list of 1 to 20 actions"
        actions = []
    cleaned = [_text(a, f"actions.{i}", errors, 300) for i, a in enumerate(actions)]
    if not isinstance(update_frequency, str) or update_frequency not in choices:
        errors["update_frequency"] = f"must be one of {', '.join(choices)}"
    days = update_cadence_days if update_cadence_days is not None \
        else choices.get(str(update_frequency))
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)
                             or not 1 <= days <= 60):
        errors["update_cadence_days"] = "must be a whole number of working days from 1 to 60"
    if not isinstance(agreed_with_reporter, bool):
        errors["agreed_with_reporter"] = "must be true or false"
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    latest = session.scalar(select(func.max(ActionPlan.version))
                            .where(ActionPlan.case_id == case.id))
    plan = ActionPlan(case_id=case.id, version=(latest or 0) + 1, agreed_at=moment,
                      agreed_by=by, actions=cleaned, update_frequency=update_frequency,
                      update_cadence_days=days, agreed_with_reporter=agreed_with_reporter)
    session.add(plan)
    case.update_frequency, case.update_cadence_days = update_frequency, days
    if case.stage in _EARLY_STAGES:
        case.stage = Stage.SUPPORT
    _touch(case, moment)
    session.flush()
    return plan


def current_plan(session: Session, case: Case) -> ActionPlan | None:
    """Return the newest version of the case's action plan, or None."""
    return session.scalars(select(ActionPlan).where(ActionPlan.case_id == case.id)
                           .order_by(ActionPlan.version.desc()).limit(1)).first()


def set_next_update(session: Session, case: Case, due_at: datetime) -> Case:
    """Record when the reporter's next update is due."""
    case.next_update_due_at = _aware("due_at", due_at)
    session.flush()
    return case


def set_stage(session: Session, case: Case, stage: Stage | str, *,
              at: datetime | None = None) -> Case:
    """Move an open case to ``stage``."""
    errors: Errors = {}
    where = _choice(stage, Stage, "stage", errors)
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    case.stage = where
    _touch(case, at)
    session.flush()
    return case


def record_disclosure(session: Session, case: Case, *, at: datetime, by: str, recipient: str,
                      what: str, legal_basis: LegalBasis | str, note: str | None = None
                      ) -> Disclosure:
    """Record information shared outside the council and the legal basis for sharing it."""
    moment = _aware("at", at)
    errors: Errors = {}
    row = Disclosure(case_id=case.id, at=moment, by=_text(by, "by", errors, 64),
                     recipient=_text(recipient, "recipient", errors, 200),
                     what=_text(what, "what", errors, 2000),
                     legal_basis=_choice(legal_basis, LegalBasis, "legal_basis", errors),
                     note=_text(note, "note", errors, 2000, required=False))
    if errors:
        raise CaseDataInvalid(errors)
    session.add(row)
    _audit(session, case, "disclosed", moment, row.by, recipient=row.recipient,
           legal_basis=row.legal_basis.value)
    session.flush()
    return row


# --- closing and re-opening --------------------------------------------------------------

def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def close_case(session: Session, case: Case, *, at: datetime, reason: ClosureReason | str,
               retention_years: int, by: str = "system") -> Case:
    """Close the case; it is kept until the London closure date plus ``retention_years``."""
    moment = _aware("at", at)
    errors: Errors = {}
    why = _choice(reason, ClosureReason, "closure_reason", errors)
    if isinstance(retention_years, bool) or not isinstance(retention_years, int) \
            or not 1 <= retention_years <= 10:
        errors["retention_years"] = "must be a whole number of years from 1 to 10"
    if errors:
        raise CaseDataInvalid(errors)
    _must_be_open(case)
    case.status, case.stage, case.closed_at, case.closure_reason = (
        CaseStatus.CLOSED, Stage.CLOSURE, moment, why)
    case.retention_until = _add_years(moment.astimezone(LOCAL_TZ).date(), retention_years)
    case.next_update_due_at = None
    _touch(case, moment)
    _audit(session, case, "closed", moment, by, closure_reason=why.value,
           retention_until=case.retention_until.isoformat())
    session.flush()
    return case


def _must_be_closed(case: Case) -> datetime:
    if case.status is not CaseStatus.CLOSED or case.closed_at is None:
        raise CaseStatusConflict(f"case {case.reference} is not closed")
    return case.closed_at


def reopen_case(session: Session, case: Case, *, at: datetime, by: str = "system") -> Case:
    """Re-open a closed case at triage, lifting its retention date."""
    moment = _aware("at", at)
    closed_at = _must_be_closed(case)
    reason = case.closure_reason.value if case.closure_reason else None
    case.status, case.stage = CaseStatus.OPEN, Stage.TRIAGE
    case.closed_at = case.closure_reason = case.retention_until = None
    case.reopened_count += 1
    _touch(case, moment)
    _audit(session, case, "reopened", moment, by, closed_at=closed_at.isoformat(),
           closure_reason=reason)
    session.flush()
    return case


def reopen_or_new(session: Session, closed_case: Case, *, at: datetime, window_days: int
                  ) -> Literal["reopen", "new"]:
    """Decide whether news at ``at`` re-opens the closed case (within the window) or starts anew."""
    moment = _aware("at", at)
    closed_at = _must_be_closed(closed_case)
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 0:
        raise CaseDataInvalid("window_days", "must be a whole number of days, 0 or more")
    return "reopen" if moment - closed_at <= timedelta(days=window_days) else "new"


# --- workload ----------------------------------------------------------------------------

def officer_workload_query() -> Select[tuple[str, int]]:
    """Select each case officer with their number of open cases, by name."""
    return (select(Case.case_officer, func.count(Case.id))
            .where(Case.status == CaseStatus.OPEN, Case.case_officer.is_not(None))
            .group_by(Case.case_officer).order_by(Case.case_officer))


def open_cases_by_officer(session: Session) -> dict[str, int]:
    """Return the number of open cases each case officer holds."""
    return {name: count for name, count in session.execute(officer_workload_query())}
