"""Filter backends shared by the monolith's API."""

from rest_framework.filters import OrderingFilter


class AliasOrderingFilter(OrderingFilter):
    """OrderingFilter whose public names may map onto model paths (``view.ordering_aliases``).

    ``?ordering=-sku`` on stock orders by ``-product__sku`` while the API keeps the flat name it shows.
    """

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        aliases = getattr(view, "ordering_aliases", {})
        if not ordering:
            return ordering
        mapped = []
        for term in ordering:
            desc = term.startswith("-")
            name = term.lstrip("-")
            mapped.append(("-" if desc else "") + aliases.get(name, name))
        return mapped
