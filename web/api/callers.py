"""After a draft is published, the processes that call it are bundled again so new cases use it.

SpiffWorkflow bundles every called process into the caller's spec when it is parsed, and a
case runs the bundle its ``asb_case`` version was built with. A new version of
``asb_first_contact`` alone would therefore reach no new case. So publishing a draft also
re-parses the processes in use with the draft in place of what it replaces and publishes a
new version of every process whose bundle calls it (directly or further down). Running cases
keep their own versions: only new cases, and stages started on them, see the change.

What the processes in use are made of: the shipped files in ``bpmn/``, except that a process
whose version in use was published from an upload is read from that upload instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.definitions import DefinitionStore
from engine.forms import load_directory as load_forms
from engine.models import DefinitionVersion

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _process_ids(text: bytes) -> set[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(text, parser=parser)
    except etree.XMLSyntaxError:
        return set()
    return {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id")}


def _in_use(session: Session) -> dict[str, DefinitionVersion]:
    """The version new cases of each process start on (the latest published)."""
    rows = session.scalars(select(DefinitionVersion).where(DefinitionVersion.published.is_(True))
                           .order_by(DefinitionVersion.published_at, DefinitionVersion.version))
    return {row.process_id: row for row in rows}  # later rows win


def _files_in_use(session: Session, bpmn_dir: Path, in_use: dict[str, DefinitionVersion]
                  ) -> dict[str, bytes]:
    """The shipped files, with every process published from an upload read from its upload."""
    files = {f"shipped/{p.name}": p.read_bytes() for p in sorted(bpmn_dir.glob("*"))
             if p.suffix in (".bpmn", ".dmn")}
    for row in in_use.values():
        sources = row.sources or {}
        if len(sources) != 1 or row.process_id.startswith(("dmn:", "collaboration:")):
            continue  # shipped versions hold every file; uploads hold only their own
        (name, text), = sources.items()
        raw = text.encode("utf-8")
        defined = _process_ids(raw)
        for key in [k for k, v in files.items() if k.endswith(".bpmn")
                    and _process_ids(v) & defined]:
            del files[key]
        files[f"published/{row.id}-{Path(name).name}"] = raw
    return files


def rebundle_callers(session: Session, store: DefinitionStore, bpmn_dir: Path,
                     changed: Iterable[str], actor: str) -> list[DefinitionVersion]:
    """Publish a new version of every process in use whose bundle calls a ``changed`` one."""
    changed_ids = set(changed)
    in_use = _in_use(session)
    callers = {pid for pid, row in in_use.items()
               if pid not in changed_ids and row.spec_json
               and changed_ids & set(store.specs(row)[1])}
    if not callers:
        return []
    files = _files_in_use(session, bpmn_dir, in_use)
    parsed = store.parse(files, load_forms(bpmn_dir / "forms"))
    return [store.store(session, proc, files, publish=True, actor=actor)
            for proc in parsed if proc.process_id in callers]
