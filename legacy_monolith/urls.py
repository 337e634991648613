"""URLconf of the TechGoods monolith: every API under /api/, the schema, the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from legacy_monolith.catalog.views import CategoryViewSet, ProductViewSet
from legacy_monolith.core.identity import IntrospectView
from legacy_monolith.customers.views import CustomerViewSet
from legacy_monolith.inventory.views import (
    ReservationViewSet,
    StockAdjustmentViewSet,
    StockMovementViewSet,
    StockViewSet,
    WarehouseViewSet,
)
from legacy_monolith.loyalty.views import LoyaltyViewSet
from legacy_monolith.orders.views import OrderViewSet
from legacy_monolith.shipping.views import CourierWebhookView, ShipmentViewSet

router = DefaultRouter()
router.register("catalog/categories", CategoryViewSet, basename="category")
router.register("catalog/products", ProductViewSet, basename="product")
router.register("customers", CustomerViewSet, basename="customer")
router.register("inventory/warehouses", WarehouseViewSet, basename="warehouse")
router.register("inventory/stock", StockViewSet, basename="stock")
router.register("inventory/adjustments", StockAdjustmentViewSet, basename="stock-adjustment")
router.register("inventory/reservations", ReservationViewSet, basename="reservation")
router.register("inventory/movements", StockMovementViewSet, basename="stock-movement")
router.register("orders", OrderViewSet, basename="order")
router.register("shipping/shipments", ShipmentViewSet, basename="shipment")
router.register("loyalty/entries", LoyaltyViewSet, basename="loyalty-entry")

api_urls = [
    path("auth/token/", obtain_auth_token, name="auth-token"),
    # The strangler router's question "who is this caller?" (legacy_monolith/core/identity.py).
    path("auth/introspect/", IntrospectView.as_view(), name="auth-introspect"),
    path("loyalty/balance/", LoyaltyViewSet.as_view({"get": "balance"}), name="loyalty-balance"),
    path("loyalty/redemptions/", LoyaltyViewSet.as_view({"post": "redeem"}), name="loyalty-redeem"),
    path("shipping/webhooks/courier/", CourierWebhookView.as_view(), name="courier-webhook"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_urls)),
]
