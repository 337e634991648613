"""The monolith's side of the sync, named in one place: its tables, their columns, and its outbox.

The service never imports the monolith's code; it knows the monolith's database the way any reader of
a schema would. Each `SyncedTable` pairs a service table with the monolith table it mirrors: the
columns both sides share (same names), and the service-only columns the monolith derives from a join
(``created_by_username`` from auth_user, ``order_number`` from orders_order). Django's default table
names are ``<app>_<model>``.
"""

from dataclasses import dataclass, field

from sqlalchemy import Table

from extracted.inventory.models import Base

# The monolith's capture tables (Django app legacy_monolith/outbox).
OUTBOX = "strangler_outbox"
SYNC_ORIGIN = "strangler_sync_origin"
SYNC_CURSOR = "strangler_sync_cursor"
NOTIFY_CHANNEL = "strangler_outbox"  # PostgreSQL: every captured change NOTIFYs here


@dataclass(frozen=True)
class SyncedTable:
    """A service table and the monolith table it mirrors."""

    service: str
    legacy: str
    columns: tuple[str, ...]                      # shared by both sides, "id" first
    derived: dict[str, str] = field(default_factory=dict)  # service-only column -> SQL on the monolith
    joins: str = ""                               # what the derived expressions need, the table aliased "t"

    @property
    def service_columns(self) -> tuple[str, ...]:
        return self.columns + tuple(self.derived)

    @property
    def model(self) -> Table:
        return Base.metadata.tables[self.service]

    def select_after(self, *, limit: bool = True) -> str:
        """The monolith's rows after ``:after`` by id (at most ``:limit``), as the service's columns."""
        selected = [f"t.{name}" for name in self.columns] + [f"{sql} AS {name}" for name, sql in self.derived.items()]
        return (f"SELECT {', '.join(selected)} FROM {self.legacy} t {self.joins} "
                f"WHERE t.id > :after ORDER BY t.id" + (" LIMIT :limit" if limit else ""))

    def count(self) -> str:
        return f"SELECT count(*) FROM {self.legacy}"


# In foreign-key order: a table's references are copied before it.
TABLES: tuple[SyncedTable, ...] = (
    SyncedTable("categories", "catalog_category", ("id", "slug")),
    SyncedTable("products", "catalog_product", ("id", "sku", "name", "category_id")),
    SyncedTable("warehouses", "inventory_warehouse", ("id", "code", "name", "city", "country", "active")),
    SyncedTable("stock_items", "inventory_stockitem",
                ("id", "product_id", "warehouse_id", "on_hand", "reserved", "reorder_level", "updated_at")),
    SyncedTable("adjustments", "inventory_stockadjustment",
                ("id", "product_id", "warehouse_id", "kind", "quantity", "reason", "created_by_id", "created_at"),
                derived={"created_by_username": "u.username"},
                joins="LEFT JOIN auth_user u ON u.id = t.created_by_id"),
    SyncedTable("reservations", "inventory_reservation",
                ("id", "order_id", "product_id", "warehouse_id", "quantity", "status", "created_at", "updated_at"),
                derived={"order_number": "o.number"},
                joins="LEFT JOIN orders_order o ON o.id = t.order_id"),
    SyncedTable("movements", "inventory_stockmovement",
                ("id", "product_id", "warehouse_id", "kind", "quantity", "reference", "reason", "created_by_id",
                 "created_at")),
)

BY_SERVICE = {table.service: table for table in TABLES}
BY_LEGACY = {table.legacy: table for table in TABLES}
