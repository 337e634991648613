from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from legacy_monolith.core.permissions import customer_of

from . import services
from .models import Order, OrderStatus
from .serializers import OrderCancelSerializer, OrderCreateSerializer, OrderSerializer, OrderUpdateSerializer


class OrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=OrderStatus.choices)
    customer = filters.NumberFilter(field_name="customer_id")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    min_total = filters.NumberFilter(field_name="total", lookup_expr="gte")

    class Meta:
        model = Order
        fields = []


class OrderViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Orders: contacts see and create their own account's orders, staff see all."""

    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    search_fields = ["number", "customer__company_name", "customer__account_number"]
    ordering_fields = ["created_at", "total", "number", "placed_at", "status"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = Order.objects.select_related("customer").prefetch_related("lines__product")
        user = self.request.user
        if user.is_staff:
            return queryset
        customer = customer_of(user)
        return queryset.filter(customer=customer) if customer else queryset.none()

    @extend_schema(request=OrderCreateSerializer, responses={201: OrderSerializer})
    def create(self, request, *args, **kwargs):
        payload = OrderCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if request.user.is_staff:
            customer = data.get("customer") or customer_of(request.user)
            if customer is None:
                raise ValidationError({"customer": ["This field is required."]})
        else:
            customer = customer_of(request.user)
            if customer is None:
                raise PermissionDenied("You are not a contact of any customer account.")
            if data.get("customer") and data["customer"].pk != customer.pk:
                raise PermissionDenied("You can only order for your own account.")
        order = services.order_create(
            customer=customer, user=request.user, lines=data["lines"],
            shipping_address=data.get("shipping_address", ""), notes=data.get("notes", ""),
        )
        return Response(self._read(order), status=status.HTTP_201_CREATED)

    @extend_schema(request=OrderUpdateSerializer, responses=OrderSerializer)
    def partial_update(self, request, *args, **kwargs):
        order = self.get_object()
        payload = OrderUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        order = services.order_update(order=order, **payload.validated_data)
        return Response(self._read(order))

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def place(self, request, pk=None):
        """Reserve stock for every line; 409 naming the short SKUs when stock is short."""
        return Response(self._read(services.order_place(order=self.get_object())))

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        """Record payment (staff); grants the customer's loyalty points."""
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can record payments.")
        return Response(self._read(services.order_pay(order=self.get_object())))

    @extend_schema(request=OrderCancelSerializer, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a draft, placed or paid order; releases its stock and reverses its points."""
        payload = OrderCancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        order = self.get_object()
        if order.status == OrderStatus.PAID and not request.user.is_staff:
            raise PermissionDenied("A paid order can only be cancelled by staff.")
        reason = payload.validated_data.get("reason") or "Order cancelled"
        return Response(self._read(services.order_cancel(order=order, reason=reason)))

    def _read(self, order):
        return OrderSerializer(self.get_queryset().get(pk=order.pk), context=self.get_serializer_context()).data
