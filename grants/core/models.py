"""Column types and helpers shared by every model."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import Insert as SQLiteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import TypeDecorator

from grants.extensions import db

LOCAL_TIMEZONE = ZoneInfo("Europe/Berlin")


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def to_utc(local: datetime) -> datetime:
    """A wall-clock time in Berlin (as typed) as a UTC-aware datetime."""
    return local.replace(tzinfo=LOCAL_TIMEZONE).astimezone(UTC)


def to_local(moment: datetime) -> datetime:
    """A UTC-aware datetime as the naive wall-clock time in Berlin, for a datetime-local input."""
    return moment.astimezone(LOCAL_TIMEZONE).replace(tzinfo=None)


def upsert(target) -> PostgresInsert | SQLiteInsert:
    """An INSERT of the session's database that can take ON CONFLICT (PostgreSQL or SQLite)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgres_insert(target)
    return sqlite_insert(target)


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp stored in UTC (also on SQLite, which drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use grants.core.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
