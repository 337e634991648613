"""Read the monolith's outbox in tests: the events captured since a mark, JSON parsed, values normalised."""

import json
from datetime import UTC, datetime
from typing import NamedTuple


class Event(NamedTuple):
    table: str
    op: str
    row_id: int
    old: dict | None
    new: dict | None
    txid: int
    created_at: datetime


class OutboxReader:
    """Events the triggers wrote after this reader's mark (set at creation, moved by ``skip``)."""

    def __init__(self, using: str = "default"):
        self.using = using
        self.after = self._last_id()

    def _last_id(self) -> int:
        from legacy_monolith.outbox.models import OutboxEvent

        return OutboxEvent.objects.using(self.using).order_by("-id").values_list("id", flat=True).first() or 0

    def skip(self) -> None:
        """Forget the events so far (those the test's arrangement caused)."""
        self.after = self._last_id()

    def events(self, table: str | None = None) -> list[Event]:
        from legacy_monolith.outbox.models import OutboxEvent

        rows = OutboxEvent.objects.using(self.using).filter(id__gt=self.after).order_by("id")
        if table:
            rows = rows.filter(table_name=table)
        return [
            Event(row.table_name, row.op, row.row_id, _json(row.old_data), _json(row.new_data), row.txid, row.created_at)
            for row in rows
        ]


def _json(text: str | None) -> dict | None:
    return None if text is None else json.loads(text)


def as_utc(value: str) -> datetime:
    """A datetime as the triggers write it (SQLite: naive UTC text; PostgreSQL: ISO with offset), aware UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
