"""Order totals: subtotal, tier discount, VAT; Decimal all the way, rounded half-up to cents."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from legacy_monolith.customers.models import TIER_DISCOUNT

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


def compute_totals(line_totals, tier: str) -> Totals:
    subtotal = to_cents(sum(line_totals, Decimal("0")))
    discount = to_cents(subtotal * TIER_DISCOUNT.get(tier, Decimal("0")))
    tax = to_cents((subtotal - discount) * Decimal(settings.TECHGOODS_VAT_RATE))
    return Totals(subtotal=subtotal, discount=discount, tax=tax, total=subtotal - discount + tax)
