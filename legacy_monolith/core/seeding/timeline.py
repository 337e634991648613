"""When orders were created, which state they reached, and when each lifecycle step happened.

Older orders have mostly been delivered; recent ones are still in flight, but any state can occur in
any month (an old order may still wait for payment). Steps follow the allowed transitions
(draft -> placed -> paid -> shipped -> delivered; cancel from draft, placed or paid) and all of them
lie before the anchor.
"""

from datetime import datetime, timedelta

from legacy_monolith.orders.models import OrderStatus

from .config import ANCHOR, ORDER_WINDOW

DAY = 86_400
# Delay of each step after the previous one, in seconds (low, high).
DELAYS = {
    "edited": (60, DAY),  # a draft's last edit
    "placed": (120, 2 * DAY),
    "paid": (3_600, 5 * DAY),
    "label": (600, DAY),
    "picked_up": (3_600, DAY),
    "in_transit": (3_600, 12 * 3_600),
    "out_for_delivery": (8 * 3_600, 2 * DAY),
    "delivered": (1_800, 8 * 3_600),
    "cancelled": (3_600, 3 * DAY),
}
SHIP = ("placed", "paid", "label", "picked_up", "in_transit")
PATHS = {
    OrderStatus.DRAFT: ("edited",),
    OrderStatus.PLACED: ("placed",),
    OrderStatus.PAID: ("placed", "paid"),
    OrderStatus.SHIPPED: SHIP,
    OrderStatus.DELIVERED: SHIP + ("out_for_delivery", "delivered"),
}
# Where a cancelled order was when it was cancelled, and how likely.
CANCELLED_FROM = {(): 40, ("placed",): 40, ("placed", "paid"): 20}
_STATES = (OrderStatus.DRAFT, OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED,
           OrderStatus.CANCELLED)
# (max age in days, weights in _STATES order)
STATE_WEIGHTS_BY_AGE = (
    (3, (20, 25, 25, 15, 5, 10)),
    (14, (8, 8, 10, 24, 42, 8)),
    (10_000, (4, 2, 2, 2, 82, 8)),
)
LATEST = ANCHOR - timedelta(minutes=1)


def creation_times(rng, count: int) -> list[datetime]:
    """`count` creation times over the order window, mostly on weekdays in office hours, sorted."""
    start = ANCHOR - ORDER_WINDOW
    times = []
    while len(times) < count:
        day = start + timedelta(days=rng.randrange(ORDER_WINDOW.days))
        if day.weekday() >= 5 and rng.random() < 0.85:
            continue  # few orders at weekends
        hour = rng.triangular(6.0, 20.0, 10.0)
        moment = day + timedelta(seconds=int(hour * 3_600))
        if moment <= ANCHOR - timedelta(hours=1):
            times.append(moment)
    times.sort()
    return times


def pick_status(rng, created_at: datetime) -> OrderStatus:
    age = (ANCHOR - created_at).days
    weights = next(weights for max_age, weights in STATE_WEIGHTS_BY_AGE if age <= max_age)
    return rng.choices(_STATES, weights=weights)[0]


def steps_for(rng, status: OrderStatus) -> tuple[str, ...]:
    if status != OrderStatus.CANCELLED:
        return PATHS[status]
    before = rng.choices(list(CANCELLED_FROM), weights=list(CANCELLED_FROM.values()))[0]
    return before + ("cancelled",)


def step_times(rng, created_at: datetime, steps: tuple[str, ...]) -> dict[str, datetime]:
    """Each step's time; delays are squeezed proportionally when they would run past the anchor."""
    delays = [int(rng.uniform(*DELAYS[step])) for step in steps]
    room = int((LATEST - created_at).total_seconds())
    total = sum(delays)
    if total > room:
        delays = [max(1, delay * room // total - 1) for delay in delays]
    times, at = {}, created_at
    for step, delay in zip(steps, delays):
        at += timedelta(seconds=delay)
        times[step] = at
    return times
