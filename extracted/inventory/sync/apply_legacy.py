"""Applying the service's changes to the monolith's tables (the reverse relay's target side).

Only while the service owns the writes does its outbox fill; the monolith's own code still writes the
same tables (orders reserve stock), so ``stock_items`` counters arrive as deltas (NEW - OLD added to the
monolith's row, ``updated_at`` the later of the two) and every other change as an upsert by id. Columns
the monolith does not have (``created_by_username``, ``order_number``) are left out.

A batch is one monolith transaction that begins by inserting a marker into ``strangler_sync_origin``:
the capture triggers skip while that table holds a row, and since the marker is never committed only
this transaction's writes are skipped, so nothing the relay writes comes back as a monolith event (no
echo).

Ids: rows the service creates have negative ids (models.py): neither PostgreSQL's sequences nor SQLite's
AUTOINCREMENT (max(rowid) + 1) move when one is inserted, so the monolith keeps numbering its own rows
upwards and the two sides never create the same id. Should it happen anyway (a row inserted by hand),
an insert that meets an existing, different row is refused (`IdCollision`) instead of overwriting it,
and the relay stops there.
"""

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from extracted.inventory.sync import legacy
from extracted.inventory.sync.apply_service import COUNTERS, STOCK_ITEMS, IdCollision
from extracted.inventory.sync.events import DELETE, INSERT, UPDATE, ChangeEvent
from extracted.inventory.sync.legacy import SyncedTable
from extracted.inventory.sync.values import canonical, converters, django_sqlite_text, to_bool

ORIGIN = "inventory-reverse-relay"


class LegacyBatch:
    """One reverse-relay batch on a monolith connection: `begin`, `apply` each event, `finish`."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"

    def begin(self) -> None:
        self.connection.execute(text(f"INSERT INTO {legacy.SYNC_ORIGIN} (origin) VALUES (:origin)"), {"origin": ORIGIN})

    def apply(self, event: ChangeEvent) -> None:
        table = event.table
        if event.op == DELETE:
            self.connection.execute(text(f"DELETE FROM {table.legacy} WHERE id = :id"), {"id": event.row_id})
            return
        values = self._values(table, event.new)
        if event.op == UPDATE and table.service == STOCK_ITEMS:
            self._add_counters(table, event, values)
            return
        if event.op == INSERT:
            self._refuse_collision(table, event)
        self._upsert(table, values)

    def finish(self) -> None:
        self.connection.execute(text(f"DELETE FROM {legacy.SYNC_ORIGIN} WHERE origin = :origin"), {"origin": ORIGIN})

    # -- steps -------------------------------------------------------------------------------------------
    def _values(self, table: SyncedTable, row: Any) -> dict[str, Any]:
        values = {name: row[name] for name in table.columns}
        if self.sqlite:
            for name, value in values.items():
                if hasattr(value, "tzinfo"):  # a datetime (canonical values: aware UTC)
                    values[name] = django_sqlite_text(value)
                elif isinstance(value, bool):
                    values[name] = int(to_bool(value))
        return values

    def _upsert(self, table: SyncedTable, values: dict[str, Any]) -> None:
        names = list(values)
        assignments = ", ".join(f"{name} = excluded.{name}" for name in names if name != "id")
        self.connection.execute(
            text(f"INSERT INTO {table.legacy} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
                 f"ON CONFLICT (id) DO UPDATE SET {assignments}"), values)

    def _add_counters(self, table: SyncedTable, event: ChangeEvent, values: dict[str, Any]) -> None:
        deltas = {f"d_{name}": event.new[name] - event.old[name] for name in COUNTERS}
        result = self.connection.execute(
            text(f"UPDATE {table.legacy} SET on_hand = on_hand + :d_on_hand, reserved = reserved + :d_reserved, "
                 "product_id = :product_id, warehouse_id = :warehouse_id, reorder_level = :reorder_level, "
                 "updated_at = CASE WHEN updated_at >= :updated_at THEN updated_at ELSE :updated_at END "
                 "WHERE id = :id"), {**values, **deltas})
        if result.rowcount == 0:
            self._upsert(table, values)  # not there (yet): the service's row as it is now

    def _refuse_collision(self, table: SyncedTable, event: ChangeEvent) -> None:
        """The service's events are applied exactly once, so an insert meeting an existing row that differs
        is a row the monolith created with the same id."""
        existing = self.connection.execute(
            text(f"SELECT {', '.join(table.columns)} FROM {table.legacy} WHERE id = :id"), {"id": event.row_id}
        ).mappings().first()
        if existing is None:
            return
        convert = converters(table.model)
        differs = [name for name in table.columns
                   if canonical(convert.get(name, _same)(existing[name])) != canonical(event.new[name])]
        if differs:
            raise IdCollision(f"the monolith already has a different {table.legacy} row {event.row_id} (differing "
                              f"in {', '.join(differs)}): both sides created a row with this id")


def _same(value: Any) -> Any:
    return value
