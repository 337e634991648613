from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from legacy_monolith.core.permissions import customer_of
from legacy_monolith.customers.models import Customer

from . import services
from .models import LoyaltyEntry
from .serializers import BalanceSerializer, LoyaltyEntrySerializer, RedemptionSerializer


class LoyaltyViewSet(viewsets.ReadOnlyModelViewSet):
    """The points ledger; contacts see their own account's, staff any (filter ``customer``)."""

    serializer_class = LoyaltyEntrySerializer
    filterset_fields = ["customer", "kind"]
    ordering_fields = ["created_at", "points"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        queryset = LoyaltyEntry.objects.select_related("customer", "order")
        user = self.request.user
        if user.is_staff:
            return queryset
        customer = customer_of(user)
        return queryset.filter(customer=customer) if customer else queryset.none()

    def _target_customer(self, customer_id):
        if self.request.user.is_staff and customer_id is not None:
            return get_object_or_404(Customer, pk=customer_id)
        customer = customer_of(self.request.user)
        if customer is None:
            if self.request.user.is_staff:
                raise ValidationError({"customer": ["This field is required."]})
            raise NotFound("You are not a contact of any customer account.")
        return customer

    @extend_schema(
        parameters=[OpenApiParameter("customer", int, description="Staff only: the account")],
        responses=BalanceSerializer,
    )
    def balance(self, request):
        raw = request.query_params.get("customer")
        if raw is not None and not raw.isdigit():
            raise ValidationError({"customer": ["A valid integer is required."]})
        customer = self._target_customer(int(raw) if raw is not None else None)
        return Response({
            "customer": customer.pk, "customer_account": customer.account_number,
            "balance": services.loyalty_balance(customer=customer),
        })

    @extend_schema(request=RedemptionSerializer, responses={201: LoyaltyEntrySerializer})
    def redeem(self, request):
        payload = RedemptionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        customer = self._target_customer(data.get("customer"))
        entry = services.loyalty_redeem(customer=customer, points=data["points"], description=data["description"], user=request.user)
        return Response(LoyaltyEntrySerializer(entry).data, status=status.HTTP_201_CREATED)
