"""Declarative base for the case domain's tables."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator


class Timestamp(TypeDecorator[datetime]):
    """Aware UTC timestamp; refuses naive values so no local time sneaks into the record."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("a case timestamp must carry its offset")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Base of the case domain's tables (people, configuration, cases, audit)."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def str_enum(cls: type[enum.StrEnum], name: str, length: int = 32) -> Enum:
    """A column type storing a StrEnum by its values, checked by a constraint (no native enum,
    so SQLite and PostgreSQL behave alike and adding a value needs no type migration)."""
    return Enum(cls, native_enum=False, length=length, create_constraint=True, name=name,
                values_callable=lambda members: [m.value for m in members],
                validate_strings=True)
