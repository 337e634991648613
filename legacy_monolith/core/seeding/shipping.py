"""Shipments and tracking events for the seeded orders that left a warehouse.

A shipped order's shipment is in transit (label created, picked up, in transit); a delivered one's
also went out for delivery and was delivered. The order's ``shipped_at``/``delivered_at`` are the
picked-up and delivered events' times, as ``tracking_event_record`` would have set them.
"""

from legacy_monolith.shipping.models import Carrier, TrackingStatus

from .rows import ShipmentRow, TrackingEventRow

CARRIER_WEIGHTS = {Carrier.DHL: 40, Carrier.DPD: 20, Carrier.UPS: 15, Carrier.GLS: 15, Carrier.FEDEX: 10}
HUBS = ("Leipzig", "Kassel", "Hanover", "Nuremberg", "Dortmund", "Erfurt", "Mannheim", "Bielefeld")
# Odd and not a multiple of 5, so id -> (id * M + offset) mod 10**12 never repeats a number.
_SCRAMBLE = 7_919_000_003


class ShipmentFactory:
    """Builds one order's shipment with its events; ids come from the caller's counters."""

    def __init__(self, rng):
        self.rng = rng
        self.carriers = list(CARRIER_WEIGHTS)
        self.carrier_weights = list(CARRIER_WEIGHTS.values())
        self.offset = rng.randrange(10**12)

    def tracking_number(self, carrier: str, shipment_id: int) -> str:
        """Same shape as ``shipment_create`` gives: carrier code plus twelve digits, unique per shipment."""
        return f"{carrier.upper()}{(shipment_id * _SCRAMBLE + self.offset) % 10**12:012d}"

    def build(self, *, shipment_id: int, next_event_id, order_id: int, times: dict, from_city: str, to_city: str):
        """`times` holds label, picked_up, in_transit and, once delivered, out_for_delivery and delivered."""
        rng = self.rng
        carrier = rng.choices(self.carriers, weights=self.carrier_weights)[0]
        label = Carrier(carrier).label
        steps = [
            (TrackingStatus.LABEL_CREATED, times["label"], from_city, "Shipping label created", "staff"),
            (TrackingStatus.PICKED_UP, times["picked_up"], from_city, f"Picked up by {label}", "webhook"),
            (TrackingStatus.IN_TRANSIT, times["in_transit"], f"{rng.choice(HUBS)} hub", "Arrived at sorting hub",
             "webhook"),
        ]
        if "delivered" in times:
            steps += [
                (TrackingStatus.OUT_FOR_DELIVERY, times["out_for_delivery"], to_city, "Out for delivery", "webhook"),
                (TrackingStatus.DELIVERED, times["delivered"], to_city, "Delivered to goods receiving", "webhook"),
            ]
        last_status, last_at = steps[-1][0], steps[-1][1]
        shipment = ShipmentRow(
            id=shipment_id, order_id=order_id, carrier=carrier,
            tracking_number=self.tracking_number(carrier, shipment_id), status=last_status,
            created_at=times["label"], updated_at=last_at,
        )
        events = [
            TrackingEventRow(
                id=next_event_id(), shipment_id=shipment_id, status=status, occurred_at=at, location=location[:120],
                description=description, source=source, created_at=at,
            )
            for status, at, location, description, source in steps
        ]
        return shipment, events
