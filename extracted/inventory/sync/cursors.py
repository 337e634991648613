"""A relay's cursor: how far it has applied a source outbox, stored in the *target* database.

The forward relay keeps ``sync_cursor['legacy-outbox']`` in the service's database, the reverse relay
``strangler_sync_cursor['inventory-outbox']`` in the monolith's; both tables have the same columns. The
cursor moves in the same transaction as the changes it covers, so a crash loses both or neither: every
event takes effect exactly once. Locking the cursor row first also serialises two relays started by
mistake on the same pair: the second waits, then reads the position the first one committed.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection

from extracted.inventory.sync.events import Position
from extracted.inventory.sync.values import sqlite_text, to_utc

FORWARD = "legacy-outbox"        # in the service's sync_cursor
REVERSE = "inventory-outbox"     # in the monolith's strangler_sync_cursor
BACKFILL_END = "legacy-outbox:backfill-end"  # where the monolith's outbox stood when the backfill ended


@dataclass(frozen=True)
class Cursor:
    name: str
    position: Position
    applied: int
    updated_at: datetime | None


def lock(connection: Connection, table: str, name: str) -> Cursor | None:
    """Read the cursor with its row locked until the transaction ends (None when there is none)."""
    if connection.dialect.name == "sqlite":
        # A write first: it takes SQLite's write lock now, not halfway through the batch (where a
        # concurrent writer would make the upgrade fail with SQLITE_BUSY).
        connection.execute(text(f"UPDATE {table} SET applied = applied WHERE name = :name"), {"name": name})
        return read(connection, table, name)
    return read(connection, table, name, for_update=True)


def read(connection: Connection, table: str, name: str, *, for_update: bool = False) -> Cursor | None:
    row = connection.execute(
        text(f"SELECT txid, event_id, applied, updated_at FROM {table} WHERE name = :name"
             + (" FOR UPDATE" if for_update else "")), {"name": name}).first()
    if row is None:
        return None
    return Cursor(name, Position(int(row.txid), int(row.event_id)), int(row.applied), to_utc(row.updated_at))


def put(connection: Connection, table: str, name: str, position: Position) -> None:
    """Create or reset a cursor at `position` (applied back to 0)."""
    connection.execute(text(f"DELETE FROM {table} WHERE name = :name"), {"name": name})
    connection.execute(
        text(f"INSERT INTO {table} (name, txid, event_id, applied, updated_at) VALUES (:name, :txid, :event_id, 0, :now)"),
        {"name": name, "txid": position.txid, "event_id": position.event_id, "now": db_datetime(connection, _now())})


def advance(connection: Connection, table: str, name: str, position: Position, applied: int) -> None:
    """Move the cursor to `position`, counting `applied` more events, in the connection's transaction."""
    connection.execute(
        text(f"UPDATE {table} SET txid = :txid, event_id = :event_id, applied = applied + :applied, "
             "updated_at = :now WHERE name = :name"),
        {"name": name, "txid": position.txid, "event_id": position.event_id, "applied": applied,
         "now": db_datetime(connection, _now())})


def db_datetime(connection: Connection, value: datetime | None) -> datetime | str | None:
    """A datetime as a parameter for a raw statement: aware on PostgreSQL; on SQLite the UTC text that
    Django and SQLAlchemy both write and read ('YYYY-MM-DD HH:MM:SS.ffffff')."""
    if value is None or connection.dialect.name != "sqlite":
        return value
    return sqlite_text(value)


def _now() -> datetime:
    return datetime.now(UTC)
