"""The outbox's tables: captured events, the capture-suppression marker, and the reverse relay's cursor.

Triggers (see ``capture``) write ``OutboxEvent`` rows; Python code never does. ``SyncOrigin`` is empty
except inside a writer's own transaction that must not be captured (``suppress.capture_suppressed``).
``SyncCursor`` is how far the reverse relay has applied the service's outbox, kept in this database so
it moves in the same transaction as what it applied.
"""

from django.db import models

from .capture import CURSOR_TABLE, ORIGIN_TABLE, OUTBOX_TABLE


class OutboxEvent(models.Model):
    """One captured row change: the table, the op (I, U, D), the row's id and its JSON before and after."""

    txid = models.BigIntegerField(help_text="txid_current() of the writing transaction on PostgreSQL, 0 on SQLite")
    table_name = models.CharField(max_length=64)
    op = models.CharField(max_length=1, choices=[("I", "insert"), ("U", "update"), ("D", "delete")])
    row_id = models.BigIntegerField()
    old_data = models.TextField(null=True, help_text="JSON object of the row before; NULL on insert")
    new_data = models.TextField(null=True, help_text="JSON object of the row after; NULL on delete")
    created_at = models.DateTimeField()

    class Meta:
        db_table = OUTBOX_TABLE
        ordering = ["txid", "id"]
        # Relays read in (txid, id) order after a cursor.
        indexes = [models.Index(fields=["txid", "id"], name="strangler_outbox_txid_id")]

    def __str__(self) -> str:
        return f"{self.op} {self.table_name}#{self.row_id}"


class SyncOrigin(models.Model):
    """A marker row that exists only inside a transaction whose writes must not be captured."""

    origin = models.CharField(max_length=64, help_text="Who is writing: 'reverse-relay', 'seed', ...")

    class Meta:
        db_table = ORIGIN_TABLE


class SyncCursor(models.Model):
    """Position of a relay reading another outbox into this database: last (txid, event id) applied."""

    name = models.CharField(max_length=64, primary_key=True)
    txid = models.BigIntegerField(default=0)
    event_id = models.BigIntegerField(default=0)
    applied = models.BigIntegerField(default=0, help_text="Events applied so far")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = CURSOR_TABLE
