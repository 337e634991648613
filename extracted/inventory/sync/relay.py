"""The relays: carry one outbox's events into the other database, a batch per transaction.

- `ForwardRelay`: the monolith's ``strangler_outbox`` -> the service's tables, cursor
  ``sync_cursor['legacy-outbox']`` in the service's database (set by the backfill, which must be complete).
- `ReverseRelay`: the service's ``outbox`` -> the monolith's tables, cursor
  ``strangler_sync_cursor['inventory-outbox']`` in the monolith's database.

A step reads the events after the cursor (see `outboxes` for the PostgreSQL ordering guard), then in one
transaction of the target database locks the cursor, applies the events in order and moves the cursor
past them, and commits: an event takes effect exactly once, whatever crashes when. An event that cannot
be applied (a constraint violation, a row the service does not know) stops the relay with a `RelayError`
naming it; the batch is rolled back and the cursor stays before it, never skipping it. A lost connection
or a locked database is a `TransientError`: the same step can simply be tried again.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from extracted.inventory.models import SyncCursor
from extracted.inventory.sync import cursors, legacy
from extracted.inventory.sync.apply_legacy import LegacyBatch
from extracted.inventory.sync.apply_service import apply_to_service, read_owner
from extracted.inventory.sync.backfill import backfill_complete
from extracted.inventory.sync.cursors import Cursor
from extracted.inventory.sync.events import ChangeEvent, EventError, Position
from extracted.inventory.sync.outboxes import SERVICE_NOTIFY_CHANNEL, Outbox
from extracted.inventory.sync.transactions import write_transaction

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500


class RelayError(Exception):
    """The relay cannot go on: an event it cannot apply, or a missing precondition."""


class TransientError(Exception):
    """A database was momentarily unavailable (locked, restarting); the step can be retried."""


@dataclass(frozen=True)
class StepResult:
    applied: int
    position: Position | None  # the cursor after the step
    full: bool                 # the batch was full: more events may be waiting


class Relay:
    """One direction of the sync. Subclasses name the cursor and apply a batch."""

    direction: str
    cursor_table: str
    cursor_name: str

    def __init__(self, outbox: Outbox, target: Engine, *, batch_size: int = DEFAULT_BATCH):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.outbox, self.target, self.batch_size = outbox, target, batch_size

    # -- what differs per direction ----------------------------------------------------------------------
    def prepare(self) -> None:
        """Check the preconditions and create what the relay needs; RelayError saying what is missing."""
        raise NotImplementedError

    def apply_batch(self, connection: Connection, events: list[ChangeEvent]) -> None:
        raise NotImplementedError

    # -- the step --------------------------------------------------------------------------------------
    def cursor(self) -> Cursor:
        with self.target.connect() as connection:
            found = cursors.read(connection, self.cursor_table, self.cursor_name)
        if found is None:
            raise RelayError(f"the {self.direction} relay has no cursor {self.cursor_name!r} in {self.cursor_table}")
        return found

    def step(self) -> StepResult:
        """Apply the next batch of events, if any; see the module docstring."""
        with _transient():
            position = self.cursor().position
            if not self._pending(position, 1):
                return StepResult(0, position, False)
            events: list[ChangeEvent] = []
            try:
                with self.target.begin() as connection:
                    locked = cursors.lock(connection, self.cursor_table, self.cursor_name)
                    events = self._pending(locked.position, self.batch_size)  # another relay may have moved it
                    if not events:
                        return StepResult(0, locked.position, False)
                    self.apply_batch(connection, events)
                    cursors.advance(connection, self.cursor_table, self.cursor_name, events[-1].position, len(events))
            except (OperationalError, RelayError):
                raise
            except SQLAlchemyError as exc:  # e.g. a deferred foreign key checked at COMMIT
                reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
                span = f"events {events[0].id} to {events[-1].id}" if events else "a batch"
                raise RelayError(f"the {self.direction} relay could not commit {span}: {reason}. Nothing of the "
                                 "batch was applied; the relay resumes at its first event.") from exc
            return StepResult(len(events), events[-1].position, len(events) == self.batch_size)

    def drain(self, *, max_seconds: float | None = None) -> int:
        """Step until nothing is left to apply now (or `max_seconds` pass); the events applied."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        total = 0
        while deadline is None or time.monotonic() < deadline:
            result = self.step()
            total += result.applied
            if not result.full:
                break
        return total

    def lag_seconds(self) -> float:
        """Seconds since the oldest event not applied yet was written; 0 when caught up."""
        return self.outbox.lag_seconds(self.cursor().position)

    def backlog(self) -> int:
        return self.outbox.backlog(self.cursor().position)[0]

    def _pending(self, position: Position, limit: int) -> list[ChangeEvent]:
        try:
            return self.outbox.pending(position, limit)
        except EventError as exc:
            raise RelayError(f"the {self.direction} relay stopped: {exc}") from exc

    def _apply_each(self, events: list[ChangeEvent], apply: Callable[[ChangeEvent], None]) -> None:
        for event in events:
            try:
                apply(event)
            except OperationalError:
                raise  # locked or disconnected: retry the batch
            except (SQLAlchemyError, ArithmeticError, KeyError, TypeError, ValueError) as exc:
                reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
                raise RelayError(f"the {self.direction} relay stopped at {event.describe()}: {reason}. "
                                 "Nothing of its batch was applied; fix the cause and start the relay again "
                                 "(it resumes at this event).") from exc


class ForwardRelay(Relay):
    """The monolith's outbox into the service's tables."""

    direction = "forward"
    cursor_table = SyncCursor.__tablename__
    cursor_name = cursors.FORWARD

    def prepare(self) -> None:
        with _transient():
            if not self.outbox.exists():
                raise RelayError(f"the monolith's database has no {legacy.OUTBOX} table: migrate the monolith "
                                 "(its outbox app installs the change capture) first")
            with self.target.connect() as connection:
                if not backfill_complete(connection):
                    raise RelayError("the backfill has not completed: run `strangler sync backfill inventory` first")
                if cursors.read(connection, self.cursor_table, self.cursor_name) is None:
                    raise RelayError(f"no cursor {self.cursor_name!r} in the service's database: run the backfill "
                                     "with --restart")

    def apply_batch(self, connection: Connection, events: list[ChangeEvent]) -> None:
        owner = read_owner(connection)
        self._apply_each(events, lambda event: apply_to_service(connection, event, owner))


class ReverseRelay(Relay):
    """The service's outbox into the monolith's tables."""

    direction = "reverse"
    cursor_table = legacy.SYNC_CURSOR
    cursor_name = cursors.REVERSE

    def prepare(self) -> None:
        with _transient():
            with self.target.connect() as connection:
                missing = [name for name in (legacy.SYNC_CURSOR, legacy.SYNC_ORIGIN)
                           if not inspect(connection).has_table(name)]
            if missing:
                raise RelayError(f"the monolith's database lacks {', '.join(missing)}: migrate the monolith first")
            if not self.outbox.exists():
                raise RelayError("the service's database has no outbox table: run the service's migrations first")
            with write_transaction(self.target, self.cursor_table) as connection:
                if cursors.read(connection, self.cursor_table, self.cursor_name) is None:
                    # Every event the service ever wrote is still to apply: start before the first.
                    cursors.put(connection, self.cursor_table, self.cursor_name, Position(0, 0))
            if self.outbox.is_postgres:
                install_service_notify(self.outbox.engine, self.outbox.table)

    def apply_batch(self, connection: Connection, events: list[ChangeEvent]) -> None:
        batch = LegacyBatch(connection)
        batch.begin()
        self._apply_each(events, batch.apply)
        batch.finish()


def install_service_notify(engine: Engine, table: str) -> None:
    """On PostgreSQL, make inserts into the service's outbox NOTIFY ``inventory_outbox`` (once per
    statement), so the reverse relay wakes at once instead of polling. Idempotent; the trigger belongs to
    the relay, not to the service's schema: without it the relay still polls."""
    with engine.begin() as connection:
        present = connection.execute(text(
            "SELECT 1 FROM pg_trigger WHERE tgname = 'inventory_outbox_notify' AND tgrelid = to_regclass(:table)"),
            {"table": table}).first()
        if present:
            return  # no DDL (and no lock on the outbox) when it is there already
        connection.execute(text(
            "CREATE OR REPLACE FUNCTION inventory_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $notify$ "
            f"BEGIN PERFORM pg_notify('{SERVICE_NOTIFY_CHANNEL}', ''); RETURN NULL; END $notify$"))
        connection.execute(text(
            f"CREATE OR REPLACE TRIGGER inventory_outbox_notify AFTER INSERT ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION inventory_outbox_notify()"))


class _transient:
    """Turn a database being momentarily away into TransientError (a context manager)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
            raise TransientError(str(exc.orig or exc).splitlines()[0]) from exc
        return False


def run(relays: list[Relay], *, stop: threading.Event, once: bool = False, max_seconds: float | None = None,
        waiters: dict[str, "Waiter"] | None = None, on_step: Callable[[Relay, StepResult], None] | None = None,
        poll_interval: float = 0.2) -> list[BaseException]:
    """Run each relay in its own thread until `stop` is set, `max_seconds` pass, or (with `once`) until
    each has applied everything there is now. Stops between batches. Returns the errors that stopped
    relays (a RelayError stops its relay and then the others)."""
    from extracted.inventory.sync.wake import PollingWaiter

    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    errors: list[BaseException] = []

    def loop(relay: Relay) -> None:
        waiter = (waiters or {}).get(relay.direction) or PollingWaiter(poll_interval)
        backoff = poll_interval
        try:
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                try:
                    result = relay.step()
                except TransientError as exc:
                    log.warning("%s relay: %s; retrying in %.1f s", relay.direction, exc, backoff)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = poll_interval
                if on_step is not None:
                    on_step(relay, result)
                if result.full:
                    continue
                if once:
                    return
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                waiter.wait(stop, remaining)
        except BaseException as exc:  # noqa: BLE001 -- handed to the caller, which reports it
            errors.append(exc)
            stop.set()
        finally:
            waiter.close()

    threads = [threading.Thread(target=loop, args=(relay,), name=f"relay-{relay.direction}", daemon=True)
               for relay in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
