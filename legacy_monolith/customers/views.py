from django.db.models import Prefetch
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from legacy_monolith.core.permissions import customer_of

from .models import Contact, Customer
from .serializers import CustomerSerializer


class CustomerPermission(permissions.BasePermission):
    """Contacts read their own account; only staff create or change accounts."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_staff


class CustomerViewSet(viewsets.ModelViewSet):
    serializer_class = CustomerSerializer
    permission_classes = [CustomerPermission]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    filterset_fields = ["tier", "country", "active"]
    search_fields = ["account_number", "company_name", "email", "vat_number"]
    ordering_fields = ["account_number", "company_name", "created_at", "credit_limit"]
    ordering = ["account_number"]

    def get_queryset(self):
        queryset = Customer.objects.prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.select_related("user").order_by("id"))
        )
        user = self.request.user
        if user.is_staff:
            return queryset
        customer = customer_of(user)
        return queryset.filter(pk=customer.pk) if customer else queryset.none()

    @action(detail=False, methods=["get"])
    def me(self, request):
        """The account the caller acts for."""
        customer = customer_of(request.user)
        if customer is None:
            raise NotFound("You are not a contact of any customer account.")
        return Response(self.get_serializer(self.get_queryset().get(pk=customer.pk)).data)
