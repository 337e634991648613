import django_filters
from django.db.models import F

from .models import MovementKind, Reservation, ReservationStatus, StockItem, StockMovement


class StockItemFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    category = django_filters.CharFilter(field_name="product__category__slug")
    low_stock = django_filters.BooleanFilter(method="filter_low_stock", help_text="Available at or below the reorder level")
    min_available = django_filters.NumberFilter(field_name="available", lookup_expr="gte")

    class Meta:
        model = StockItem
        fields = []

    def filter_low_stock(self, queryset, name, value):
        low = queryset.filter(available__lte=F("reorder_level"))
        return low if value else queryset.exclude(pk__in=low.values("pk"))


class ReservationFilter(django_filters.FilterSet):
    order = django_filters.CharFilter(field_name="order__number")
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    status = django_filters.ChoiceFilter(choices=ReservationStatus.choices)

    class Meta:
        model = Reservation
        fields = []


class StockMovementFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku")
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    reference = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = StockMovement
        fields = []
