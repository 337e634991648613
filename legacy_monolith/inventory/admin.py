from django.contrib import admin

from .models import Reservation, StockAdjustment, StockItem, StockMovement, Warehouse


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "country", "active"]


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    list_display = ["product", "warehouse", "on_hand", "reserved", "reorder_level"]
    list_filter = ["warehouse"]
    search_fields = ["product__sku"]
    raw_id_fields = ["product"]


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(admin.ModelAdmin):
    list_display = ["product", "warehouse", "kind", "quantity", "reason", "created_at"]
    raw_id_fields = ["product"]


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    list_display = ["order", "product", "warehouse", "quantity", "status"]
    list_filter = ["status"]
    raw_id_fields = ["order", "product"]


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    list_display = ["product", "warehouse", "kind", "quantity", "reference", "created_at"]
    list_filter = ["kind", "warehouse"]
    raw_id_fields = ["product"]
