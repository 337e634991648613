from django.db.models import F, Prefetch, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.filters import SearchFilter
from rest_framework.response import Response

from legacy_monolith.catalog.models import Product
from legacy_monolith.core.filters import AliasOrderingFilter
from legacy_monolith.core.permissions import IsStaff, IsStaffOrReadOnly

from . import services
from .filters import ReservationFilter, StockItemFilter, StockMovementFilter
from .models import Reservation, StockAdjustment, StockItem, StockMovement, Warehouse
from .serializers import (
    ProductStockSerializer,
    ReservationSerializer,
    StockAdjustmentSerializer,
    StockItemSerializer,
    StockMovementSerializer,
    WarehouseSerializer,
)


class WarehouseViewSet(viewsets.ModelViewSet):
    queryset = Warehouse.objects.all()
    serializer_class = WarehouseSerializer
    permission_classes = [IsStaffOrReadOnly]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    filterset_fields = ["country", "active"]
    search_fields = ["code", "name", "city"]
    ordering_fields = ["code", "name", "city"]
    ordering = ["code"]


class StockViewSet(viewsets.ReadOnlyModelViewSet):
    """Stock per (product, warehouse); the detail, by SKU, sums a product over all warehouses."""

    serializer_class = StockItemSerializer
    lookup_field = "sku"
    lookup_value_regex = "[^/]+"
    filterset_class = StockItemFilter
    search_fields = ["product__sku", "product__name"]
    filter_backends = [DjangoFilterBackend, SearchFilter, AliasOrderingFilter]
    ordering_fields = ["sku", "warehouse", "on_hand", "reserved", "available", "updated_at"]
    ordering_aliases = {"sku": "product__sku", "warehouse": "warehouse__code"}
    ordering = ["product__sku", "warehouse__code"]

    def get_queryset(self):
        return StockItem.objects.select_related("product", "warehouse").annotate(available=F("on_hand") - F("reserved"))

    @extend_schema(responses=ProductStockSerializer)
    def retrieve(self, request, sku=None):
        levels = StockItem.objects.select_related("warehouse").annotate(available=F("on_hand") - F("reserved")).order_by("warehouse__code")
        product = get_object_or_404(
            Product.objects.annotate(
                on_hand=Coalesce(Sum("stock_items__on_hand"), Value(0)),
                reserved=Coalesce(Sum("stock_items__reserved"), Value(0)),
            ).prefetch_related(Prefetch("stock_items", queryset=levels, to_attr="stock_levels")),
            sku=sku,
        )
        product.available = product.on_hand - product.reserved
        return Response(ProductStockSerializer(product).data)


class StockAdjustmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = StockAdjustment.objects.select_related("product", "warehouse", "created_by")
    serializer_class = StockAdjustmentSerializer
    permission_classes = [IsStaff]
    filterset_fields = ["kind"]
    search_fields = ["product__sku", "reason"]
    ordering_fields = ["created_at", "quantity"]
    ordering = ["-created_at", "-id"]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        adjustment = services.stock_adjust(
            product=data["product"], warehouse=data["warehouse"], kind=data["kind"],
            quantity=data["quantity"], reason=data["reason"], user=request.user,
        )
        return Response(self.get_serializer(adjustment).data, status=status.HTTP_201_CREATED)


class ReservationViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Reservation.objects.select_related("order", "product", "warehouse")
    serializer_class = ReservationSerializer
    permission_classes = [IsStaff]
    filterset_class = ReservationFilter
    ordering_fields = ["created_at", "quantity"]
    ordering = ["-created_at", "-id"]


class StockMovementViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = StockMovement.objects.select_related("product", "warehouse")
    serializer_class = StockMovementSerializer
    permission_classes = [IsStaff]
    filterset_class = StockMovementFilter
    ordering_fields = ["created_at", "quantity"]
    ordering = ["-created_at", "-id"]
