"""The query parameters of each inventory endpoint, as the monolith's views declare them
(legacy_monolith/inventory/{views,filters}.py): filter set, search fields and ordering names.

Every endpoint runs the monolith's three filter backends in its order -- django-filter, then search,
then ordering -- on detail requests too (DRF's get_object filters the queryset first), so a detail URL
with a filter that excludes the row is a 404 and a bad filter value a 400 there as well.
"""

from dataclasses import dataclass
from typing import Any

from extracted.common.filters import (
    CharFilter,
    ChoiceFilter,
    DRFBooleanFilter,
    FilterSet,
    IsoDateTimeFilter,
    NullBooleanFilter,
    NumberFilter,
    OrderTerm,
    ordering,
    search_terms,
)
from extracted.common.query import QueryParams

ADJUSTMENT_KINDS = ("receive", "write_off")
RESERVATION_STATUSES = ("active", "released", "consumed")
MOVEMENT_KINDS = ("receipt", "write_off", "reservation", "release", "shipment")


@dataclass(frozen=True)
class Criteria:
    """What one request asks of an endpoint: filter values, search terms and ordering."""

    filters: dict[str, Any]
    terms: list[str]
    order: list[OrderTerm]


@dataclass(frozen=True)
class Endpoint:
    """The monolith view's filterset, search_fields (by public name) and ordering fields/default."""

    filterset: FilterSet
    ordering_fields: tuple[str, ...]
    default_ordering: tuple[str, ...]
    searches: bool = True

    def parse(self, params: QueryParams) -> Criteria:
        filters = self.filterset.parse(params)
        # DRF reads (and validates) ?search= even on a view without search fields.
        terms = search_terms(params)
        return Criteria(filters, terms if self.searches else [], ordering(params, self.ordering_fields,
                                                                          self.default_ordering))


STOCK = Endpoint(
    FilterSet(CharFilter("sku"), CharFilter("warehouse"), CharFilter("category"), NullBooleanFilter("low_stock"),
              NumberFilter("min_available")),
    ordering_fields=("sku", "warehouse", "on_hand", "reserved", "available", "updated_at"),
    default_ordering=("sku", "warehouse"),
)
WAREHOUSES = Endpoint(
    FilterSet(CharFilter("country"), DRFBooleanFilter("active")),
    ordering_fields=("code", "name", "city"),
    default_ordering=("code",),
)
ADJUSTMENTS = Endpoint(
    FilterSet(ChoiceFilter("kind", ADJUSTMENT_KINDS)),
    ordering_fields=("created_at", "quantity"),
    default_ordering=("-created_at", "-id"),
)
RESERVATIONS = Endpoint(
    FilterSet(CharFilter("order"), CharFilter("sku"), CharFilter("warehouse"),
              ChoiceFilter("status", RESERVATION_STATUSES)),
    ordering_fields=("created_at", "quantity"),
    default_ordering=("-created_at", "-id"),
    searches=False,
)
MOVEMENTS = Endpoint(
    FilterSet(CharFilter("sku"), CharFilter("warehouse"), ChoiceFilter("kind", MOVEMENT_KINDS), CharFilter("reference"),
              IsoDateTimeFilter("created_after"), IsoDateTimeFilter("created_before")),
    ordering_fields=("created_at", "quantity"),
    default_ordering=("-created_at", "-id"),
    searches=False,
)
