"""Capture can be suppressed for one transaction's own writes, and the seed uses that: seeding emits nothing."""

import io

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from legacy_monolith.inventory.models import StockItem, Warehouse
from legacy_monolith.outbox.models import SyncOrigin
from legacy_monolith.outbox.suppress import capture_suppressed
from tests.support.outbox_events import OutboxReader

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(db):
    return OutboxReader()


def test_writes_inside_the_block_are_not_captured_and_writes_after_it_are(outbox, make_warehouse):
    warehouse = make_warehouse(code="BER")
    outbox.skip()

    with capture_suppressed(origin="reverse-relay"):
        Warehouse.objects.filter(pk=warehouse.pk).update(name="Berlin (relay)")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE inventory_warehouse SET city = %s WHERE id = %s", ["Potsdam", warehouse.pk])
        assert SyncOrigin.objects.filter(origin="reverse-relay").count() == 1
    assert outbox.events() == []
    assert not SyncOrigin.objects.exists()  # the marker is gone at the end of the block

    Warehouse.objects.filter(pk=warehouse.pk).update(name="Berlin")

    [event] = outbox.events()
    assert (event.op, event.old["name"], event.old["city"], event.new["name"]) == (
        "U", "Berlin (relay)", "Potsdam", "Berlin"
    )


@pytest.mark.postgres
def test_another_transactions_marker_does_not_suppress_this_ones_writes(outbox, make_warehouse):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL as the monolith's database (SQLite serialises writers)")
    warehouse = make_warehouse(code="BER")
    outbox.skip()
    params = connection.settings_dict
    other = psycopg.connect(dbname=params["NAME"], user=params["USER"], password=params["PASSWORD"] or None,
                            host=params["HOST"] or None, port=params["PORT"] or None)
    try:
        # A relay's transaction holds its marker, uncommitted, while this one writes.
        other.execute("INSERT INTO strangler_sync_origin (origin) VALUES ('reverse-relay')")
        Warehouse.objects.filter(pk=warehouse.pk).update(name="Berlin Mitte")
    finally:
        other.rollback()
        other.close()

    assert [(e.op, e.new["name"]) for e in outbox.events()] == [("U", "Berlin Mitte")]


def test_a_failing_block_rolls_its_marker_back_and_capture_resumes(outbox, make_product, make_warehouse, stock):
    item = stock(make_product(), make_warehouse(), on_hand=5)
    outbox.skip()

    with pytest.raises(ZeroDivisionError), capture_suppressed():
        StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + 1)
        1 / 0

    assert not SyncOrigin.objects.exists()
    StockItem.objects.filter(pk=item.pk).update(on_hand=F("on_hand") + 2)
    [event] = outbox.events()
    assert (event.old["on_hand"], event.new["on_hand"]) == (5, 7)  # the suppressed +1 was rolled back too


def test_seeding_leaves_the_outbox_empty(outbox):
    call_command("seed", "--size", "small", "--no-progress", stdout=io.StringIO())

    assert StockItem.objects.count() > 0  # the seed did write the captured tables...
    assert outbox.events() == []  # ...without a single event
    assert not SyncOrigin.objects.exists()
    Warehouse.objects.filter(pk=Warehouse.objects.first().pk).update(name="Renamed after seeding")
    assert [e.op for e in outbox.events()] == ["U"]
