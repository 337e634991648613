"""Shipments of paid orders and the courier webhook (HMAC-signed tracking events that move the order)."""

import json

import pytest

from legacy_monolith.orders.models import Order
from legacy_monolith.shipping.models import Shipment, TrackingEvent
from legacy_monolith.shipping.views import courier_signature

WEBHOOK = "/api/shipping/webhooks/courier/"


@pytest.fixture
def order_in(make_customer, make_product, make_warehouse, stock, make_order):
    """order_in(status) -> an order of a new customer for 1 stocked unit, driven to status."""
    warehouse = make_warehouse()

    def make(status):
        customer, user = make_customer()
        product = make_product()
        stock(product, warehouse, on_hand=5)
        return make_order(customer, user, [(product, 1)], status=status)

    return make


@pytest.fixture
def shipment(order_in):
    """A DHL shipment, tracking number DHL000000000042, of a paid order."""
    from legacy_monolith.shipping.services import shipment_create

    return shipment_create(order=order_in("paid"), carrier="dhl", tracking_number="DHL000000000042")


def _post_event(client, event, signature=...):
    body = json.dumps(event).encode()
    headers = {}
    if signature is ...:
        signature = courier_signature(body)
    if signature is not None:
        headers["HTTP_X_COURIER_SIGNATURE"] = signature
    return client.post(WEBHOOK, data=body, content_type="application/json", **headers)


def _event(status, occurred_at="2025-05-06T07:08:09Z", tracking_number="DHL000000000042"):
    return {"tracking_number": tracking_number, "status": status, "occurred_at": occurred_at, "location": "Leipzig"}


# -- shipments -----------------------------------------------------------------------------------

def test_staff_create_a_shipment_for_a_paid_order_with_a_label_event(order_in, staff_client):
    order = order_in("paid")

    response = staff_client.post("/api/shipping/shipments/", {"order": order.number, "carrier": "gls"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["order"], body["order_status"], body["carrier"], body["status"]) == (
        order.number, "paid", "gls", "label_created"
    )
    assert body["tracking_number"].startswith("GLS")
    assert [event["status"] for event in body["events"]] == ["label_created"]


@pytest.mark.parametrize("status", ["draft", "placed", "cancelled"])
def test_a_shipment_needs_a_paid_order(order_in, staff_client, status):
    order = order_in(status)

    response = staff_client.post("/api/shipping/shipments/", {"order": order.number, "carrier": "dhl"}, format="json")

    assert response.status_code == 409
    assert response.json() == {"detail": f"Cannot ship order {order.number}: it is {status}, not paid."}
    assert not Shipment.objects.exists()


def test_an_order_gets_one_shipment(shipment, staff_client):
    response = staff_client.post(
        "/api/shipping/shipments/", {"order": shipment.order.number, "carrier": "ups"}, format="json"
    )

    assert response.status_code == 409
    assert shipment.order.number in response.json()["detail"]
    assert Shipment.objects.count() == 1


def test_a_customer_cannot_create_a_shipment(order_in, make_customer, api_client_for):
    order = order_in("paid")
    _, user = make_customer()

    response = api_client_for(user).post(
        "/api/shipping/shipments/", {"order": order.number, "carrier": "dhl"}, format="json"
    )

    assert response.status_code == 403
    assert not Shipment.objects.exists()


# -- courier webhook ----------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["picked_up", "in_transit", "out_for_delivery"])
def test_a_signed_pickup_event_ships_the_order(shipment, anon_client, status):
    response = _post_event(anon_client, _event(status))

    assert response.status_code == 201, response.content
    event = response.json()
    assert (event["status"], event["source"], event["location"]) == (status, "webhook", "Leipzig")
    order = Order.objects.get(pk=shipment.order_id)
    assert order.status == "shipped"
    assert order.shipped_at.isoformat() == "2025-05-06T07:08:09+00:00"
    shipment.refresh_from_db()
    assert shipment.status == status


def test_a_signed_delivered_event_delivers_a_shipped_order(shipment, anon_client):
    _post_event(anon_client, _event("picked_up", "2025-05-06T07:00:00Z"))

    response = _post_event(anon_client, _event("delivered", "2025-05-07T12:00:00Z"))

    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=shipment.order_id)
    assert order.status == "delivered"
    assert order.delivered_at.isoformat() == "2025-05-07T12:00:00+00:00"


def test_a_delivered_event_for_a_paid_order_ships_and_delivers_it(shipment, anon_client):
    response = _post_event(anon_client, _event("delivered"))

    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=shipment.order_id)
    assert order.status == "delivered"
    assert order.shipped_at.isoformat() == order.delivered_at.isoformat() == "2025-05-06T07:08:09+00:00"
    assert order.reservations.get().status == "consumed"


def test_the_same_event_twice_is_recorded_once(shipment, anon_client):
    first = _post_event(anon_client, _event("in_transit"))
    count = TrackingEvent.objects.filter(shipment=shipment).count()

    second = _post_event(anon_client, _event("in_transit"))

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert TrackingEvent.objects.filter(shipment=shipment).count() == count
    assert Order.objects.get(pk=shipment.order_id).status == "shipped"


def test_a_late_arriving_older_event_does_not_move_the_shipment_back(shipment, anon_client):
    _post_event(anon_client, _event("delivered", "2025-05-07T12:00:00Z"))

    late = _post_event(anon_client, _event("in_transit", "2025-05-06T07:00:00Z"))

    assert late.status_code == 201  # recorded in the history
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert Order.objects.get(pk=shipment.order_id).status == "delivered"


def test_a_bad_signature_answers_403_and_records_nothing(shipment, anon_client):
    body = json.dumps(_event("picked_up")).encode()

    response = anon_client.post(
        WEBHOOK, data=body, content_type="application/json",
        HTTP_X_COURIER_SIGNATURE=courier_signature(body, secret="not-the-shared-secret"),
    )

    assert response.status_code == 403
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 1  # the label event only
    assert Order.objects.get(pk=shipment.order_id).status == "paid"


def test_a_non_ascii_signature_answers_403(shipment, anon_client):
    anon_client.raise_request_exception = False

    response = _post_event(anon_client, _event("picked_up"), signature="sha256=\u00e9")

    assert response.status_code == 403
    assert Order.objects.get(pk=shipment.order_id).status == "paid"


def test_a_signature_over_another_body_answers_403(shipment, anon_client):
    signed = json.dumps(_event("delivered")).encode()

    response = _post_event(anon_client, _event("picked_up"), signature=courier_signature(signed))

    assert response.status_code == 403
    assert Order.objects.get(pk=shipment.order_id).status == "paid"


def test_a_missing_signature_answers_401(shipment, anon_client):
    response = _post_event(anon_client, _event("picked_up"), signature=None)

    assert response.status_code == 401
    assert Order.objects.get(pk=shipment.order_id).status == "paid"


def test_a_missing_signature_is_refused(shipment, anon_client):
    response = _post_event(anon_client, _event("picked_up"), signature=None)

    assert response.status_code in (401, 403)
    assert response.json() == {"detail": "Missing X-Courier-Signature header."}
    assert Order.objects.get(pk=shipment.order_id).status == "paid"


def test_an_unknown_tracking_number_answers_404(shipment, anon_client):
    response = _post_event(anon_client, _event("picked_up", tracking_number="UPS999"))

    assert response.status_code == 404
    assert Order.objects.get(pk=shipment.order_id).status == "paid"


def test_a_signed_but_invalid_event_answers_400(shipment, anon_client):
    response = _post_event(anon_client, {"tracking_number": "DHL000000000042", "status": "teleported"})

    assert response.status_code == 400
    assert set(response.json()) == {"status", "occurred_at"}


def test_a_paid_order_with_a_shipment_cannot_be_cancelled(staff_client, make_customer, make_product, make_warehouse, stock, make_order):
    customer, user = make_customer()
    product, warehouse = make_product(), make_warehouse()
    stock(product, warehouse, 10)
    order = make_order(customer, user, [(product, 2)], status="paid")
    assert staff_client.post("/api/shipping/shipments/", {"order": order.number, "carrier": "ups"}, format="json").status_code == 201
    response = staff_client.post(f"/api/orders/{order.pk}/cancel/", {}, format="json")
    assert response.status_code == 409
    assert "shipment" in response.json()["detail"]
    order.refresh_from_db()
    assert order.status == "paid"
