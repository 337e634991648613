from django.contrib import admin

from .models import Shipment, TrackingEvent


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["tracking_number", "carrier", "order", "status", "created_at"]
    list_filter = ["carrier", "status"]
    search_fields = ["tracking_number", "order__number"]
    raw_id_fields = ["order"]
    inlines = [TrackingEventInline]
