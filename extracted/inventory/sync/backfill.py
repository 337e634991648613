"""Backfill: copy the monolith's inventory rows into the service's tables, chunk by chunk, resumably.

Order of work, and why:

1. Record the monolith outbox's high-water mark *before* reading any row, and set the forward relay's
   cursor (``sync_cursor['legacy-outbox']``) to it. Every change committed after that mark is replayed
   by the relay later; replaying one the copy already saw is harmless (the relay applies state, which
   is idempotent, while the monolith owns the writes). On PostgreSQL the mark is the oldest transaction
   still running (``txid_snapshot_xmin``): events of every older transaction are already visible to
   the copy, events of that one and newer ones are replayed. On SQLite writers are serialised and the
   mark is simply the highest event id.
2. Copy table by table in foreign-key order: one query per table in id order from where the last run
   stopped (``WHERE id > :after ORDER BY id``), fetched chunk by chunk (a server-side cursor on
   PostgreSQL). Each chunk is inserted in one service transaction that also records the table's progress
   in ``sync_backfill``, so an interrupted backfill resumes after the last chunk it committed. Rows go
   in through the driver (`bulk`); a table's non-unique indexes (and on PostgreSQL its foreign keys) are
   built once after its last chunk.
3. Record where the outbox stands once the copy is done (``sync_cursor['legacy-outbox:backfill-end']``):
   the copy may reflect any change committed before it, so the handover to the service waits until the
   forward relay has passed it (from then on stock counters are applied as deltas, and replaying a change
   the copy already holds would count it twice).

The source connection is only read: never committed or rolled back, because the caller may lend one in
the middle of its own transaction (the parity tests lend Django's). The service's tables must exist
(its migrations create them).
"""

import logging
import time
from contextlib import closing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Index, delete, func, insert, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.schema import AddConstraint, DropConstraint, ForeignKeyConstraint

from extracted.common.database import Database
from extracted.inventory.models import CAPABILITY, LOWEST_ID, SyncBackfill, SyncCursor, SyncOwnership
from extracted.inventory.sync import cursors, legacy
from extracted.inventory.sync.bulk import insert_rows, row_converter
from extracted.inventory.sync.events import Position
from extracted.inventory.sync.legacy import SyncedTable
from extracted.inventory.sync.outboxes import read_mark
from extracted.inventory.sync.transactions import write_transaction

log = logging.getLogger(__name__)

FORWARD_CURSOR = cursors.FORWARD

ChunkCallback = Callable[[str, int], None]


class BackfillError(Exception):
    """The backfill cannot start or go on; the message says why and what to do."""


# Where the monolith's outbox stood when the backfill started: the forward relay replays what follows.
HighWaterMark = Position


@dataclass
class TableReport:
    table: str
    rows: int = 0          # copied by this run
    seconds: float = 0.0
    already_done: bool = False


@dataclass
class BackfillReport:
    high_water_mark: HighWaterMark
    resumed: bool
    tables: list[TableReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def backfill(source: Connection, database: Database, *, chunk_size: int = 5000, progress: bool = False,
             restart: bool = False, on_chunk: ChunkCallback | None = None) -> BackfillReport:
    """Copy the monolith's inventory data (read through `source`) into the service's `database`.

    Resumes an interrupted backfill unless `restart`, which empties the service's synced tables and
    starts over. `on_chunk(table, rows)` is called after each committed chunk; `progress` shows a
    progress bar on stderr."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    started = time.perf_counter()
    _require_service_tables(database)
    report = _prepare(source, database, restart=restart)
    with database.engine.connect() as service:
        state = {row.table_name: row for row in service.execute(select(SyncBackfill)).all()}
    if progress:
        with _ProgressBar(source, state, on_chunk) as bar:
            _copy_tables(source, database, report, state, chunk_size, bar.advance)
    else:
        _copy_tables(source, database, report, state, chunk_size, on_chunk)
    _record_end_mark(source, database, copied=report.rows > 0)
    report.seconds = time.perf_counter() - started
    return report


def backfill_complete(connection: Connection) -> bool:
    """Whether a backfill has copied every table into the service (read on the service's database)."""
    done = dict(connection.execute(select(SyncBackfill.table_name, SyncBackfill.done)).all())
    return all(done.get(table.service) for table in legacy.TABLES)


def read_high_water_mark(source: Connection) -> tuple[HighWaterMark, list[str]]:
    """Where the monolith's outbox stands now, with a warning if it has no outbox yet."""
    if not inspect(source).has_table(legacy.OUTBOX):
        return HighWaterMark(0, 0), [
            f"the monolith's database has no {legacy.OUTBOX} table yet: high-water mark taken as 0, and "
            "changes made there are not captured until it exists"]
    if source.dialect.name == "postgresql":
        # Cursor (xmin, 0): every event of the oldest running transaction and newer ones is replayed;
        # older transactions have finished, so the copy sees what they wrote. Cluster-wide on purpose:
        # never later than the per-database bound the relay uses, it can only replay more, never less.
        xmin = source.execute(text("SELECT txid_snapshot_xmin(txid_current_snapshot())")).scalar_one()
        return HighWaterMark(int(xmin), 0), []
    return read_mark(source, legacy.OUTBOX), []


def read_end_mark(source: Connection) -> Position:
    """Where the monolith's outbox stands once the copy has read its last row: every change the copy
    may have seen was committed before it. The handover waits until the forward relay has passed it,
    since only then do the service's rows hold no change the relay has yet to replay."""
    if not inspect(source).has_table(legacy.OUTBOX):
        return Position(0, 0)
    return read_mark(source, legacy.OUTBOX)


# -- steps ---------------------------------------------------------------------------------------------------
def _require_service_tables(database: Database) -> None:
    wanted = [table.service for table in legacy.TABLES] + [SyncBackfill.__tablename__, SyncCursor.__tablename__]
    present = set(inspect(database.engine).get_table_names())
    missing = [name for name in wanted if name not in present]
    if missing:
        raise BackfillError(f"the inventory service's database lacks the tables {', '.join(missing)}: "
                            "run its migrations first")


def _prepare(source: Connection, database: Database, *, restart: bool) -> BackfillReport:
    """Start fresh (mark first, then bookkeeping rows) or pick up the recorded progress."""
    with write_transaction(database.engine, SyncBackfill.__tablename__) as service:
        owner = service.execute(
            select(SyncOwnership.owner).where(SyncOwnership.capability == CAPABILITY)).scalar_one_or_none()
        if owner not in (None, "legacy"):
            raise BackfillError(f"the inventory writes are owned by {owner!r}: a backfill would overwrite the "
                                "service's own changes; hand the writes back to legacy first")
        if restart:
            for table in reversed(legacy.TABLES):
                service.execute(delete(table.model))
            service.execute(delete(SyncBackfill))
            service.execute(delete(SyncCursor).where(SyncCursor.name.in_([FORWARD_CURSOR, cursors.BACKFILL_END])))
        progress = service.execute(select(SyncBackfill)).all()
        if progress:
            cursor = cursors.read(service, SyncCursor.__tablename__, FORWARD_CURSOR)
            mark = cursor.position if cursor else HighWaterMark(0, 0)
            return BackfillReport(high_water_mark=mark, resumed=True)

        not_empty = [t.service for t in legacy.TABLES
                     if service.execute(select(func.count()).select_from(t.model)).scalar_one()]
        if not_empty:
            raise BackfillError(f"the service's tables {', '.join(not_empty)} already hold rows that no backfill "
                                "recorded; run with restart to empty them and copy again")
        mark, warnings = read_high_water_mark(source)
        for message in warnings:
            log.warning(message)
        now = datetime.now(UTC)
        service.execute(delete(SyncCursor).where(SyncCursor.name == FORWARD_CURSOR))
        service.execute(insert(SyncCursor).values(name=FORWARD_CURSOR, txid=mark.txid, event_id=mark.event_id,
                                                  applied=0, updated_at=now))
        service.execute(insert(SyncBackfill), [
            {"table_name": t.service, "last_id": LOWEST_ID, "rows": 0, "done": False, "started_at": now, "finished_at": None}
            for t in legacy.TABLES])
        return BackfillReport(high_water_mark=mark, resumed=False, warnings=warnings)


def _copy_tables(source: Connection, database: Database, report: BackfillReport, state: dict, chunk_size: int,
                 on_chunk: ChunkCallback | None) -> None:
    for table in legacy.TABLES:
        row = state[table.service]
        if row.done:
            report.tables.append(TableReport(table.service, already_done=True))
            continue
        started = time.perf_counter()
        copied = _copy_table(source, database, table, row.last_id, chunk_size, on_chunk)
        report.tables.append(TableReport(table.service, rows=copied, seconds=time.perf_counter() - started))


def _copy_table(source: Connection, database: Database, table: SyncedTable, after: int, chunk_size: int,
                on_chunk: ChunkCallback | None) -> int:
    # One query per table, read chunk by chunk (a server-side cursor on PostgreSQL): no per-chunk query
    # start-up, and one consistent view of the table. Progress is still recorded per chunk.
    query = text(table.select_after(limit=False)).execution_options(stream_results=True, max_row_buffer=chunk_size)
    columns = table.service_columns
    convert = row_converter(table.model, columns, database.engine.dialect.name)
    copied = 0
    with write_transaction(database.engine, SyncBackfill.__tablename__) as service:
        _drop_secondary_indexes(service, table)
    with closing(source.execute(query, {"after": after})) as result:
        while True:
            rows = convert(result.fetchmany(chunk_size))
            done = len(rows) < chunk_size
            with write_transaction(database.engine, SyncBackfill.__tablename__) as service:
                if done:
                    _build_secondary_indexes(service, table)
                if rows:
                    insert_rows(service, table.model, columns, rows)
                    after = rows[-1][0]  # "id" comes first
                service.execute(
                    update(SyncBackfill).where(SyncBackfill.table_name == table.service)
                    .values(last_id=after, rows=SyncBackfill.rows + len(rows), done=done,
                            finished_at=datetime.now(UTC) if done else None))
            copied += len(rows)
            if on_chunk is not None and rows:
                on_chunk(table.service, len(rows))
            if done:
                return copied


def _record_end_mark(source: Connection, database: Database, *, copied: bool) -> None:
    with write_transaction(database.engine, SyncBackfill.__tablename__) as service:
        if not backfill_complete(service):
            return
        if copied or cursors.read(service, SyncCursor.__tablename__, cursors.BACKFILL_END) is None:
            cursors.put(service, SyncCursor.__tablename__, cursors.BACKFILL_END, read_end_mark(source))


def _secondary_indexes(table: SyncedTable) -> list[Index]:
    return sorted((index for index in table.model.indexes if not index.unique), key=lambda index: index.name)


def _foreign_keys(service: Connection, table: SyncedTable) -> list[ForeignKeyConstraint]:
    if service.dialect.name != "postgresql":
        return []  # SQLite cannot drop a constraint (and does not check these on the backfill's connections)
    return sorted(table.model.foreign_key_constraints, key=lambda constraint: constraint.name)


def _drop_secondary_indexes(service: Connection, table: SyncedTable) -> None:
    """Drop the table's non-unique indexes and, on PostgreSQL, its foreign keys while it is copied:
    maintaining them row by row costs more than the copy itself (SQLite: three indexes on movements took
    the insert from 7 to 20 us a row; PostgreSQL: two foreign keys took COPY from 10 to 40 us), building
    or validating them once at the end costs seconds. Unique constraints stay: they guard the copy."""
    inspector = inspect(service)
    present = {index["name"] for index in inspector.get_indexes(table.service)}
    for index in _secondary_indexes(table):
        if index.name in present:
            index.drop(service)
    constraints = {fk["name"] for fk in inspector.get_foreign_keys(table.service)}
    for constraint in _foreign_keys(service, table):
        if constraint.name in constraints:
            service.execute(DropConstraint(constraint))


def _build_secondary_indexes(service: Connection, table: SyncedTable) -> None:
    """Build what `_drop_secondary_indexes` dropped, here or in an interrupted run."""
    inspector = inspect(service)
    present = {index["name"] for index in inspector.get_indexes(table.service)}
    for index in _secondary_indexes(table):
        if index.name not in present:
            index.create(service)
    constraints = {fk["name"] for fk in inspector.get_foreign_keys(table.service)}
    for constraint in _foreign_keys(service, table):
        if constraint.name not in constraints:
            service.execute(AddConstraint(constraint))  # checks every copied row, in one pass


class _ProgressBar:
    """A Rich progress bar per table on stderr (imported here: only the CLI and people need it)."""

    def __init__(self, source: Connection, state: dict, on_chunk: ChunkCallback | None):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.on_chunk = on_chunk
        self.progress = Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=Console(stderr=True))
        self.tasks = {}
        for table in legacy.TABLES:
            row = state[table.service]
            total = row.rows if row.done else int(source.execute(text(table.count())).scalar_one())
            self.tasks[table.service] = self.progress.add_task(table.service, total=total, completed=row.rows)

    def __enter__(self) -> "_ProgressBar":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def advance(self, table: str, rows: int) -> None:
        self.progress.advance(self.tasks[table], rows)
        if self.on_chunk is not None:
            self.on_chunk(table, rows)
