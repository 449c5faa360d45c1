"""One way to read ``page``/``per_page`` and answer ``{items, page, per_page, total}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from .errors import ApiError

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


def _whole(name: str, default: int, errors: dict[str, str]) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[name] = "must be a whole number"
        return default
    if value < 1:
        errors[name] = "must be 1 or more"
    return value


def page_args() -> tuple[int, int]:
    """Return ``(page, per_page)`` from the query string; ``per_page`` is capped at 100."""
    errors: dict[str, str] = {}
    page = _whole("page", 1, errors)
    per_page = _whole("per_page", DEFAULT_PER_PAGE, errors)
    if page > 1_000_000:
        errors["page"] = "is too large"
    if errors:
        raise ApiError(422, "bad paging parameters", errors)
    return page, min(per_page, MAX_PER_PAGE)


def paginate(session: Session, stmt: Select[Any], render: Callable[[Any], dict[str, Any]]
             ) -> dict[str, Any]:
    """Run one page of an ordered ``stmt`` and count all of its rows."""
    page, per_page = page_args()
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page))
    return {"items": [render(r) for r in rows], "page": page, "per_page": per_page,
            "total": total or 0}
