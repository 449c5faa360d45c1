"""One consistency check over the whole system, for after a crash, a restart or a restore.

It puts together what each layer can prove about itself: the engine's instances agree with
their stored states (``engine.consistency``), the audit trail's hash chain is unbroken
(``cases.audit_chain.verify``), no closed case still has a running process, and every
evidence record has its file in the store (but a disposed case's, whose files are deleted).
Files that no record names are counted but are no failure: the worker's sweep removes them
once a day old (``tasks.file_sweep``). Nothing is changed; ``asb check`` prints the report
and exits non-zero when anything is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from cases.audit_chain import ChainReport, verify
from cases.enums import CaseStatus
from cases.evidence import EvidenceItem
from cases.records import Case
from cases.retention import CaseDisposal
from engine.consistency import InstanceReport, check_instances
from engine.models import ProcessInstance
from engine.runtime import ENDED, CaseEngine

from .file_sweep import StrayReport, find_strays
from .files import FileStore


@dataclass
class SystemReport:
    """Everything the check found; ``ok`` when nothing is wrong."""

    instances: InstanceReport
    audit: ChainReport
    running_on_closed: list[str] = field(default_factory=list)  # case references
    files_checked: int = 0
    missing_files: list[tuple[str, int]] = field(default_factory=list)  # (reference, item id)
    strays: StrayReport | None = None

    @property
    def ok(self) -> bool:
        """True when every part of the check passed."""
        return (self.instances.ok and self.audit.ok and not self.running_on_closed
                and not self.missing_files)

    def lines(self) -> list[str]:
        """The report in words, one finding per line, without any personal data."""
        out = [f"instances: {self.instances.checked} unfinished checked, "
               f"{len(self.instances.problems)} problem(s)"]
        out += [f"  instance {p.instance_id} ({p.business_key}) {p.kind}: {p.detail}"
                for p in self.instances.problems]
        if self.audit.ok:
            waiting = f", {self.audit.unsealed} not yet sealed" if self.audit.unsealed else ""
            out.append(f"audit: chain of {self.audit.rows} rows intact{waiting}")
        else:
            out.append(f"audit: BROKEN at row {self.audit.broken_id}: {self.audit.reason}")
        out.append(f"closed cases with running processes: {len(self.running_on_closed)}")
        out += [f"  {reference}" for reference in self.running_on_closed]
        out.append(f"evidence files: {self.files_checked} checked, "
                   f"{len(self.missing_files)} missing")
        out += [f"  {reference} item {item}" for reference, item in self.missing_files]
        if self.strays is not None:
            out.append(f"files without a record: {len(self.strays.strays)} over a day old "
                       f"(the worker's sweep removes them), {self.strays.recent} newer")
            if self.strays.looks_unrelated:
                out.append("  more files without a record than with one: is this the file "
                           "store of this database? (the sweep will not remove them)")
        return out


def running_on_closed_cases(session: Session) -> list[str]:
    """References of closed cases that still have an unfinished process under their key."""
    return list(session.scalars(
        select(Case.reference).distinct()
        .join(ProcessInstance, ProcessInstance.business_key == Case.reference)
        .where(Case.status == CaseStatus.CLOSED, ProcessInstance.status.not_in(list(ENDED)))
        .order_by(Case.reference)))


def check_system(session: Session, engine: CaseEngine, *, store: FileStore | None = None,
                 now: datetime | None = None) -> SystemReport:
    """Run every check; with the evidence ``store`` (and ``now``), the files too."""
    report = SystemReport(instances=check_instances(engine, session), audit=verify(session),
                          running_on_closed=running_on_closed_cases(session))
    if store is not None:
        # A disposed case keeps its anonymised evidence rows; their files were deleted.
        rows = session.execute(
            select(Case.reference, EvidenceItem.id, EvidenceItem.stored_name)
            .join(Case, Case.id == EvidenceItem.case_id)
            .where(~exists().where(CaseDisposal.case_id == Case.id))
            .order_by(EvidenceItem.id))
        for reference, item_id, stored_name in rows:
            report.files_checked += 1
            if not store.exists(stored_name):
                report.missing_files.append((reference, item_id))
        report.strays = find_strays(session, store, now or datetime.now().astimezone())
    return report
