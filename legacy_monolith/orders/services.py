"""Order lifecycle writes. Placing reserves stock by writing inventory rows directly, paying grants
loyalty points in the same transaction, shipping consumes the reserved stock."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from legacy_monolith.core.exceptions import Conflict, InsufficientStock
from legacy_monolith.inventory.models import MovementKind, Reservation, ReservationStatus, StockItem, StockMovement
from legacy_monolith.loyalty import services as loyalty_services

from .models import TRANSITIONS, Order, OrderLine, OrderStatus
from .pricing import compute_totals, to_cents


def _require_transition(order: Order, target: str, verb: str) -> None:
    if target not in TRANSITIONS[order.status]:
        raise Conflict(f"Cannot {verb} order {order.number}: it is {order.status}.")


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().select_related("customer").get(pk=order.pk)


def _write_lines(order: Order, lines) -> None:
    order.lines.all().delete()
    OrderLine.objects.bulk_create([
        OrderLine(order=order, product=line["product"], quantity=line["quantity"],
                  unit_price=line["product"].unit_price, line_total=to_cents(line["product"].unit_price * line["quantity"]))
        for line in lines
    ])
    totals = compute_totals([lt for lt in order.lines.values_list("line_total", flat=True)], order.customer.tier)
    Order.objects.filter(pk=order.pk).update(
        subtotal=totals.subtotal, discount=totals.discount, tax=totals.tax, total=totals.total
    )


@transaction.atomic
def order_create(*, customer, user, lines, shipping_address: str = "", notes: str = "") -> Order:
    order = Order.objects.create(
        number=f"TMP-{timezone.now().timestamp()}", customer=customer, created_by=user,
        shipping_address=shipping_address or customer.address, notes=notes,
    )
    order.number = f"TG-{order.pk:07d}"
    Order.objects.filter(pk=order.pk).update(number=order.number)
    _write_lines(order, lines)
    order.refresh_from_db()
    return order


@transaction.atomic
def order_update(*, order: Order, lines=None, **fields) -> Order:
    order = _lock(order)
    if order.status != OrderStatus.DRAFT:
        raise Conflict(f"Order {order.number} is {order.status}: only draft orders can be changed.")
    for name, value in fields.items():
        setattr(order, name, value)
    order.save()
    if lines is not None:
        _write_lines(order, lines)
    order.refresh_from_db()
    return order


def _reserve_line(order: Order, product, quantity: int) -> bool:
    """Reserve a line's quantity across warehouses, most available first; False when stock is short."""
    items = list(
        StockItem.objects.select_for_update()
        .filter(product=product, warehouse__active=True)
        .annotate(free=F("on_hand") - F("reserved"))
        .order_by("-free", "warehouse__code")
    )
    if sum(max(item.free, 0) for item in items) < quantity:
        return False
    remaining = quantity
    for item in items:
        take = min(item.free, remaining)
        if take <= 0:
            continue
        # The guard in the filter makes this safe even where row locks are not taken (SQLite).
        updated = StockItem.objects.filter(pk=item.pk, on_hand__gte=F("reserved") + take).update(
            reserved=F("reserved") + take, updated_at=timezone.now()
        )
        if not updated:
            return False
        Reservation.objects.create(order=order, product=product, warehouse_id=item.warehouse_id, quantity=take)
        StockMovement.objects.create(
            product=product, warehouse_id=item.warehouse_id, kind=MovementKind.RESERVATION, quantity=take,
            reference=order.number, reason="Order placed",
        )
        remaining -= take
        if remaining == 0:
            return True
    return remaining == 0


def order_place(*, order: Order) -> Order:
    with transaction.atomic():
        order = _lock(order)
        _require_transition(order, OrderStatus.PLACED, "place")
        lines = list(order.lines.select_related("product").order_by("product__sku"))
        if not lines:
            raise Conflict(f"Cannot place order {order.number}: it has no lines.")
        short = {line.product.sku for line in lines if not _reserve_line(order, line.product, line.quantity)}
        if short:
            raise InsufficientStock(short)  # rolls back every reservation made above
        totals = compute_totals([line.line_total for line in lines], order.customer.tier)
        now = timezone.now()
        Order.objects.filter(pk=order.pk).update(
            status=OrderStatus.PLACED, placed_at=now, updated_at=now, subtotal=totals.subtotal,
            discount=totals.discount, tax=totals.tax, total=totals.total,
        )
    order.refresh_from_db()
    return order


@transaction.atomic
def order_pay(*, order: Order) -> Order:
    order = _lock(order)
    _require_transition(order, OrderStatus.PAID, "pay")
    now = timezone.now()
    order.status, order.paid_at = OrderStatus.PAID, now
    order.save(update_fields=["status", "paid_at", "updated_at"])
    loyalty_services.loyalty_grant_for_order(order=order)
    return order


def _release_reservations(order: Order, reason: str) -> None:
    for reservation in order.reservations.select_for_update().filter(status=ReservationStatus.ACTIVE):
        StockItem.objects.filter(product_id=reservation.product_id, warehouse_id=reservation.warehouse_id).update(
            reserved=F("reserved") - reservation.quantity, updated_at=timezone.now()
        )
        StockMovement.objects.create(
            product_id=reservation.product_id, warehouse_id=reservation.warehouse_id, kind=MovementKind.RELEASE,
            quantity=-reservation.quantity, reference=order.number, reason=reason,
        )
    order.reservations.filter(status=ReservationStatus.ACTIVE).update(status=ReservationStatus.RELEASED, updated_at=timezone.now())


@transaction.atomic
def order_cancel(*, order: Order, reason: str = "Order cancelled") -> Order:
    order = _lock(order)
    _require_transition(order, OrderStatus.CANCELLED, "cancel")
    if order.shipments.exists():
        raise Conflict(f"Cannot cancel order {order.number}: a shipment exists; cancel the shipment with the carrier first.")
    was_paid = order.status == OrderStatus.PAID
    _release_reservations(order, reason)
    if was_paid:
        loyalty_services.loyalty_reverse_for_order(order=order)
    order.status, order.cancelled_at = OrderStatus.CANCELLED, timezone.now()
    order.save(update_fields=["status", "cancelled_at", "updated_at"])
    return order


@transaction.atomic
def order_mark_shipped(*, order: Order, when=None) -> Order:
    """Consume the order's reservations: the goods leave the warehouses."""
    order = _lock(order)
    _require_transition(order, OrderStatus.SHIPPED, "ship")
    now = timezone.now()
    for reservation in order.reservations.select_for_update().filter(status=ReservationStatus.ACTIVE):
        StockItem.objects.filter(product_id=reservation.product_id, warehouse_id=reservation.warehouse_id).update(
            on_hand=F("on_hand") - reservation.quantity, reserved=F("reserved") - reservation.quantity, updated_at=now
        )
        StockMovement.objects.create(
            product_id=reservation.product_id, warehouse_id=reservation.warehouse_id, kind=MovementKind.SHIPMENT,
            quantity=-reservation.quantity, reference=order.number, reason="Order shipped",
        )
    order.reservations.filter(status=ReservationStatus.ACTIVE).update(status=ReservationStatus.CONSUMED, updated_at=now)
    order.status, order.shipped_at = OrderStatus.SHIPPED, when or now
    order.save(update_fields=["status", "shipped_at", "updated_at"])
    return order


@transaction.atomic
def order_mark_delivered(*, order: Order, when=None) -> Order:
    order = _lock(order)
    _require_transition(order, OrderStatus.DELIVERED, "deliver")
    order.status, order.delivered_at = OrderStatus.DELIVERED, when or timezone.now()
    order.save(update_fields=["status", "delivered_at", "updated_at"])
    return order
