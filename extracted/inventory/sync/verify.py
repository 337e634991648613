"""Verify: are the monolith's inventory rows and the service's the same? Counts and per-row hashes.

Every synced table is read on both sides in id order, in keyset chunks, and merged by id. Each row is
reduced to canonical values (ints, strings, booleans, datetimes as UTC microseconds since the epoch, so
SQLite's text and PostgreSQL's timestamptz compare equal) and hashed; rows whose hashes differ are
compared column by column to say what differs. The result lists the drift with a few examples per kind:
rows missing on the service, rows missing on the monolith, rows that differ.

Both sides keep moving while the relays run, so a verify during traffic may see a change that one relay
has not carried yet. `wait_for_relays` first waits until both relays have passed the outboxes' marks taken
at its start: everything committed before verify began has then reached the other side.
"""

import hashlib
import time
from datetime import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from extracted.inventory.models import LOWEST_ID, SyncCursor
from extracted.inventory.sync import cursors, legacy
from extracted.inventory.sync.events import Position
from extracted.inventory.sync.legacy import SyncedTable
from extracted.inventory.sync.outboxes import legacy_outbox, service_outbox
from extracted.inventory.sync.values import canonical, converters

CHUNK = 20_000


@dataclass(frozen=True)
class RowDifference:
    id: int
    columns: dict[str, tuple[Any, Any]]  # column -> (monolith value, service value)


@dataclass
class TableDrift:
    table: str
    monolith_rows: int = 0
    service_rows: int = 0
    missing_on_service: int = 0
    missing_on_monolith: int = 0
    differing: int = 0
    examples_missing_on_service: list[int] = field(default_factory=list)
    examples_missing_on_monolith: list[int] = field(default_factory=list)
    examples_differing: list[RowDifference] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.missing_on_service or self.missing_on_monolith or self.differing)

    def as_dict(self) -> dict:
        return {
            "table": self.table, "monolith_rows": self.monolith_rows, "service_rows": self.service_rows,
            "missing_on_service": self.missing_on_service, "missing_on_monolith": self.missing_on_monolith,
            "differing": self.differing, "clean": self.clean,
            "examples": {
                "missing_on_service": self.examples_missing_on_service,
                "missing_on_monolith": self.examples_missing_on_monolith,
                "differing": [{"id": d.id, "columns": {name: {"monolith": _shown(a), "service": _shown(b)}
                                                       for name, (a, b) in d.columns.items()}}
                              for d in self.examples_differing],
            },
        }


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class WaitOutcome:
    """Whether each relay passed the marks taken when verify started, and how long that took."""

    forward: bool
    reverse: bool
    seconds: float

    @property
    def caught_up(self) -> bool:
        return self.forward and self.reverse


@dataclass
class VerifyReport:
    tables: list[TableDrift]
    seconds: float
    waited: WaitOutcome | None = None

    @property
    def clean(self) -> bool:
        return all(table.clean for table in self.tables)

    def as_dict(self) -> dict:
        waited = None if self.waited is None else {
            "forward_caught_up": self.waited.forward, "reverse_caught_up": self.waited.reverse,
            "seconds": round(self.waited.seconds, 3)}
        return {"clean": self.clean, "seconds": round(self.seconds, 3), "waited": waited,
                "tables": [table.as_dict() for table in self.tables]}


def verify(monolith: Engine, service: Engine, *, examples: int = 5, chunk: int = CHUNK) -> VerifyReport:
    """Compare every synced table on both sides; `examples` rows of each kind of drift are kept."""
    started = time.perf_counter()
    drifts = []
    with monolith.connect() as left, service.connect() as right:
        for table in legacy.TABLES:
            drifts.append(_compare(table, _monolith_rows(left, table, chunk), _service_rows(right, table, chunk),
                                   examples))
    return VerifyReport(drifts, time.perf_counter() - started)


def wait_for_relays(monolith: Engine, service: Engine, seconds: float, *, poll: float = 0.2,
                    sleep: Callable[[float], None] = time.sleep) -> WaitOutcome:
    """Wait up to `seconds` until both relays have passed where the outboxes stand now."""
    started = time.monotonic()
    forward_box, reverse_box = legacy_outbox(monolith), service_outbox(service)
    forward_mark = forward_box.mark() if forward_box.exists() else None
    reverse_mark = reverse_box.mark() if reverse_box.exists() else None

    def passed() -> tuple[bool, bool]:
        forward = forward_mark is None or forward_box.passed(_position(service, SyncCursor.__tablename__,
                                                                       cursors.FORWARD), forward_mark)
        reverse = reverse_mark is None or reverse_box.passed(_position(monolith, legacy.SYNC_CURSOR,
                                                                       cursors.REVERSE), reverse_mark)
        return forward, reverse

    forward, reverse = passed()
    while not (forward and reverse) and time.monotonic() - started < seconds:
        sleep(poll)
        forward, reverse = passed()
    return WaitOutcome(forward, reverse, time.monotonic() - started)


def _position(engine: Engine, table: str, name: str) -> Position:
    with engine.connect() as connection:
        found = cursors.read(connection, table, name)
    return found.position if found else Position(0, 0)


# -- reading -----------------------------------------------------------------------------------------------
Row = tuple[int, bytes, list]  # id, hash of the canonical values, the values (for showing a difference)


def _monolith_rows(connection: Connection, table: SyncedTable, chunk: int) -> Iterator[Row]:
    return _rows(connection, text(table.select_after()), table, chunk)


def _service_rows(connection: Connection, table: SyncedTable, chunk: int) -> Iterator[Row]:
    query = text(f"SELECT {', '.join(table.service_columns)} FROM {table.service} "
                 "WHERE id > :after ORDER BY id LIMIT :limit")
    return _rows(connection, query, table, chunk)


def _rows(connection: Connection, query, table: SyncedTable, chunk: int) -> Iterator[Row]:
    convert = [(index, fn) for index, name in enumerate(table.service_columns)
               if (fn := converters(table.model).get(name))]
    after = LOWEST_ID  # the service's own rows have negative ids
    while True:
        fetched = connection.execute(query, {"after": after, "limit": chunk}).all()
        for raw in fetched:
            values = list(raw)
            for index, fn in convert:
                values[index] = fn(values[index])
            digest = hashlib.blake2b(repr(tuple(canonical(value) for value in values)).encode(), digest_size=16)
            yield values[0], digest.digest(), values
        if len(fetched) < chunk:
            return
        after = fetched[-1][0]


def _compare(table: SyncedTable, left: Iterator[Row], right: Iterator[Row], examples: int) -> TableDrift:
    drift = TableDrift(table.service)
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            drift.monolith_rows += 1
            drift.missing_on_service += 1
            if len(drift.examples_missing_on_service) < examples:
                drift.examples_missing_on_service.append(a[0])
            a = next(left, None)
        elif a is None or b[0] < a[0]:
            drift.service_rows += 1
            drift.missing_on_monolith += 1
            if len(drift.examples_missing_on_monolith) < examples:
                drift.examples_missing_on_monolith.append(b[0])
            b = next(right, None)
        else:
            drift.monolith_rows += 1
            drift.service_rows += 1
            if a[1] != b[1]:
                drift.differing += 1
                if len(drift.examples_differing) < examples:
                    columns = {name: (x, y) for name, x, y in zip(table.service_columns, a[2], b[2])
                               if canonical(x) != canonical(y)}
                    drift.examples_differing.append(RowDifference(a[0], columns))
            a, b = next(left, None), next(right, None)
    return drift

