"""The extracted side of each route group in the parity suite: group -> how to build its ASGI app.

The parity tests send every request to the monolith and, for the group whose route owns it, to the
app built here, in-process through httpx's ASGITransport (tests/parity/router_emulation.py forwards
them as the router would: identity resolved through the monolith, rollback marker on writes). A group
with no entry has its requests skipped, saying so; registering one is how an extracted service joins
the suite.

An entry is a context manager ``side(source) -> app``: `source` is a read-only SQLAlchemy connection to
the monolith's seeded test database (tests/parity/legacy_source.py); the app must hold the same data,
be ready to answer (ASGITransport runs no lifespan), and be torn down on exit.
"""

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import Connection

ASGIApp = Callable[..., Any]
Side = Callable[[Connection], AbstractContextManager[ASGIApp]]


@contextmanager
def service_database(dialect: str) -> Iterator[str]:
    """A fresh, empty database URL for a service: a SQLite file, or a throwaway PostgreSQL database when
    the monolith's test database is PostgreSQL (server TEST_POSTGRES_URL, as tests/support/pg.py)."""
    if dialect != "postgresql":
        with tempfile.TemporaryDirectory(prefix="parity-service-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'service.sqlite3'}"
        return
    import psycopg

    from tests.support.pg import SERVER_URL, require_postgres

    require_postgres()
    parts = urlsplit(SERVER_URL)
    name = f"strangler_parity_{uuid.uuid4().hex[:10]}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def inventory_side(source: Connection) -> Iterator[ASGIApp]:
    """The inventory service over its own database: migrated by Alembic, filled by the real backfill."""
    from extracted.common.database import Database
    from extracted.inventory import migrate
    from extracted.inventory.app import create_app
    from extracted.inventory.settings import InventorySettings
    from extracted.inventory.sync.backfill import backfill

    with service_database(source.dialect.name) as url:
        migrate.upgrade(url)
        database = Database(url)
        try:
            backfill(source, database, chunk_size=500, progress=False)
            settings = InventorySettings(environment="test", database_url=url,
                                         legacy_database_url=os.environ.get("DATABASE_URL") or "sqlite://")
            yield create_app(settings, database)
        finally:
            database.dispose()


SIDES: dict[str, Side] = {"inventory": inventory_side}


def extracted_side(group: str) -> Side | None:
    """The side registered for a group, or None while its service is not extracted."""
    return SIDES.get(group)
