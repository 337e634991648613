"""The outbox captures every change to the inventory tables in the writer's transaction, however it is made.

ORM saves, ``QuerySet.update()``, bulk writes, deletes and raw SQL all go through the triggers; a rolled
back change leaves no event. Runs on SQLite and, with DATABASE_URL pointing at PostgreSQL, there too.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F

from legacy_monolith.catalog.models import Category, Product
from legacy_monolith.inventory import services as inventory_services
from legacy_monolith.inventory.models import StockItem, StockMovement, Warehouse
from legacy_monolith.orders import services as order_services
from legacy_monolith.outbox import capture
from tests.support.outbox_events import OutboxReader, as_utc

pytestmark = pytest.mark.django_db



def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def json_bool(value: bool):
    """How a boolean column reads in an event: true/false on PostgreSQL, 1/0 on SQLite."""
    return value if on_postgres() else int(value)


@pytest.fixture
def outbox(db):
    """Events since the fixture was set up; tests call ``skip()`` after arranging their rows."""
    return OutboxReader()


@pytest.fixture
def item(make_product, make_warehouse, stock):
    return stock(make_product(), make_warehouse(), on_hand=10)


def _warehouse_json(warehouse):
    return {"id": warehouse.pk, "code": warehouse.code, "name": warehouse.name, "city": warehouse.city,
            "country": warehouse.country, "active": json_bool(warehouse.active)}


def test_every_captured_table_has_its_three_triggers(db):
    expected = {capture.trigger_name(table, op) for table in capture.CAPTURED_TABLES for op in "IUD"}
    with connection.cursor() as cursor:
        if on_postgres():
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", ["strangler_capture_%"])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s", ["strangler_capture_%"])
        installed = {name for (name,) in cursor.fetchall()}
    assert installed == expected


def test_an_orm_create_records_an_insert_with_the_captured_columns(outbox):
    warehouse = Warehouse.objects.create(code="HAM", name="Hamburg DC", city="Hamburg", country="DE")

    [event] = outbox.events()
    assert (event.table, event.op, event.row_id, event.old) == ("inventory_warehouse", "I", warehouse.pk, None)
    assert event.new == _warehouse_json(warehouse)


def test_a_save_records_an_update_with_the_row_before_and_after(outbox, make_warehouse):
    warehouse = make_warehouse(code="HAM", name="Hamburg")
    before = _warehouse_json(warehouse)
    outbox.skip()

    warehouse.name, warehouse.active = "Hamburg North", False
    warehouse.save()

    [event] = outbox.events()
    assert (event.table, event.op, event.row_id) == ("inventory_warehouse", "U", warehouse.pk)
    assert event.old == before
    assert event.new == {**before, "name": "Hamburg North", "active": json_bool(False)}


def test_a_queryset_update_with_an_f_expression_records_each_row(outbox, make_product, make_warehouse, stock):
    product = make_product()
    first, second = stock(product, make_warehouse(), on_hand=10), stock(product, make_warehouse(), on_hand=4)
    outbox.skip()

    assert StockItem.objects.filter(product=product).update(on_hand=F("on_hand") + 5) == 2

    events = outbox.events()
    assert {(e.table, e.op, e.row_id) for e in events} == {
        ("inventory_stockitem", "U", first.pk), ("inventory_stockitem", "U", second.pk)
    }
    by_id = {e.row_id: e for e in events}
    assert (by_id[first.pk].old["on_hand"], by_id[first.pk].new["on_hand"]) == (10, 15)
    assert (by_id[second.pk].old["on_hand"], by_id[second.pk].new["on_hand"]) == (4, 9)
    assert set(by_id[first.pk].new) == {"id", "product_id", "warehouse_id", "on_hand", "reserved", "reorder_level",
                                        "updated_at"}
    first.refresh_from_db()
    assert as_utc(by_id[first.pk].new["updated_at"]) == first.updated_at


def test_bulk_create_and_bulk_update_record_every_row(outbox, item):
    outbox.skip()
    movements = StockMovement.objects.bulk_create([
        StockMovement(product=item.product, warehouse=item.warehouse, kind="receipt", quantity=n, reference=f"R{n}")
        for n in (1, 2, 3)
    ])
    item.reorder_level = 25
    StockItem.objects.bulk_update([item], ["reorder_level"])

    inserted = outbox.events("inventory_stockmovement")
    assert [(e.op, e.new["quantity"], e.new["reference"]) for e in inserted] == [
        ("I", 1, "R1"), ("I", 2, "R2"), ("I", 3, "R3")
    ]
    assert [e.row_id for e in inserted] == [m.pk for m in movements] == [e.new["id"] for e in inserted]
    [updated] = outbox.events("inventory_stockitem")
    assert (updated.op, updated.row_id, updated.old["reorder_level"], updated.new["reorder_level"]) == (
        "U", item.pk, 10, 25
    )


def test_a_delete_records_the_row_it_removed(outbox, make_warehouse):
    warehouse = make_warehouse(code="OLD")
    before, pk = _warehouse_json(warehouse), warehouse.pk
    outbox.skip()

    warehouse.delete()

    [event] = outbox.events()
    assert (event.table, event.op, event.row_id, event.old, event.new) == ("inventory_warehouse", "D", pk, before, None)


def test_raw_sql_is_captured_too(outbox):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_warehouse (code, name, city, country, active) VALUES (%s, %s, %s, %s, %s)",
            ["RAW", "Raw depot", "Bonn", "DE", True],
        )
        pk = Warehouse.objects.get(code="RAW").pk
        cursor.execute("UPDATE inventory_warehouse SET city = %s WHERE id = %s", ["Köln", pk])
        cursor.execute("DELETE FROM inventory_warehouse WHERE id = %s", [pk])

    events = outbox.events()
    assert [(e.op, e.row_id) for e in events] == [("I", pk), ("U", pk), ("D", pk)]
    assert (events[0].new["city"], events[1].old["city"], events[1].new["city"], events[2].old["city"]) == (
        "Bonn", "Bonn", "Köln", "Köln"
    )


def test_a_rolled_back_change_leaves_no_event(outbox, item):
    outbox.skip()
    with pytest.raises(RuntimeError), transaction.atomic():
        StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + 1)
        Warehouse.objects.create(code="TMP", name="Temporary", city="Berlin")
        assert len(outbox.events()) == 2  # written, visible inside the transaction...
        raise RuntimeError("abort")

    assert outbox.events() == []  # ...and gone with it


def test_events_carry_the_writing_transaction_and_the_time(outbox, make_warehouse):
    started = datetime.now(UTC)
    make_warehouse()
    make_warehouse()

    events = outbox.events()
    if on_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_current()")
            (txid,) = cursor.fetchone()
        assert {e.txid for e in events} == {txid}
    else:
        assert {e.txid for e in events} == {0}
    for event in events:
        assert started - timedelta(seconds=1) <= event.created_at <= datetime.now(UTC) + timedelta(seconds=1)


def test_a_price_change_emits_nothing_and_a_rename_emits_a_product_event(outbox, make_product):
    product = make_product(sku="TG-1", name="Arduino Uno")
    outbox.skip()

    product.unit_price = "12.50"
    product.save()  # rewrites every column, sku and name included, unchanged
    Product.objects.filter(pk=product.pk).update(unit_price="13.00", description="cheaper elsewhere")
    assert outbox.events() == []

    product.name = "Arduino Uno R4"
    product.save()

    [event] = outbox.events()
    assert (event.table, event.op, event.row_id) == ("catalog_product", "U", product.pk)
    assert event.old == {"id": product.pk, "sku": "TG-1", "name": "Arduino Uno", "category_id": product.category_id}
    assert event.new == {**event.old, "name": "Arduino Uno R4"}


def test_a_category_is_captured_for_its_slug_only(outbox, make_category):
    category = make_category(name="Sensors", slug="sensors")
    [created] = outbox.events()
    assert created.new == {"id": category.pk, "slug": "sensors"}
    outbox.skip()

    Category.objects.filter(pk=category.pk).update(name="Sensors & probes", description="all kinds")
    assert outbox.events() == []
    Category.objects.filter(pk=category.pk).update(slug="sensors-probes")
    [event] = outbox.events()
    assert (event.op, event.old["slug"], event.new["slug"]) == ("U", "sensors", "sensors-probes")


def test_an_adjustment_event_names_the_user_who_made_it(outbox, item, staff_user):
    outbox.skip()
    inventory_services.stock_adjust(
        product=item.product, warehouse=item.warehouse, kind="receive", quantity=5, reason="Delivery", user=staff_user
    )
    inventory_services.stock_adjust(
        product=item.product, warehouse=item.warehouse, kind="write_off", quantity=2, reason="Broken", user=None
    )

    received, written_off = outbox.events("inventory_stockadjustment")
    assert received.op == "I"
    assert {k: received.new[k] for k in ("kind", "quantity", "reason", "created_by_id", "created_by_username")} == {
        "kind": "receive", "quantity": 5, "reason": "Delivery", "created_by_id": staff_user.pk,
        "created_by_username": "staff",
    }
    assert (written_off.new["created_by_id"], written_off.new["created_by_username"]) == (None, None)
    assert [(e.old["on_hand"], e.new["on_hand"]) for e in outbox.events("inventory_stockitem")] == [(10, 15), (15, 13)]
    assert [e.new["quantity"] for e in outbox.events("inventory_stockmovement")] == [5, -2]


def test_placing_an_order_records_reservations_stock_and_movements(outbox, item, make_customer, make_order):
    customer, user = make_customer()
    order = make_order(customer, user, [(item.product, 3)])
    outbox.skip()

    order = order_services.order_place(order=order)

    [reservation] = outbox.events("inventory_reservation")
    assert reservation.op == "I"
    assert {k: reservation.new[k] for k in ("order_id", "order_number", "product_id", "warehouse_id", "quantity",
                                            "status")} == {
        "order_id": order.pk, "order_number": order.number, "product_id": item.product_id,
        "warehouse_id": item.warehouse_id, "quantity": 3, "status": "active",
    }
    [stock_item] = outbox.events("inventory_stockitem")
    assert (stock_item.row_id, stock_item.old["reserved"], stock_item.new["reserved"]) == (item.pk, 0, 3)
    [movement] = outbox.events("inventory_stockmovement")
    assert (movement.op, movement.new["kind"], movement.new["quantity"], movement.new["reference"]) == (
        "I", "reservation", 3, order.number
    )
    # Orders themselves are not captured: only the tables the inventory service will own.
    assert {e.table for e in outbox.events()} == {"inventory_reservation", "inventory_stockitem",
                                                   "inventory_stockmovement"}


def test_deleting_an_order_records_its_reservations_with_the_order_number(outbox, item, make_customer, make_order):
    customer, user = make_customer()
    order = make_order(customer, user, [(item.product, 2)], status="placed")
    number, reservation_id = order.number, order.reservations.get().pk
    outbox.skip()

    order.delete()  # Django's cascade deletes the reservations before the order

    [event] = outbox.events("inventory_reservation")
    assert (event.op, event.row_id, event.new, event.old["order_number"]) == ("D", reservation_id, None, number)


def test_the_drop_statements_remove_capture(outbox, item):
    outbox.skip()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for sql in capture.drop_trigger_sql(connection.vendor):
                cursor.execute(sql)
        StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + 1)
        assert outbox.events() == []
        transaction.set_rollback(True)  # the triggers come back with the rollback

    StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + 1)
    assert len(outbox.events()) == 1


def test_an_unsupported_database_is_named_in_the_error():
    with pytest.raises(capture.UnsupportedDatabase, match="SQLite and PostgreSQL only; this database is 'mysql'"):
        capture.create_trigger_sql("mysql")
