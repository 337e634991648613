"""Loyalty points: earned once when an order is paid, reversed when a paid order is cancelled, redeemed."""

import pytest
from django.db import IntegrityError, transaction

from legacy_monolith.loyalty import services as loyalty
from legacy_monolith.loyalty.models import LoyaltyEntry


@pytest.fixture
def placed_order_of(make_customer, make_product, make_warehouse, stock, make_order):
    """placed_order_of(tier, price, quantity) -> (order, contact user): a placed order of a new customer."""
    warehouse = make_warehouse()

    def make(tier, price, quantity=1):
        customer, user = make_customer(tier=tier)
        product = make_product(unit_price=price)
        stock(product, warehouse, on_hand=quantity)
        return make_order(customer, user, [(product, quantity)], status="placed"), user

    return make


def _balance(client, **params):
    response = client.get("/api/loyalty/balance/", params)
    assert response.status_code == 200, response.content
    return response.json()["balance"]


@pytest.mark.parametrize(
    ("tier", "price", "quantity", "total", "points"),
    [
        ("standard", "19.99", 3, "71.96", 71),
        ("silver", "12.25", 1, "14.40", 18),
        ("gold", "5.05", 2, "11.51", 17),  # 17.265 rounded down
        ("platinum", "100.00", 1, "110.40", 220),  # 92 % of 100 plus VAT, times 2 (220.8 rounded down)
    ],
)
def test_paying_an_order_grants_the_tiers_points_once(
    placed_order_of, staff_client, api_client_for, tier, price, quantity, total, points
):
    order, user = placed_order_of(tier, price, quantity)

    paid = staff_client.post(f"/api/orders/{order.pk}/pay/")

    assert paid.status_code == 200, paid.content
    assert paid.json()["total"] == total
    entry = LoyaltyEntry.objects.get(order=order)
    assert (entry.kind, entry.points, entry.customer) == ("earn", points, order.customer)
    assert _balance(api_client_for(user)) == points


def test_a_second_grant_for_the_same_order_is_refused_by_the_database(placed_order_of, staff_client):
    order, _ = placed_order_of("gold", "10.00")
    staff_client.post(f"/api/orders/{order.pk}/pay/")
    order.refresh_from_db()

    with pytest.raises(IntegrityError), transaction.atomic():
        loyalty.loyalty_grant_for_order(order=order)

    assert LoyaltyEntry.objects.filter(order=order, kind="earn").count() == 1


def test_paying_twice_answers_409_and_grants_nothing_more(placed_order_of, staff_client):
    order, _ = placed_order_of("standard", "10.00")
    staff_client.post(f"/api/orders/{order.pk}/pay/")

    again = staff_client.post(f"/api/orders/{order.pk}/pay/")

    assert again.status_code == 409
    assert LoyaltyEntry.objects.filter(order=order).count() == 1


def test_cancelling_a_paid_order_reverses_its_points(placed_order_of, staff_client, api_client_for):
    order, user = placed_order_of("platinum", "50.00")
    staff_client.post(f"/api/orders/{order.pk}/pay/")
    earned = LoyaltyEntry.objects.get(order=order, kind="earn").points
    assert earned > 0

    response = staff_client.post(f"/api/orders/{order.pk}/cancel/")

    assert response.status_code == 200, response.content
    reversal = LoyaltyEntry.objects.get(order=order, kind="reversal")
    assert reversal.points == -earned
    assert _balance(api_client_for(user)) == 0


def test_cancelling_an_unpaid_order_touches_no_points(placed_order_of, api_client_for):
    order, user = placed_order_of("gold", "50.00")

    api_client_for(user).post(f"/api/orders/{order.pk}/cancel/")

    assert not LoyaltyEntry.objects.filter(order=order).exists()


@pytest.fixture
def customer_with_points(make_customer):
    """(customer, contact user) with 100 points on the ledger."""
    customer, user = make_customer()
    LoyaltyEntry.objects.create(customer=customer, kind="adjustment", points=100, description="Welcome bonus")
    return customer, user


def test_a_redemption_reduces_the_balance(customer_with_points, api_client_for):
    customer, user = customer_with_points
    client = api_client_for(user)

    response = client.post("/api/loyalty/redemptions/", {"points": 30, "description": "Voucher"}, format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["points"]) == ("redeem", -30)
    assert _balance(client) == 70


def test_redeeming_the_whole_balance_is_allowed(customer_with_points, api_client_for):
    client = api_client_for(customer_with_points[1])

    assert client.post("/api/loyalty/redemptions/", {"points": 100}, format="json").status_code == 201
    assert _balance(client) == 0


def test_redeeming_more_than_the_balance_answers_400_and_spends_nothing(customer_with_points, api_client_for):
    client = api_client_for(customer_with_points[1])

    response = client.post("/api/loyalty/redemptions/", {"points": 101}, format="json")

    assert response.status_code == 400
    assert response.json() == {"points": ["Insufficient points: the balance is 100, 101 requested."]}
    assert _balance(client) == 100


@pytest.mark.parametrize("points", [0, -5])
def test_redeeming_a_non_positive_amount_answers_400(customer_with_points, api_client_for, points):
    client = api_client_for(customer_with_points[1])

    response = client.post("/api/loyalty/redemptions/", {"points": points}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["points"]
    assert _balance(client) == 100


def test_the_balance_endpoint_shows_the_callers_own_account(customer_with_points, make_customer, api_client_for):
    customer, user = customer_with_points
    other, _ = make_customer()
    LoyaltyEntry.objects.create(customer=other, kind="adjustment", points=999)

    response = api_client_for(user).get("/api/loyalty/balance/", {"customer": other.pk})

    # A contact's ?customer= is ignored: it always sees its own account.
    assert response.json() == {"customer": customer.pk, "customer_account": customer.account_number, "balance": 100}


def test_staff_read_any_accounts_balance_with_the_customer_parameter(customer_with_points, staff_client):
    customer, _ = customer_with_points

    response = staff_client.get("/api/loyalty/balance/", {"customer": customer.pk})

    assert response.status_code == 200
    assert response.json() == {"customer": customer.pk, "customer_account": customer.account_number, "balance": 100}


@pytest.mark.parametrize(("params", "status"), [({}, 400), ({"customer": "abc"}, 400), ({"customer": 999999}, 404)])
def test_staff_balance_needs_a_valid_customer(db, staff_client, params, status):
    assert staff_client.get("/api/loyalty/balance/", params).status_code == status


def test_staff_redeem_for_a_customer(customer_with_points, staff_client, staff_user):
    customer, _ = customer_with_points

    response = staff_client.post("/api/loyalty/redemptions/", {"points": 40, "customer": customer.pk}, format="json")

    assert response.status_code == 201, response.content
    assert LoyaltyEntry.objects.get(kind="redeem").created_by == staff_user
    assert loyalty.loyalty_balance(customer=customer) == 60


def test_a_contact_lists_only_its_own_ledger(customer_with_points, make_customer, api_client_for):
    customer, user = customer_with_points
    other, _ = make_customer()
    LoyaltyEntry.objects.create(customer=other, kind="adjustment", points=5)

    response = api_client_for(user).get("/api/loyalty/entries/")

    assert response.status_code == 200
    assert [entry["customer"] for entry in response.json()["results"]] == [customer.pk]
