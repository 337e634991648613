"""Rows the small seed lacks but the inventory endpoints must be seen answering with, added on top of it
(in the seeded transaction of tests/parity/conftest.py, and by make_inventory_corpus.py when it records
what the monolith answers):

- adjustments of both kinds, one with no creator (``created_by`` null), made through the monolith's own
  service so their stock rows and movements (``ADJ-<id>``) are what the monolith writes;
- an inactive warehouse (CGN: filters, and "Object with code=CGN does not exist." on an adjustment) and
  an Austrian one with no stock at all (VIE: the country filter, and the stock row an adjustment
  creates);
- a product with no stock rows (its summary is zeros and no warehouses).
"""

NO_STOCK_SKU = "TG-PARITY-00001"


def add_parity_extras() -> None:
    from django.contrib.auth import get_user_model

    from legacy_monolith.catalog.models import Category, Product
    from legacy_monolith.inventory.models import Warehouse
    from legacy_monolith.inventory.services import stock_adjust

    _restart_sequences()
    admin = get_user_model().objects.get(username="admin")
    Warehouse.objects.create(code="CGN", name="Cologne West Warehouse", city="Cologne", country="DE", active=False)
    Warehouse.objects.create(code="VIE", name="Vienna Hub", city="Vienna", country="AT", active=True)
    Product.objects.create(sku=NO_STOCK_SKU, name="Parity probe, never stocked", category=Category.objects.order_by("id").first(),
                           unit_price="1.00")
    first, second, third = Product.objects.exclude(sku=NO_STOCK_SKU).order_by("sku")[:3]
    berlin, hamburg = Warehouse.objects.get(code="BER"), Warehouse.objects.get(code="HAM")
    stock_adjust(product=first, warehouse=berlin, kind="receive", quantity=40, reason="Supplier delivery 4711",
                 user=admin)
    stock_adjust(product=second, warehouse=berlin, kind="write_off", quantity=3, reason="Damaged in transit",
                 user=admin)
    stock_adjust(product=third, warehouse=hamburg, kind="receive", quantity=12, reason="Customer return, resaleable",
                 user=None)


def _restart_sequences() -> None:
    """On PostgreSQL, start the id sequences of the tables written here after their highest id: a sequence
    is not rolled back with the transactions of earlier tests, and the corpus names these rows by id
    (adjustments 1 to 3 ...). SQLite's AUTOINCREMENT is transactional and needs nothing."""
    from django.core.management.color import no_style
    from django.db import connection

    from legacy_monolith.catalog.models import Product
    from legacy_monolith.inventory.models import StockAdjustment, StockItem, StockMovement, Warehouse

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [Warehouse, Product, StockItem, StockAdjustment,
                                                                         StockMovement]):
            cursor.execute(statement)
