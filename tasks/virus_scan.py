"""The virus-scan hook: evidence is quarantined until ClamAV's clamd says it is clean.

When ``ASB_CLAMD`` names a clamd (``host:port``, or the path of its Unix socket), every file
of evidence must have a clean scan before it can be downloaded: a file with no answer yet is
"awaiting scan", an infected one stays quarantined for good. With no clamd configured files
are served as before (the council's own endpoint protection is then the control), but a file
once found infected stays quarantined.
"""

from __future__ import annotations

import enum
import os
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import Enum, ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cases.audit import AuditRecord, record
from cases.base import Base, Timestamp
from cases.evidence import EvidenceItem
from cases.records import Case

from .files import FileStore, StoredFileMissing, StoreUnavailable

CHUNK = 64 * 1024
TIMEOUT_SECONDS = 60.0
ACTOR = "virus-scan"


class ScanStatus(enum.StrEnum):
    """Where a file stands with the virus scanner."""

    PENDING = "pending"
    CLEAN = "clean"
    INFECTED = "infected"


class ScanUnavailable(OSError):
    """clamd could not be reached, or answered something other than OK or FOUND."""


class EvidenceScan(Base):
    """The scanner's verdict on one file of evidence (no row: never scanned)."""

    __tablename__ = "evidence_scans"

    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence_items.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[ScanStatus] = mapped_column(Enum(
        ScanStatus, native_enum=False, length=16, create_constraint=True, name="scan_status",
        values_callable=lambda members: [m.value for m in members], validate_strings=True))
    signature: Mapped[str | None] = mapped_column(String(200))
    scanned_at: Mapped[datetime | None] = mapped_column(Timestamp())


@dataclass(frozen=True)
class Verdict:
    """What clamd said: clean, or the name of what it found."""

    clean: bool
    signature: str | None = None


def clamd_address(settings: Mapping[str, object]) -> str | None:
    """The configured clamd (``ASB_CLAMD`` in ``settings`` or the environment), else None."""
    found = settings.get("ASB_CLAMD") or settings.get("CLAMD") or os.environ.get("ASB_CLAMD")
    return str(found) if found else None


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address)
        return sock
    host, _, port = address.rpartition(":")
    return socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout)


def scan_stream(address: str, source: IO[bytes], timeout: float = TIMEOUT_SECONDS) -> Verdict:
    """Send ``source`` (read in chunks, never whole) to clamd with INSTREAM; read its verdict.

    ``ScanUnavailable`` if clamd cannot be reached or the stream cannot be read.
    """
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            while chunk := source.read(CHUNK):
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0") and len(reply) < 4096:
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
    except (OSError, ValueError) as exc:
        raise ScanUnavailable(f"clamd at {address}: {exc}") from exc
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer.endswith(" OK"):
        return Verdict(True)
    if answer.endswith(" FOUND"):
        signature = answer.removeprefix("stream:").removesuffix("FOUND").strip()
        return Verdict(False, signature[:200] or "unknown")
    raise ScanUnavailable(f"clamd at {address} answered {answer[:200]!r}")


def status_of(session: Session, item: EvidenceItem) -> ScanStatus | None:
    """The scanner's verdict on ``item`` so far (None: never scanned)."""
    scan = session.get(EvidenceScan, item.id)
    return scan.status if scan is not None else None


def statuses(session: Session, evidence_ids: list[int]) -> dict[int, ScanStatus]:
    """The scan verdicts of these evidence items (items never scanned are left out)."""
    if not evidence_ids:
        return {}
    rows = session.execute(select(EvidenceScan.evidence_id, EvidenceScan.status).where(
        EvidenceScan.evidence_id.in_(evidence_ids)))
    return {evidence_id: status for evidence_id, status in rows}


def held_back(session: Session, item: EvidenceItem, address: str | None) -> ScanStatus | None:
    """Why ``item`` may not be downloaded (awaiting scan, or infected), else None."""
    status = status_of(session, item)
    if status is ScanStatus.INFECTED:
        return status
    if address and status is not ScanStatus.CLEAN:
        return ScanStatus.PENDING
    return None


def scan_item(session: Session, store: FileStore, address: str, item: EvidenceItem,
              at: datetime) -> ScanStatus:
    """Scan ``item`` now and record the verdict (pending if clamd cannot answer); audited."""
    scan = session.get(EvidenceScan, item.id)
    if scan is None:
        scan = EvidenceScan(evidence_id=item.id, status=ScanStatus.PENDING)
        session.add(scan)
    try:
        with store.open(item.stored_name) as source:
            verdict = scan_stream(address, source)
    except (ScanUnavailable, StoredFileMissing, StoreUnavailable):
        session.flush()
        return scan.status
    scan.status = ScanStatus.CLEAN if verdict.clean else ScanStatus.INFECTED
    scan.signature, scan.scanned_at = verdict.signature, at
    session.flush()
    reference = session.scalar(select(Case.reference).where(Case.id == item.case_id))
    record(session, AuditRecord(
        at=at, actor=ACTOR,
        action="evidence.scanned" if verdict.clean else "evidence.quarantined",
        object_type="evidence", object_id=str(item.id), case_reference=reference,
        summary={"status": str(scan.status), "signature": verdict.signature}))
    return scan.status


def scan_waiting(session: Session, store: FileStore, address: str, at: datetime,
                 limit: int = 100) -> int:
    """Scan evidence that has no verdict yet (for the worker or a timer); how many were done."""
    waiting = or_(EvidenceScan.evidence_id.is_(None), EvidenceScan.status == ScanStatus.PENDING)
    items = session.scalars(select(EvidenceItem).outerjoin(
        EvidenceScan, EvidenceScan.evidence_id == EvidenceItem.id).where(waiting)
        .order_by(EvidenceItem.id).limit(limit)).all()
    return sum(scan_item(session, store, address, item, at) is not ScanStatus.PENDING
               for item in items)
