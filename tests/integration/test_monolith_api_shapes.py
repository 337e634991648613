"""The API's shapes: pagination envelope, filters, search, ordering, stock summaries, tokens, schema."""

from decimal import Decimal

import pytest
import yaml

from legacy_monolith.catalog.models import Product
from tests.support.monolith import PAGINATED_LISTS

PAGINATED = PAGINATED_LISTS


@pytest.mark.parametrize("url", PAGINATED)
def test_list_endpoints_answer_the_page_number_envelope(db, staff_client, url):
    response = staff_client.get(url)

    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}
    assert response.json()["results"] == []


def test_lists_are_paged_by_25_with_a_link_to_the_next_page(make_category, staff_client):
    category = make_category()
    Product.objects.bulk_create(
        Product(sku=f"BULK-{i:03d}", name=f"Part {i}", category=category, unit_price=Decimal("1.00"))
        for i in range(30)
    )

    first = staff_client.get("/api/catalog/products/").json()
    second = staff_client.get(first["next"]).json()

    assert first["count"] == 30
    assert len(first["results"]) == 25
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert [p["sku"] for p in second["results"]] == [f"BULK-{i:03d}" for i in range(25, 30)]
    assert second["next"] is None
    assert second["previous"] is not None


# -- product filters ---------------------------------------------------------------------------------

@pytest.fixture
def catalog(make_category, make_product):
    """Four products in two categories (slugs mcu, sensors); one inactive."""
    mcu, sensors = make_category("MCUs", slug="mcu"), make_category("Sensors", slug="sensors")
    make_product(sku="MCU-1", name="STM32 board", unit_price="12.00", category=mcu, manufacturer="ST")
    make_product(sku="MCU-2", name="ESP32 module", unit_price="4.50", category=mcu, manufacturer="Espressif")
    make_product(sku="SEN-1", name="Humidity sensor", unit_price="7.25", category=sensors, manufacturer="Bosch",
                 description="Works with the ESP32")
    make_product(sku="SEN-2", name="Old sensor", unit_price="2.00", category=sensors, active=False)
    return mcu, sensors


def _skus(client, **params):
    response = client.get("/api/catalog/products/", params)
    assert response.status_code == 200, response.content
    return [p["sku"] for p in response.json()["results"]]


@pytest.mark.parametrize(
    ("params", "skus"),
    [
        ({}, ["MCU-1", "MCU-2", "SEN-1", "SEN-2"]),
        ({"category": "mcu"}, ["MCU-1", "MCU-2"]),
        ({"category": "sensors"}, ["SEN-1", "SEN-2"]),
        ({"min_price": "5"}, ["MCU-1", "SEN-1"]),
        ({"max_price": "4.50"}, ["MCU-2", "SEN-2"]),
        ({"min_price": "4.50", "max_price": "7.25"}, ["MCU-2", "SEN-1"]),
        ({"active": "false"}, ["SEN-2"]),
        ({"active": "true"}, ["MCU-1", "MCU-2", "SEN-1"]),
        ({"manufacturer": "Bosch"}, ["SEN-1"]),
        ({"search": "esp32"}, ["MCU-2", "SEN-1"]),  # name or description
        ({"search": "humidity"}, ["SEN-1"]),
        ({"ordering": "-unit_price"}, ["MCU-1", "SEN-1", "MCU-2", "SEN-2"]),
        ({"ordering": "unit_price"}, ["SEN-2", "MCU-2", "SEN-1", "MCU-1"]),
        ({"ordering": "-sku", "category": "mcu"}, ["MCU-2", "MCU-1"]),
    ],
)
def test_staff_filter_search_and_order_products(catalog, staff_client, params, skus):
    assert _skus(staff_client, **params) == skus


def test_the_category_filter_also_takes_an_id(catalog, staff_client):
    mcu, _ = catalog

    assert _skus(staff_client, category=str(mcu.pk)) == ["MCU-1", "MCU-2"]


def test_a_contact_cannot_filter_its_way_to_inactive_products(catalog, make_customer, api_client_for):
    _, user = make_customer()

    assert _skus(api_client_for(user), active="false") == []
    assert _skus(api_client_for(user), category="sensors") == ["SEN-1"]


# -- stock ----------------------------------------------------------------------------------------

@pytest.fixture
def stock_levels(make_product, make_warehouse, stock):
    """A-1 in BER (20 on hand, 5 reserved) and HAM (3, 0); B-1 in BER (8, 0); reorder level 10."""
    ber, ham = make_warehouse(code="BER"), make_warehouse(code="HAM")
    a, b = make_product(sku="A-1", name="Resistor kit"), make_product(sku="B-1", name="Capacitor kit")
    stock(a, ber, on_hand=20, reserved=5)
    stock(a, ham, on_hand=3)
    stock(b, ber, on_hand=8)


def _rows(client, **params):
    response = client.get("/api/inventory/stock/", params)
    assert response.status_code == 200, response.content
    return [(row["sku"], row["warehouse"], row["available"]) for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("params", "rows"),
    [
        ({}, [("A-1", "BER", 15), ("A-1", "HAM", 3), ("B-1", "BER", 8)]),
        ({"sku": "A-1"}, [("A-1", "BER", 15), ("A-1", "HAM", 3)]),
        ({"warehouse": "BER"}, [("A-1", "BER", 15), ("B-1", "BER", 8)]),
        ({"low_stock": "true"}, [("A-1", "HAM", 3), ("B-1", "BER", 8)]),
        ({"low_stock": "false"}, [("A-1", "BER", 15)]),
        ({"min_available": "8"}, [("A-1", "BER", 15), ("B-1", "BER", 8)]),
        ({"search": "capacitor"}, [("B-1", "BER", 8)]),
        ({"ordering": "-available"}, [("A-1", "BER", 15), ("B-1", "BER", 8), ("A-1", "HAM", 3)]),
        ({"ordering": "available"}, [("A-1", "HAM", 3), ("B-1", "BER", 8), ("A-1", "BER", 15)]),
        ({"ordering": "-sku"}, [("B-1", "BER", 8), ("A-1", "BER", 15), ("A-1", "HAM", 3)]),
        ({"ordering": "sku"}, [("A-1", "BER", 15), ("A-1", "HAM", 3), ("B-1", "BER", 8)]),
        ({"ordering": "-warehouse,sku"}, [("A-1", "HAM", 3), ("A-1", "BER", 15), ("B-1", "BER", 8)]),
    ],
)
def test_stock_list_filters_and_orders(stock_levels, make_customer, api_client_for, params, rows):
    _, user = make_customer()

    assert _rows(api_client_for(user), **params) == rows


def test_a_stock_row_shows_on_hand_reserved_and_available(stock_levels, staff_client):
    row = staff_client.get("/api/inventory/stock/", {"sku": "A-1", "warehouse": "BER"}).json()["results"][0]

    shown = ["sku", "product_name", "warehouse", "on_hand", "reserved", "available", "reorder_level"]
    assert {k: row[k] for k in shown} == {
        "sku": "A-1", "product_name": "Resistor kit", "warehouse": "BER", "on_hand": 20, "reserved": 5,
        "available": 15, "reorder_level": 10,
    }


def test_stock_detail_by_sku_sums_the_warehouses_with_a_breakdown(stock_levels, staff_client):
    response = staff_client.get("/api/inventory/stock/A-1/")

    assert response.status_code == 200
    assert response.json() == {
        "sku": "A-1", "product_name": "Resistor kit", "on_hand": 23, "reserved": 5, "available": 18,
        "warehouses": [
            {"warehouse": "BER", "on_hand": 20, "reserved": 5, "available": 15},
            {"warehouse": "HAM", "on_hand": 3, "reserved": 0, "available": 3},
        ],
    }


def test_stock_detail_of_a_product_without_stock_is_zero(make_product, staff_client):
    make_product(sku="EMPTY-1")

    response = staff_client.get("/api/inventory/stock/EMPTY-1/")

    assert response.status_code == 200
    assert (response.json()["on_hand"], response.json()["available"], response.json()["warehouses"]) == (0, 0, [])


def test_stock_detail_of_an_unknown_sku_answers_404(stock_levels, staff_client):
    response = staff_client.get("/api/inventory/stock/NO-SUCH-SKU/")

    assert response.status_code == 404
    assert set(response.json()) == {"detail"}
    assert response.json()["detail"].startswith("No ") and "matches the given query" in response.json()["detail"]


# -- auth and schema ----------------------------------------------------------------------------

def test_a_token_from_the_auth_endpoint_lists_orders(make_customer, make_order, make_product, anon_client):
    customer, user = make_customer()
    order = make_order(customer, user, [(make_product(), 1)])

    token = anon_client.post("/api/auth/token/", {"username": user.username, "password": "pw"}, format="json")
    assert token.status_code == 200, token.content
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    response = anon_client.get("/api/orders/")

    assert response.status_code == 200
    assert [o["number"] for o in response.json()["results"]] == [order.number]


def test_a_bad_password_gets_no_token(make_customer, anon_client):
    _, user = make_customer()

    response = anon_client.post("/api/auth/token/", {"username": user.username, "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]
    assert "token" not in response.json()


def test_the_schema_is_an_openapi_3_document_of_the_api(db, anon_client):
    response = anon_client.get("/api/schema/")

    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert str(schema["openapi"]).startswith("3.")
    assert {"/api/orders/", "/api/orders/{id}/place/", "/api/inventory/stock/{sku}/"} <= set(schema["paths"])


def test_the_schema_is_served_as_json_on_request(db, anon_client):
    response = anon_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert "/api/shipping/webhooks/courier/" in response.json()["paths"]
