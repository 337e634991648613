"""POST /api/inventory/adjustments/: staff receive or write off stock, with a reason, on the ledger."""

import pytest

from legacy_monolith.inventory.models import StockAdjustment, StockItem, StockMovement

URL = "/api/inventory/adjustments/"


@pytest.fixture
def shelf(make_product, make_warehouse, stock):
    """SKU-ADJ in warehouse MUC with 10 on hand."""
    product, warehouse = make_product(sku="SKU-ADJ"), make_warehouse(code="MUC")
    stock(product, warehouse, on_hand=10)
    return product, warehouse


def _payload(**overrides):
    payload = {"sku": "SKU-ADJ", "warehouse": "MUC", "kind": "receive", "quantity": 5, "reason": "Supplier delivery"}
    return {**payload, **overrides}


def _on_hand(product, warehouse):
    return StockItem.objects.get(product=product, warehouse=warehouse).on_hand


@pytest.mark.parametrize(
    ("kind", "quantity", "on_hand_after", "signed"), [("receive", 5, 15, 5), ("write_off", 3, 7, -3)]
)
def test_staff_adjust_stock_with_a_reason_and_the_ledger_records_it(
    shelf, staff_client, staff_user, kind, quantity, on_hand_after, signed
):
    product, warehouse = shelf

    response = staff_client.post(URL, _payload(kind=kind, quantity=quantity, reason="Cycle count"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ["sku", "warehouse", "kind", "quantity", "reason", "created_by"]} == {
        "sku": "SKU-ADJ", "warehouse": "MUC", "kind": kind, "quantity": quantity, "reason": "Cycle count",
        "created_by": "staff",
    }
    assert _on_hand(product, warehouse) == on_hand_after
    movement = StockMovement.objects.get(product=product)
    assert (movement.kind, movement.quantity, movement.reason, movement.created_by) == (
        "receipt" if kind == "receive" else "write_off", signed, "Cycle count", staff_user
    )
    assert movement.reference == f"ADJ-{body['id']}"


def test_receiving_into_a_warehouse_without_a_stock_row_creates_it(make_product, make_warehouse, staff_client):
    product, warehouse = make_product(sku="SKU-NEW"), make_warehouse(code="NEW")

    response = staff_client.post(URL, _payload(sku="SKU-NEW", warehouse="NEW", quantity=12), format="json")

    assert response.status_code == 201, response.content
    assert _on_hand(product, warehouse) == 12


def test_a_customer_cannot_adjust_stock(shelf, make_customer, api_client_for):
    _, user = make_customer()

    response = api_client_for(user).post(URL, _payload(), format="json")

    assert response.status_code == 403
    assert _on_hand(*shelf) == 10
    assert not StockAdjustment.objects.exists()


def test_an_anonymous_caller_cannot_adjust_stock(shelf, anon_client):
    response = anon_client.post(URL, _payload(), format="json")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert _on_hand(*shelf) == 10


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": None}, "reason"),
        ({"reason": ""}, "reason"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -4}, "quantity"),
        ({"sku": "NO-SUCH-SKU"}, "sku"),
        ({"warehouse": "NOWHERE"}, "warehouse"),
        ({"kind": "steal"}, "kind"),
    ],
    ids=["missing-reason", "blank-reason", "zero-quantity", "negative-quantity", "unknown-sku", "unknown-warehouse",
         "unknown-kind"],
)
def test_an_invalid_adjustment_answers_400_naming_the_field(shelf, staff_client, overrides, field):
    payload = {k: v for k, v in _payload(**overrides).items() if v is not None}

    response = staff_client.post(URL, payload, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == [field]
    assert isinstance(body[field], list) and body[field]
    assert _on_hand(*shelf) == 10
    assert not StockMovement.objects.exists()


def test_adjusting_into_an_inactive_warehouse_answers_400(make_product, make_warehouse, staff_client):
    make_product(sku="SKU-X")
    make_warehouse(code="OLD", active=False)

    response = staff_client.post(URL, _payload(sku="SKU-X", warehouse="OLD"), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["warehouse"]
