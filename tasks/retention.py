"""Disposal of closed cases past their retention date: anonymise the record and workflow state.

``dispose_case`` checks the case may go (closed, past its date, no legal hold), clears the
case record's personal data (``cases.privacy_scrub``), then the serialized workflow state of
every process of the case, its complaints and Case Reviews (instance data, task drafts,
stored message payloads, incident messages), records the disposal, and deletes the evidence
files from the file store once the transaction has committed. Deleted before, a commit that
failed would leave records of files that are gone; deleted after, a crash between the two
leaves files without a record, which the worker's sweep removes (``tasks.file_sweep``). A
file already gone is no error.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from cases.drafts import TaskDraft
from cases.privacy_scrub import REMOVED, scrub_case, stored_files_of
from cases.records import Case
from cases.retention import check_disposable, record_disposal, review_list
from engine.models import HumanTask, Incident, ProcessInstance, StoredMessage
from tasks.files import FileStore, StoreUnavailable

log = logging.getLogger(__name__)

# Workflow data keys whose string values are codes, dates or staff names, never a member of
# the public's words: they stay so the instance pages still read sensibly.
KEEP_KEYS = frozenset({
    "case_reference", "received_at", "channel", "area", "case_officer", "team_leader",
    "closure_reason", "method", "update_frequency", "harm", "community_impact",
    "first_contact_due", "contacted_at", "retention_until", "priority", "category", "stage",
    "tool", "status", "kind", "decision", "route", "outcome_code", "legal_basis", "team",
    "assignee", "role", "due_at", "reference", "complaint_reference", "review_reference",
})
DATA_KEYS = frozenset({"data", "updates", "internal_data", "correlations"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ][\d:.]+([+-]\d{2}:\d{2}|Z)?)?")


@dataclass(frozen=True)
class Disposal:
    """What one disposal changed, counted per table, and the files deleted."""

    reference: str
    counts: dict[str, int]
    files_deleted: int  # deleted from the store when the transaction commits


def _scrub_value(key: str | None, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_value(key, v) for v in value]
    if isinstance(value, str) and key not in KEEP_KEYS and not _ISO_DATE.fullmatch(value):
        return REMOVED
    return value


def scrub_state(state: Any) -> Any:
    """Return serialized workflow state with the strings in every data mapping removed."""
    if isinstance(state, dict):
        return {k: (_scrub_value(k, v) if k in DATA_KEYS else scrub_state(v))
                for k, v in state.items()}
    if isinstance(state, list):
        return [scrub_state(v) for v in state]
    return state


def business_keys(session: Session, case: Case) -> set[str]:
    """The business keys of every process about the case: its own, complaints', reviews'."""
    from cases.challenge import CaseReview, Complaint

    keys = {case.reference}
    for model in (Complaint, CaseReview):
        keys |= set(session.scalars(select(model.reference).where(model.case_id == case.id)))
    return keys


def scrub_workflow(session: Session, keys: set[str]) -> dict[str, int]:
    """Remove personal data from the processes with ``keys``; return rows changed per table."""
    instances = list(session.scalars(select(ProcessInstance).where(
        ProcessInstance.business_key.in_(keys))))
    for instance in instances:
        instance.state_json = json.dumps(scrub_state(json.loads(instance.state_json)))
        instance.revision += 1  # a writer holding the old state now fails its revision check
    task_ids = select(HumanTask.id).where(HumanTask.business_key.in_(keys))
    drafts = session.execute(delete(TaskDraft).where(TaskDraft.task_id.in_(task_ids))
                             .execution_options(synchronize_session=False))
    messages = session.execute(update(StoredMessage).where(StoredMessage.business_key.in_(keys))
                               .values(payload={}, note=None)
                               .execution_options(synchronize_session=False))
    incidents = session.execute(update(Incident).where(Incident.business_key.in_(keys))
                                .values(message=REMOVED)
                                .execution_options(synchronize_session=False))
    session.flush()
    return {"process_instances": len(instances),
            "task_drafts": int(drafts.rowcount or 0),  # type: ignore[attr-defined]
            "stored_messages": int(messages.rowcount or 0),  # type: ignore[attr-defined]
            "engine_incidents": int(incidents.rowcount or 0)}  # type: ignore[attr-defined]


def dispose_case(session: Session, case: Case, store: FileStore, *, by: str, at: datetime,
                 today: date) -> Disposal:
    """Anonymise one case past its retention date; ``RetentionError`` if it may not go."""
    check_disposable(session, case, today)
    reference, files = case.reference, stored_files_of(session, case)
    keys = business_keys(session, case)
    counts = {**scrub_workflow(session, keys), **scrub_case(session, case, at)}
    record_disposal(session, case, by=by, at=at, counts=counts)
    session.flush()
    present = [name for name in files if store.exists(name)]
    delete_after_commit(session, store, present)
    return Disposal(reference, counts, len(present))


def delete_after_commit(session: Session, store: FileStore, names: list[str]) -> None:
    """Delete ``names`` from ``store`` when ``session`` commits; forget them if it rolls back."""
    pending = list(names)

    def on_commit(_session: Session) -> None:
        while pending:
            name = pending.pop()
            try:
                store.delete(name)
            except StoreUnavailable as exc:  # committed: the sweep removes the file later
                log.warning("disposal: a file was not deleted (%s); the file sweep will",
                            exc.reason)

    def on_rollback(_session: Session) -> None:
        pending.clear()

    event.listen(session, "after_commit", on_commit)
    event.listen(session, "after_rollback", on_rollback)


def dispose_due(session: Session, store: FileStore, *, by: str, at: datetime, today: date
                ) -> list[Disposal]:
    """Anonymise every case on the review list that is due (not held, not already done)."""
    return [dispose_case(session, row.case, store, by=by, at=at, today=today)
            for row in review_list(session, today) if row.due]
