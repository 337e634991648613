"""Django's ORM lookups as SQLAlchemy expressions, so a service's queries select exactly the rows the
monolith's would, on SQLite and on PostgreSQL.

- `icontains`: SQLite ``col LIKE '%term%' ESCAPE '\\'`` (ASCII-only case folding, as SQLite does it);
  PostgreSQL ``UPPER(col::text) LIKE UPPER('%term%')``. ``%``, ``_`` and ``\\`` in the term are escaped.
- `search_condition`: DRF's SearchFilter: every term must match one of the fields.
- `lookup_int`: Django's IntegerField.get_prep_value (``int()``, which truncates a Decimal and accepts
  " 7", "+7", "7_0");
- `equals_int`, `at_least_int`: Django's overflow rule: a value outside the range of the column's type
  on this database (an integer column is 32-bit on PostgreSQL and 64-bit on SQLite, a bigint 64-bit on
  both) matches nothing (``=``, ``>=`` past the top) or everything (``>=`` below the bottom), and is
  never sent to the database (PostgreSQL would refuse it).
"""

from decimal import Decimal

from sqlalchemy import Text, and_, cast, false, func, literal, or_, true
from sqlalchemy.sql.elements import ColumnElement

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1


def integer_range(dialect: str, *, big: bool) -> tuple[int, int]:
    """connection.ops.integer_field_range of Django for an IntegerField (or BigIntegerField when `big`)."""
    if big or dialect == "sqlite":
        return BIGINT_MIN, BIGINT_MAX
    return INTEGER_MIN, INTEGER_MAX


def escape_like(term: str) -> str:
    """connection.ops.prep_for_like_query: the term taken literally inside a LIKE pattern."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def icontains(column: ColumnElement, term: str, dialect: str) -> ColumnElement[bool]:
    pattern = f"%{escape_like(term)}%"
    if dialect == "postgresql":
        return func.upper(cast(column, Text)).like(func.upper(literal(pattern, Text)))
    return column.like(pattern, escape="\\")


def search_condition(columns: list[ColumnElement], terms: list[str], dialect: str) -> ColumnElement[bool] | None:
    """AND over the terms of (OR over the columns of `icontains`), or None without terms."""
    if not terms:
        return None
    return and_(*(or_(*(icontains(column, term, dialect) for column in columns)) for term in terms))


def lookup_int(value: str | int | Decimal) -> int | None:
    """The integer Django would look up for `value`, or None where Django raises ValueError/TypeError."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def equals_int(column: ColumnElement, value: int, dialect: str, *, big: bool = True) -> ColumnElement[bool]:
    """``column = value``; nothing when `value` is out of range (Django's EmptyResultSet)."""
    low, high = integer_range(dialect, big=big)
    return column == value if low <= value <= high else false()


def at_least_int(column: ColumnElement, value: int, dialect: str, *, big: bool = False) -> ColumnElement[bool]:
    """``column >= value``; everything below the range, nothing above it (Django's overflow rule)."""
    low, high = integer_range(dialect, big=big)
    if value < low:
        return true()
    if value > high:
        return false()
    return column >= value
