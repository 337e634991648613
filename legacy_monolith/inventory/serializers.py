from rest_framework import serializers

from legacy_monolith.catalog.models import Product

from .models import AdjustmentKind, Reservation, StockAdjustment, StockItem, StockMovement, Warehouse


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "city", "country", "active"]


class StockItemSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockItem
        fields = ["id", "sku", "product_name", "warehouse", "on_hand", "reserved", "available", "reorder_level", "updated_at"]


class StockLevelSerializer(serializers.Serializer):
    """One warehouse's figures inside a product's stock summary."""

    warehouse = serializers.CharField(source="warehouse.code")
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()


class ProductStockSerializer(serializers.Serializer):
    """Stock of one product summed over all warehouses, with the per-warehouse breakdown."""

    sku = serializers.CharField()
    product_name = serializers.CharField(source="name")
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
    warehouses = StockLevelSerializer(many=True, source="stock_levels")


class StockAdjustmentSerializer(serializers.ModelSerializer):
    sku = serializers.SlugRelatedField(source="product", slug_field="sku", queryset=Product.objects.all())
    warehouse = serializers.SlugRelatedField(slug_field="code", queryset=Warehouse.objects.filter(active=True))
    kind = serializers.ChoiceField(choices=AdjustmentKind.choices)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    reason = serializers.CharField(max_length=255, allow_blank=False)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)

    class Meta:
        model = StockAdjustment
        fields = ["id", "sku", "warehouse", "kind", "quantity", "reason", "created_by", "created_at"]
        read_only_fields = ["created_at"]


class ReservationSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number", read_only=True)
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = Reservation
        fields = ["id", "order", "sku", "warehouse", "quantity", "status", "created_at", "updated_at"]


class StockMovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = StockMovement
        fields = ["id", "sku", "warehouse", "kind", "quantity", "reference", "reason", "created_at"]
