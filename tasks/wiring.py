"""The one place that wires the engine's concrete parts to the case domain."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cases import config as council_config
from cases.audit import AuditRecord, record
from engine import calendar, clock
from engine.audit import EngineEvent
from engine.definitions import DefinitionStore
from engine.handlers import HandlerRegistry, current_context
from engine.runtime import CaseEngine
from engine.sandbox import SandboxedEnvironment
from engine.scripting import ProductScriptEngine
from engine.serializer import InstanceSerializer

from .files import FileStore, StoreUnavailable
from .handlers import load_all
from .legal_clock import closure_hearing_deadline
from .registry import handlers as product_handlers


def audit_sink(session: Session, event: EngineEvent) -> None:
    """Write an engine event into the case audit trail, in the engine's transaction."""
    record(session, AuditRecord(
        at=event.at, actor=event.actor, action=event.action, object_type=event.object_type,
        object_id=event.object_id, case_reference=event.business_key,
        task_name=event.task_name, summary=event.summary or {}))


def _close_of_business(at: datetime) -> str:
    """Close of business in force at ``at`` (council configuration); the default outside a step."""
    try:
        session = current_context().session
    except RuntimeError:
        return str(council_config.DEFAULTS["close_of_business"])
    return str(council_config.get_setting(session, "close_of_business", at=at))


def due_after_working_days(received_at: Any, n: Any) -> str:
    """Diagram helper: the working-day deadline as ISO text, so task data stays JSON."""
    start = calendar.default_calendar().to_aware(received_at)
    due = calendar.due_after_working_days(start, n, close_of_business=_close_of_business(start))
    return due.isoformat()


def now_iso() -> str:
    """Diagram helper: the product clock's now as ISO text."""
    return clock.now().isoformat()


log = logging.getLogger(__name__)

DIAGRAM_GLOBALS: dict[str, Any] = {
    "due_after_working_days": due_after_working_days,
    "now": now_iso,
    "closure_hearing_deadline": closure_hearing_deadline,
}


def build_engine(handlers: HandlerRegistry | None = None, *, audit: bool = True) -> CaseEngine:
    """Assemble a CaseEngine with the sandbox, the product's handlers and the audit trail."""
    clock.install_spiff_clock()
    if handlers is None:
        load_all()
    registry = handlers or product_handlers
    serializer = InstanceSerializer()
    script_engine = ProductScriptEngine(SandboxedEnvironment(dict(DIAGRAM_GLOBALS)), registry)
    definitions = DefinitionStore(serializer, operations=registry.names)
    return CaseEngine(definitions, serializer, script_engine,
                      audit=audit_sink if audit else None)


SWEEP_EVERY = timedelta(hours=24)


def worker_jobs(environ: Mapping[str, str], store: FileStore | None = None
                ) -> list[Callable[[Session], int]]:
    """Queues the worker serves besides timers: sealing the audit trail onto its hash chain,
    the outbox when a channel is configured, virus scans when clamd is, and (given the
    evidence ``store``) a daily sweep of files that no record names."""
    from cases.audit_chain import seal

    from .notify.channels import channels_from_env
    from .notify.outbox_sender import send_due

    def seal_audit(session: Session) -> int:
        return seal(session)

    last_purge: list[datetime] = []

    def purge_sessions(session: Session) -> int:
        """Hourly housekeeping; counts as no work, so it never keeps the worker awake."""
        from cases.staff import purge_browser_sessions

        now = clock.now()
        if last_purge and now - last_purge[0] < timedelta(hours=1):
            return 0
        last_purge[:] = [now]
        purge_browser_sessions(session, now)
        return 0

    jobs: list[Callable[[Session], int]] = [seal_audit, purge_sessions]
    if store is not None:
        jobs.append(_sweep_job(store))
    channels = channels_from_env(environ)
    if channels:
        def send_outbox(session: Session) -> int:
            return send_due(session, channels, clock.now())
        jobs.append(send_outbox)
    else:
        log.warning("no e-mail, SMS or letter channel is configured (ASB_SMTP_HOST, "
                    "ASB_NOTIFY_API_KEY): messages wait in the outbox")
    scan = _scan_job(environ)
    if scan is not None:
        jobs.append(scan)
    return jobs


def _sweep_job(store: FileStore) -> Callable[[Session], int]:
    from .file_sweep import sweep_strays

    last: list[datetime] = []

    def sweep_files(session: Session) -> int:
        """Daily housekeeping; counts as no work, so it never keeps the worker awake."""
        now = clock.now()
        if last and now - last[0] < SWEEP_EVERY:
            return 0
        last[:] = [now]
        try:
            sweep_strays(session, store, now)
        except StoreUnavailable as exc:  # the other jobs go on; tomorrow's sweep tries again
            log.warning("file sweep skipped: the file store did not answer (%s)", exc.reason)
        return 0
    return sweep_files


def _scan_job(environ: Mapping[str, str]) -> Callable[[Session], int] | None:
    """Scan evidence waiting for clamd (``ASB_CLAMD``) in the file store (``ASB_FILES`` or the
    bucket ``ASB_FILES_BACKEND=s3`` names)."""
    from .files import file_store_from
    from .virus_scan import clamd_address, scan_waiting

    address = clamd_address(environ)
    if address is None:
        return None
    local = (environ.get("ASB_FILES_BACKEND") or "local").strip().lower() == "local"
    if local and not environ.get("ASB_FILES"):
        log.warning("ASB_CLAMD is set but ASB_FILES is not: the worker cannot find the "
                    "evidence files, so uploads stay awaiting a scan")
        return None
    store = file_store_from(environ, environ.get("ASB_FILES", ""))

    def scan_evidence(session: Session) -> int:
        return scan_waiting(session, store, address, clock.now())
    return scan_evidence
