"""Factories and authenticated API clients for tests of the TechGoods monolith."""

import itertools
from decimal import Decimal

import pytest

_counter = itertools.count(1)

# Every paginated list endpoint of the monolith's API.
PAGINATED_LISTS = [
    "/api/catalog/products/",
    "/api/catalog/categories/",
    "/api/customers/",
    "/api/inventory/warehouses/",
    "/api/inventory/stock/",
    "/api/inventory/adjustments/",
    "/api/inventory/reservations/",
    "/api/inventory/movements/",
    "/api/orders/",
    "/api/shipping/shipments/",
    "/api/loyalty/entries/",
]


@pytest.fixture
def make_category(db):
    from legacy_monolith.catalog.models import Category

    def make(name="Microcontrollers", **kwargs):
        n = next(_counter)
        return Category.objects.create(name=name, slug=kwargs.pop("slug", f"cat-{n}"), **kwargs)

    return make


@pytest.fixture
def make_product(db, make_category):
    from legacy_monolith.catalog.models import Product

    def make(sku=None, unit_price="10.00", category=None, **kwargs):
        n = next(_counter)
        return Product.objects.create(
            sku=sku or f"TG-TST-{n:05d}", name=kwargs.pop("name", f"Test part {n}"),
            category=category or make_category(), unit_price=Decimal(unit_price), **kwargs,
        )

    return make


@pytest.fixture
def make_warehouse(db):
    from legacy_monolith.inventory.models import Warehouse

    def make(code=None, **kwargs):
        n = next(_counter)
        return Warehouse.objects.create(code=code or f"W{n:02d}", name=kwargs.pop("name", f"Warehouse {n}"),
                                        city=kwargs.pop("city", "Berlin"), **kwargs)

    return make


@pytest.fixture
def stock(db):
    """stock(product, warehouse, on_hand, reserved=0) -> StockItem"""
    from legacy_monolith.inventory.models import StockItem

    def make(product, warehouse, on_hand, reserved=0):
        item, _ = StockItem.objects.update_or_create(
            product=product, warehouse=warehouse, defaults={"on_hand": on_hand, "reserved": reserved}
        )
        return item

    return make


@pytest.fixture
def make_customer(db, django_user_model):
    """make_customer(tier=...) -> (customer, contact user)"""
    from legacy_monolith.customers.models import Contact, Customer

    def make(tier="standard", **kwargs):
        n = next(_counter)
        customer = Customer.objects.create(
            account_number=f"C{n:06d}", company_name=kwargs.pop("company_name", f"Acme {n} GmbH"),
            email=f"buyer{n}@example.com", tier=tier, address="Hauptstr. 1, 10115 Berlin", **kwargs,
        )
        user = django_user_model.objects.create_user(username=f"contact{n}", password="pw", email=f"c{n}@example.com")
        Contact.objects.create(user=user, customer=customer)
        return customer, user

    return make


@pytest.fixture
def staff_user(db, django_user_model):
    return django_user_model.objects.create_user(username="staff", password="pw", is_staff=True)


def _client_for(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api_client_for(db):
    """api_client_for(user) -> APIClient authenticated with the user's DRF token (None: anonymous)."""
    return _client_for


@pytest.fixture
def staff_client(staff_user):
    return _client_for(staff_user)


@pytest.fixture
def anon_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def make_order(db):
    """make_order(customer, user, [(product, quantity), ...], status="draft") -> Order

    Drives a new order through the order services to ``status`` (the products need stock to get past
    draft); shipped and delivered are reached through a shipment and its tracking events.
    """
    from django.utils import timezone

    from legacy_monolith.orders import services
    from legacy_monolith.shipping import services as shipping

    def ship(*, order):
        shipment = shipping.shipment_create(order=order, carrier="dhl")
        shipping.tracking_event_record(shipment=shipment, status="picked_up", occurred_at=timezone.now())

    def deliver(*, order):
        shipping.tracking_event_record(shipment=order.shipments.get(), status="delivered", occurred_at=timezone.now())

    steps = {
        "draft": [],
        "placed": [services.order_place],
        "paid": [services.order_place, services.order_pay],
        "shipped": [services.order_place, services.order_pay, ship],
        "delivered": [services.order_place, services.order_pay, ship, deliver],
        "cancelled": [services.order_cancel],
    }

    def make(customer, user=None, lines=(), status="draft"):
        order = services.order_create(
            customer=customer, user=user, lines=[{"product": product, "quantity": qty} for product, qty in lines]
        )
        for step in steps[status]:
            step(order=order)
            order.refresh_from_db()
        assert order.status == status, f"make_order: wanted {status}, got {order.status}"
        return order

    return make
