"""Disclosure packs and court bundles: chosen parts of a case, copied with people redacted.

An officer chooses the recipient, what to include (the case summary, incidents, evidence
descriptions, contact log entries, diary entries) and which people to blank out; the pack is
built from the stored records through ``privacy_redact`` (the records are never changed) and,
once downloaded, recorded as a ``Disclosure`` with its legal basis.

Default redactions by recipient:

* the reported person: the reporter, victims and witnesses, and these may not be un-ticked
  (DOMAIN.md: nothing about the reporter in anything addressed to the reported person);
* a partner agency: the reporter, victims and witnesses (details are shared only on a legal
  basis, so the officer un-ticks a person deliberately);
* a court (a court bundle): the reporter, victims and witnesses, because the bundle is served
  on the respondent too; an officer un-ticks a witness whose statement is given in their name;
* anyone else: everyone on the case.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.contact import record_disclosure
from cases.enums import LegalBasis, PartyRole
from cases.evidence import EvidenceItem
from cases.evidence_requests import DiaryEntry
from cases.privacy_redact import case_redactees, label_for, redact_value
from cases.records import Case, CaseParty, ContactLogEntry, Disclosure, Incident

MAX_RECIPIENT = 200
MAX_NOTE = 2000
SIDE_OF_REPORTER = frozenset({PartyRole.REPORTER, PartyRole.VICTIM, PartyRole.WITNESS})


class RecipientKind(enum.StrEnum):
    """Who the pack is for; a court gets a court bundle, everyone else a disclosure pack."""

    REPORTED_PERSON = "reported_person"
    PARTNER = "partner"
    COURT = "court"
    OTHER = "other"


RECIPIENT_LABELS = {RecipientKind.REPORTED_PERSON: "The reported person",
                    RecipientKind.PARTNER: "A partner agency",
                    RecipientKind.COURT: "A court (court bundle)",
                    RecipientKind.OTHER: "Someone else"}
SECTIONS = ("summary", "incidents")


class PackInvalid(ValueError):
    """The choices were refused; ``errors`` maps each field to what to correct."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Party:
    """One person on the case, with every role they have on it."""

    person_id: int
    name: str | None
    roles: tuple[PartyRole, ...]

    @property
    def label(self) -> str:
        """Their roles as words, e.g. 'reporter, victim'."""
        return ", ".join(label_for(r) for r in self.roles)


@dataclass
class PackChoice:
    """What goes into one pack, for whom and on what legal basis."""

    recipient_kind: RecipientKind
    recipient: str
    legal_basis: LegalBasis
    note: str | None
    sections: frozenset[str]
    evidence_ids: list[int] = field(default_factory=list)
    contact_ids: list[int] = field(default_factory=list)
    diary_ids: list[int] = field(default_factory=list)
    redact_ids: list[int] = field(default_factory=list)

    @property
    def court_bundle(self) -> bool:
        """Tell whether this is a court bundle (else a disclosure pack)."""
        return self.recipient_kind is RecipientKind.COURT


def parties_of(session: Session, case: Case) -> list[Party]:
    """The case's people, once each, in the order they were added."""
    roles: dict[int, list[PartyRole]] = {}
    names: dict[int, str | None] = {}
    for party in session.scalars(select(CaseParty).where(CaseParty.case_id == case.id)
                                 .order_by(CaseParty.id)):
        roles.setdefault(party.person_id, []).append(PartyRole(party.role))
        names[party.person_id] = party.person.name
    return [Party(pid, names[pid], tuple(r)) for pid, r in roles.items()]


def default_redactions(parties: Sequence[Party], kind: RecipientKind) -> set[int]:
    """The people blanked out by default for a recipient of ``kind`` (see the module notes)."""
    if kind is RecipientKind.OTHER:
        return {p.person_id for p in parties}
    return {p.person_id for p in parties if SIDE_OF_REPORTER & set(p.roles)}


def _must_redact(parties: Sequence[Party], kind: RecipientKind) -> set[int]:
    if kind is not RecipientKind.REPORTED_PERSON:
        return set()
    return {p.person_id for p in parties
            if SIDE_OF_REPORTER & set(p.roles) and PartyRole.REPORTED_PERSON not in p.roles}


def options(session: Session, case: Case) -> dict[str, list[Any]]:
    """What may be chosen for a pack of ``case``: its evidence, contact log and diary."""
    return {
        "evidence": list(session.scalars(select(EvidenceItem).where(
            EvidenceItem.case_id == case.id).order_by(EvidenceItem.uploaded_at,
                                                      EvidenceItem.id))),
        "contacts": list(session.scalars(select(ContactLogEntry).where(
            ContactLogEntry.case_id == case.id).order_by(ContactLogEntry.at,
                                                         ContactLogEntry.id))),
        "diary": list(session.scalars(select(DiaryEntry).where(
            DiaryEntry.case_id == case.id).order_by(DiaryEntry.occurred_at, DiaryEntry.id))),
    }


def _ids(values: Sequence[str], allowed: set[int], name: str, errors: dict[str, str]
         ) -> list[int]:
    try:
        chosen = sorted({int(v) for v in values})
    except ValueError:
        chosen = [-1]
    if not set(chosen) <= allowed:
        errors[name] = "Choose only from the list"
        return []
    return chosen


def parse_choice(session: Session, case: Case, form: Mapping[str, Sequence[str]]
                 ) -> PackChoice:
    """Check the posted choices (each field a list of strings); ``PackInvalid`` if refused."""
    def one(name: str) -> str:
        return " ".join((list(form.get(name) or [""])[0] or "").split())

    errors: dict[str, str] = {}
    kind = next((k for k in RecipientKind if k.value == one("recipient_kind")), None)
    if kind is None:
        errors["recipient_kind"] = "Select who the pack is for"
    recipient = one("recipient")
    if kind is RecipientKind.REPORTED_PERSON:
        recipient = recipient or "The reported person"
    if not recipient:
        errors["recipient"] = "Enter the name of the agency, court or person receiving it"
    elif len(recipient) > MAX_RECIPIENT:
        errors["recipient"] = f"Recipient must be {MAX_RECIPIENT} characters or fewer"
    basis = next((b for b in LegalBasis if b.value == one("legal_basis")), None)
    if basis is None:
        errors["legal_basis"] = "Select the legal basis for sharing"
    note = (list(form.get("note") or [""])[0] or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = f"Note must be {MAX_NOTE} characters or fewer"
    sections = frozenset(s for s in form.get("include") or [] if s in SECTIONS)
    found = options(session, case)
    evidence = _ids(form.get("evidence") or [], {e.id for e in found["evidence"]}, "evidence",
                    errors)
    contacts = _ids(form.get("contact") or [], {c.id for c in found["contacts"]}, "contact",
                    errors)
    diary = _ids(form.get("diary") or [], {d.id for d in found["diary"]}, "diary", errors)
    parties = parties_of(session, case)
    redact = _ids(form.get("redact") or [], {p.person_id for p in parties}, "redact", errors)
    if not (sections or evidence or contacts or diary) and not errors.keys() & {
            "evidence", "contact", "diary"}:
        errors["include"] = "Choose at least one thing to include"
    if kind is not None and "redact" not in errors and _must_redact(parties, kind) - set(redact):
        errors["redact"] = ("The reporter, victims and witnesses are always redacted from "
                            "anything for the reported person")
    if errors or kind is None or basis is None:
        raise PackInvalid(errors)
    return PackChoice(kind, recipient, basis, note or None, sections, evidence, contacts,
                      diary, redact)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _content(session: Session, case: Case, choice: PackChoice) -> dict[str, Any]:
    found = options(session, case)
    content: dict[str, Any] = {}
    if "summary" in choice.sections:
        content["summary"] = {
            "reference": case.reference, "category": str(case.category.value),
            "status": str(case.status.value), "stage": str(case.stage.value),
            "priority": case.priority, "received_at": _when(case.received_at),
            "closed_at": _when(case.closed_at), "case_officer": case.case_officer}
    if "incidents" in choice.sections:
        content["incidents"] = [
            {"occurred_at": _when(i.occurred_at), "category": str(i.category.value),
             "location": i.location, "description": i.description}
            for i in session.scalars(select(Incident).where(Incident.case_id == case.id)
                                     .order_by(Incident.occurred_at, Incident.id))]
    content["evidence"] = [
        {"id": e.id, "kind": str(e.kind.value), "uploaded_at": _when(e.uploaded_at),
         "file_name": e.original_name, "description": e.description}
        for e in found["evidence"] if e.id in choice.evidence_ids]
    content["contact_log"] = [
        {"at": _when(c.at), "method": str(c.method.value), "direction": str(c.direction.value),
         "summary": c.summary} for c in found["contacts"] if c.id in choice.contact_ids]
    content["diary_entries"] = [
        {"occurred_at": _when(d.occurred_at), "what_happened": d.what_happened,
         "effect": d.effect} for d in found["diary"] if d.id in choice.diary_ids]
    return content


def build_pack(session: Session, case: Case, choice: PackChoice, at: datetime
               ) -> dict[str, Any]:
    """The pack's content with the chosen people redacted from every text, once."""
    targets = case_redactees(session, case.id, choice.redact_ids)
    pack = redact_value(_content(session, case, choice), targets)
    chosen = set(choice.redact_ids)
    if "summary" in choice.sections:
        pack["summary"]["people"] = [
            {"roles": p.label,
             "name": f"[redacted: {label_for(p.roles[0])}]" if p.person_id in chosen
             else p.name} for p in parties_of(session, case)]
    pack.update(title="Court bundle" if choice.court_bundle else "Disclosure pack",
                reference=case.reference, recipient=choice.recipient,
                recipient_kind=RECIPIENT_LABELS[choice.recipient_kind],
                legal_basis=str(choice.legal_basis.value).replace("_", " "),
                made_at=at.isoformat(),
                redacted=sorted({label_for(p.roles[0]) for p in parties_of(session, case)
                                 if p.person_id in chosen}))
    return pack


def describe(choice: PackChoice, pack: Mapping[str, Any]) -> str:
    """What was shared, in words for the disclosure log (counts and labels, no personal data)."""
    parts = [name for name in SECTIONS if name in choice.sections]
    for key, label in (("evidence", "evidence item"), ("contact_log", "contact log entry"),
                       ("diary_entries", "diary entry")):
        if count := len(pack.get(key) or []):
            parts.append(f"{count} {label}{'' if count == 1 else 's'}".replace("entrys",
                                                                               "entries"))
    redacted = ", ".join(pack["redacted"]) or "nobody"
    return f"{pack['title']}: {', '.join(parts)}; redacted: {redacted}"


def record_pack(session: Session, case: Case, choice: PackChoice, pack: Mapping[str, Any], *,
                by: str, at: datetime) -> Disclosure:
    """Record the downloaded pack in the case's disclosure log (audited as ``case.disclosed``)."""
    return record_disclosure(session, case, at=at, by=by, recipient=choice.recipient,
                             what=describe(choice, pack), legal_basis=choice.legal_basis,
                             note=choice.note)
