"""Health endpoints of a service: ``/health`` (the process answers), ``/ready`` (its database answers,
and any extra check the service adds passes) and ``/metrics`` (Prometheus text format).

They sit outside ``/api/``, so the router never sends them a client's request, and they need no
identity. ``/ready`` answers 503 with the failing check's reason, for orchestrators and `make run`.
"""

from collections.abc import Callable, Sequence

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.engine import Connection
from starlette.responses import JSONResponse, Response

from extracted.common.database import Database
from extracted.common.metrics import ServiceMetrics

# A readiness check: given a connection to the service's database, None when fine, else why not.
ReadyCheck = Callable[[Connection], str | None]


def health_router(service_name: str, ready_checks: Sequence[ReadyCheck] = ()) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/health")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "service": service_name})

    @router.get("/ready")
    def ready(request: Request) -> JSONResponse:
        database: Database = request.app.state.database
        try:
            with database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                for check in ready_checks:
                    problem = check(connection)
                    if problem:
                        return JSONResponse({"status": "unavailable", "service": service_name, "detail": problem},
                                            status_code=503)
        except Exception as exc:  # noqa: BLE001 -- any failure to answer is "not ready", with its reason
            return JSONResponse({"status": "unavailable", "service": service_name,
                                 "detail": f"database does not answer: {type(exc).__name__}: {exc}"[:500]},
                                status_code=503)
        return JSONResponse({"status": "ready", "service": service_name})

    @router.get("/metrics")
    def metrics(request: Request) -> Response:
        service_metrics: ServiceMetrics = request.app.state.metrics
        return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
