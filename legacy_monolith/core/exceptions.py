"""API errors shared by the monolith's apps, in DRF's body shape."""

from rest_framework import status
from rest_framework.exceptions import APIException


class Conflict(APIException):
    """The request is valid but the current state forbids it (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource is not in a state that allows this action."
    default_code = "conflict"


class InsufficientStock(Conflict):
    default_code = "insufficient_stock"

    def __init__(self, short_skus):
        self.short_skus = sorted(short_skus)
        super().__init__(detail={
            "detail": f"Insufficient stock for: {', '.join(self.short_skus)}.",
            "short_skus": self.short_skus,
        })
