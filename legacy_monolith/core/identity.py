"""Who is calling, as the monolith sees it: the seam the strangler router asks before an extracted service.

`GET|POST /api/auth/introspect/` authenticates the request with the monolith's normal DRF
authentication (Token, then Session) and says who the caller is:

    200 {"authenticated": true, "user_id": 1, "username": "admin", "is_staff": true, "customer_id": null}
    200 {"authenticated": false}                                  no credentials (or an expired session)

A failed authentication is answered exactly as on any other endpoint, because DRF raises it here the
same way: 401 ``{"detail": "Invalid token."}`` with ``WWW-Authenticate: Token``, or 403
``{"detail": "CSRF Failed: ..."}`` for a session user's POST without a valid CSRF token (DRF checks
CSRF only for unsafe methods of session-authenticated users; the router asks with POST whenever the
caller's own request is unsafe, and forwards the caller's Cookie, X-CSRFToken, Origin, Referer, Host).

The router is the only intended client; the endpoint is AllowAny because it must also describe an
anonymous caller, and it reveals nothing a caller could not learn from its own credentials. It is kept
out of the OpenAPI schema: it is plumbing between the router and the monolith, not part of the API.
"""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from legacy_monolith.core.permissions import customer_of


def describe_caller(user) -> dict:
    """The introspection answer for an authenticated-or-anonymous Django user."""
    if not user or not user.is_authenticated:
        return {"authenticated": False}
    customer = customer_of(user)
    return {
        "authenticated": True,
        "user_id": user.pk,
        "username": user.get_username(),
        "is_staff": bool(user.is_staff),
        "customer_id": customer.pk if customer is not None else None,
    }


@extend_schema(exclude=True)
class IntrospectView(APIView):
    """Authenticate like every other endpoint, then describe the caller (see the module docstring)."""

    # The default authentication classes on purpose: the answer must be the monolith's normal auth.
    permission_classes = [AllowAny]
    # Always JSON: the router parses the answer, whatever Accept header reaches this view.
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        # force: an Accept the JSON renderer cannot satisfy still gets JSON rather than a 406.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request):
        return self._answer(request)

    def post(self, request):
        return self._answer(request)

    def _answer(self, request):
        response = Response(describe_caller(request.user))
        # Per caller, never to be stored by a shared cache; the router keeps its own short-lived copy.
        response["Cache-Control"] = "no-store"
        return response
