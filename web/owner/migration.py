"""Moving running cases onto a published version: the dry run per case, then one or a batch.

The page shows, for the cases running on an older version of the process (``?from=``), what
moving each one would change and whether it is safe (``engine.migration``, "safe" as
docs/versions.md defines it). The dry run happens inside a savepoint that is always rolled
back, so reading the page changes nothing. Moving needs a reason: one case
(``instance=<id>``) or every safe one as a batch, each case wholly moved or left as it was,
with a result per case.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.definitions import instance_counts
from engine.migration import (
    MigrationInvalid,
    MigrationPlan,
    MigrationRefused,
    MigrationResult,
    migrate_all_safe,
    migrate_instance,
)
from engine.models import DefinitionVersion, ProcessInstance
from tasks.versions import plan_version
from web.extensions import case_engine, db

from .common import (
    MAX_ID,
    audit,
    can_edit,
    editors_only,
    me,
    page,
    reason_error,
    refuse,
    version_or_404,
)
from .forms import MigrateForm

TEMPLATE = "owner/migrate.html"
PLAN_LIMIT = 200


def _sources(target: DefinitionVersion) -> list[tuple[DefinitionVersion, int]]:
    """The other versions of the process with cases running on them, newest first."""
    counts = instance_counts(db(), target.process_id)
    rows = db().scalars(
        select(DefinitionVersion)
        .where(DefinitionVersion.process_id == target.process_id, DefinitionVersion.id != target.id)
        .order_by(DefinitionVersion.version.desc())
    )
    return [
        (row, counts[row.id].running) for row in rows if row.id in counts and counts[row.id].running
    ]


def _chosen(sources: list[tuple[DefinitionVersion, int]]) -> DefinitionVersion | None:
    wanted = request.values.get("from", "")
    for row, _count in sources:
        if wanted.isdecimal() and row.id == int(wanted):
            return row
    return sources[0][0] if sources and not wanted else None


def _plans(source: DefinitionVersion | None, target: DefinitionVersion) -> list[MigrationPlan]:
    """The dry run of every running case of ``source``, in a savepoint always rolled back."""
    if source is None or not target.published:
        return []
    session = db()
    savepoint = session.begin_nested()
    try:
        return plan_version(session, case_engine(), source.id, target.id, PLAN_LIMIT)
    finally:
        savepoint.rollback()


def _context(target: DefinitionVersion) -> dict[str, Any]:
    sources = _sources(target)
    source = _chosen(sources)
    plans = _plans(source, target)
    return {
        "target": target,
        "sources": sources,
        "source": source,
        "plans": plans,
        "safe": [p for p in plans if p.safe],
        "can_edit": can_edit(),
        "results": None,
        "limit": PLAN_LIMIT,
    }


def migrate(version_id: int) -> str | tuple[str, int] | Response:
    """The dry run (GET) and the move of one case or every safe case (POST, with a reason)."""
    session = db()
    target = version_or_404(session, version_id)
    if target.process_id.startswith("dmn:"):
        abort(404)
    form = MigrateForm()
    if request.method == "GET":
        context = _context(target)
        audit(
            "owner.migration_planned",
            target.id,
            process_id=target.process_id,
            to_version=target.version,
            from_version=context["source"].version if context["source"] else None,
            cases=len(context["plans"]),
            safe=len(context["safe"]),
        )
        return page(TEMPLATE, form=form, **context)
    editors_only()
    if not form.validate():
        abort(400)
    context = _context(target)
    reason = str(form.reason.data or "").strip()
    if (why := reason_error(reason)) is not None:
        return refuse(TEMPLATE, {"reason": why}, form=form, **context)
    if not target.published:
        return refuse(
            TEMPLATE,
            {"target": "Only a published version can take running cases"},
            form=form,
            **context,
        )
    source = context["source"]
    if source is None:
        return refuse(
            TEMPLATE, {"from": "Choose the version the cases run on now"}, form=form, **context
        )
    one = request.form.get("instance", "")
    try:
        results = _move(source, target, reason, int(one) if one.isdecimal() else None)
    except MigrationInvalid as exc:
        return refuse(TEMPLATE, {"instance": " ".join(exc.errors.values())}, form=form, **context)
    except MigrationRefused as exc:
        return refuse(
            TEMPLATE,
            {"instance": "This case cannot move safely: " + " ".join(exc.plan.reasons)},
            422,
            form=form,
            **context,
        )
    counts = {
        status: sum(r.status == status for r in results)
        for status in ("migrated", "skipped", "failed")
    }
    audit(
        "owner.cases_migrated",
        target.id,
        process_id=target.process_id,
        from_version=source.version,
        to_version=target.version,
        reason=reason,
        mover=me().name,
        instance=one or None,
        **counts,
    )
    return page(
        TEMPLATE,
        form=MigrateForm(formdata=None),
        **{**_context(target), "results": results, "counts": counts, "moved_from": source},
    )


def _move(
    source: DefinitionVersion, target: DefinitionVersion, reason: str, instance_id: int | None
) -> list[MigrationResult]:
    """Move one case of ``source`` (refused unless it runs there) or every safe one."""
    session = db()
    engine = case_engine()
    if instance_id is None:
        return migrate_all_safe(
            session, engine, source.id, target.id, actor=me().name, reason=reason
        )
    row = session.get(ProcessInstance, instance_id) if 0 < instance_id <= MAX_ID else None
    if row is None or row.definition_id != source.id:
        raise MigrationInvalid({"instance": "That case does not run on the chosen version."})
    return [migrate_instance(session, engine, row.id, target.id, actor=me().name, reason=reason)]
