"""Pure pricing and points rules: Decimal totals rounded half-up to cents, points rounded down."""

from decimal import Decimal

import pytest

from legacy_monolith.loyalty.services import points_for_total
from legacy_monolith.orders.pricing import Totals, compute_totals, to_cents

D = Decimal


@pytest.mark.parametrize(
    ("amount", "cents"),
    [("0.005", "0.01"), ("0.015", "0.02"), ("0.025", "0.03"), ("2.675", "2.68"), ("0.0049", "0.00"), ("1.994", "1.99")],
)
def test_to_cents_rounds_half_up_not_half_even(amount, cents):
    assert to_cents(D(amount)) == D(cents)
    assert str(to_cents(D(amount))) == cents


@pytest.mark.parametrize(
    ("lines", "tier", "expected"),
    [
        # 59.97 * 0.20 = 11.994
        (["59.97"], "standard", ("59.97", "0.00", "11.99", "71.96")),
        # 12.25 * 0.02 = 0.245 -> 0.25 (half-even would give 0.24)
        (["12.25"], "silver", ("12.25", "0.25", "2.40", "14.40")),
        # 10.10 * 0.05 = 0.505 -> 0.51; 9.59 * 0.20 = 1.918
        (["5.05", "5.05"], "gold", ("10.10", "0.51", "1.92", "11.51")),
        # 112.49 * 0.08 = 8.9992; 103.49 * 0.20 = 20.698
        (["99.99", "12.50"], "platinum", ("112.49", "9.00", "20.70", "124.19")),
    ],
)
def test_totals_apply_the_tier_discount_then_vat(lines, tier, expected):
    totals = compute_totals([D(x) for x in lines], tier)

    assert totals == Totals(*(D(x) for x in expected))
    assert tuple(str(v) for v in (totals.subtotal, totals.discount, totals.tax, totals.total)) == expected


def test_totals_of_no_lines_are_zero():
    assert compute_totals([], "gold") == Totals(D("0.00"), D("0.00"), D("0.00"), D("0.00"))


def test_totals_use_the_configured_vat_rate(settings):
    settings.TECHGOODS_VAT_RATE = "0.07"

    assert compute_totals([D("100.00")], "standard").tax == D("7.00")


@pytest.mark.parametrize(
    ("total", "tier", "points"),
    [
        ("71.96", "standard", 71),
        ("99.99", "standard", 99),  # rounded down, never up
        ("14.40", "silver", 18),
        ("0.79", "silver", 0),
        ("11.51", "gold", 17),  # 17.265
        ("124.19", "platinum", 248),  # 248.38
        ("0.50", "platinum", 1),
    ],
)
def test_points_are_the_total_times_the_tier_rate_rounded_down(total, tier, points):
    assert points_for_total(D(total), tier) == points
