"""Reads of the inventory service, shaped as the monolith's API shows them (its serializers' fields, in
their order), so the endpoints only paginate and render.

Each list is two queries: a count, and one page in one SELECT with its joins (no lazy loads, no ORM
objects: rows become dicts directly). Filters, search and ordering mean what the monolith's filter
backends mean (`extracted.inventory.filters`); orderings end with the row id, which the monolith's
do not: where its order leaves ties, the database picks an order (see tests/parity/ties.py).
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, func, not_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from extracted.common.filters import OrderTerm
from extracted.common.lookups import at_least_int, equals_int, lookup_int, search_condition
from extracted.common.pagination import Page
from extracted.common.rendering import drf_datetime
from extracted.inventory.filters import Criteria
from extracted.inventory.models import Category, Product, Reservation, StockAdjustment, StockItem, StockMovement, Warehouse

stock, products, warehouses = StockItem.__table__, Product.__table__, Warehouse.__table__
categories, adjustments = Category.__table__, StockAdjustment.__table__
reservations, movements = Reservation.__table__, StockMovement.__table__
available = (stock.c.on_hand - stock.c.reserved).label("available")


class Listing:
    """One endpoint's SELECT: columns, FROM with joins, filters, search and order columns, row shape."""

    def __init__(self, columns: list, from_: Any, id_column: ColumnElement, shape: Callable[[Any], dict],
                 conditions: Callable[[Criteria, str], list], search_columns: list, order_columns: dict[str, Any]):
        self.columns, self.from_, self.id_column, self.shape = columns, from_, id_column, shape
        self.conditions, self.search_columns, self.order_columns = conditions, search_columns, order_columns

    def _where(self, criteria: Criteria, dialect: str) -> list:
        where = self.conditions(criteria, dialect)
        search = search_condition(self.search_columns, criteria.terms, dialect)
        return where + ([search] if search is not None else [])

    def count(self, session: Session, criteria: Criteria) -> int:
        where = self._where(criteria, _dialect(session))
        return session.execute(select(func.count()).select_from(self.from_).where(*where)).scalar_one()

    def page(self, session: Session, criteria: Criteria, page: Page) -> list[dict]:
        statement = self._select(criteria, _dialect(session)).limit(page.size).offset(page.offset)
        return [self.shape(row) for row in session.execute(statement)]

    def one(self, session: Session, criteria: Criteria, pk: int) -> dict | None:
        """The row with id `pk` if the request's filters keep it (DRF filters before get_object)."""
        dialect = _dialect(session)
        statement = self._select(criteria, dialect).where(equals_int(self.id_column, pk, dialect))
        row = session.execute(statement).first()
        return self.shape(row) if row is not None else None

    def _select(self, criteria: Criteria, dialect: str) -> Select:
        order = [self._order(term) for term in criteria.order]
        return select(*self.columns).select_from(self.from_).where(*self._where(criteria, dialect)).order_by(
            *order, self.id_column)

    def _order(self, term: OrderTerm):
        column = self.order_columns[term.field]
        return column.desc() if term.descending else column.asc()


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# -- stock -------------------------------------------------------------------------------------------------
def _stock_conditions(criteria: Criteria, dialect: str) -> list:
    f = criteria.filters
    where = []
    if "sku" in f:
        where.append(products.c.sku == f["sku"])
    if "warehouse" in f:
        where.append(warehouses.c.code == f["warehouse"])
    if "category" in f:
        where.append(products.c.category_id.in_(select(categories.c.id).where(categories.c.slug == f["category"])))
    if "low_stock" in f:
        low = (stock.c.on_hand - stock.c.reserved) <= stock.c.reorder_level
        where.append(low if f["low_stock"] else not_(low))
    if "min_available" in f:
        # Django prepares the Decimal for an integer expression with int(): 2.5 means >= 2.
        where.append(at_least_int(stock.c.on_hand - stock.c.reserved, int(f["min_available"]), dialect))
    return where


def _stock_row(row) -> dict:
    return {"id": row[0], "sku": row[1], "product_name": row[2], "warehouse": row[3], "on_hand": row[4],
            "reserved": row[5], "available": row[6], "reorder_level": row[7], "updated_at": drf_datetime(row[8])}


STOCK_LIST = Listing(
    [stock.c.id, products.c.sku, products.c.name, warehouses.c.code, stock.c.on_hand, stock.c.reserved, available,
     stock.c.reorder_level, stock.c.updated_at],
    stock.join(products, products.c.id == stock.c.product_id).join(warehouses, warehouses.c.id == stock.c.warehouse_id),
    stock.c.id, _stock_row, _stock_conditions, [products.c.sku, products.c.name],
    {"sku": products.c.sku, "warehouse": warehouses.c.code, "on_hand": stock.c.on_hand,
     "reserved": stock.c.reserved, "available": stock.c.on_hand - stock.c.reserved, "updated_at": stock.c.updated_at},
)


def product_stock(session: Session, sku: str) -> dict | None:
    """A product's stock summed over its warehouses, with the per-warehouse figures by warehouse code;
    None when no product has this SKU. One query: the product left-joined to its stock rows."""
    statement = (
        select(products.c.sku, products.c.name, warehouses.c.code, stock.c.on_hand, stock.c.reserved)
        .select_from(products.outerjoin(stock, stock.c.product_id == products.c.id)
                     .outerjoin(warehouses, warehouses.c.id == stock.c.warehouse_id))
        .where(products.c.sku == sku)
        .order_by(warehouses.c.code)
    )
    rows = session.execute(statement).all()
    if not rows:
        return None
    levels = [{"warehouse": code, "on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved}
              for _, _, code, on_hand, reserved in rows if code is not None]
    on_hand = sum(level["on_hand"] for level in levels)
    reserved = sum(level["reserved"] for level in levels)
    return {"sku": rows[0][0], "product_name": rows[0][1], "on_hand": on_hand, "reserved": reserved,
            "available": on_hand - reserved, "warehouses": levels}


# -- warehouses --------------------------------------------------------------------------------------------
def _warehouse_conditions(criteria: Criteria, dialect: str) -> list:
    f = criteria.filters
    where = []
    if "country" in f:
        where.append(warehouses.c.country == f["country"])
    if "active" in f:
        where.append(warehouses.c.active == f["active"])
    return where


def warehouse_row(row) -> dict:
    return {"id": row[0], "code": row[1], "name": row[2], "city": row[3], "country": row[4], "active": bool(row[5])}


WAREHOUSE_LIST = Listing(
    [warehouses.c.id, warehouses.c.code, warehouses.c.name, warehouses.c.city, warehouses.c.country,
     warehouses.c.active],
    warehouses, warehouses.c.id, warehouse_row, _warehouse_conditions,
    [warehouses.c.code, warehouses.c.name, warehouses.c.city],
    {"code": warehouses.c.code, "name": warehouses.c.name, "city": warehouses.c.city},
)


# -- adjustments, reservations, movements --------------------------------------------------------------------
def _with_product_and_warehouse(table):
    return table.join(products, products.c.id == table.c.product_id).join(
        warehouses, warehouses.c.id == table.c.warehouse_id)


def _adjustment_conditions(criteria: Criteria, dialect: str) -> list:
    return [adjustments.c.kind == criteria.filters["kind"]] if "kind" in criteria.filters else []


def adjustment_row(row) -> dict:
    return {"id": row[0], "sku": row[1], "warehouse": row[2], "kind": row[3], "quantity": row[4], "reason": row[5],
            "created_by": row[6], "created_at": drf_datetime(row[7])}


ADJUSTMENT_LIST = Listing(
    [adjustments.c.id, products.c.sku, warehouses.c.code, adjustments.c.kind, adjustments.c.quantity,
     adjustments.c.reason, adjustments.c.created_by_username, adjustments.c.created_at],
    _with_product_and_warehouse(adjustments), adjustments.c.id, adjustment_row, _adjustment_conditions,
    [products.c.sku, adjustments.c.reason],
    {"created_at": adjustments.c.created_at, "quantity": adjustments.c.quantity, "id": adjustments.c.id},
)


def _equal_to_filters(columns: dict[str, ColumnElement]) -> Callable[[Criteria, str], list]:
    """Conditions `column == value` for each filter given, as django-filter's exact lookups are."""
    def conditions(criteria: Criteria, dialect: str) -> list:
        return [column == criteria.filters[name] for name, column in columns.items() if name in criteria.filters]

    return conditions


_reservation_conditions = _equal_to_filters({
    "order": reservations.c.order_number, "sku": products.c.sku, "warehouse": warehouses.c.code,
    "status": reservations.c.status,
})


def _reservation_row(row) -> dict:
    return {"id": row[0], "order": row[1], "sku": row[2], "warehouse": row[3], "quantity": row[4], "status": row[5],
            "created_at": drf_datetime(row[6]), "updated_at": drf_datetime(row[7])}


RESERVATION_LIST = Listing(
    [reservations.c.id, reservations.c.order_number, products.c.sku, warehouses.c.code, reservations.c.quantity,
     reservations.c.status, reservations.c.created_at, reservations.c.updated_at],
    _with_product_and_warehouse(reservations), reservations.c.id, _reservation_row, _reservation_conditions, [],
    {"created_at": reservations.c.created_at, "quantity": reservations.c.quantity, "id": reservations.c.id},
)


_movement_equal_to = _equal_to_filters({
    "sku": products.c.sku, "warehouse": warehouses.c.code, "kind": movements.c.kind, "reference": movements.c.reference,
})


def _movement_conditions(criteria: Criteria, dialect: str) -> list:
    f = criteria.filters
    where = _movement_equal_to(criteria, dialect)
    if "created_after" in f:
        where.append(movements.c.created_at >= f["created_after"])
    if "created_before" in f:
        where.append(movements.c.created_at < f["created_before"])
    return where


def _movement_row(row) -> dict:
    return {"id": row[0], "sku": row[1], "warehouse": row[2], "kind": row[3], "quantity": row[4],
            "reference": row[5], "reason": row[6], "created_at": drf_datetime(row[7])}


MOVEMENT_LIST = Listing(
    [movements.c.id, products.c.sku, warehouses.c.code, movements.c.kind, movements.c.quantity, movements.c.reference,
     movements.c.reason, movements.c.created_at],
    _with_product_and_warehouse(movements), movements.c.id, _movement_row, _movement_conditions, [],
    {"created_at": movements.c.created_at, "quantity": movements.c.quantity, "id": movements.c.id},
)


def detail_pk(value: str) -> int | None:
    """The id a detail URL names, as Django reads it (int()), or None for "Not found."."""
    return lookup_int(value)
