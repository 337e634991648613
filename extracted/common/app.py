"""The skeleton every extracted service's app shares: middleware, DRF-compatible error answers, health
and metrics. A service's own factory adds its routers:

    def create_app(settings: InventorySettings) -> FastAPI:
        database = Database(settings.database_url)
        return create_service_app(settings, database, title="Inventory", routers=[api.router])

Middleware, outermost first: metrics (counts everything, refusals included), the shadow-rollback
marker, the identity header, then the route capture for the metrics' route label. The OpenAPI
document is served at ``/openapi.json`` (outside ``/api/``, where it cannot clash with a monolith
path); there are no docs pages. Slashes are not redirected: every monolith route ends in one, and an
unknown URL gets Django's 404 page as the monolith would answer it.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from extracted.common.database import Database
from extracted.common.errors import install_error_handlers
from extracted.common.faults import CrashAfterWrites
from extracted.common.health import ReadyCheck, health_router
from extracted.common.identity import IdentityMiddleware
from extracted.common.metrics import MetricsMiddleware, RouteCapture, ServiceMetrics
from extracted.common.settings import ServiceSettings
from extracted.common.shadow import ShadowRollbackMiddleware


def create_service_app(settings: ServiceSettings, database: Database, *, title: str, routers: Sequence[APIRouter],
                       ready_checks: Sequence[ReadyCheck] = (), version: str = "1.0.0") -> FastAPI:
    """A FastAPI app with the shared middleware, error handlers and health routes, serving `routers`.

    The database is kept on ``app.state.database`` and disposed of at shutdown; nothing connects here."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        database.dispose()

    app = FastAPI(title=title, version=version, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json", redirect_slashes=False)
    metrics = ServiceMetrics()
    app.state.settings, app.state.database, app.state.metrics = settings, database, metrics
    if settings.fault_crash_after_writes:  # test environment only (the settings refuse it elsewhere)
        database.after_write_commit = CrashAfterWrites(settings.fault_crash_after_writes).committed
    for router in routers:
        app.include_router(router)
    app.include_router(health_router(type(settings).service_name, ready_checks))
    install_error_handlers(app)
    # add_middleware puts each new one outside the previous ones.
    app.add_middleware(RouteCapture)
    app.add_middleware(IdentityMiddleware, secret=settings.identity_secret.get_secret_value().encode(),
                       nonce_cache_size=settings.identity_nonce_cache_size)
    app.add_middleware(ShadowRollbackMiddleware, secret=settings.shadow_key())
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
