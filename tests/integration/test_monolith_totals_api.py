"""Order totals in the API: exact Decimal strings, tier discount then 20 % VAT, half-up to cents."""

import pytest

CASES = [
    # tier, [(unit price, quantity)], (subtotal, discount, tax, total)
    ("standard", [("19.99", 3)], ("59.97", "0.00", "11.99", "71.96")),
    ("silver", [("12.25", 1)], ("12.25", "0.25", "2.40", "14.40")),  # discount 0.245 rounds up
    ("gold", [("5.05", 2)], ("10.10", "0.51", "1.92", "11.51")),  # discount 0.505 rounds up
    ("platinum", [("33.33", 3), ("12.50", 1)], ("112.49", "9.00", "20.70", "124.19")),
]


@pytest.mark.parametrize(("tier", "lines", "expected"), CASES, ids=[case[0] for case in CASES])
def test_order_totals_are_exact_decimal_strings_for_each_tier(
    make_customer, make_product, make_warehouse, stock, api_client_for, tier, lines, expected
):
    _, user = make_customer(tier=tier)
    warehouse = make_warehouse()
    products = [make_product(unit_price=price) for price, _ in lines]
    for product in products:
        stock(product, warehouse, on_hand=100)
    client = api_client_for(user)

    created = client.post(
        "/api/orders/",
        {"lines": [{"sku": p.sku, "quantity": qty} for p, (_, qty) in zip(products, lines)]},
        format="json",
    )
    assert created.status_code == 201, created.content
    placed = client.post(f"/api/orders/{created.json()['id']}/place/")
    assert placed.status_code == 200, placed.content

    for body in (created.json(), placed.json()):
        assert (body["subtotal"], body["discount"], body["tax"], body["total"]) == expected
        assert body["currency"] == "EUR"
    assert [(line["unit_price"], line["quantity"]) for line in placed.json()["lines"]] == lines


def test_line_totals_are_price_times_quantity_in_cents(make_customer, make_product, api_client_for):
    _, user = make_customer()
    product = make_product(unit_price="0.35")

    response = api_client_for(user).post(
        "/api/orders/", {"lines": [{"sku": product.sku, "quantity": 7}]}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["line_total"] == "2.45"
    assert response.json()["subtotal"] == "2.45"


def test_changing_the_lines_of_a_draft_recomputes_its_totals(make_customer, make_product, api_client_for):
    _, user = make_customer(tier="gold")
    product = make_product(unit_price="5.05")
    client = api_client_for(user)
    order = client.post("/api/orders/", {"lines": [{"sku": product.sku, "quantity": 1}]}, format="json").json()

    response = client.patch(
        f"/api/orders/{order['id']}/", {"lines": [{"sku": product.sku, "quantity": 2}]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["subtotal"], response.json()["total"]) == ("10.10", "11.51")
