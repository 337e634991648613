"""ControlStore: read the flag snapshot, change a flag (audited, compare-and-swap on the version), wait
for the next change (LISTEN/NOTIFY on PostgreSQL, polling on SQLite)."""

import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event, insert, select, text, update
from sqlalchemy.engine import Engine

from router.decision import FlagState, Mode
from router.errors import StaleVersion
from router.flags import FlagSnapshot

from .schema import flag_events, flags, meta, metadata

NOTIFY_CHANNEL = "strangler_flags"
VERSION_KEY = "flags_version"


def default_store_url() -> str:
    """STRANGLER_STORE_URL, else a SQLite file under var/ of the working directory."""
    return os.environ.get("STRANGLER_STORE_URL") or f"sqlite:///{Path('var') / 'control.sqlite3'}"


def _normalise_url(url: str) -> str:
    # Users write postgres:// or postgresql://; SQLAlchemy needs the psycopg 3 driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _state_json(state: FlagState | None) -> str:
    if state is None:
        return "null"
    return json.dumps({"mode": str(state.mode), "percent": state.percent, "shadow_rate": state.shadow_rate}, sort_keys=True)


@dataclass(frozen=True, slots=True)
class FlagEvent:
    """One audited flag change: who, when, why, before → after, and the store version it produced."""

    version: int
    at: datetime
    actor: str
    reason: str
    scope: str
    name: str
    before: dict | None
    after: dict

    def as_dict(self) -> dict:
        return {
            "version": self.version, "at": self.at.isoformat(), "actor": self.actor, "reason": self.reason,
            "scope": self.scope, "name": self.name, "before": self.before, "after": self.after,
        }


class ControlStore:
    def __init__(self, url: str | None = None):
        self.url = _normalise_url(url or default_store_url())
        self.is_postgres = self.url.startswith("postgresql")
        self._engine: Engine | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            if self.url.startswith("sqlite:///"):
                Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
                self._engine = create_engine(self.url, connect_args={"timeout": 15})
                event.listen(self._engine, "connect", _sqlite_pragmas)
            else:
                self._engine = create_engine(self.url, pool_pre_ping=True, pool_size=2, max_overflow=2,
                                             connect_args={"connect_timeout": 3})
        return self._engine

    def migrate(self) -> None:
        """Create the tables and the version row when missing (idempotent, safe from several processes)."""
        metadata.create_all(self.engine, checkfirst=True)
        with self.engine.begin() as conn:
            if conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).first() is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(meta).values(key=VERSION_KEY, value=0))
                except Exception:  # another process created it first
                    pass

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- reads -------------------------------------------------------------------------------------
    def version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar_one()

    def snapshot(self) -> FlagSnapshot:
        """The whole flag state at one version, read in one transaction."""
        with self.engine.begin() as conn:
            version = conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar_one()
            routes, groups = {}, {}
            for row in conn.execute(select(flags)):
                state = FlagState(mode=Mode(row.mode), percent=row.percent, shadow_rate=row.shadow_rate)
                (routes if row.scope == "route" else groups)[row.name] = state
        return FlagSnapshot(version=version, routes=routes, groups=groups)

    def history(self, *, name: str | None = None, limit: int = 50) -> list[FlagEvent]:
        query = select(flag_events).order_by(flag_events.c.version.desc()).limit(limit)
        if name:
            query = query.where(flag_events.c.name == name)
        with self.engine.connect() as conn:
            return [
                FlagEvent(row.version, _aware(row.at), row.actor, row.reason, row.scope, row.name,
                          json.loads(row.before), json.loads(row.after))
                for row in conn.execute(query)
            ]

    # -- writes ------------------------------------------------------------------------------------
    def set_flag(self, *, scope: str, name: str, state: FlagState, actor: str, reason: str,
                 expected_version: int | None = None) -> FlagEvent:
        """Change one flag, audited. With `expected_version`, refuse (StaleVersion) if anything changed
        since that version was read. The version bump is the transaction's first statement: it takes the
        write lock (row lock on PostgreSQL, the database lock on SQLite) and is the compare-and-swap."""
        if scope not in ("route", "group"):
            raise ValueError(f"scope must be 'route' or 'group', got {scope!r}")
        if not reason or not reason.strip():
            raise ValueError("a reason is required for every flag change")
        if not actor or not actor.strip():
            raise ValueError("an actor is required for every flag change")
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            bump = update(meta).where(meta.c.key == VERSION_KEY).values(value=meta.c.value + 1)
            if expected_version is not None:
                bump = bump.where(meta.c.value == expected_version)
            if conn.execute(bump).rowcount != 1:
                actual = conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar_one()
                raise StaleVersion(expected_version, actual)
            version = conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar_one()
            row = conn.execute(select(flags).where(flags.c.scope == scope, flags.c.name == name)).first()
            before = None if row is None else FlagState(mode=Mode(row.mode), percent=row.percent, shadow_rate=row.shadow_rate)
            values = {"mode": str(state.mode), "percent": state.percent, "shadow_rate": state.shadow_rate,
                      "version": version, "updated_at": now}
            if row is None:
                conn.execute(insert(flags).values(scope=scope, name=name, **values))
            else:
                conn.execute(update(flags).where(flags.c.scope == scope, flags.c.name == name).values(**values))
            conn.execute(insert(flag_events).values(
                version=version, at=now, actor=actor.strip(), reason=reason.strip(), scope=scope, name=name,
                before=_state_json(before), after=_state_json(state),
            ))
            if self.is_postgres:
                conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": NOTIFY_CHANNEL, "payload": str(version)})
        return FlagEvent(version, now, actor.strip(), reason.strip(), scope, name,
                         json.loads(_state_json(before)), json.loads(_state_json(state)))

    # -- change notification -----------------------------------------------------------------------
    def change_waiter(self, poll_interval: float):
        """A blocking `wait(current_version, timeout) -> version` for the watcher thread."""
        if self.is_postgres:
            return _PostgresWaiter(self)
        return _PollingWaiter(self, poll_interval)


class _PollingWaiter:
    def __init__(self, store: ControlStore, poll_interval: float):
        self.store, self.poll_interval = store, poll_interval

    def wait(self, current: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            version = self.store.version()
            if version != current or time.monotonic() >= deadline:
                return version
            time.sleep(self.poll_interval)

    def close(self) -> None:
        pass


class _PostgresWaiter:
    """LISTEN on a dedicated psycopg connection; NOTIFY from set_flag wakes it at commit."""

    def __init__(self, store: ControlStore):
        import psycopg

        dsn = store.url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.store = store
        self.conn = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
        self.conn.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, current: int, timeout: float) -> int:
        version = self.store.version()  # a change between two waits is not lost
        if version != current:
            return version
        for _ in self.conn.notifies(timeout=timeout, stop_after=1):
            break
        return self.store.version()

    def close(self) -> None:
        self.conn.close()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes; everything the store writes is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
