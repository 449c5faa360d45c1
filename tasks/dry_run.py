"""Dry run: the real engine drives a sample case through a draft, in a throwaway database.

``dry_run`` copies what the handlers need from the real database (council settings, teams,
users without their passwords, areas, partner agencies) and hands it, with the draft's XML,
to a child Python process (``python -m tasks.dry_run``). The child builds a fresh in-memory
SQLite database, publishes the shipped diagrams with the draft in place of the file that
defines its processes, reports the sample case through ``tasks.cases_service.open_case``
and works it with ``tasks.dry_run_drive``. The child moves its own product clock to fire
timers, so the web process's clock and its worker are never touched; no outbox worker runs
there and no mail channel is configured, so messages only ever reach its own outbox table;
the real database is only read. The answer is the trace, as JSON-able data.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess  # nosec B404 # only to run our own module, see run_payload
import sys
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from cases.base import Base

from .dry_run_samples import Sample

log = logging.getLogger(__name__)

# Tables the handlers read, copied in this order (foreign keys first).
COPIED_TABLES = ("council_settings", "teams", "areas", "partner_agencies", "users", "user_areas")
SECRET_COLUMNS = {"users": ("password_hash",)}
# Nothing of the web process's environment that could reach a real database or mail server.
HIDDEN_ENV = ("DATABASE_URL", "SECRET_KEY", "ASB_SMTP_", "ASB_NOTIFY_", "ASB_FILES", "AWS_")
TIMEOUT_SECONDS = 120
STEP_LIMIT = 200
PACES = ("prompt", "late")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN_NAMESPACES = ("http://www.omg.org/spec/DMN/", "https://www.omg.org/spec/DMN/")
DMN_PREFIX = "dmn:"  # how an uploaded decision table's rows name their "process"
_PROLOG_ENCODING = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")


@dataclass(frozen=True)
class DryRunRequest:
    """One dry run: the draft (its XML and processes), the sample, answers and pace."""

    source: str
    process_ids: list[str]
    sample: Sample
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    pace: str = "prompt"
    start_at: datetime | None = None
    step_limit: int = STEP_LIMIT


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        return None
    return str(value)


def _decode(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$datetime" in obj:
        return datetime.fromisoformat(obj["$datetime"])
    if len(obj) == 1 and "$date" in obj:
        return date.fromisoformat(obj["$date"])
    return obj


def _table(name: str) -> Table:
    import cases.config  # noqa: F401 - declares council_settings
    import cases.people  # noqa: F401 - declares teams, users, areas, agencies

    return Base.metadata.tables[name]


def snapshot(session: Session) -> dict[str, list[dict[str, Any]]]:
    """The rows of the tables the handlers read, secrets left out."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in COPIED_TABLES:
        rows = [dict(row._mapping) for row in session.execute(select(_table(name)))]
        for row in rows:
            for column in SECRET_COLUMNS.get(name, ()):
                row[column] = None
        tables[name] = rows
    return tables


def as_utf8(source: str) -> str:
    """The XML text with no byte-order mark nor declared encoding (the engine reads UTF-8)."""
    return _PROLOG_ENCODING.sub(r"\1", source.lstrip("\ufeff"), count=1)


def defined(source: str) -> tuple[str, list[str]]:
    """What a document is ("bpmn", "dmn" or "") and the process or decision ids it defines."""
    try:
        root = etree.fromstring(
            source.encode("utf-8"),
            parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False),
        )
    except etree.XMLSyntaxError:
        return "", []
    namespace = etree.QName(root).namespace or ""
    if namespace.startswith(DMN_NAMESPACES):
        return "dmn", [d.get("id") or "" for d in root.iter(f"{{{namespace}}}decision")]
    return "bpmn", [p.get("id") or "" for p in root.iter(f"{{{BPMN_NS}}}process")]


def shipped_sources(bpmn_dir: Path, replaced: set[str]) -> dict[str, str]:
    """The shipped BPMN and DMN files, less those defining any of ``replaced``."""
    found: dict[str, str] = {}
    for path in sorted(bpmn_dir.glob("*")):
        if path.suffix not in (".bpmn", ".dmn"):
            continue
        text = path.read_text(encoding="utf-8")
        if replaced & set(defined(text)[1]):
            continue
        found[path.name] = text
    return found


def draft_sources(source: str, process_ids: list[str], bpmn_dir: Path) -> dict[str, str]:
    """The shipped files with the draft in place of the file defining its processes
    (or, for a decision table, of the file defining its decisions)."""
    draft = as_utf8(source)
    kind, ids = defined(draft)
    replaced = set(ids) | {p for p in process_ids if not p.startswith(DMN_PREFIX)}
    sources = shipped_sources(bpmn_dir, replaced)
    sources["draft.dmn" if kind == "dmn" else "draft.bpmn"] = draft
    return sources


def payload(
    session: Session, request: DryRunRequest, bpmn_dir: Path, now: datetime
) -> dict[str, Any]:
    """Everything the child process needs, as JSON-able data."""
    sources = draft_sources(request.source, request.process_ids, bpmn_dir)
    forms_dir = bpmn_dir / "forms"
    forms = (
        {
            p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(forms_dir.glob("*.json"))
        }
        if forms_dir.is_dir()
        else {}
    )
    return {
        "sources": sources,
        "forms": forms,
        "target": [p for p in request.process_ids if not p.startswith(DMN_PREFIX)],
        "sample": asdict(request.sample),
        "answers": request.answers,
        "pace": request.pace if request.pace in PACES else "prompt",
        "start_at": (request.start_at or now).isoformat(),
        "step_limit": max(1, min(request.step_limit, STEP_LIMIT)),
        "tables": snapshot(session),
    }


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(HIDDEN_ENV)}


def failed_trace(words: str) -> dict[str, Any]:
    """A trace with no steps that says, in words, why the dry run could not run."""
    return {
        "outcome": "failed",
        "summary": words,
        "steps": [],
        "incidents": [words],
        "diagrams": {},
        "process_files": {},
    }


def run_payload(data: dict[str, Any]) -> dict[str, Any]:
    """Run a ``payload`` in a child process on a throwaway database; return its trace."""
    body = json.dumps(data, default=_encode)
    try:
        done = subprocess.run(  # noqa: S603 - our own module, no shell, fixed arguments # nosec B603
            [sys.executable, "-m", "tasks.dry_run"],
            input=body,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            env=_child_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return failed_trace(
            f"The dry run took longer than {TIMEOUT_SECONDS} seconds and was "
            "stopped: the diagram may loop without waiting for anyone."
        )
    if done.returncode != 0 or not done.stdout.strip():
        log.warning("dry run child failed (%s): %s", done.returncode, done.stderr[-2000:])
        return failed_trace(
            "The dry run stopped unexpectedly; nothing was changed. The server's log says why."
        )
    trace: dict[str, Any] = json.loads(done.stdout)
    return trace


def dry_run(
    session: Session, request: DryRunRequest, bpmn_dir: Path, now: datetime
) -> dict[str, Any]:
    """Run ``request`` in a child process on a throwaway database; return its trace.

    The real database is only read, before the child starts; a caller that holds a
    transaction open meanwhile should end it first (see ``payload`` and ``run_payload``).
    """
    return run_payload(payload(session, request, bpmn_dir, now))


def sandbox(tables: dict[str, list[dict[str, Any]]]) -> Session:
    """A session on a fresh in-memory database with the schema and the copied rows."""
    from sqlalchemy.pool import StaticPool

    from engine.database import make_engine
    from migrations.runner import metadatas

    from . import wiring  # noqa: F401 - the engine with every model it declares

    db = make_engine("sqlite:///:memory:", poolclass=StaticPool)
    for metadata in metadatas():
        metadata.create_all(db)
    session = Session(bind=db, expire_on_commit=False)
    for name in COPIED_TABLES:
        if tables.get(name):
            session.execute(_table(name).insert(), tables[name])
    session.flush()
    return session


def main() -> None:
    """The child process: read the payload on stdin, write the trace on stdout."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    data = json.loads(sys.stdin.read(), object_hook=_decode)
    from .dry_run_drive import run

    try:
        trace = run(data, sandbox(data["tables"]))
    except Exception as exc:  # noqa: BLE001 - a fault of ours: say so in words, log the rest
        log.exception("the dry run failed")
        trace = failed_trace(
            f"The dry run stopped unexpectedly ({type(exc).__name__}: "
            f"{str(exc)[:300]}); nothing was changed."
        )
    sys.stdout.write(json.dumps(trace, default=str))


if __name__ == "__main__":
    main()
