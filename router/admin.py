"""Admin API under /_strangler/api/ and Prometheus metrics at /_strangler/metrics.

Reads of health, readiness and metrics are open (probes and scrapers); everything else needs the
admin token as `Authorization: Bearer <token>` (at least 24 characters, `router.admin_token`). A client
address that sends a wrong token too often is answered 429 with Retry-After for the rest of the window
(`router.login_throttle`), its token not even checked; both outcomes are counted in
``strangler_admin_auth_failures_total``.
"""

import hmac
import json
import time

from router.admin_token import admin_token_from_env
from router.asgi import read_all, send_bytes, send_json
from router.errors import BodyReadTimeout, StaleVersion
from router.flags import parse_flag_change
from router.login_throttle import LoginThrottle

PREFIX = "/_strangler"

__all__ = ["PREFIX", "AdminApi", "admin_token_from_env"]  # router.app imports the token from here


class AdminApi:
    def __init__(self, config, store, holder, watcher, proxy, metrics, admin_token: str | None, parity=None,
                 traffic=None, throttle: LoginThrottle | None = None):
        self.config, self.store, self.holder, self.watcher = config, store, holder, watcher
        self.parity, self.traffic = parity, traffic
        self.proxy, self.metrics = proxy, metrics
        self.admin_token = admin_token
        self.throttle = LoginThrottle() if throttle is None else throttle
        self._routes = {
            ("GET", "/_strangler/metrics"): (self.metrics_page, False),
            ("GET", "/_strangler/api/health"): (self.health, False),
            ("GET", "/_strangler/api/ready"): (self.ready, False),
            ("GET", "/_strangler/api/routes"): (self.routes, True),
            ("GET", "/_strangler/api/history"): (self.history, True),
            ("POST", "/_strangler/api/flags"): (self.set_flag, True),
            ("GET", "/_strangler/api/parity"): (self.parity_report, True),
            ("GET", "/_strangler/api/parity/samples"): (self.parity_samples, True),
            ("GET", "/_strangler/api/traffic"): (self.traffic_report, True),
        }
        # The dashboard (router/dashboard/): its page is open, its reads follow the token rule above.
        from router.dashboard import Dashboard
        self._routes.update(Dashboard(store, metrics).routes())

    async def __call__(self, scope, receive, send) -> None:
        path = scope["path"].rstrip("/") or "/"
        entry = self._routes.get((scope["method"], path))
        if entry is None and scope["method"] == "GET" and path.startswith("/_strangler/api/parity/samples/"):
            entry = (self.parity_sample, True)
        if entry is None:
            known = sorted({p for (_, p) in self._routes})
            if any(p == path for p in known):
                return await send_json(send, 405, {"error": "method_not_allowed", "detail": f"{scope['method']} is not allowed on {path}"})
            return await send_json(send, 404, {"error": "not_found", "detail": f"no admin endpoint {path}", "endpoints": known})
        handler, needs_token = entry
        if needs_token:
            client = scope.get("client")
            address = client[0] if client else "unknown"
            wait = self.throttle.retry_after(address)
            if wait is not None:
                self.metrics.admin_auth_failures.labels("throttled").inc()
                return await send_json(send, 429, {"error": "too_many_requests",
                                                   "detail": f"too many wrong admin tokens; try again in {wait} s"},
                                       headers=[(b"retry-after", str(wait).encode())])
            credential = _bearer(scope)
            if not (self.admin_token and credential is not None
                    and hmac.compare_digest(credential.encode(), self.admin_token.encode())):
                if self.admin_token and credential is not None:  # a guess, not a page asking without a token
                    self.throttle.failed(address)
                    self.metrics.admin_auth_failures.labels("wrong_token").inc()
                return await send_json(send, 401, {"error": "unauthorized", "detail": "send the admin token as 'Authorization: Bearer <token>'"},
                                       headers=[(b"www-authenticate", b'Bearer realm="strangler"')])
        await handler(scope, receive, send)

    async def metrics_page(self, scope, receive, send):
        await send_bytes(send, 200, self.metrics.render(), b"text/plain; version=0.0.4; charset=utf-8")

    async def health(self, scope, receive, send):
        await send_json(send, 200, {"status": "ok"})

    async def ready(self, scope, receive, send):
        ready = self.holder.loaded
        await send_json(send, 200 if ready else 503, {
            "ready": ready, "store_up": self.holder.store_up, "flag_version": self.holder.snapshot.version,
        })

    async def routes(self, scope, receive, send):
        snapshot = self.holder.snapshot
        routes = []
        for route in self.config.routes:
            flag = snapshot.effective(route)
            group = self.config.groups[route.group]
            breaker = self.proxy.breakers.get(group.upstream)
            routes.append({
                "name": route.name, "group": route.group, "methods": sorted(route.methods), "path": route.path,
                "mode": str(flag.mode), "percent": flag.percent, "shadow_rate": flag.shadow_rate,
                "flag_scope": "route" if route.name in snapshot.routes else ("group" if route.group in snapshot.groups else "default"),
                "upstream": group.upstream, "breaker": breaker.state.name.lower() if breaker else None,
                "write_policy": route.write_policy,
            })
        groups = [{"name": g.name, "upstream": g.upstream, "description": g.description,
                   "flag": _flag_dict(snapshot.groups.get(g.name))} for g in self.config.groups.values()]
        await send_json(send, 200, {"version": snapshot.version, "store_up": self.holder.store_up,
                                    "groups": groups, "routes": routes})

    async def history(self, scope, receive, send):
        params = _query(scope)
        try:
            limit = min(int(params.get("limit", "50")), 1000)
        except ValueError:
            return await send_json(send, 400, {"error": "bad_request", "detail": "limit must be an integer"})
        events = self.store.history(name=params.get("target"), limit=limit)
        await send_json(send, 200, {"events": [e.as_dict() for e in events]})

    async def set_flag(self, scope, receive, send):
        try:
            payload = json.loads(await read_all(receive, 64 * 1024, self.config.router.body_read_timeout) or b"null")
        except (ValueError, UnicodeDecodeError):
            return await send_json(send, 400, {"error": "bad_request", "detail": "the body must be JSON"})
        except BodyReadTimeout as exc:
            return await send_json(send, 408, {"error": "request_timeout", "detail": str(exc)})
        except Exception:
            return await send_json(send, 413, {"error": "payload_too_large", "detail": "the body is over 64 KiB"})
        if not isinstance(payload, dict):
            return await send_json(send, 400, {"error": "bad_request", "detail": "the body must be a JSON object"})
        missing = [k for k in ("target", "mode", "reason") if not payload.get(k)]
        if missing:
            return await send_json(send, 400, {"error": "bad_request", "detail": f"missing: {', '.join(missing)}"})
        try:
            scope_kind, name, state = parse_flag_change(
                payload["target"], payload["mode"], payload.get("percent"), payload.get("shadow_rate"), self.config
            )
            expected = payload.get("expected_version")
            if expected is not None and not isinstance(expected, int):
                raise ValueError("expected_version must be an integer")
            event = self.store.set_flag(scope=scope_kind, name=name, state=state,
                                        actor=str(payload.get("actor") or "admin-api"), reason=str(payload["reason"]),
                                        expected_version=expected)
        except StaleVersion as exc:
            return await send_json(send, 409, {"error": "stale_version", "detail": str(exc), "version": exc.actual})
        except ValueError as exc:
            return await send_json(send, 400, {"error": "bad_request", "detail": str(exc)})
        self.watcher.refresh()  # this process sees its own change at once; the others within a second
        await send_json(send, 200, {"event": event.as_dict()})


    async def parity_report(self, scope, receive, send):
        params = _query(scope)
        try:
            since = time.time() - float(params.get("since", "3600"))
        except ValueError:
            return await send_json(send, 400, {"error": "bad_request", "detail": "since must be a number of seconds"})
        rows = self.parity.summary(since=since, route=params.get("route"))
        await send_json(send, 200, {"since": since, "routes": [r.as_dict() for r in rows]})

    async def parity_samples(self, scope, receive, send):
        params = _query(scope)
        limit = params.get("limit", "20")
        if not limit.isdigit():
            return await send_json(send, 400, {"error": "bad_request", "detail": "limit must be a positive integer"})
        await send_json(send, 200, {"samples": self.parity.samples(route=params.get("route"), limit=min(int(limit), 200))})

    async def traffic_report(self, scope, receive, send):
        """Per route and target since `since` seconds ago (default 3600); `group` keeps one group's routes."""
        params = _query(scope)
        try:
            since = time.time() - float(params.get("since", "3600"))
        except ValueError:
            return await send_json(send, 400, {"error": "bad_request", "detail": "since must be a number of seconds"})
        routes = None
        if params.get("group"):
            if params["group"] not in self.config.groups:
                return await send_json(send, 404, {"error": "not_found", "detail": f"no route group {params['group']!r}"})
            routes = [r.name for r in self.config.routes if r.group == params["group"]]
        if self.traffic is None:
            return await send_json(send, 200, {"since": since, "routes": []})
        rows = self.traffic.summary(since=since, routes=routes)
        await send_json(send, 200, {"since": since, "routes": [r.as_dict() for r in rows]})

    async def parity_sample(self, scope, receive, send):
        raw = scope["path"].rstrip("/").rsplit("/", 1)[-1]
        sample = self.parity.sample(int(raw)) if raw.isdigit() else None
        if sample is None:
            return await send_json(send, 404, {"error": "not_found", "detail": f"no parity sample {raw}"})
        await send_json(send, 200, sample)


def _flag_dict(flag):
    return None if flag is None else {"mode": str(flag.mode), "percent": flag.percent, "shadow_rate": flag.shadow_rate}


def _bearer(scope) -> str | None:
    """The credential of the first Authorization header ("" for another scheme), None without one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            return credential.strip() if scheme.lower() == "bearer" else ""
    return None


def _query(scope) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))

