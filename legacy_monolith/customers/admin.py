from django.contrib import admin

from .models import Contact, Customer


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["account_number", "company_name", "tier", "credit_limit", "active"]
    list_filter = ["tier", "active", "country"]
    search_fields = ["account_number", "company_name", "email"]
    inlines = [ContactInline]
