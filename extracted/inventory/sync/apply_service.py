"""Applying the monolith's changes to the service's tables (the forward relay's target side).

How depends on who owns the writes, read in the relay's own transaction:

- ``legacy``: *state*. An insert or update writes the event's NEW row (upsert by id), a delete deletes.
  Applying the same event twice, or an event the backfill's copy already reflects, leaves the same row.
- ``service`` or ``draining``: both sides write stock levels now (the monolith's orders reserve, the
  service's adjustments receive and write off), so an update of ``stock_items`` adds the monolith's
  change of ``on_hand`` and ``reserved`` (NEW - OLD) to the service's row instead of overwriting it;
  ``updated_at`` keeps the later of the two. Everything else is still state.

On PostgreSQL the owner is read ``FOR KEY SHARE``: an ownership change (``SELECT ... FOR UPDATE``) waits
for the batch to commit, so a batch never mixes modes, while the service's own writes (which only bump a
counter on that row) go on.
"""

import functools
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from extracted.inventory.models import CAPABILITY, SyncOwnership
from extracted.inventory.sync.events import DELETE, INSERT, UPDATE, ChangeEvent
from extracted.inventory.sync.values import canonical

LEGACY = "legacy"
COUNTERS = ("on_hand", "reserved")
STOCK_ITEMS = "stock_items"


def read_owner(connection: Connection, capability: str = CAPABILITY) -> str:
    """The owner of the writes as this transaction sees it, the row kept from changing until it ends."""
    query = select(SyncOwnership.owner).where(SyncOwnership.capability == capability)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    return connection.execute(query).scalar_one_or_none() or LEGACY


class IdCollision(ValueError):
    """Both sides created a row with the same id: applying the event would overwrite the other row."""


def apply_to_service(connection: Connection, event: ChangeEvent, owner: str) -> None:
    """Apply one monolith event to the service's tables, in the connection's transaction."""
    table = event.table.model
    if event.op == DELETE:
        connection.execute(delete(table).where(table.c.id == event.row_id))
    elif event.op == UPDATE and owner != LEGACY and event.table.service == STOCK_ITEMS:
        _add_counters(connection, table, event)
    else:
        if event.op == INSERT and owner != LEGACY:
            # While the service writes too, an insert is never a replay (the handover waits until the
            # backfill's window is replayed), so an existing, different row is the service's own.
            _refuse_collision(connection, table, event)
        upsert(connection, table, dict(event.new))


def _refuse_collision(connection: Connection, table: Table, event: ChangeEvent) -> None:
    existing = connection.execute(select(table).where(table.c.id == event.row_id)).mappings().first()
    if existing is None:
        return
    differs = [name for name, value in event.new.items() if canonical(existing[name]) != canonical(value)]
    if differs:
        raise IdCollision(f"the service already has a different {table.name} row {event.row_id} (differing in "
                          f"{', '.join(differs)}): both sides created a row with this id")


def upsert(connection: Connection, table: Table, values: dict[str, Any]) -> None:
    """Insert the row, or overwrite the row with its id."""
    dialect = connection.dialect.name
    if dialect in ("postgresql", "sqlite"):
        connection.execute(_upsert_statement(dialect, table, tuple(values)), values)
        return
    if connection.execute(update(table).where(table.c.id == values["id"]).values(**values)).rowcount == 0:
        connection.execute(table.insert().values(**values))


@functools.lru_cache(maxsize=256)
def _upsert_statement(dialect: str, table: Table, names: tuple[str, ...]):
    # Built once per table and column set, with bound parameters: building the statement per event cost
    # more than executing it (a relay applies thousands of events a second).
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in names})
    changed = {name: statement.excluded[name] for name in names if name != "id"}
    return statement.on_conflict_do_update(index_elements=[table.c.id], set_=changed)


def _add_counters(connection: Connection, table: Table, event: ChangeEvent) -> None:
    new, old = event.new, event.old
    changes: dict[str, Any] = {name: table.c[name] + (new[name] - old[name]) for name in COUNTERS}
    changes.update({name: new[name] for name in ("product_id", "warehouse_id", "reorder_level")})
    later = literal(new["updated_at"], table.c.updated_at.type)
    changes["updated_at"] = case((table.c.updated_at >= later, table.c.updated_at), else_=later)
    if connection.execute(update(table).where(table.c.id == event.row_id).values(changes)).rowcount == 0:
        upsert(connection, table, dict(new))  # not there (yet): the monolith's row as it is now
