"""What the monolith's outbox captures, and the trigger SQL that captures it (SQLite and PostgreSQL).

The single source of truth for change capture: which tables, which columns (the JSON keys of an
event are the column names), which extra keys a trigger computes, and the ``CREATE``/``DROP``
statements for each database. Triggers rather than Django signals because signals miss
``QuerySet.update()``, bulk writes and raw SQL; a trigger sees every row a statement touches and
writes the event in the writer's own transaction, so a rolled-back change leaves no event.

Every trigger first checks that ``strangler_sync_origin`` is empty. A writer that must not be
captured (the reverse relay, the seed) inserts a row there inside its own transaction; other
transactions never see that uncommitted row, so only the writer's own changes are skipped.

An event row: ``txid`` (``txid_current()`` on PostgreSQL, 0 on SQLite, where writers are serialised),
``table_name``, ``op`` (I, U, D), ``row_id``, ``old_data``/``new_data`` (JSON text; NULL on insert/delete),
``created_at`` (UTC, clock time of the change). JSON values are the stored values: SQLite gives 0/1
for booleans and Django's datetime text (``YYYY-MM-DD HH:MM:SS[.ffffff]``, UTC); PostgreSQL gives
true/false and ISO datetimes with an offset. Consumers normalise both.

Extra keys read other tables at the moment of the change: an adjustment's ``created_by_username``
(``auth_user``), a reservation's ``order_number`` (``orders_order``). Either is null when that row is
missing; for ``order_number`` that happens when a reservation is deleted after its order in the same
transaction (Django's foreign keys are deferred, so raw SQL may delete in that order; Django's own
cascade deletes the reservations first and reads the number).

On PostgreSQL each captured change also sends ``NOTIFY strangler_outbox`` (delivered once per
committing transaction), so a relay can wake instead of polling.

Not captured: ``TRUNCATE`` (no row triggers fire), hence ``manage.py flush`` on PostgreSQL; on SQLite a
flush deletes row by row and may leave delete events, depending on the order it empties the tables in.
A flushed database is a new start: reseed, then run the backfill again.

This module imports nothing from Django: the CLI and tests can read it without a configured project.
Changing what is captured on a live database needs a new migration that drops and recreates the
triggers with these functions (migration 0001 installs whatever this module says when it runs).
"""

from dataclasses import dataclass

OUTBOX_TABLE = "strangler_outbox"
ORIGIN_TABLE = "strangler_sync_origin"
CURSOR_TABLE = "strangler_sync_cursor"
NOTIFY_CHANNEL = "strangler_outbox"

_OPS = (("I", "INSERT"), ("U", "UPDATE"), ("D", "DELETE"))


@dataclass(frozen=True)
class CapturedTable:
    """One captured table: its columns, the columns whose updates count, and computed extra keys.

    ``update_of`` empty: every update is captured. Otherwise only updates that change one of these
    columns (both databases compare old and new values; ``UPDATE OF`` alone would also fire for a
    ``save()`` that rewrites an unchanged column). ``extras`` are ``(key, SQL expression)`` pairs whose
    ``{row}`` stands for ``NEW`` or ``OLD``.
    """

    name: str
    columns: tuple[str, ...]
    update_of: tuple[str, ...] = ()
    extras: tuple[tuple[str, str], ...] = ()

    def keys(self) -> tuple[str, ...]:
        """The JSON keys of this table's events, in order."""
        return self.columns + tuple(key for key, _ in self.extras)


CAPTURED_TABLES: tuple[CapturedTable, ...] = (
    CapturedTable("catalog_category", ("id", "slug"), update_of=("slug",)),
    CapturedTable("catalog_product", ("id", "sku", "name", "category_id"), update_of=("sku", "name", "category_id")),
    CapturedTable("inventory_warehouse", ("id", "code", "name", "city", "country", "active")),
    CapturedTable(
        "inventory_stockitem", ("id", "product_id", "warehouse_id", "on_hand", "reserved", "reorder_level", "updated_at")
    ),
    CapturedTable(
        "inventory_stockadjustment",
        ("id", "product_id", "warehouse_id", "kind", "quantity", "reason", "created_by_id", "created_at"),
        extras=(("created_by_username", "(SELECT username FROM auth_user WHERE id = {row}.created_by_id)"),),
    ),
    # order_number is null when the order row is already gone (see the module docstring).
    CapturedTable(
        "inventory_reservation",
        ("id", "order_id", "product_id", "warehouse_id", "quantity", "status", "created_at", "updated_at"),
        extras=(("order_number", "(SELECT number FROM orders_order WHERE id = {row}.order_id)"),),
    ),
    CapturedTable(
        "inventory_stockmovement",
        ("id", "product_id", "warehouse_id", "kind", "quantity", "reference", "reason", "created_by_id", "created_at"),
    ),
)


class UnsupportedDatabase(ValueError):
    """Change capture has no triggers for this database."""


def trigger_name(table: CapturedTable, op: str) -> str:
    """``strangler_capture_<table>_<insert|update|delete>`` (unique per database on SQLite too)."""
    return f"strangler_capture_{table.name}_{dict(_OPS)[op].lower()}"


def create_trigger_sql(vendor: str, tables: tuple[CapturedTable, ...] = CAPTURED_TABLES) -> list[str]:
    """The statements that install capture for `tables` on a `vendor` database ('sqlite', 'postgresql')."""
    if vendor == "sqlite":
        return [sql for table in tables for sql in _sqlite_create(table)]
    if vendor == "postgresql":
        return [sql for table in tables for sql in _postgresql_create(table)]
    raise _unsupported(vendor)


def drop_trigger_sql(vendor: str, tables: tuple[CapturedTable, ...] = CAPTURED_TABLES) -> list[str]:
    """The statements that remove what ``create_trigger_sql`` installed (safe to run when it is absent)."""
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {trigger_name(table, op)}" for table in tables for op, _ in _OPS]
    if vendor == "postgresql":
        return [
            sql
            for table in tables
            for sql in (
                *(f"DROP TRIGGER IF EXISTS {trigger_name(table, op)} ON {table.name}" for op, _ in _OPS),
                f"DROP FUNCTION IF EXISTS {_pg_function(table)}()",
            )
        ]
    raise _unsupported(vendor)


def _unsupported(vendor: str) -> UnsupportedDatabase:
    return UnsupportedDatabase(
        f"The outbox captures changes with triggers on SQLite and PostgreSQL only; this database is {vendor!r}."
    )


def _json_args(table: CapturedTable, row: str) -> str:
    """``'id', NEW.id, 'sku', NEW.sku, ...``: the arguments of json_object / json_build_object."""
    pairs = [f"'{column}', {row}.{column}" for column in table.columns]
    pairs += [f"'{key}', {expression.format(row=row)}" for key, expression in table.extras]
    return ", ".join(pairs)


def _changed(table: CapturedTable, distinct: str) -> str:
    """A condition true when one of ``update_of`` changed; `distinct` is the null-safe inequality."""
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in table.update_of)


def _sqlite_create(table: CapturedTable) -> list[str]:
    statements = []
    for op, event in _OPS:
        when = f"NOT EXISTS (SELECT 1 FROM {ORIGIN_TABLE})"
        if op == "U" and table.update_of:
            event = f"UPDATE OF {', '.join(table.update_of)}"
            when += f" AND ({_changed(table, 'IS NOT')})"
        old = "NULL" if op == "I" else f"json_object({_json_args(table, 'OLD')})"
        new = "NULL" if op == "D" else f"json_object({_json_args(table, 'NEW')})"
        row_id = "OLD.id" if op == "D" else "NEW.id"
        statements.append(
            f"CREATE TRIGGER {trigger_name(table, op)}\n"
            f"AFTER {event} ON {table.name}\n"
            f"FOR EACH ROW WHEN {when}\n"
            f"BEGIN\n"
            f"  INSERT INTO {OUTBOX_TABLE} (txid, table_name, op, row_id, old_data, new_data, created_at)\n"
            # Django's own SQLite datetime text (UTC, naive), milliseconds.
            f"  VALUES (0, '{table.name}', '{op}', {row_id}, {old}, {new}, strftime('%Y-%m-%d %H:%M:%f', 'now'));\n"
            f"END"
        )
    return statements


def _pg_function(table: CapturedTable) -> str:
    return f"strangler_capture_{table.name}"


def _postgresql_create(table: CapturedTable) -> list[str]:
    def insert(op: str, row_id: str, old: str, new: str) -> str:
        return (
            f"INSERT INTO {OUTBOX_TABLE} (txid, table_name, op, row_id, old_data, new_data, created_at)\n"
            f"    VALUES (txid_current(), '{table.name}', '{op}', {row_id}, {old}, {new}, clock_timestamp());"
        )

    old_json, new_json = (f"json_build_object({_json_args(table, row)})::text" for row in ("OLD", "NEW"))
    # A trigger's WHEN may not hold a subquery on PostgreSQL: the origin check lives in the function.
    function = (
        f"CREATE OR REPLACE FUNCTION {_pg_function(table)}() RETURNS trigger LANGUAGE plpgsql AS $capture$\n"
        f"BEGIN\n"
        f"  IF EXISTS (SELECT 1 FROM {ORIGIN_TABLE}) THEN\n"
        f"    RETURN NULL;\n"
        f"  END IF;\n"
        f"  IF TG_OP = 'INSERT' THEN\n"
        f"    {insert('I', 'NEW.id', 'NULL', new_json)}\n"
        f"  ELSIF TG_OP = 'UPDATE' THEN\n"
        f"    {insert('U', 'NEW.id', old_json, new_json)}\n"
        f"  ELSE\n"
        f"    {insert('D', 'OLD.id', old_json, 'NULL')}\n"
        f"  END IF;\n"
        f"  PERFORM pg_notify('{NOTIFY_CHANNEL}', '');\n"
        f"  RETURN NULL;\n"
        f"END\n"
        f"$capture$"
    )
    statements = [function]
    for op, event in _OPS:
        when = ""
        if op == "U" and table.update_of:
            event = f"UPDATE OF {', '.join(table.update_of)}"
            when = f"\nWHEN ({_changed(table, 'IS DISTINCT FROM')})"
        statements.append(
            f"CREATE TRIGGER {trigger_name(table, op)}\n"
            f"AFTER {event} ON {table.name}\n"
            f"FOR EACH ROW{when}\n"
            f"EXECUTE FUNCTION {_pg_function(table)}()"
        )
    return statements
