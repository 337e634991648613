"""Build orders as the services would have left them: lines and totals, then per state the
reservations, stock movements, shipment with tracking events, and loyalty entries.

Placing reserved each line in one warehouse; shipping consumed those reservations, cancelling
released them; paying earned points (``points_for_total``), cancelling a paid order reversed them.
Order numbers follow the services' ``TG-<id:07d>``, in creation order.
"""

import itertools
from dataclasses import dataclass, field

from legacy_monolith.inventory.models import MovementKind, Reservation, ReservationStatus, StockMovement
from legacy_monolith.loyalty.models import LoyaltyEntry
from legacy_monolith.orders.models import Order, OrderLine
from legacy_monolith.orders.pricing import compute_totals, to_cents
from legacy_monolith.shipping.models import Shipment, TrackingEvent

from .catalog import Catalog
from .customers import People
from .inventory import StockLedger
from .loyalty import LoyaltyBook
from .rows import OrderLineRow, OrderRow, ReservationRow, StockMovementRow
from .shipping import ShipmentFactory
from .timeline import pick_status, step_times, steps_for

LINE_COUNTS, LINE_WEIGHTS = (1, 2, 3, 4, 5), (30, 25, 20, 15, 10)
# The steps that change the order row itself (and so its updated_at).
ORDER_STEPS = ("edited", "placed", "paid", "picked_up", "delivered", "cancelled")
STAFF_ORDER_SHARE = 0.1  # entered by TechGoods staff on the phone
NOTES = (
    "Please deliver to goods receiving, gate 3.", "Partial deliveries accepted.", "Call before delivery.",
    "Delivery Monday to Thursday only.", "Urgent: line stop at customer.",
)


class IdSequence:
    """Hands out consecutive primary keys."""

    def __init__(self, start: int = 1):
        self._next = itertools.count(start)

    def __call__(self) -> int:
        return next(self._next)


@dataclass
class OrderRows:
    """The rows of one chunk of orders, in the order they must be inserted."""

    orders: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    reservations: list = field(default_factory=list)
    movements: list = field(default_factory=list)
    shipments: list = field(default_factory=list)
    events: list = field(default_factory=list)
    loyalty: list = field(default_factory=list)

    def tables(self):
        """(model, rows) pairs, parents first."""
        return (
            (Order, self.orders), (OrderLine, self.lines), (Reservation, self.reservations),
            (StockMovement, self.movements), (Shipment, self.shipments), (TrackingEvent, self.events),
            (LoyaltyEntry, self.loyalty),
        )


class OrderFactory:
    """Turns creation times into orders; books stock in `ledger` and points in `loyalty`."""

    def __init__(self, rng, *, catalog: Catalog, people: People, ledger: StockLedger, admin_id: int,
                 first_movement_id: int):
        self.rng, self.catalog, self.people, self.ledger, self.admin_id = rng, catalog, people, ledger, admin_id
        self.ids = {name: IdSequence() for name in ("order", "line", "reservation", "shipment", "event", "loyalty")}
        self.ids["movement"] = IdSequence(first_movement_id)
        self.shipping = ShipmentFactory(rng)
        self.loyalty = LoyaltyBook()
        self.city = {warehouse.id: warehouse.city for warehouse in ledger.warehouses}

    def build(self, created_times) -> OrderRows:
        rows = OrderRows()
        for created_at in created_times:
            self._order(rows, created_at)
        return rows

    def _lines(self, order_id: int) -> list[OrderLineRow]:
        rng, catalog = self.rng, self.catalog
        count = rng.choices(LINE_COUNTS, weights=LINE_WEIGHTS)[0]
        picks = rng.choices(catalog.sellable, cum_weights=catalog.popularity, k=count)
        lines, seen = [], set()
        for product in picks:
            if product.id in seen:
                continue  # a popular product drawn twice: one line fewer
            seen.add(product.id)
            units, low, high = product.pack
            quantity = units * (low + int((high - low + 1) * rng.random() ** 2))  # small orders are common
            lines.append(OrderLineRow(
                id=self.ids["line"](), order_id=order_id, product_id=product.id, quantity=quantity,
                unit_price=product.unit_price, line_total=to_cents(product.unit_price * quantity),
            ))
        return lines

    def _order(self, rows: OrderRows, created_at) -> None:
        rng = self.rng
        account = rng.choices(self.people.accounts, cum_weights=self.people.activity)[0]
        status = pick_status(rng, created_at)
        times = step_times(rng, created_at, steps_for(rng, status))
        order_id = self.ids["order"]()
        lines = self._lines(order_id)
        totals = compute_totals([line.line_total for line in lines], account.tier)
        by_staff = rng.random() < STAFF_ORDER_SHARE
        notes = rng.choice(NOTES) if rng.random() < 0.15 else ""
        if rng.random() < 0.3:
            notes = f"PO {rng.randrange(4_500_000_000, 4_600_000_000)}. {notes}".strip()
        order = OrderRow(
            id=order_id, number=f"TG-{order_id:07d}", customer_id=account.id, status=status, currency="EUR",
            created_by_id=self.admin_id if by_staff else rng.choice(account.contact_user_ids),
            subtotal=totals.subtotal, discount=totals.discount, tax=totals.tax, total=totals.total,
            shipping_address=account.address, notes=notes, created_at=created_at,
            updated_at=max((times[step] for step in ORDER_STEPS if step in times), default=created_at),
            placed_at=times.get("placed"), paid_at=times.get("paid"), shipped_at=times.get("picked_up"),
            delivered_at=times.get("delivered"), cancelled_at=times.get("cancelled"),
        )
        rows.orders.append(order)
        rows.lines.extend(lines)
        reservations = self._reserve(rows, order, lines) if order.placed_at else []
        if "label" in times:
            first_warehouse = reservations[0].warehouse_id
            shipment, events = self.shipping.build(
                shipment_id=self.ids["shipment"](), next_event_id=self.ids["event"], order_id=order_id, times=times,
                from_city=self.city[first_warehouse], to_city=account.city,
            )
            rows.shipments.append(shipment)
            rows.events.extend(events)
        if order.paid_at:
            earned = self.loyalty.earn(self.ids["loyalty"](), order=order, tier=account.tier)
            rows.loyalty.append(earned)
            if order.cancelled_at:
                rows.loyalty.append(self.loyalty.reverse(self.ids["loyalty"](), order=order, earned=earned))

    def _movement(self, rows: OrderRows, order: OrderRow, reservation: ReservationRow, kind: str, sign: int, at,
                  reason: str) -> None:
        rows.movements.append(StockMovementRow(
            id=self.ids["movement"](), product_id=reservation.product_id, warehouse_id=reservation.warehouse_id,
            kind=kind, quantity=sign * reservation.quantity, reference=order.number, reason=reason,
            created_by_id=None, created_at=at,
        ))

    def _reserve(self, rows: OrderRows, order: OrderRow, lines: list[OrderLineRow]) -> list[ReservationRow]:
        """One reservation per line; then consumed by the shipment, released by a cancel, or still active."""
        ledger = self.ledger
        if order.shipped_at:
            status, settled_at = ReservationStatus.CONSUMED, order.shipped_at
        elif order.cancelled_at:
            status, settled_at = ReservationStatus.RELEASED, order.cancelled_at
        else:
            status, settled_at = ReservationStatus.ACTIVE, order.placed_at
        reservations = []
        for line in lines:
            reservation = ReservationRow(
                id=self.ids["reservation"](), order_id=order.id, product_id=line.product_id,
                warehouse_id=ledger.pick_warehouse(self.rng), quantity=line.quantity, status=status,
                created_at=order.placed_at, updated_at=settled_at,
            )
            reservations.append(reservation)
            product_id, warehouse_id, quantity = line.product_id, reservation.warehouse_id, line.quantity
            ledger.reserve(product_id, warehouse_id, quantity, order.placed_at)
            self._movement(rows, order, reservation, MovementKind.RESERVATION, 1, order.placed_at, "Order placed")
            if status == ReservationStatus.CONSUMED:
                ledger.consume(product_id, warehouse_id, quantity, settled_at)
                self._movement(rows, order, reservation, MovementKind.SHIPMENT, -1, settled_at, "Order shipped")
            elif status == ReservationStatus.RELEASED:
                ledger.release(product_id, warehouse_id, quantity, settled_at)
                self._movement(rows, order, reservation, MovementKind.RELEASE, -1, settled_at, "Order cancelled")
        rows.reservations.extend(reservations)
        return reservations
