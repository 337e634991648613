from rest_framework import serializers

from legacy_monolith.catalog.models import Product
from legacy_monolith.customers.models import Customer

from .models import Order, OrderLine


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = OrderLine
        fields = ["id", "sku", "product_name", "quantity", "unit_price", "line_total"]


class OrderLineWriteSerializer(serializers.Serializer):
    sku = serializers.SlugRelatedField(
        source="product", slug_field="sku", queryset=Product.objects.filter(active=True)
    )
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)


class OrderSerializer(serializers.ModelSerializer):
    customer = serializers.PrimaryKeyRelatedField(read_only=True)
    customer_account = serializers.CharField(source="customer.account_number", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id", "number", "customer", "customer_account", "status", "currency", "lines", "subtotal",
            "discount", "tax", "total", "shipping_address", "notes", "created_at", "updated_at",
            "placed_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at",
        ]
        read_only_fields = fields


class OrderCreateSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.filter(active=True), required=False,
        help_text="Staff only: the account to order for. Contacts always order for their own account.",
    )
    lines = OrderLineWriteSerializer(many=True, allow_empty=False)
    shipping_address = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)

    def validate_lines(self, lines):
        skus = [line["product"].sku for line in lines]
        duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Each SKU may appear once; repeated: {', '.join(duplicates)}.")
        return lines


class OrderUpdateSerializer(OrderCreateSerializer):
    lines = OrderLineWriteSerializer(many=True, allow_empty=False, required=False)
    customer = None


class OrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255)
