"""Canonical values of the synced columns, whatever database or JSON they were read from.

The same column arrives in several forms: SQLite gives booleans as 0/1 and datetimes as Django's text
('YYYY-MM-DD HH:MM:SS[.ffffff]', UTC), PostgreSQL gives true/false and aware datetimes, outbox JSON gives
ISO text with or without an offset. Every consumer (backfill, relays, verify) turns them into the same
Python values here: bool, int, str, and aware UTC datetimes.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Table
from sqlalchemy.types import DateTime, TypeDecorator

Converter = Callable[[Any], Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_utc(value: Any) -> datetime | None:
    """An aware UTC datetime from a datetime or its text form; naive values are UTC (Django's USE_TZ)."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            # Parsing again with the offset is several times faster than datetime.replace(tzinfo=...),
            # which matters when a backfill converts millions of values.
            return datetime.fromisoformat(value + "+00:00")
        value = parsed
    elif not isinstance(value, datetime):
        raise TypeError(f"expected a datetime or its text, got {type(value).__name__} {value!r}")
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)


def sqlite_text(value: datetime) -> str:
    """A datetime as SQLAlchemy stores it in SQLite: UTC, naive, 'YYYY-MM-DD HH:MM:SS.ffffff' (Django reads
    it too). Formatted by hand: datetime.isoformat(timespec=...) is several times slower."""
    value = to_utc(value)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (value.year, value.month, value.day, value.hour, value.minute,
                                                    value.second, value.microsecond)


def django_sqlite_text(value: datetime) -> str:
    """A datetime as Django stores it in SQLite: str() of the naive UTC value (no fraction when it is 0)."""
    return str(to_utc(value).replace(tzinfo=None))


def to_bool(value: Any) -> bool | None:
    """True/False from a boolean, 0/1, or the text forms SQLite or JSON may hold."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.lower() in ("0", "1", "true", "false", "t", "f"):
        return value.lower() in ("1", "true", "t")
    raise TypeError(f"expected a boolean, got {type(value).__name__} {value!r}")


def converters(table: Table) -> dict[str, Converter]:
    """The columns of a service table whose values need converting, and how (others pass unchanged)."""
    found = {}
    for column in table.columns:
        kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
        if isinstance(kind, DateTime):
            found[column.key] = to_utc
        elif isinstance(kind, Boolean):
            found[column.key] = to_bool
    return found


def canonical(value: Any) -> Any:
    """A value as verify compares it: datetimes as UTC microseconds since the epoch, bools as bools."""
    if isinstance(value, datetime):
        return (to_utc(value) - _EPOCH) // _MICROSECOND
    return value
