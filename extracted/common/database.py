"""A service's database: one SQLAlchemy engine and the per-request session, which commits on success,
rolls back on error, and always rolls back in a shadow dry run.

Build one `Database` in the app factory, keep it on ``app.state.database``, create tables in the
lifespan, and take sessions through `SessionDep`:

    @router.post("/things/", status_code=201)
    def thing_create(payload: ThingCreate, session: SessionDep) -> ThingRead: ...

In a dry run (`extracted.common.shadow`) the session is bound to a connection whose outer transaction
is rolled back at the end, with ``join_transaction_mode="create_savepoint"`` so that the endpoint's own
``session.commit()`` only releases a savepoint inside it. A connection-level COMMIT is refused with
`DryRunCommitError`. What the session cannot cover: work done on another connection (``engine.begin()``,
a second engine) and effects outside the database. PostgreSQL sequences advance even when rolled back,
so ids seen in a dry run are not reserved.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from extracted.common.shadow import shadow_rollback_requested


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class DryRunCommitError(RuntimeError):
    """Something tried to COMMIT the outer transaction of a shadow dry run."""


def sqlalchemy_url(url: str) -> str:
    """A database URL as SQLAlchemy wants it: postgres:// and postgresql:// name the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Database:
    """The engine of one service database and the sessions handed to its endpoints."""

    def __init__(self, url: str, **engine_options: Any):
        self.url = sqlalchemy_url(url)
        # Test-only fault injection (extracted.common.faults): told after each committed write request.
        self.after_write_commit: Callable[[], None] | None = None
        self.engine: Engine = create_engine(self.url, **engine_options)
        if self.engine.dialect.name == "sqlite":
            _take_over_sqlite_transactions(self.engine)
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)  # e.g. a fresh checkout's var/

    @contextmanager
    def transaction(self, *, rollback: bool = False) -> Iterator[Session]:
        """A session for one unit of work: committed when the block ends cleanly, rolled back when it
        raises; with ``rollback=True`` rolled back in every case, whatever the block commits."""
        if rollback:
            with self.engine.connect() as connection:
                event.listen(connection, "commit", _refuse_commit)
                outer = connection.begin()
                session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
                try:
                    yield session
                finally:
                    session.close()
                    outer.rollback()
            return
        # expire_on_commit=False: FastAPI serialises the returned objects after this block has committed.
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()

    def session(self, request: Request) -> Iterator[Session]:
        """FastAPI dependency: `transaction` for this request, in rollback mode when it carries a valid
        shadow marker. Use it with ``scope="function"`` (as `SessionDep` does) so the commit happens
        before the response is sent and a failed commit is an error, not a false success."""
        rollback = shadow_rollback_requested(request.scope)
        with self.transaction(rollback=rollback) as session:
            yield session
        if self.after_write_commit is not None and not rollback and request.method not in _SAFE_METHODS:
            self.after_write_commit()

    def dispose(self) -> None:
        self.engine.dispose()


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: a session from the app's ``app.state.database``."""
    database: Database = request.app.state.database
    yield from database.session(request)


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _refuse_commit(connection: Connection) -> None:
    raise DryRunCommitError("COMMIT refused: this request is a shadow dry run and must roll back")


def _take_over_sqlite_transactions(engine: Engine) -> None:
    # Python's sqlite3 (before autocommit=False in 3.12) emits BEGIN only before DML, so a SAVEPOINT
    # issued first opens the transaction itself and releasing it COMMITs: a dry run's session.commit()
    # would persist. SQLAlchemy's documented recipe: the driver emits nothing, we emit BEGIN.
    @event.listens_for(engine, "connect")
    def _driver_leaves_transactions_alone(dbapi_connection, connection_record) -> None:
        dbapi_connection.isolation_level = None
        # The service's workers and its relay share the file: with WAL, readers never block the writer
        # (the default rollback journal makes every commit wait for readers), and a busy writer is
        # waited for instead of failing with "database is locked".
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        dbapi_connection.execute("PRAGMA busy_timeout=20000")

    @event.listens_for(engine, "begin")
    def _emit_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")
