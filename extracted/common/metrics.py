"""Prometheus metrics of a service's HTTP traffic: requests by route template, method and status, and a
latency histogram, in a registry of the app's own (tests build many apps in one process).

`MetricsMiddleware` is the outermost middleware, so requests refused by the identity or shadow
middleware count too. The route template is known only once FastAPI's router has matched the request,
on the scope *it* sees (middlewares in between copy the scope), so `RouteCapture`, the innermost
middleware, writes it into a holder both scopes share.
"""

import time

from prometheus_client import CollectorRegistry, Counter, Histogram

_HOLDER = "strangler.metrics.route"
UNMATCHED = "unmatched"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The registry and metrics of one app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("http_requests", "HTTP requests answered, by route template, method and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("http_request_duration_seconds", "Time to answer, by route template and method",
                                 ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)


class MetricsMiddleware:
    """ASGI middleware: count and time every HTTP request."""

    def __init__(self, app, metrics: ServiceMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        holder: dict[str, str] = {}
        scope = {**scope, _HOLDER: holder}
        status = 500  # what the server answers if the app fails before starting a response
        started = time.perf_counter()

        async def send_and_note_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            self.metrics.observe(holder.get("route", UNMATCHED), scope["method"], status,
                                 time.perf_counter() - started)


class RouteCapture:
    """ASGI middleware, innermost: hand the matched route's path template to `MetricsMiddleware`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            holder = scope.get(_HOLDER)
            if holder is not None and route is not None:
                holder["route"] = getattr(route, "path", UNMATCHED)
