"""Redaction: copies of text with chosen people's names and contact details blanked out.

A person is recognised by their full name, each part of it of three letters or more, their
phone number (however it is spaced), e-mail address, the first line of their address and the
whole address. Each is replaced by ``[redacted: <label>]``, e.g. ``[redacted: reporter]``.
Over-redaction (a common word that is also a surname) is preferred to a leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.enums import PartyRole
from cases.evidence import EvidenceItem
from cases.legal import LegalAction
from cases.records import CaseParty, Disclosure, Person

_NAME_PART_RE = re.compile(r"[^\W\d_][\w'-]{2,}")


@dataclass(frozen=True)
class Redactee:
    """Someone to blank out of a text, and the label that replaces them."""

    label: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


def redactee(person: Person, label: str) -> Redactee:
    """The redaction target for a stored person."""
    return Redactee(label, person.name, person.phone, person.email, person.address)


def label_for(role: PartyRole | str) -> str:
    """The words that replace a party of ``role``: "reporter", "reported person" and so on."""
    return str(PartyRole(role).value).replace("_", " ")


def _phone_pattern(phone: str) -> str | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return None
    national = digits[2:] if digits.startswith("44") else digits.lstrip("0")
    body = r"[\s().-]*".join(national)
    return rf"(?:\+?44[\s().-]*(?:\(0\)[\s-]*)?|0[\s().-]*)?{body}(?!\d)"


def _patterns(target: Redactee) -> list[str]:
    found: list[str] = []
    for value in (target.address, (target.address or "").split(",")[0], target.email,
                  target.name):
        if value and value.strip():
            found.append(r"\s+".join(re.escape(part) for part in value.split()))
    if target.phone and (phone := _phone_pattern(target.phone)):
        found.append(phone)
    for part in _NAME_PART_RE.findall(target.name or ""):
        found.append(rf"\b{re.escape(part)}\b")
    return found


def redact_text(text: str | None, targets: Iterable[Redactee]) -> str | None:
    """Return ``text`` with every target's details replaced by ``[redacted: label]``.

    One pass over the text with every pattern at once, so a replacement is never redacted again.
    """
    if not text:
        return text
    labels: list[str] = []
    groups: list[str] = []
    for target in targets:
        patterns = _patterns(target)
        if patterns:
            groups.append(f"(?P<t{len(labels)}>{'|'.join(patterns)})")
            labels.append(target.label)
    if not groups:
        return text
    combined = re.compile("|".join(groups), re.IGNORECASE)

    def replace(found: re.Match[str]) -> str:
        return f"[redacted: {labels[int(str(found.lastgroup)[1:])]}]"

    return combined.sub(replace, text)


def redact_value(value: Any, targets: Sequence[Redactee]) -> Any:
    """Redact every string inside a JSON-like value (dicts, lists, strings)."""
    if isinstance(value, str):
        return redact_text(value, targets)
    if isinstance(value, dict):
        return {k: redact_value(v, targets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v, targets) for v in value]
    return value


def case_redactees(session: Session, case_id: int, person_ids: Iterable[int] | None = None
                   ) -> list[Redactee]:
    """Targets for the case's parties (only ``person_ids`` if given), labelled by role."""
    chosen = None if person_ids is None else set(person_ids)
    targets, seen = [], set()
    for party in session.scalars(select(CaseParty).where(CaseParty.case_id == case_id)
                                 .order_by(CaseParty.id)):
        if (chosen is not None and party.person_id not in chosen) or party.person_id in seen:
            continue
        seen.add(party.person_id)
        targets.append(redactee(party.person, label_for(party.role)))
    # Longest names first, so "Rita Reporter" goes before a shorter name inside it.
    return sorted(targets, key=lambda t: -len(t.name or ""))


def redacted_disclosure(session: Session, disclosure: Disclosure, person_ids: Iterable[int]
                        ) -> dict[str, Any]:
    """A copy of a disclosure with the chosen people of its case redacted."""
    targets = case_redactees(session, disclosure.case_id, person_ids)
    return {"id": disclosure.id, "at": disclosure.at.isoformat(), "by": disclosure.by,
            "recipient": redact_text(disclosure.recipient, targets),
            "what": redact_text(disclosure.what, targets),
            "legal_basis": str(disclosure.legal_basis.value),
            "note": redact_text(disclosure.note, targets)}


def redacted_bundle(session: Session, action: LegalAction, person_ids: Iterable[int]
                    ) -> dict[str, Any]:
    """A copy of a court action's evidence bundle with the chosen people redacted.

    The bundle is the list of documents and the ids of the case's evidence recorded by
    ``injunction.record_bundle``; each piece of evidence is listed by kind, name and note.
    """
    targets = case_redactees(session, action.case_id, person_ids)
    bundle = (action.details or {}).get("bundle") or {}
    ids = [i for i in bundle.get("evidence_ids", []) if isinstance(i, int)]
    items = list(session.scalars(select(EvidenceItem).where(EvidenceItem.id.in_(ids),
                                                             EvidenceItem.case_id == action.case_id)
                                 .order_by(EvidenceItem.id))) if ids else []
    return {"legal_action": action.id, "tool": str(action.tool.value),
            "respondent": redact_text(action.respondent, targets),
            "documents": [redact_text(str(d), targets) for d in bundle.get("documents", [])],
            "evidence": [{"id": i.id, "kind": str(i.kind.value),
                          "name": redact_text(i.original_name, targets),
                          "description": redact_text(i.description, targets),
                          "uploaded_at": i.uploaded_at.isoformat()} for i in items]}
