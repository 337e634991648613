"""Loyalty points: an append-only ledger per customer account."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class EntryKind(models.TextChoices):
    EARN = "earn", "Earned on a paid order"
    REDEEM = "redeem", "Redeemed"
    REVERSAL = "reversal", "Reversed on a cancelled order"
    ADJUSTMENT = "adjustment", "Manual adjustment"


class LoyaltyEntry(models.Model):
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="loyalty_entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    points = models.IntegerField(help_text="Signed: positive earns, negative spends")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="loyalty_entries")
    description = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "loyalty entries"
        constraints = [
            # An order earns points once and is reversed at most once.
            models.UniqueConstraint(
                fields=["order", "kind"], condition=Q(kind__in=["earn", "reversal"]), name="loyalty_order_kind_once"
            ),
        ]
