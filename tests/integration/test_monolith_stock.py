"""Stock follows the order: placing reserves, cancelling releases, shipping consumes; it never goes negative."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from legacy_monolith.inventory.models import Reservation, StockItem, StockMovement


@pytest.fixture
def buyer(make_customer):
    return make_customer()


def _item(product, warehouse):
    return StockItem.objects.get(product=product, warehouse=warehouse)


def _stock_row(client, sku, warehouse_code):
    rows = client.get("/api/inventory/stock/", {"sku": sku, "warehouse": warehouse_code}).json()["results"]
    assert len(rows) == 1
    return rows[0]


def test_placing_an_order_reserves_its_lines(buyer, make_product, make_warehouse, stock, make_order, api_client_for):
    customer, user = buyer
    warehouse = make_warehouse(code="BER")
    product = make_product(sku="SKU-A")
    stock(product, warehouse, on_hand=10)
    order = make_order(customer, user, [(product, 3)])
    client = api_client_for(user)

    response = client.post(f"/api/orders/{order.pk}/place/")

    assert response.status_code == 200, response.content
    row = _stock_row(client, "SKU-A", "BER")
    assert (row["on_hand"], row["reserved"], row["available"]) == (10, 3, 7)
    reservation = Reservation.objects.get(order=order)
    assert (reservation.product, reservation.warehouse, reservation.quantity, reservation.status) == (
        product, warehouse, 3, "active"
    )
    movement = StockMovement.objects.get(reference=order.number)
    assert (movement.kind, movement.quantity, movement.product, movement.warehouse) == (
        "reservation", 3, product, warehouse
    )


def test_placing_when_short_answers_409_naming_only_the_short_skus_and_reserves_nothing(
    buyer, make_product, make_warehouse, stock, make_order, api_client_for
):
    customer, user = buyer
    warehouse = make_warehouse()
    ok_first = make_product(sku="SKU-0")  # sorts before the short ones: reserved first, then rolled back
    short_a = make_product(sku="SKU-A")
    short_b = make_product(sku="SKU-B")
    ok_last = make_product(sku="SKU-C")
    for product, on_hand in [(ok_first, 10), (short_a, 1), (short_b, 0), (ok_last, 10)]:
        stock(product, warehouse, on_hand=on_hand)
    order = make_order(customer, user, [(ok_first, 2), (short_b, 1), (short_a, 2), (ok_last, 2)])

    response = api_client_for(user).post(f"/api/orders/{order.pk}/place/")

    assert response.status_code == 409, response.content
    assert response.json() == {"detail": "Insufficient stock for: SKU-A, SKU-B.", "short_skus": ["SKU-A", "SKU-B"]}
    order.refresh_from_db()
    assert order.status == "draft"
    assert not Reservation.objects.filter(order=order).exists()
    assert not StockMovement.objects.filter(reference=order.number).exists()
    assert list(StockItem.objects.order_by("product__sku").values_list("product__sku", "reserved")) == [
        ("SKU-0", 0), ("SKU-A", 0), ("SKU-B", 0), ("SKU-C", 0)
    ]


def test_placing_counts_reserved_units_as_unavailable(
    buyer, make_product, make_warehouse, stock, make_order, api_client_for
):
    customer, user = buyer
    product = make_product(sku="SKU-R")
    stock(product, make_warehouse(), on_hand=5, reserved=4)
    order = make_order(customer, user, [(product, 2)])

    response = api_client_for(user).post(f"/api/orders/{order.pk}/place/")

    assert response.status_code == 409
    assert response.json()["short_skus"] == ["SKU-R"]


def test_placing_allocates_across_warehouses_when_one_is_not_enough(
    buyer, make_product, make_warehouse, stock, make_order, api_client_for
):
    customer, user = buyer
    big, small = make_warehouse(code="W-BIG"), make_warehouse(code="W-SMALL")
    product = make_product()
    stock(product, big, on_hand=6)
    stock(product, small, on_hand=4)
    order = make_order(customer, user, [(product, 8)])

    response = api_client_for(user).post(f"/api/orders/{order.pk}/place/")

    assert response.status_code == 200, response.content
    # Most available first: all 6 from the big warehouse, the remaining 2 from the small one.
    assert sorted(Reservation.objects.filter(order=order).values_list("warehouse__code", "quantity")) == [
        ("W-BIG", 6), ("W-SMALL", 2)
    ]
    assert (_item(product, big).reserved, _item(product, small).reserved) == (6, 2)
    assert StockMovement.objects.filter(reference=order.number, kind="reservation").count() == 2


def test_placing_ignores_stock_in_inactive_warehouses(
    buyer, make_product, make_warehouse, stock, make_order, api_client_for
):
    customer, user = buyer
    product = make_product(sku="SKU-I")
    stock(product, make_warehouse(), on_hand=1)
    stock(product, make_warehouse(active=False), on_hand=100)
    order = make_order(customer, user, [(product, 2)])

    response = api_client_for(user).post(f"/api/orders/{order.pk}/place/")

    assert response.status_code == 409
    assert response.json()["short_skus"] == ["SKU-I"]


def test_cancelling_a_placed_order_releases_its_reservations(
    buyer, make_product, make_warehouse, stock, make_order, api_client_for
):
    customer, user = buyer
    warehouse = make_warehouse()
    product = make_product()
    stock(product, warehouse, on_hand=10)
    order = make_order(customer, user, [(product, 4)], status="placed")
    assert _item(product, warehouse).reserved == 4

    response = api_client_for(user).post(f"/api/orders/{order.pk}/cancel/", {"reason": "Duplicate"}, format="json")

    assert response.status_code == 200, response.content
    item = _item(product, warehouse)
    assert (item.on_hand, item.reserved) == (10, 0)
    assert list(Reservation.objects.filter(order=order).values_list("status", flat=True)) == ["released"]
    release = StockMovement.objects.get(reference=order.number, kind="release")
    assert (release.quantity, release.reason) == (-4, "Duplicate")


def test_shipping_consumes_the_reserved_stock(buyer, make_product, make_warehouse, stock, make_order, staff_client):
    customer, user = buyer
    warehouse = make_warehouse()
    product = make_product()
    stock(product, warehouse, on_hand=10)
    order = make_order(customer, user, [(product, 4)], status="paid")
    shipment = staff_client.post("/api/shipping/shipments/", {"order": order.number, "carrier": "dpd"}, format="json")

    response = staff_client.post(
        f"/api/shipping/shipments/{shipment.json()['id']}/events/",
        {"status": "picked_up", "occurred_at": "2025-04-01T08:00:00Z"}, format="json",
    )

    assert response.status_code == 201, response.content
    item = _item(product, warehouse)
    assert (item.on_hand, item.reserved) == (6, 0)
    assert list(Reservation.objects.filter(order=order).values_list("status", flat=True)) == ["consumed"]
    assert StockMovement.objects.get(reference=order.number, kind="shipment").quantity == -4


def test_a_write_off_beyond_the_available_stock_answers_400_and_changes_nothing(
    make_product, make_warehouse, stock, staff_client
):
    warehouse = make_warehouse(code="HAM")
    product = make_product(sku="SKU-W")
    stock(product, warehouse, on_hand=10, reserved=4)

    response = staff_client.post(
        "/api/inventory/adjustments/",
        {"sku": "SKU-W", "warehouse": "HAM", "kind": "write_off", "quantity": 7, "reason": "Water damage"},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert response.json() == {"quantity": ["Cannot write off 7: only 6 of SKU-W are available in HAM."]}
    item = _item(product, warehouse)
    assert (item.on_hand, item.reserved) == (10, 4)
    assert not StockMovement.objects.filter(product=product).exists()


def test_a_write_off_of_exactly_the_available_stock_is_allowed(make_product, make_warehouse, stock, staff_client):
    warehouse = make_warehouse(code="HAM")
    product = make_product(sku="SKU-W")
    stock(product, warehouse, on_hand=10, reserved=4)

    response = staff_client.post(
        "/api/inventory/adjustments/",
        {"sku": "SKU-W", "warehouse": "HAM", "kind": "write_off", "quantity": 6, "reason": "Water damage"},
        format="json",
    )

    assert response.status_code == 201, response.content
    item = _item(product, warehouse)
    assert (item.on_hand, item.reserved) == (4, 4)


@pytest.mark.parametrize(
    ("change", "constraints"),
    [
        # A negative on_hand also breaks reserved <= on_hand; the database may name either.
        ({"on_hand": -1}, {"stock_on_hand_not_negative", "stock_reserved_within_on_hand"}),
        ({"reserved": -1}, {"stock_reserved_not_negative"}),
        ({"reserved": F("on_hand") + 1}, {"stock_reserved_within_on_hand"}),
    ],
    ids=["negative-on-hand", "negative-reserved", "reserved-above-on-hand"],
)
def test_the_database_rejects_impossible_stock_levels(make_product, make_warehouse, stock, change, constraints):
    item = stock(make_product(), make_warehouse(), on_hand=3)

    with pytest.raises(IntegrityError) as raised, transaction.atomic():
        StockItem.objects.filter(pk=item.pk).update(**change)

    assert any(name in str(raised.value) for name in constraints), str(raised.value)

    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (3, 0)
