"""Applying the service's changes to the monolith's tables (the reverse relay's target side).

Only while the service owns the writes does its outbox fill; the monolith's own code still writes the
same tables (orders reserve stock), so ``stock_items`` counters arrive as deltas (NEW - OLD added to the
monolith's row, ``updated_at`` the later of the two) and every other change as an upsert by id. Columns
the monolith does not have (``created_by_username``, ``order_number``) are left out.

A batch is one monolith transaction that begins by inserting a marker into ``strangler_sync_origin``:
the capture triggers skip while that table holds a row, and since the marker is never committed only
this transaction's writes are skipped, so nothing the relay writes comes back as a monolith event (no
echo). On SQLite, inserting an id from the service's range (>= SERVICE_ID_BASE) would drag the table's
AUTOINCREMENT counter there; `LegacyBatch.finish` puts it back below the range, where Django keeps
numbering its own rows.
"""

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from extracted.inventory.models import SERVICE_ID_BASE
from extracted.inventory.sync import legacy
from extracted.inventory.sync.apply_service import COUNTERS, STOCK_ITEMS
from extracted.inventory.sync.events import DELETE, UPDATE, ChangeEvent
from extracted.inventory.sync.legacy import SyncedTable
from extracted.inventory.sync.values import django_sqlite_text, to_bool

ORIGIN = "inventory-reverse-relay"


class LegacyBatch:
    """One reverse-relay batch on a monolith connection: `begin`, `apply` each event, `finish`."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self.sequences: dict[str, int] = {}  # SQLite table -> its AUTOINCREMENT counter before the batch

    def begin(self) -> None:
        self.connection.execute(text(f"INSERT INTO {legacy.SYNC_ORIGIN} (origin) VALUES (:origin)"), {"origin": ORIGIN})

    def apply(self, event: ChangeEvent) -> None:
        table = event.table
        if event.op == DELETE:
            self.connection.execute(text(f"DELETE FROM {table.legacy} WHERE id = :id"), {"id": event.row_id})
            return
        values = self._values(table, event.new)
        if self.sqlite and event.row_id >= SERVICE_ID_BASE:
            self._remember_sequence(table.legacy)
        if event.op == UPDATE and table.service == STOCK_ITEMS:
            self._add_counters(table, event, values)
        else:
            self._upsert(table, values)

    def finish(self) -> None:
        for name, before in self.sequences.items():
            # Back to where Django would have been: its own highest id, or the counter before (ids of
            # deleted rows are not handed out again), whichever is higher, both below the service's range.
            highest = self.connection.execute(
                text(f"SELECT coalesce(max(id), 0) FROM {name} WHERE id < :base"), {"base": SERVICE_ID_BASE}).scalar_one()
            self.connection.execute(text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :name"),
                                    {"seq": max(int(highest), before), "name": name})
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

    def _remember_sequence(self, name: str) -> None:
        if name not in self.sequences:
            seq = self.connection.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :name"),
                                          {"name": name}).scalar_one_or_none()
            self.sequences[name] = int(seq) if seq is not None and seq < SERVICE_ID_BASE else 0
