"""Races the row locks must win: two orders for the last unit, two redemptions of one balance.

Each race runs the services in two threads (two database connections) released together by a barrier.
Only PostgreSQL takes the row locks these rules depend on, so the tests skip elsewhere.
"""

import threading

import pytest
from django.db import connection, connections
from rest_framework.exceptions import ValidationError

from legacy_monolith.core.exceptions import InsufficientStock
from legacy_monolith.inventory.models import Reservation
from legacy_monolith.loyalty import services as loyalty
from legacy_monolith.loyalty.models import LoyaltyEntry
from legacy_monolith.orders import services as orders
from legacy_monolith.orders.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

ROUNDS = 5


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://... (make test does)")


def _race(*calls):
    """Run each call in its own thread, all released at once; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return outcomes


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_orders_for_the_last_unit_place_exactly_one(
    make_customer, make_product, make_warehouse, stock, make_order, round_
):
    customer, user = make_customer()
    product = make_product()
    item = stock(product, make_warehouse(), on_hand=1)
    first, second = (make_order(customer, user, [(product, 1)]) for _ in range(2))

    outcomes = _race(lambda: orders.order_place(order=first), lambda: orders.order_place(order=second))

    placed = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, InsufficientStock)]
    assert (len(placed), len(refused)) == (1, 1), outcomes
    assert refused[0].short_skus == [product.sku]
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (1, 1)
    assert Reservation.objects.filter(product=product).count() == 1
    statuses = Order.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    assert sorted(statuses) == ["draft", "placed"]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_redemptions_that_together_exceed_the_balance_spend_it_once(make_customer, round_):
    customer, user = make_customer()
    LoyaltyEntry.objects.create(customer=customer, kind="adjustment", points=100)

    def redeem():
        return loyalty.loyalty_redeem(customer=customer, points=70, description="Voucher", user=user)

    outcomes = _race(redeem, redeem)

    redeemed = [o for o in outcomes if isinstance(o, LoyaltyEntry)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(redeemed), len(refused)) == (1, 1), outcomes
    assert loyalty.loyalty_balance(customer=customer) == 30
    assert LoyaltyEntry.objects.filter(customer=customer, kind="redeem").count() == 1
