"""A SQLAlchemy connection that reads the monolith's test database through Django's own DBAPI connection.

The parity fixtures seed the monolith inside a transaction that is never committed
(tests/parity/conftest.py), so only Django's connection sees the seed. The service side is backfilled
from it by the real backfill, which wants a SQLAlchemy Connection: this module lends Django's DBAPI
connection to an engine with a single, borrowed connection. The engine must never end Django's
transaction: SQLAlchemy rolls back after its first-connect checks and on return to the pool, so the
DBAPI connection is wrapped in `_Borrowed`, whose rollback does nothing and whose commit refuses.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool


class BorrowedConnectionCommit(RuntimeError):
    """Something tried to commit through the borrowed connection: the seed must stay uncommitted."""


class _Borrowed:
    """Django's DBAPI connection, minus the power to end its transaction."""

    def __init__(self, raw: Any):
        object.__setattr__(self, "_raw", raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._raw, name, value)

    def rollback(self) -> None:
        """Not ours to end."""

    def commit(self) -> None:
        raise BorrowedConnectionCommit("the parity source is read-only: it borrows Django's open transaction")

    def close(self) -> None:
        """Django closes its own connection."""


@contextmanager
def legacy_source() -> Iterator[Connection]:
    """A read-only SQLAlchemy Connection over Django's default database connection (and its open
    transaction). Use it inside the test that holds that transaction; never commit through it."""
    from django.db import connection as django_connection

    django_connection.ensure_connection()
    borrowed = _Borrowed(django_connection.connection)
    options: dict[str, Any] = {}
    if django_connection.vendor == "postgresql":
        # hstore detection asks psycopg's TypeInfo, which insists on a real psycopg Connection.
        url, options["use_native_hstore"] = "postgresql+psycopg://", False
    else:
        url = "sqlite://"
    engine = create_engine(url, creator=lambda: borrowed, poolclass=StaticPool, pool_reset_on_return=None, **options)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()
