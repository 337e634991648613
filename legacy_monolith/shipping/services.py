"""Shipment writes: create a shipment for a paid order, record tracking events that move the order on."""

import secrets

from django.db import transaction

from legacy_monolith.core.exceptions import Conflict
from legacy_monolith.orders import services as order_services
from legacy_monolith.orders.models import OrderStatus

from .models import SHIPPED_STATUSES, Shipment, TrackingEvent, TrackingStatus


@transaction.atomic
def shipment_create(*, order, carrier: str, tracking_number: str | None = None) -> Shipment:
    if order.status != OrderStatus.PAID:
        raise Conflict(f"Cannot ship order {order.number}: it is {order.status}, not paid.")
    if order.shipments.exists():
        raise Conflict(f"Order {order.number} already has a shipment.")
    number = tracking_number or f"{carrier.upper()}{secrets.randbelow(10**12):012d}"
    shipment = Shipment.objects.create(order=order, carrier=carrier, tracking_number=number)
    TrackingEvent.objects.create(
        shipment=shipment, status=TrackingStatus.LABEL_CREATED, occurred_at=shipment.created_at,
        description="Shipping label created",
    )
    return shipment


@transaction.atomic
def tracking_event_record(*, shipment, status: str, occurred_at, location: str = "", description: str = "",
                          source: str = "staff") -> tuple[TrackingEvent, bool]:
    """Record an event once (carriers retry) and move the order: shipped, then delivered.

    Returns the event and whether it was new.
    """
    event, created = TrackingEvent.objects.get_or_create(
        shipment=shipment, status=status, occurred_at=occurred_at,
        defaults={"location": location, "description": description, "source": source},
    )
    if not created:
        return event, False
    # Carriers deliver events out of order: only the latest carrier event sets the shipment's status.
    latest = shipment.events.exclude(status=TrackingStatus.LABEL_CREATED).order_by("-occurred_at", "-id").first()
    if latest is not None and latest.pk == event.pk:
        shipment.status = status
        shipment.save(update_fields=["status", "updated_at"])
    order = shipment.order
    if status in SHIPPED_STATUSES and order.status == OrderStatus.PAID:
        order_services.order_mark_shipped(order=order, when=occurred_at)
    elif status == TrackingStatus.DELIVERED:
        if order.status == OrderStatus.PAID:
            order = order_services.order_mark_shipped(order=order, when=occurred_at)
        if order.status == OrderStatus.SHIPPED:
            order_services.order_mark_delivered(order=order, when=occurred_at)
    return event, True
