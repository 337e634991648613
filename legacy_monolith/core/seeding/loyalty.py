"""Loyalty ledger rows: an earn per paid order, a reversal when a paid order was cancelled, and
redemptions that never spend more than the account holds, then or at any later point."""

import bisect
from collections import defaultdict
from datetime import datetime, timedelta

from legacy_monolith.loyalty.models import EntryKind
from legacy_monolith.loyalty.services import points_for_total

from .config import ANCHOR
from .rows import LoyaltyEntryRow

REDEEMING_SHARE = 0.2
REDEMPTION_REASONS = (
    "Redeemed for a discount voucher", "Converted to a credit note", "Redeemed for a development kit",
    "Redeemed for free express shipping",
)


class LoyaltyBook:
    """Builds entries and remembers each customer's (time, points) history for the redemptions."""

    def __init__(self):
        self.history: dict[int, list[tuple[datetime, int]]] = defaultdict(list)

    def earn(self, entry_id: int, *, order, tier: str) -> LoyaltyEntryRow:
        points = points_for_total(order.total, tier)
        self.history[order.customer_id].append((order.paid_at, points))
        return LoyaltyEntryRow(
            id=entry_id, customer_id=order.customer_id, kind=EntryKind.EARN, points=points, order_id=order.id,
            description=f"Order {order.number} paid", created_by_id=None, created_at=order.paid_at,
        )

    def reverse(self, entry_id: int, *, order, earned: LoyaltyEntryRow) -> LoyaltyEntryRow:
        self.history[order.customer_id].append((order.cancelled_at, -earned.points))
        return LoyaltyEntryRow(
            id=entry_id, customer_id=order.customer_id, kind=EntryKind.REVERSAL, points=-earned.points,
            order_id=order.id, description=f"Order {order.number} cancelled", created_by_id=None,
            created_at=order.cancelled_at,
        )

    @staticmethod
    def _spendable(history: list[tuple[datetime, int]], at: datetime) -> int:
        """The lowest balance from `at` on: spending more would drive a later balance below zero."""
        cut = bisect.bisect_right(history, (at, float("inf")))
        balance = sum(points for _, points in history[:cut])
        lowest = balance
        for _, points in history[cut:]:
            balance += points
            lowest = min(lowest, balance)
        return lowest

    def redemptions(self, rng, next_id, accounts) -> list[LoyaltyEntryRow]:
        """Some customers spend part of their points, once or twice, after they earned some."""
        entries = []
        latest = ANCHOR - timedelta(hours=1)
        for account in accounts:
            history = sorted(self.history.get(account.id, ()))
            if not history or rng.random() >= REDEEMING_SHARE:
                continue
            for _ in range(rng.randint(1, 2)):
                earliest = history[0][0] + timedelta(days=7)
                if earliest >= latest:
                    break
                at = (earliest + (latest - earliest) * rng.random()).replace(microsecond=0)
                points = int(self._spendable(history, at) * rng.uniform(0.3, 0.9)) // 100 * 100
                if points < 100:
                    continue
                bisect.insort(history, (at, -points))
                entries.append(LoyaltyEntryRow(
                    id=next_id(), customer_id=account.id, kind=EntryKind.REDEEM, points=-points, order_id=None,
                    description=rng.choice(REDEMPTION_REASONS), created_by_id=account.contact_user_ids[0],
                    created_at=at,
                ))
        return entries
