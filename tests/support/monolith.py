"""Factories and authenticated API clients for tests of the TechGoods monolith."""

import itertools
from decimal import Decimal

import pytest

_counter = itertools.count(1)


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
