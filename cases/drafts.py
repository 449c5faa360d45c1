"""Task form drafts: what an officer typed into a task form, kept until the task is completed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .base import Base, Timestamp


class TaskDraft(Base):
    """One person's saved, unvalidated form values for one open task."""

    __tablename__ = "task_drafts"
    __table_args__ = (UniqueConstraint("task_id", "user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    user_name: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(Timestamp())


def load_draft(session: Session, task_id: str, user_name: str) -> TaskDraft | None:
    """Return ``user_name``'s draft of ``task_id``, if they saved one."""
    return session.scalars(select(TaskDraft).where(
        TaskDraft.task_id == task_id, TaskDraft.user_name == user_name)).one_or_none()


def save_draft(session: Session, task_id: str, user_name: str, data: dict[str, Any],
               at: datetime) -> TaskDraft:
    """Create or replace ``user_name``'s draft of ``task_id`` (flushed, not committed)."""
    draft = load_draft(session, task_id, user_name)
    if draft is None:
        draft = TaskDraft(task_id=task_id, user_name=user_name)
        session.add(draft)
    draft.data, draft.saved_at = dict(data), at
    session.flush()
    return draft


def discard_drafts(session: Session, task_id: str) -> int:
    """Delete every draft of ``task_id`` (once it is completed); return how many there were."""
    result = session.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id))
    return int(getattr(result, "rowcount", 0) or 0)
