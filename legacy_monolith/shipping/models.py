"""Shipments of paid orders and the carriers' tracking events."""

from django.db import models


class Carrier(models.TextChoices):
    DHL = "dhl", "DHL"
    UPS = "ups", "UPS"
    FEDEX = "fedex", "FedEx"
    DPD = "dpd", "DPD"
    GLS = "gls", "GLS"


class TrackingStatus(models.TextChoices):
    LABEL_CREATED = "label_created", "Label created"
    PICKED_UP = "picked_up", "Picked up"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    EXCEPTION = "exception", "Exception"


# Tracking statuses that mean the goods have left the warehouse.
SHIPPED_STATUSES = {TrackingStatus.PICKED_UP, TrackingStatus.IN_TRANSIT, TrackingStatus.OUT_FOR_DELIVERY}


class Shipment(models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(max_length=12, choices=Carrier.choices)
    tracking_number = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=20, choices=TrackingStatus.choices, default=TrackingStatus.LABEL_CREATED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.carrier}:{self.tracking_number}"


class TrackingEvent(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=20, choices=TrackingStatus.choices)
    location = models.CharField(max_length=120, blank=True)
    description = models.CharField(max_length=255, blank=True)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=12, default="staff", help_text="staff or webhook")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            # Carriers retry webhooks: the same event twice is recorded once.
            models.UniqueConstraint(fields=["shipment", "status", "occurred_at"], name="tracking_event_once"),
        ]
