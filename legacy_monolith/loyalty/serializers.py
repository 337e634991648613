from rest_framework import serializers

from .models import LoyaltyEntry


class LoyaltyEntrySerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number", read_only=True, default=None)
    customer_account = serializers.CharField(source="customer.account_number", read_only=True)

    class Meta:
        model = LoyaltyEntry
        fields = ["id", "customer", "customer_account", "kind", "points", "order", "description", "created_at"]
        read_only_fields = fields


class RedemptionSerializer(serializers.Serializer):
    points = serializers.IntegerField(min_value=1)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="Points redeemed")
    customer = serializers.IntegerField(required=False, help_text="Staff only: the account to redeem for")


class BalanceSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    customer_account = serializers.CharField()
    balance = serializers.IntegerField()
