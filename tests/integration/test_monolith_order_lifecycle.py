"""The order state machine: draft -> placed -> paid -> shipped -> delivered, cancel until shipped.

Allowed moves are driven through the HTTP API (place, pay, cancel, shipment tracking events); every
forbidden move answers 409 with DRF's ``{"detail": ...}`` body naming the order.
"""

import pytest
from django.utils import timezone

from legacy_monolith.core.exceptions import Conflict
from legacy_monolith.orders import services
from legacy_monolith.orders.models import TRANSITIONS, Order, OrderStatus

STATUSES = [s.value for s in OrderStatus]

# The lifecycle as the business states it; the code's TRANSITIONS table must say the same.
ALLOWED = {
    "draft": {"placed", "cancelled"},
    "placed": {"paid", "cancelled"},
    "paid": {"shipped", "cancelled"},
    "shipped": {"delivered"},
    "delivered": set(),
    "cancelled": set(),
}


@pytest.fixture
def buyer(make_customer):
    return make_customer()


@pytest.fixture
def order_in(buyer, make_product, make_warehouse, stock, make_order):
    """order_in(status) -> an order of `buyer` for 2 units of a stocked product, driven to status."""
    warehouse = make_warehouse()

    def make(status):
        product = make_product(unit_price="50.00")
        stock(product, warehouse, on_hand=10)
        return make_order(buyer[0], buyer[1], [(product, 2)], status=status)

    return make


def _assert_conflict_naming(response, order):
    assert response.status_code == 409, response.content
    body = response.json()
    assert set(body) == {"detail"}
    assert order.number in body["detail"]


# -- allowed moves ------------------------------------------------------------------------------

def test_a_new_order_is_a_numbered_draft_of_the_callers_account(buyer, make_product, api_client_for):
    customer, user = buyer
    product = make_product()

    response = api_client_for(user).post(
        "/api/orders/", {"lines": [{"sku": product.sku, "quantity": 2}], "notes": "Rush"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["customer"], body["notes"]) == ("draft", customer.pk, "Rush")
    assert body["number"] == f"TG-{body['id']:07d}"
    assert body["shipping_address"] == customer.address
    assert body["placed_at"] is None


@pytest.mark.parametrize(
    "lines_for",
    [
        lambda sku: [],
        lambda sku: [{"sku": "NO-SUCH-SKU", "quantity": 1}],
        lambda sku: [{"sku": sku, "quantity": 1}, {"sku": sku, "quantity": 2}],
        lambda sku: [{"sku": sku, "quantity": 0}],
    ],
    ids=["no-lines", "unknown-sku", "repeated-sku", "zero-quantity"],
)
def test_an_invalid_order_answers_400_on_its_lines(buyer, make_product, api_client_for, lines_for):
    lines = lines_for(make_product().sku)

    response = api_client_for(buyer[1]).post("/api/orders/", {"lines": lines}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["lines"]
    assert not Order.objects.exists()


def test_staff_order_for_a_named_customer(buyer, make_product, staff_client):
    customer, _ = buyer
    product = make_product()

    response = staff_client.post(
        "/api/orders/", {"customer": customer.pk, "lines": [{"sku": product.sku, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["customer_account"] == customer.account_number


def test_staff_must_name_the_customer(db, make_product, staff_client):
    product = make_product()

    response = staff_client.post("/api/orders/", {"lines": [{"sku": product.sku, "quantity": 1}]}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["customer"]


def test_placing_a_draft_order_makes_it_placed(order_in, buyer, api_client_for):
    order = order_in("draft")

    response = api_client_for(buyer[1]).post(f"/api/orders/{order.pk}/place/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "placed"
    assert response.json()["placed_at"] is not None
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PLACED


def test_paying_a_placed_order_makes_it_paid(order_in, staff_client):
    order = order_in("placed")

    response = staff_client.post(f"/api/orders/{order.pk}/pay/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    assert response.json()["paid_at"] is not None


@pytest.mark.parametrize("tracking_status", ["picked_up", "in_transit"])
def test_a_pickup_tracking_event_ships_a_paid_order(order_in, staff_client, tracking_status):
    order = order_in("paid")
    created = staff_client.post("/api/shipping/shipments/", {"order": order.number, "carrier": "dhl"}, format="json")
    assert created.status_code == 201, created.content

    response = staff_client.post(
        f"/api/shipping/shipments/{created.json()['id']}/events/",
        {"status": tracking_status, "occurred_at": "2025-03-01T09:30:00Z", "location": "Berlin hub"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = staff_client.get(f"/api/orders/{order.pk}/").json()
    assert body["status"] == "shipped"
    assert body["shipped_at"].startswith("2025-03-01T09:30:00")


def test_a_delivered_tracking_event_delivers_a_shipped_order(order_in, staff_client):
    order = order_in("shipped")
    shipment = order.shipments.get()

    response = staff_client.post(
        f"/api/shipping/shipments/{shipment.pk}/events/",
        {"status": "delivered", "occurred_at": "2025-03-02T14:00:00Z"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = staff_client.get(f"/api/orders/{order.pk}/").json()
    assert body["status"] == "delivered"
    assert body["delivered_at"].startswith("2025-03-02T14:00:00")


@pytest.mark.parametrize("status", ["draft", "placed", "paid"])
def test_staff_can_cancel_an_order_that_has_not_shipped(order_in, staff_client, status):
    order = order_in(status)

    response = staff_client.post(f"/api/orders/{order.pk}/cancel/", {"reason": "Customer changed mind"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled_at"] is not None


@pytest.mark.parametrize("status", ["draft", "placed"])
def test_a_customer_can_cancel_its_own_unpaid_order(order_in, buyer, api_client_for, status):
    order = order_in(status)

    response = api_client_for(buyer[1]).post(f"/api/orders/{order.pk}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


# -- forbidden moves through the API --------------------------------------------------------------

FORBIDDEN_API_MOVES = [
    # (status, action)
    *[(s, "place") for s in ["placed", "paid", "shipped", "delivered", "cancelled"]],
    *[(s, "pay") for s in ["draft", "paid", "shipped", "delivered", "cancelled"]],
    *[(s, "cancel") for s in ["shipped", "delivered", "cancelled"]],
]


@pytest.mark.parametrize(("status", "action"), FORBIDDEN_API_MOVES)
def test_a_forbidden_move_answers_409_naming_the_order(order_in, staff_client, status, action):
    order = order_in(status)

    response = staff_client.post(f"/api/orders/{order.pk}/{action}/")

    _assert_conflict_naming(response, order)
    assert Order.objects.get(pk=order.pk).status == status


@pytest.mark.parametrize("status", ["draft", "placed", "shipped", "delivered", "cancelled"])
def test_shipping_an_order_that_is_not_paid_answers_409(order_in, staff_client, status):
    order = order_in(status)
    shipments_before = order.shipments.count()

    response = staff_client.post("/api/shipping/shipments/", {"order": order.number, "carrier": "ups"}, format="json")

    _assert_conflict_naming(response, order)
    assert order.shipments.count() == shipments_before


def test_changing_a_placed_order_answers_409(order_in, buyer, api_client_for):
    order = order_in("placed")

    response = api_client_for(buyer[1]).patch(f"/api/orders/{order.pk}/", {"notes": "too late"}, format="json")

    _assert_conflict_naming(response, order)


# -- the whole table, through the services ---------------------------------------------------------

SERVICE_MOVES = {
    OrderStatus.PLACED: ("place", lambda order: services.order_place(order=order)),
    OrderStatus.PAID: ("pay", lambda order: services.order_pay(order=order)),
    OrderStatus.SHIPPED: ("ship", lambda order: services.order_mark_shipped(order=order)),
    OrderStatus.DELIVERED: ("deliver", lambda order: services.order_mark_delivered(order=order, when=timezone.now())),
    OrderStatus.CANCELLED: ("cancel", lambda order: services.order_cancel(order=order)),
}


@pytest.mark.parametrize("target", list(SERVICE_MOVES), ids=str)
@pytest.mark.parametrize("source", STATUSES)
def test_services_allow_exactly_the_transitions_of_the_table(order_in, source, target):
    order = order_in(source)
    verb, move = SERVICE_MOVES[target]

    if target in ALLOWED[source]:
        assert move(order).status == target
        assert Order.objects.get(pk=order.pk).status == target
    else:
        with pytest.raises(Conflict) as raised:
            move(order)
        assert raised.value.detail == f"Cannot {verb} order {order.number}: it is {source}."
        assert Order.objects.get(pk=order.pk).status == source


def test_the_transition_table_is_the_documented_lifecycle():
    assert {source: {str(t) for t in targets} for source, targets in TRANSITIONS.items()} == ALLOWED
