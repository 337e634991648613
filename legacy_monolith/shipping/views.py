import hashlib
import hmac

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from legacy_monolith.core.permissions import customer_of

from . import services
from .models import Shipment
from .serializers import CourierEventSerializer, ShipmentSerializer, TrackingEventSerializer


class ShipmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Shipments: staff create them for paid orders and post tracking events; contacts see their own."""

    serializer_class = ShipmentSerializer
    filterset_fields = ["carrier", "status"]
    search_fields = ["tracking_number", "order__number"]
    ordering_fields = ["created_at", "updated_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        queryset = Shipment.objects.select_related("order").prefetch_related("events")
        user = self.request.user
        if user.is_staff:
            return queryset
        customer = customer_of(user)
        return queryset.filter(order__customer=customer) if customer else queryset.none()

    def create(self, request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can create shipments.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shipment = services.shipment_create(
            order=data["order"], carrier=data["carrier"], tracking_number=data.get("tracking_number")
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=shipment.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TrackingEventSerializer, responses={201: TrackingEventSerializer})
    @action(detail=True, methods=["post"])
    def events(self, request, pk=None):
        """Record a tracking event by hand (staff)."""
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can record tracking events.")
        shipment = self.get_object()
        payload = TrackingEventSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event, created = services.tracking_event_record(shipment=shipment, source="staff", **payload.validated_data)
        return Response(TrackingEventSerializer(event).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def courier_signature(body: bytes, secret: str | None = None) -> str:
    """The value a carrier sends in X-Courier-Signature: ``sha256=<hex HMAC of the raw body>``."""
    key = (secret or settings.COURIER_WEBHOOK_SECRET).encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class CourierWebhookView(APIView):
    """Carriers post tracking events here, signed with the shared secret instead of a user token."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    def get_authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to a missing signature, telling the carrier what to send.
        return 'HMAC-SHA256 header="X-Courier-Signature"'

    @extend_schema(request=CourierEventSerializer, responses={201: TrackingEventSerializer, 200: TrackingEventSerializer})
    def post(self, request):
        signature = request.headers.get("X-Courier-Signature", "")
        if not signature:
            raise AuthenticationFailed("Missing X-Courier-Signature header.")
        if not hmac.compare_digest(signature.encode("latin-1", "replace"), courier_signature(request.body).encode()):
            raise PermissionDenied("Invalid courier signature.")
        payload = CourierEventSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        shipment = get_object_or_404(Shipment.objects.select_related("order"), tracking_number=data.pop("tracking_number"))
        event, created = services.tracking_event_record(shipment=shipment, source="webhook", **data)
        return Response(TrackingEventSerializer(event).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
