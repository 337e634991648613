from django.contrib import admin

from .models import LoyaltyEntry


@admin.register(LoyaltyEntry)
class LoyaltyEntryAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "points", "order", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["customer", "order"]
