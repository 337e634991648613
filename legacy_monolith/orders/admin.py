from django.contrib import admin

from .models import Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "total", "created_at"]
    list_filter = ["status"]
    search_fields = ["number", "customer__company_name"]
    raw_id_fields = ["customer", "created_by"]
    inlines = [OrderLineInline]
