"""Write transactions that take SQLite's write lock with their first statement.

SQLite (WAL) lets a transaction read first and write later, but if another connection committed in
between, the upgrade to a writer fails at once with "database is locked" (the busy timeout does not
apply: waiting could not help, the reader's snapshot is stale). Busy databases (the monolith's workers,
the relays, the service) make that likely. Taking the write lock first means waiting for it instead.
On PostgreSQL this is a plain transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine


@contextmanager
def write_transaction(engine: Engine, lock_table: str) -> Iterator[Connection]:
    """`engine.begin()`; on SQLite the first statement is a write to `lock_table` that changes nothing
    (an UPDATE that matches no row still takes the database's write lock)."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            take_write_lock(connection, lock_table)
        yield connection


def take_write_lock(connection: Connection, lock_table: str) -> None:
    connection.execute(text(f"UPDATE {lock_table} SET rowid = rowid WHERE 0"))
