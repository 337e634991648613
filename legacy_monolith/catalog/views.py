from rest_framework import viewsets

from legacy_monolith.core.permissions import IsStaffOrReadOnly

from .filters import ProductFilter
from .models import Category, Product
from .serializers import CategorySerializer, ProductSerializer


class CategoryViewSet(viewsets.ModelViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    permission_classes = [IsStaffOrReadOnly]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "slug", "id"]


class ProductViewSet(viewsets.ModelViewSet):
    """Products; customers see active ones only, staff see and edit all."""

    serializer_class = ProductSerializer
    permission_classes = [IsStaffOrReadOnly]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    filterset_class = ProductFilter
    search_fields = ["sku", "name", "description", "manufacturer"]
    ordering_fields = ["sku", "name", "unit_price", "created_at", "updated_at"]
    ordering = ["sku"]

    def get_queryset(self):
        queryset = Product.objects.select_related("category")
        if not self.request.user.is_staff:
            queryset = queryset.filter(active=True)
        return queryset
