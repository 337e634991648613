"""Both sides of a parity comparison, asked as the strangler router would ask them, in-process.

- The monolith: its WSGI app through httpx, each request in a savepoint. A write's savepoint is rolled
  back, so the seeded data stays as it was for the next request.
- The extracted service: its ASGI app through httpx, with what the router adds on the way. The caller is
  resolved through the monolith's introspection endpoint (``/api/auth/introspect/``, GET for safe
  methods, POST for unsafe ones) with the caller's credentials: authenticated -> a signed
  X-Strangler-Identity (router.identity.sign_identity); anonymous -> no header; a rejected credential ->
  the monolith's rejection *is* the answer and the service is not called. A write also carries a
  signed rollback marker (router.shadow_marker.sign_marker), so the service rolls it back.
"""

import asyncio
from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

import httpx

from router.identity import sign_identity
from router.parity import Exchange
from router.shadow_marker import SHADOW_HEADER, request_target, sign_marker

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
INTROSPECT_PATH = "/api/auth/introspect/"
IDENTITY_HEADER = "X-Strangler-Identity"
# The development secrets: the service under test runs with environment="test".
IDENTITY_SECRET = b"strangler-dev-identity-secret-not-for-production"
SHADOW_SECRET = b"strangler-dev-shadow-secret-not-for-production"
_CREDENTIAL_HEADERS = ("authorization", "cookie", "x-csrftoken", "origin", "referer")


class ServerLikeWSGITransport(httpx.WSGITransport):
    """httpx's WSGI transport with PATH_INFO as a real server (gunicorn) sets it: the raw path
    percent-decoded to bytes, as latin-1 text. httpx passes its own decoded text, which Django cannot
    encode back for non-latin-1 characters (a harness artefact, not a monolith answer)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path_info = unquote_to_bytes(request.url.raw_path.split(b"?", 1)[0]).decode("latin-1")
        app = self.app

        def with_server_path(environ, start_response):
            environ["PATH_INFO"] = path_info
            return app(environ, start_response)

        self.app = with_server_path
        try:
            return super().handle_request(request)
        finally:
            self.app = app


def exchange_of(response: httpx.Response) -> Exchange:
    # A server sends no body in answer to HEAD (gunicorn and uvicorn drop it); the in-process WSGI app
    # still produces one.
    body = b"" if response.request.method == "HEAD" else response.content
    return Exchange(response.status_code, tuple(response.headers.multi_items()), body)


def ask_legacy(client: httpx.Client, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Exchange:
    """The monolith's answer, inside a savepoint of the seeded transaction: rolled back for a write, and
    for a read that failed in the database (on PostgreSQL a failed statement would otherwise abort the
    seeded transaction for every later request)."""
    from django.db import transaction

    with transaction.atomic():
        response = client.request(method, target, headers=headers, content=body or None)
        if method not in SAFE_METHODS or response.status_code >= 500:
            transaction.set_rollback(True)
    return exchange_of(response)


def forwarded_headers(client: httpx.Client, method: str, target: str, headers: Mapping[str, str],
                      body: bytes = b"") -> dict[str, str] | Exchange:
    """The headers the router sends the service for this request (`body` as sent), or the monolith's rejection."""
    credentials = {k: v for k, v in headers.items() if k.lower() in _CREDENTIAL_HEADERS}
    answer = client.request("GET" if method in SAFE_METHODS else "POST", INTROSPECT_PATH, headers=credentials)
    if answer.status_code != 200:
        return exchange_of(answer)
    caller = answer.json()
    # What the service will see as raw path and query string, exactly as httpx sends them.
    path, _, query = httpx.URL(target).raw_path.partition(b"?")
    signed_target = request_target(path, query)
    forwarded = {k: v for k, v in headers.items() if not k.lower().startswith("x-strangler-")}
    if caller.get("authenticated"):
        forwarded[IDENTITY_HEADER] = sign_identity(
            IDENTITY_SECRET, user_id=caller["user_id"], username=caller["username"], is_staff=caller["is_staff"],
            customer_id=caller["customer_id"], method=method, target=signed_target, body=body)
    if method not in SAFE_METHODS:
        forwarded[SHADOW_HEADER] = sign_marker(SHADOW_SECRET, method=method, target=signed_target,
                                               request_id="parity-suite")
    return forwarded


def ask_extracted(app, legacy_client: httpx.Client, method: str, target: str, headers: Mapping[str, str],
                  body: bytes) -> Exchange:
    """The service's answer to the request as the router forwards it (a write in rollback mode)."""
    forwarded = forwarded_headers(legacy_client, method, target, headers, body)
    if isinstance(forwarded, Exchange):
        return forwarded

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            return await client.request(method, target, headers=forwarded, content=body or None)

    return exchange_of(asyncio.run(send()))
