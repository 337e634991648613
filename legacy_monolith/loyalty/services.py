"""Loyalty ledger writes: points granted when an order is paid, reversed on cancel, redeemed by customers."""

from decimal import ROUND_FLOOR, Decimal

from django.db import transaction
from django.db.models import Sum
from rest_framework.exceptions import ValidationError

from legacy_monolith.customers.models import TIER_POINTS_PER_EURO, Customer

from .models import EntryKind, LoyaltyEntry


def points_for_total(total: Decimal, tier: str) -> int:
    """Whole points for an order total: the total (cents included) times the tier's rate, rounded down."""
    rate = TIER_POINTS_PER_EURO.get(tier, Decimal("1"))
    return int((total * rate).to_integral_value(rounding=ROUND_FLOOR))


def loyalty_balance(*, customer) -> int:
    return LoyaltyEntry.objects.filter(customer=customer).aggregate(total=Sum("points"))["total"] or 0


def loyalty_grant_for_order(*, order) -> LoyaltyEntry:
    """Called inside the payment transaction; the unique constraint makes a second grant impossible."""
    return LoyaltyEntry.objects.create(
        customer=order.customer, kind=EntryKind.EARN, order=order,
        points=points_for_total(order.total, order.customer.tier), description=f"Order {order.number} paid",
    )


def loyalty_reverse_for_order(*, order) -> LoyaltyEntry | None:
    """Take back what the order earned. Points already redeemed can take the balance below zero: the
    customer then owes points, which later orders pay back (the ledger stays truthful)."""
    Customer.objects.select_for_update().filter(pk=order.customer_id).first()
    earned = LoyaltyEntry.objects.filter(order=order, kind=EntryKind.EARN).first()
    if earned is None:
        return None
    return LoyaltyEntry.objects.create(
        customer=order.customer, kind=EntryKind.REVERSAL, order=order, points=-earned.points,
        description=f"Order {order.number} cancelled",
    )


@transaction.atomic
def loyalty_redeem(*, customer, points: int, description: str, user) -> LoyaltyEntry:
    # Lock the account row so two concurrent redemptions cannot both spend the same balance.
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    balance = loyalty_balance(customer=customer)
    if points > balance:
        raise ValidationError({"points": [f"Insufficient points: the balance is {balance}, {points} requested."]})
    return LoyaltyEntry.objects.create(
        customer=customer, kind=EntryKind.REDEEM, points=-points, description=description, created_by=user
    )
