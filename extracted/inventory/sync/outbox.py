"""The service's own outbox: every change the service makes to a table it shares with the monolith is
recorded here, in the same transaction, and the reverse relay carries it into the monolith's tables.

Events use the service's table names and the column names both sides share (models.py). Values are JSON:
ids and counts as numbers, booleans as true/false, datetimes as ISO 8601 with their UTC offset.
"""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select, text
from sqlalchemy.orm import Session

from extracted.inventory.models import SERVICE_FIRST_ID, Base, OutboxEvent

INSERT, UPDATE, DELETE = "I", "U", "D"


def row_data(row: Base) -> dict[str, Any]:
    """The columns of a mapped row as outbox JSON values."""
    data = {}
    for column in row.__table__.columns:
        value = getattr(row, column.key)
        data[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return data


def record_change(session: Session, table_name: str, op: str, row_id: int, old: dict | None, new: dict | None) -> None:
    """Add one change to the outbox, in the session's transaction (it commits or rolls back with it)."""
    if op not in (INSERT, UPDATE, DELETE):
        raise ValueError(f"op must be I, U or D, got {op!r}")
    session.add(OutboxEvent(
        txid=_current_txid(session), table_name=table_name, op=op, row_id=row_id,
        old_data=json.dumps(old, separators=(",", ":")) if old is not None else None,
        new_data=json.dumps(new, separators=(",", ":")) if new is not None else None,
    ))


def next_service_id(session: Session, model: type[Base]) -> int:
    """The next id for a row the service creates: below every id it has made, from SERVICE_FIRST_ID (-1) down
    (models.py says why negative).

    Safe only inside a write that holds the ownership row (`ownership.claim_write`), which serialises
    the service's writes."""
    table = model.__table__
    lowest = session.execute(
        select(func.coalesce(func.min(table.c.id), literal(SERVICE_FIRST_ID + 1))).where(table.c.id <= SERVICE_FIRST_ID)
    ).scalar_one()
    return int(lowest) - 1


def _current_txid(session: Session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        return int(session.execute(text("SELECT txid_current()")).scalar_one())
    return 0
