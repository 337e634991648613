"""Moving the inventory writes between the monolith and the service, and back, without losing one.

**To the service** (`handover_to_service`): refused unless the backfill is complete and the forward relay
has replayed everything the copy may have seen (it passed the backfill's end mark) and is caught up.
Then ``owner = service`` (the service takes writes; the forward relay switches stock counters to deltas
in its next batch), then the group's write routes are flipped to the service. Between the two steps
both sides may take writes, which the relays handle (deltas both ways).

**Back to legacy** (`hand_back_to_legacy`): flip the write routes to the monolith, then ``owner =
draining`` (the service refuses writes; on PostgreSQL setting it waits for in-flight service writes,
which hold the ownership row), wait until the reverse relay has carried the whole service outbox into
the monolith, wait until the forward relay has passed every monolith change made meanwhile (still as
deltas), then ``owner = legacy``. A timeout refuses and leaves ``draining``: the service keeps refusing
writes, and running the hand-back again continues where it stopped.

Why a write can never conflict during the switch: the service refuses writes unless the owner is
``service``, and each service write holds the ownership row while it runs; the forward relay reads the
owner in its own transaction (PostgreSQL: ``FOR KEY SHARE``) and applies state or deltas by what it read,
so every event is applied in the mode that was true when it was applied.

Flipping routes is the router's business, which this package may not import: the caller passes
`flip_write_routes(mode) -> names flipped` (the CLI does it through the control store).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from extracted.inventory.models import CAPABILITY, SyncCursor, SyncOwnership
from extracted.inventory.sync import cursors, legacy
from extracted.inventory.sync.backfill import backfill_complete
from extracted.inventory.sync.events import Position
from extracted.inventory.sync.outboxes import legacy_outbox, service_outbox
from extracted.inventory.sync.ownership import DRAINING, LEGACY, SERVICE, current_owner, set_owner

FlipRoutes = Callable[[str], list[str]]  # "extracted" | "legacy" -> the routes flipped


class HandoverError(Exception):
    """The ownership move is refused or could not finish; the message says why and what to do."""


@dataclass
class HandoverReport:
    previous_owner: str
    owner: str
    routes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"previous_owner": self.previous_owner, "owner": self.owner, "routes": self.routes,
                "seconds": round(self.seconds, 3), "notes": self.notes}


def handover_to_service(monolith: Engine, service: Engine, *, flip_write_routes: FlipRoutes, by: str, reason: str,
                        max_lag: float = 5.0) -> HandoverReport:
    """Make the service the owner of the inventory writes and send the write routes to it."""
    started = time.monotonic()
    previous = _owner(service)
    if previous == DRAINING:
        raise HandoverError("a hand-back to legacy is in progress (owner 'draining'): finish it first "
                            "(`strangler sync handover inventory --to legacy`)")
    if previous != SERVICE:
        _check_forward_ready(monolith, service, max_lag)
        _set_owner(service, SERVICE, by=by, reason=reason)
    routes = flip_write_routes("extracted")
    report = HandoverReport(previous, SERVICE, routes, time.monotonic() - started)
    if previous == SERVICE:
        report.notes.append("the service already owned the writes; write routes set to extracted again")
    return report


def hand_back_to_legacy(monolith: Engine, service: Engine, *, flip_write_routes: FlipRoutes, by: str, reason: str,
                        timeout: float = 60.0, pump: Callable[[], None] | None = None,
                        sleep: Callable[[float], None] = time.sleep) -> HandoverReport:
    """Give the inventory writes back to the monolith; see the module docstring for the steps.

    `pump` is called while waiting for the relays (tests and ``--drive`` run relay steps there); without
    it the relays must be running elsewhere (``strangler sync run inventory``)."""
    started = time.monotonic()
    previous = _owner(service)
    routes = flip_write_routes("legacy")
    if previous == LEGACY:
        return HandoverReport(previous, LEGACY, routes, time.monotonic() - started,
                              ["the monolith already owned the writes; write routes set to legacy again"])
    if previous == SERVICE:
        _set_owner(service, DRAINING, by=by, reason=reason)

    reverse_box = service_outbox(service)
    reverse_mark = reverse_box.mark()
    if not _wait(lambda: reverse_box.passed(_cursor(monolith, legacy.SYNC_CURSOR, cursors.REVERSE), reverse_mark),
                 timeout, pump, sleep):
        left = reverse_box.backlog(_cursor(monolith, legacy.SYNC_CURSOR, cursors.REVERSE))[0]
        raise HandoverError(
            f"the service's outbox was not drained into the monolith within {timeout:g} s ({left} events left). "
            "The owner stays 'draining': the service refuses writes, the monolith takes them. Make sure the "
            "reverse relay runs (`strangler sync run inventory`), then run the hand-back again.")

    forward_box = legacy_outbox(monolith)
    forward_mark = forward_box.mark()
    if not _wait(lambda: forward_box.passed(_cursor(service, SyncCursor.__tablename__, cursors.FORWARD), forward_mark),
                 timeout, pump, sleep):
        raise HandoverError(
            f"the forward relay did not catch up with the monolith's outbox within {timeout:g} s. The owner "
            "stays 'draining'; make sure the forward relay runs, then run the hand-back again.")
    _set_owner(service, LEGACY, by=by, reason=reason)
    return HandoverReport(previous, LEGACY, routes, time.monotonic() - started)


# -- steps -------------------------------------------------------------------------------------------------
def _check_forward_ready(monolith: Engine, service: Engine, max_lag: float) -> None:
    with service.connect() as connection:
        if not backfill_complete(connection):
            raise HandoverError("the backfill has not completed: run `strangler sync backfill inventory` and the "
                                "relay first")
        end = cursors.read(connection, SyncCursor.__tablename__, cursors.BACKFILL_END)
        forward = cursors.read(connection, SyncCursor.__tablename__, cursors.FORWARD)
    if end is None or forward is None:
        raise HandoverError("the backfill left no cursor for the forward relay: run the backfill again with --restart")
    box = legacy_outbox(monolith)
    if not box.exists():
        raise HandoverError(f"the monolith's database has no {legacy.OUTBOX}: its changes would not reach the service")
    if not box.passed(forward.position, end.position):
        behind = box.backlog(forward.position)[0]
        raise HandoverError(
            "the forward relay has not yet replayed the changes made during the backfill "
            f"({behind} events behind): run `strangler sync run inventory` until it catches up")
    lag = box.lag_seconds(forward.position)
    if lag > max_lag:
        raise HandoverError(f"the forward relay is {lag:.1f} s behind the monolith (limit {max_lag:g} s): "
                            "let it catch up first")


def _owner(service: Engine) -> str:
    with Session(service) as session:
        return current_owner(session)


def _set_owner(service: Engine, owner: str, *, by: str, reason: str) -> None:
    with Session(service) as session:
        if service.dialect.name == "sqlite":
            # Take SQLite's write lock first (set_owner reads before it writes; a read lock cannot always
            # be upgraded once another writer has committed).
            session.execute(update(SyncOwnership).where(SyncOwnership.capability == CAPABILITY)
                            .values(write_seq=SyncOwnership.write_seq))
        set_owner(session, owner, by=by, reason=reason)
        session.commit()


def _cursor(engine: Engine, table: str, name: str) -> Position:
    with engine.connect() as connection:
        found = cursors.read(connection, table, name)
    return found.position if found else Position(0, 0)


def _wait(done: Callable[[], bool], timeout: float, pump: Callable[[], None] | None,
          sleep: Callable[[float], None]) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            return False
        if pump is not None:
            pump()
        else:
            sleep(0.1)
    return True
