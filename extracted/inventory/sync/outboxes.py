"""Reading an outbox (the monolith's or the service's): pending events after a position, marks, lag.

Events are read in (txid, id) order after the relay's position. On PostgreSQL only events of transactions
older than every one still running are read: ids are handed out when a row is inserted, not when its
transaction commits, so a transaction that inserted event 10 may commit after one that inserted event 11;
reading 11 and moving the position past 10 would skip 10 for ever. Waiting until every older transaction
has finished closes that gap. "Every one still running" means in *this* database (`released_below`): the
cluster-wide ``txid_snapshot_xmin`` would let one long transaction in any other database of the server
(a report, a test holding a transaction open) stall the relay, although it can never write this outbox.
On SQLite writers are serialised, txid is 0, and id order is commit order.

A `mark` is where the outbox stands at a moment: once a relay has *passed* a mark, every event committed
before that moment has been applied. That is what the backfill, the handover and ``verify --wait`` ask.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from extracted.inventory.sync import legacy
from extracted.inventory.sync.events import OUTBOX_COLUMNS, ChangeEvent, Position, parse_event
from extracted.inventory.sync.legacy import SyncedTable
from extracted.inventory.sync.values import to_utc

_AFTER = "(txid > :txid OR (txid = :txid AND id > :event_id))"

# The oldest transaction id still running in this database, as a 64-bit txid (pg_stat_activity shows the
# 32-bit xid: the epoch comes from the snapshot's xmax, one less if the xid is from before a wraparound),
# or the snapshot's xmax when none runs. Transactions of other databases cannot write here.
_RELEASED_BELOW = """
WITH horizon AS (SELECT txid_snapshot_xmax(txid_current_snapshot()) AS xmax),
running AS (
    SELECT ((horizon.xmax >> 32) << 32) + activity.backend_xid::text::bigint AS txid, horizon.xmax
    FROM horizon JOIN pg_stat_activity activity ON activity.backend_xid IS NOT NULL
     AND activity.datid = (SELECT oid FROM pg_database WHERE datname = current_database()))
SELECT least((SELECT xmax FROM horizon),
             (SELECT min(CASE WHEN txid > xmax THEN txid - 4294967296 ELSE txid END) FROM running))
"""


@dataclass(frozen=True)
class Outbox:
    """One outbox table in one database, and how its table names map to the synced tables."""

    engine: Engine
    table: str
    tables: dict[str, SyncedTable]
    notify_channel: str | None = None  # PostgreSQL NOTIFY channel a relay may LISTEN on

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def exists(self) -> bool:
        with self.engine.connect() as connection:
            return inspect(connection).has_table(self.table)

    def pending(self, after: Position, limit: int) -> list[ChangeEvent]:
        """Up to `limit` events after `after` that are safe to apply now, in (txid, id) order."""
        released = " AND txid < :below" if self.is_postgres else ""
        query = text(f"SELECT {', '.join(OUTBOX_COLUMNS)} FROM {self.table} WHERE {_AFTER}{released} "
                     "ORDER BY txid, id LIMIT :limit")
        params = {"txid": after.txid, "event_id": after.event_id, "limit": limit}
        with self.engine.connect() as connection:
            if self.is_postgres:
                # A statement of its own, before the read: whatever finished by then is visible to the
                # read's later snapshot (READ COMMITTED takes one per statement).
                params["below"] = released_below(connection)
            rows = connection.execute(query, params).all()
        return [parse_event(row, self.tables) for row in rows]

    def backlog(self, after: Position) -> tuple[int, datetime | None]:
        """How many events follow `after` (released or not) and when the oldest of them was written."""
        query = text(f"SELECT count(*), min(created_at) FROM {self.table} WHERE {_AFTER}")
        with self.engine.connect() as connection:
            count, oldest = connection.execute(query, {"txid": after.txid, "event_id": after.event_id}).one()
        return int(count), to_utc(oldest)

    def lag_seconds(self, after: Position, now: datetime | None = None) -> float:
        """Seconds since the oldest event not yet applied was written; 0 when caught up."""
        _, oldest = self.backlog(after)
        if oldest is None:
            return 0.0
        return max(0.0, ((now or datetime.now(UTC)) - oldest).total_seconds())

    def size(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {self.table}")).scalar_one())

    def mark(self) -> Position:
        """Where the outbox stands now: on PostgreSQL the first txid not yet handed out (every
        transaction that could have committed so far has a smaller one), on SQLite the highest id."""
        with self.engine.connect() as connection:
            return read_mark(connection, self.table)

    def passed(self, position: Position, mark: Position) -> bool:
        """Whether a relay at `position` has applied every event committed before `mark` was taken."""
        with self.engine.connect() as connection:
            if self.is_postgres:
                if released_below(connection) < mark.txid:
                    return False  # a transaction older than the mark is still running
                left = connection.execute(
                    text(f"SELECT 1 FROM {self.table} WHERE {_AFTER} AND txid < :mark LIMIT 1"),
                    {"txid": position.txid, "event_id": position.event_id, "mark": mark.txid}).first()
            else:
                left = connection.execute(
                    text(f"SELECT 1 FROM {self.table} WHERE {_AFTER} AND id <= :mark LIMIT 1"),
                    {"txid": position.txid, "event_id": position.event_id, "mark": mark.event_id}).first()
        return left is None


def released_below(connection: Connection) -> int:
    """PostgreSQL: every transaction of this database with a smaller txid has finished."""
    return int(connection.execute(text(_RELEASED_BELOW)).scalar_one())


def read_mark(connection: Connection, table: str) -> Position:
    """`Outbox.mark` on a connection of the outbox's database."""
    if connection.dialect.name == "postgresql":
        return Position(int(connection.execute(text("SELECT txid_snapshot_xmax(txid_current_snapshot())")).scalar_one()), 0)
    return Position(0, int(connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()))


def legacy_outbox(engine: Engine) -> Outbox:
    """The monolith's outbox (table names as Django names them)."""
    return Outbox(engine, legacy.OUTBOX, legacy.BY_LEGACY, notify_channel=legacy.NOTIFY_CHANNEL)


def service_outbox(engine: Engine) -> Outbox:
    """The service's outbox (its own table names)."""
    return Outbox(engine, SERVICE_OUTBOX, legacy.BY_SERVICE, notify_channel=SERVICE_NOTIFY_CHANNEL)


SERVICE_OUTBOX = "outbox"
SERVICE_NOTIFY_CHANNEL = "inventory_outbox"
