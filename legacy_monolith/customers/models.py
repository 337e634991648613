"""B2B customer accounts and the users (contacts) who act for them."""

from decimal import Decimal

from django.conf import settings
from django.db import models


class Tier(models.TextChoices):
    STANDARD = "standard", "Standard"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    PLATINUM = "platinum", "Platinum"


# Discount on the order subtotal, and loyalty points per euro paid (rounded down per order), by tier.
TIER_DISCOUNT = {
    Tier.STANDARD: Decimal("0.00"),
    Tier.SILVER: Decimal("0.02"),
    Tier.GOLD: Decimal("0.05"),
    Tier.PLATINUM: Decimal("0.08"),
}
TIER_POINTS_PER_EURO = {
    Tier.STANDARD: Decimal("1"),
    Tier.SILVER: Decimal("1.25"),
    Tier.GOLD: Decimal("1.5"),
    Tier.PLATINUM: Decimal("2"),
}


class Customer(models.Model):
    account_number = models.CharField(max_length=20, unique=True)
    company_name = models.CharField(max_length=200)
    vat_number = models.CharField(max_length=32, blank=True)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, default="DE")
    tier = models.CharField(max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    credit_limit = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("10000.00"))
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account_number"]

    def __str__(self) -> str:
        return f"{self.account_number} {self.company_name}"


class Contact(models.Model):
    """A user who logs in on behalf of a customer account."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    job_title = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer.account_number}"
