"""Outbox events as frozen values: parse a row of either outbox once, then every consumer reads the same.

Both outboxes share one shape: ``id, txid, table_name, op, row_id, old_data, new_data, created_at``. The
monolith's names its tables as Django does (``inventory_stockitem``), the service's by its own names
(``stock_items``); the JSON keys are column names both sides share. Parsing maps the table to its
`SyncedTable` and turns every value into its canonical Python form (`values`): 0/1 and true/false become
booleans, any datetime text becomes an aware UTC datetime. Keys the service's table does not have are
dropped; a table the sync does not know, an unknown op or broken JSON is an `EventError` naming the event.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from extracted.inventory.sync.legacy import SyncedTable
from extracted.inventory.sync.values import converters, to_utc

INSERT, UPDATE, DELETE = "I", "U", "D"
OUTBOX_COLUMNS = ("id", "txid", "table_name", "op", "row_id", "old_data", "new_data", "created_at")


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """A place in an outbox: events are read in (txid, id) order, after a position."""

    txid: int
    event_id: int


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One captured row change, its values canonical and keyed by the service's column names."""

    id: int
    txid: int
    table: SyncedTable
    op: str
    row_id: int
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    created_at: datetime

    @property
    def position(self) -> Position:
        return Position(self.txid, self.id)

    def describe(self) -> str:
        """How an error names this event: outbox id, op, table, row and transaction."""
        op = {INSERT: "insert", UPDATE: "update", DELETE: "delete"}[self.op]
        return f"event {self.id} ({op} of {self.table.service} row {self.row_id}, txid {self.txid})"


class EventError(ValueError):
    """An outbox row that cannot be understood."""


def parse_event(row: Any, tables: Mapping[str, SyncedTable]) -> ChangeEvent:
    """A `ChangeEvent` from an outbox row (anything with the outbox's columns as attributes); `tables`
    maps the outbox's table names to the synced tables."""
    where = f"outbox event {row.id} ({row.op} {row.table_name} row {row.row_id})"
    table = tables.get(row.table_name)
    if table is None:
        raise EventError(f"{where}: the sync does not know the table {row.table_name!r}")
    if row.op not in (INSERT, UPDATE, DELETE):
        raise EventError(f"{where}: unknown op {row.op!r}, expected I, U or D")
    old = _values(row.old_data, table, where, "old_data")
    new = _values(row.new_data, table, where, "new_data")
    if (old is None) != (row.op == INSERT) or (new is None) != (row.op == DELETE):
        raise EventError(f"{where}: op {row.op} does not match its data (old {'set' if old else 'null'}, "
                         f"new {'set' if new else 'null'})")
    try:
        created_at = to_utc(row.created_at)
    except (TypeError, ValueError) as exc:
        raise EventError(f"{where}: created_at {row.created_at!r} is not a datetime") from exc
    return ChangeEvent(id=int(row.id), txid=int(row.txid), table=table, op=row.op, row_id=int(row.row_id),
                       old=old, new=new, created_at=created_at)


def _values(data: str | None, table: SyncedTable, where: str, field: str) -> Mapping[str, Any] | None:
    if data is None:
        return None
    try:
        raw = json.loads(data)
    except (TypeError, ValueError) as exc:
        raise EventError(f"{where}: {field} is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise EventError(f"{where}: {field} is not a JSON object")
    known = set(table.service_columns)
    values = {key: value for key, value in raw.items() if key in known}
    missing = [name for name in table.columns if name not in values]
    if missing:
        raise EventError(f"{where}: {field} lacks {', '.join(missing)}")
    for name, convert in _converters(table).items():
        if name in values:
            try:
                values[name] = convert(values[name])
            except (TypeError, ValueError) as exc:
                raise EventError(f"{where}: {field}.{name} = {values[name]!r}: {exc}") from exc
    return MappingProxyType(values)


_CONVERTERS: dict[str, dict] = {}


def _converters(table: SyncedTable) -> dict:
    if table.service not in _CONVERTERS:
        _CONVERTERS[table.service] = converters(table.model)
    return _CONVERTERS[table.service]
