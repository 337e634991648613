"""Who may see what: staff see everything, a customer contact sees its own account's data."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


def customer_of(user):
    """The customer account a user acts for, or None (staff and unlinked users)."""
    if not user or not user.is_authenticated:
        return None
    contact = getattr(user, "contact", None)
    return contact.customer if contact is not None else None


class IsStaff(BasePermission):
    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class IsStaffOrReadOnly(BasePermission):
    """Any authenticated user reads; only staff write."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or request.user.is_staff
