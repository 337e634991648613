"""Insert seed rows (``rows`` NamedTuples) in batches, bypassing the ORM; reset id sequences after.

Why not ``bulk_create``: for the large dataset, building three million model instances and
running each field through ``pre_save``/``get_db_prep_save`` took four times longer than the
database work itself. The rows here already hold database-ready values (ints, strings, bools,
Decimals rounded to cents, aware UTC datetimes); the only conversion left is the datetime format
SQLite expects, done the way Django's SQLite backend does it. Other backends than SQLite and
PostgreSQL get every value through the field's own ``get_db_prep_save``. Rows go in with
``executemany`` (one prepared statement on SQLite) or, on PostgreSQL with psycopg 3, with ``COPY``,
which is several times faster there than row-by-row INSERTs.

Explicit ids need the tables empty (the command checks) and, on PostgreSQL, a sequence reset
afterwards (``reset_sequences``); SQLite moves its AUTOINCREMENT counter by itself.
"""

from collections import Counter
from collections.abc import Iterable
from itertools import chain, islice

from django.core.management.color import no_style
from django.db import connections, models

# Vendors whose driver takes the rows' Python values (bool, Decimal, aware datetime) as Django would.
_NATIVE_VENDORS = {"sqlite", "postgresql"}


class TableWriter:
    """Writes rows to a model's table on the `using` database, `batch_size` rows per ``executemany``."""

    def __init__(self, *, batch_size: int, using: str = "default"):
        self.batch_size = batch_size
        self.connection = connections[using]
        self.counts: Counter[str] = Counter()

    def _converter(self, field):
        """How a value of `field` becomes a query parameter; None when it passes unchanged."""
        connection = self.connection
        if connection.vendor not in _NATIVE_VENDORS:
            return lambda value: field.get_db_prep_save(value, connection)
        if field.choices and isinstance(field, models.CharField):
            # TextChoices members are str *and* Enum; a driver could dump them by name. Pass the value.
            return _plain_str
        if isinstance(field, models.DateTimeField) and connection.vendor == "sqlite":
            zone = connection.timezone

            def sqlite_datetime(value):
                # As DatabaseOperations.adapt_datetimefield_value: naive in the connection's zone, str().
                return None if value is None else str(value.astimezone(zone).replace(tzinfo=None))

            return sqlite_datetime
        return None

    def _fields(self, model, columns: tuple[str, ...]):
        """The model fields for `columns` (attnames); every non-null column must be among them."""
        by_attname = {field.attname: field for field in model._meta.concrete_fields}
        unknown = [name for name in columns if name not in by_attname]
        missing = [f.attname for f in by_attname.values() if not f.null and f.attname not in columns]
        if unknown or missing:
            raise ValueError(f"Rows for {model._meta.label}: unknown columns {unknown}, missing non-null {missing}")
        return [by_attname[name] for name in columns]

    def write(self, model, rows: Iterable[tuple]) -> int:
        """Insert `rows` (consumed lazily, batch by batch); returns how many were written."""
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return 0
        fields = self._fields(model, type(first)._fields)
        converters = [(index, conv) for index, field in enumerate(fields) if (conv := self._converter(field))]
        quote = self.connection.ops.quote_name
        table, columns = quote(model._meta.db_table), ", ".join(quote(field.column) for field in fields)
        rows, written = chain([first], rows), 0
        with self.connection.cursor() as cursor:
            copy = getattr(cursor.cursor, "copy", None)  # psycopg 3
            while batch := list(islice(rows, self.batch_size)):
                if converters:
                    batch = [_convert(row, converters) for row in batch]
                if copy is not None:
                    with copy(f"COPY {table} ({columns}) FROM STDIN") as stream:
                        for row in batch:
                            stream.write_row(row)
                else:
                    placeholders = ", ".join(["%s"] * len(fields))
                    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", batch)
                written += len(batch)
        self.counts[model._meta.model_name] += written
        return written


def _plain_str(value):
    return None if value is None else str(value)


def _convert(row: tuple, converters) -> list:
    values = list(row)
    for index, convert in converters:
        values[index] = convert(values[index])
    return values


def reset_sequences(models_, using: str = "default") -> None:
    """Point each model's id sequence past its highest id (no statements on SQLite)."""
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), list(models_))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
