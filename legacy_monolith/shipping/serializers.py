from rest_framework import serializers

from legacy_monolith.orders.models import Order

from .models import Carrier, Shipment, TrackingEvent, TrackingStatus


class TrackingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["id", "status", "location", "description", "occurred_at", "source"]
        read_only_fields = ["source"]


class ShipmentSerializer(serializers.ModelSerializer):
    order = serializers.SlugRelatedField(slug_field="number", queryset=Order.objects.all())
    order_status = serializers.CharField(source="order.status", read_only=True)
    carrier = serializers.ChoiceField(choices=Carrier.choices)
    tracking_number = serializers.CharField(max_length=40, required=False)
    events = TrackingEventSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = ["id", "order", "order_status", "carrier", "tracking_number", "status", "events", "created_at", "updated_at"]
        read_only_fields = ["status", "created_at", "updated_at"]

    def validate_tracking_number(self, value):
        if Shipment.objects.filter(tracking_number=value).exists():
            raise serializers.ValidationError("shipment with this tracking number already exists.")
        return value


class CourierEventSerializer(serializers.Serializer):
    """What a carrier posts to the webhook."""

    tracking_number = serializers.CharField(max_length=40)
    status = serializers.ChoiceField(choices=[s for s in TrackingStatus.values if s != TrackingStatus.LABEL_CREATED])
    occurred_at = serializers.DateTimeField()
    location = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    description = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
