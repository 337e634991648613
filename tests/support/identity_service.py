"""A tiny extracted-style service for the identity tests: the monolith's warehouse list URL behind
`extracted.common.identity`, answering with the caller it was told about.

    GET  /api/inventory/warehouses/   any signed-in caller (IsStaffOrReadOnly): 200 {"identity": ..., ...}
    POST /api/inventory/warehouses/   staff only: 201 {"identity": ..., "body": <the body it read>, ...}
    GET  /_identity/seen              how many requests reached the endpoints above, and how many
                                      X-Strangler-Identity headers the last one carried

Anonymous callers get DRF's 401, non-staff writers DRF's 403, a bad or forged header 403 from the
middleware, exactly as a real service built on extracted.common would answer.

As a process (environment: STRANGLER_IDENTITY_SECRET):
    python -m uvicorn tests.support.identity_service:create_app_from_env --factory --port P
"""

import os

from fastapi import FastAPI, Request

from extracted.common.identity import IDENTITY_HEADER, Identity, IdentityMiddleware, StaffForWrites, install_auth_errors


def create_app(secret: bytes, nonce_cache_size: int = 1000) -> FastAPI:
    app = FastAPI(title="identity test service")
    app.add_middleware(IdentityMiddleware, secret=secret, nonce_cache_size=nonce_cache_size)
    install_auth_errors(app)
    seen = {"requests": 0, "identity_headers": 0}

    def answer(request: Request, identity: Identity) -> dict:
        seen["requests"] += 1
        headers = request.headers.getlist(IDENTITY_HEADER)
        seen["identity_headers"] = len(headers)
        return {"side": "service", "method": request.method, "identity_headers": len(headers),
                "identity": {"user_id": identity.user_id, "username": identity.username,
                             "is_staff": identity.is_staff, "customer_id": identity.customer_id}}

    @app.get("/api/inventory/warehouses/")
    def warehouse_list(request: Request, identity: StaffForWrites) -> dict:
        return answer(request, identity)

    @app.post("/api/inventory/warehouses/", status_code=201)
    async def warehouse_create(request: Request, identity: StaffForWrites) -> dict:
        # Read after the middleware checked its digest: the endpoint still gets it whole.
        return {**answer(request, identity), "body": (await request.body()).decode("utf-8", "replace")}

    @app.get("/_identity/seen")
    def identity_seen() -> dict:
        return seen

    return app


def create_app_from_env() -> FastAPI:
    return create_app(os.environ["STRANGLER_IDENTITY_SECRET"].encode())
