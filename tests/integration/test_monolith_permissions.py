"""Who may see and do what: staff everything, a contact its own account's data, anonymous nothing."""

from decimal import Decimal

import pytest

from legacy_monolith.catalog.models import Product
from legacy_monolith.orders.models import Order
from tests.support.monolith import PAGINATED_LISTS

LIST_ENDPOINTS = [*PAGINATED_LISTS, "/api/loyalty/balance/"]


@pytest.fixture
def two_accounts(make_customer, make_product, make_warehouse, stock, make_order):
    """Customers A and B with one placed order each: {"a": (customer, user, order), "b": (...)}"""
    warehouse = make_warehouse()
    product = make_product()
    stock(product, warehouse, on_hand=10)
    accounts = {}
    for key in ("a", "b"):
        customer, user = make_customer()
        accounts[key] = (customer, user, make_order(customer, user, [(product, 1)], status="placed"))
    return accounts


@pytest.mark.parametrize("url", LIST_ENDPOINTS)
def test_anonymous_callers_get_401_with_a_token_challenge(db, anon_client, url):
    response = anon_client.get(url)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_bad_token_answers_401(db, anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = anon_client.get("/api/orders/")

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


# -- orders ------------------------------------------------------------------------------------

def test_a_contact_lists_only_its_own_accounts_orders(two_accounts, api_client_for):
    _, user_a, order_a = two_accounts["a"]

    response = api_client_for(user_a).get("/api/orders/")

    assert [o["number"] for o in response.json()["results"]] == [order_a.number]


def test_staff_list_every_accounts_orders(two_accounts, staff_client):
    response = staff_client.get("/api/orders/")

    assert {o["number"] for o in response.json()["results"]} == {two_accounts[k][2].number for k in "ab"}


def test_a_contact_cannot_read_another_accounts_order(two_accounts, api_client_for):
    _, user_a, _ = two_accounts["a"]
    order_b = two_accounts["b"][2]

    response = api_client_for(user_a).get(f"/api/orders/{order_b.pk}/")

    assert response.status_code == 404


@pytest.mark.parametrize("action", ["place", "cancel", "pay"])
def test_a_contact_cannot_act_on_another_accounts_order(two_accounts, api_client_for, action):
    _, user_a, _ = two_accounts["a"]
    order_b = two_accounts["b"][2]

    response = api_client_for(user_a).post(f"/api/orders/{order_b.pk}/{action}/")

    assert response.status_code == (403 if action == "pay" else 404)
    assert Order.objects.get(pk=order_b.pk).status == "placed"


def test_a_contact_cannot_change_another_accounts_order(two_accounts, api_client_for, make_order):
    customer_b, user_b, _ = two_accounts["b"]
    draft_b = make_order(customer_b, user_b, [(two_accounts["b"][2].lines.get().product, 1)])
    client_a = api_client_for(two_accounts["a"][1])

    response = client_a.patch(f"/api/orders/{draft_b.pk}/", {"notes": "mine"}, format="json")

    assert response.status_code == 404
    draft_b.refresh_from_db()
    assert draft_b.notes == ""


def test_a_contact_cannot_order_for_another_account(two_accounts, api_client_for):
    customer_b = two_accounts["b"][0]
    product = two_accounts["b"][2].lines.get().product

    response = api_client_for(two_accounts["a"][1]).post(
        "/api/orders/", {"customer": customer_b.pk, "lines": [{"sku": product.sku, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 403
    assert customer_b.orders.count() == 1


def test_only_staff_record_payments(two_accounts, api_client_for):
    _, user_a, order_a = two_accounts["a"]

    response = api_client_for(user_a).post(f"/api/orders/{order_a.pk}/pay/")

    assert response.status_code == 403
    assert response.json() == {"detail": "Only staff can record payments."}
    assert Order.objects.get(pk=order_a.pk).status == "placed"


def test_a_contact_cannot_cancel_its_paid_order(two_accounts, api_client_for, staff_client):
    _, user_a, order_a = two_accounts["a"]
    staff_client.post(f"/api/orders/{order_a.pk}/pay/")

    response = api_client_for(user_a).post(f"/api/orders/{order_a.pk}/cancel/")

    assert response.status_code == 403
    assert Order.objects.get(pk=order_a.pk).status == "paid"


# -- customers -----------------------------------------------------------------------------------

def test_a_contact_lists_only_its_own_account(two_accounts, api_client_for):
    customer_a, user_a, _ = two_accounts["a"]

    response = api_client_for(user_a).get("/api/customers/")

    assert response.json()["count"] == 1
    assert [c["account_number"] for c in response.json()["results"]] == [customer_a.account_number]


def test_a_contact_cannot_read_another_account(two_accounts, api_client_for):
    customer_b = two_accounts["b"][0]

    response = api_client_for(two_accounts["a"][1]).get(f"/api/customers/{customer_b.pk}/")

    assert response.status_code == 404


def test_a_contact_reads_its_own_account_at_me(two_accounts, api_client_for):
    customer_a, user_a, _ = two_accounts["a"]

    response = api_client_for(user_a).get("/api/customers/me/")

    assert response.status_code == 200
    assert response.json()["account_number"] == customer_a.account_number
    assert [c["username"] for c in response.json()["contacts"]] == [user_a.username]


def test_a_contact_cannot_change_its_account(two_accounts, api_client_for):
    customer_a, user_a, _ = two_accounts["a"]

    response = api_client_for(user_a).patch(f"/api/customers/{customer_a.pk}/", {"tier": "platinum"}, format="json")

    assert response.status_code == 403
    customer_a.refresh_from_db()
    assert customer_a.tier == "standard"


def test_staff_list_every_account(two_accounts, staff_client):
    assert staff_client.get("/api/customers/").json()["count"] == 2


# -- catalog -------------------------------------------------------------------------------------

def test_a_contact_cannot_create_a_product(make_customer, make_category, api_client_for):
    _, user = make_customer()
    category = make_category()

    response = api_client_for(user).post(
        "/api/catalog/products/",
        {"sku": "HACK-1", "name": "Free stuff", "category": category.pk, "unit_price": "0.00"},
        format="json",
    )

    assert response.status_code == 403
    assert not Product.objects.filter(sku="HACK-1").exists()


def test_staff_create_a_product(make_category, staff_client):
    category = make_category()

    response = staff_client.post(
        "/api/catalog/products/", {"sku": "NEW-1", "name": "New part", "category": category.pk, "unit_price": "3.50"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Product.objects.get(sku="NEW-1").unit_price == Decimal("3.50")


def test_a_contact_does_not_see_inactive_products(make_customer, make_product, api_client_for):
    _, user = make_customer()
    make_product(sku="LIVE-1")
    retired = make_product(sku="GONE-1", active=False)
    client = api_client_for(user)

    listed = client.get("/api/catalog/products/").json()["results"]
    detail = client.get(f"/api/catalog/products/{retired.pk}/")

    assert [p["sku"] for p in listed] == ["LIVE-1"]
    assert detail.status_code == 404


def test_staff_see_inactive_products(make_product, staff_client):
    make_product(sku="LIVE-1")
    retired = make_product(sku="GONE-1", active=False)

    listed = staff_client.get("/api/catalog/products/").json()["results"]
    detail = staff_client.get(f"/api/catalog/products/{retired.pk}/")

    assert [p["sku"] for p in listed] == ["GONE-1", "LIVE-1"]
    assert detail.status_code == 200
    assert detail.json()["active"] is False


def test_a_contact_cannot_order_an_inactive_product(make_customer, make_product, api_client_for):
    _, user = make_customer()
    retired = make_product(active=False)

    response = api_client_for(user).post(
        "/api/orders/", {"lines": [{"sku": retired.sku, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 400
    assert "lines" in response.json()


# -- staff-only ledgers ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "url", ["/api/inventory/movements/", "/api/inventory/reservations/", "/api/inventory/adjustments/"]
)
def test_stock_ledgers_are_staff_only(make_customer, api_client_for, staff_client, url):
    _, user = make_customer()

    assert api_client_for(user).get(url).status_code == 403
    assert staff_client.get(url).status_code == 200
