"""Where the sync stands, read from the databases alone (no relay process needed): the owner of the
writes, the backfill's progress, and per direction the cursor, the backlog, the lag and the outbox size."""

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from extracted.inventory.models import CAPABILITY, SyncBackfill, SyncCursor, SyncOwnership
from extracted.inventory.sync import cursors, legacy
from extracted.inventory.sync.outboxes import Outbox, legacy_outbox, service_outbox


@dataclass
class DirectionStatus:
    direction: str
    outbox: str
    outbox_exists: bool
    cursor: dict | None = None        # txid, event_id, applied, updated_at
    backlog: int | None = None        # events after the cursor
    lag_seconds: float | None = None  # age of the oldest of them
    outbox_size: int | None = None


@dataclass
class SyncStatus:
    capability: str
    owner: str
    owner_changed_at: datetime | None
    owner_reason: str
    backfill_complete: bool
    backfill: list[dict] = field(default_factory=list)
    directions: list[DirectionStatus] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def sync_status(monolith: Engine, service: Engine) -> SyncStatus:
    with service.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        owner_row = None
        if SyncOwnership.__tablename__ in tables:
            owner_row = connection.execute(
                select(SyncOwnership).where(SyncOwnership.capability == CAPABILITY)).first()
        backfill = []
        if SyncBackfill.__tablename__ in tables:
            backfill = [{"table": row.table_name, "rows": row.rows, "last_id": row.last_id, "done": row.done,
                         "finished_at": row.finished_at}
                        for row in connection.execute(select(SyncBackfill).order_by(SyncBackfill.started_at))]
    order = {table.service: index for index, table in enumerate(legacy.TABLES)}
    backfill.sort(key=lambda row: order.get(row["table"], len(order)))
    complete = bool(backfill) and all(row["done"] for row in backfill) and len(backfill) >= len(legacy.TABLES)
    status = SyncStatus(
        capability=CAPABILITY,
        owner=owner_row.owner if owner_row else "legacy",
        owner_changed_at=owner_row.changed_at if owner_row else None,
        owner_reason=owner_row.reason if owner_row else "",
        backfill_complete=complete, backfill=backfill)
    status.directions.append(_direction("forward", legacy_outbox(monolith), service, SyncCursor.__tablename__,
                                        cursors.FORWARD))
    status.directions.append(_direction("reverse", service_outbox(service), monolith, legacy.SYNC_CURSOR,
                                        cursors.REVERSE))
    return status


def _direction(name: str, outbox: Outbox, target: Engine, cursor_table: str, cursor_name: str) -> DirectionStatus:
    status = DirectionStatus(name, outbox.table, outbox.exists())
    with target.connect() as connection:
        cursor = cursors.read(connection, cursor_table, cursor_name) if inspect(connection).has_table(cursor_table) else None
    if cursor is not None:
        status.cursor = {"txid": cursor.position.txid, "event_id": cursor.position.event_id,
                         "applied": cursor.applied, "updated_at": cursor.updated_at}
    if status.outbox_exists:
        status.outbox_size = outbox.size()
        if cursor is not None:
            status.backlog, _ = outbox.backlog(cursor.position)
            status.lag_seconds = outbox.lag_seconds(cursor.position)
    return status
