"""The router application: builds the parts from configuration and dispatches ASGI events.

    uvicorn --factory router.app:create_app --loop uvloop --http httptools --port 8000

Environment: STRANGLER_CONFIG (default strangler.yaml), STRANGLER_STORE_URL (default
sqlite:///var/control.sqlite3), STRANGLER_ADMIN_TOKEN (or the variable the config names),
STRANGLER_ADMIN_PORT (serve the admin API, dashboard and metrics only on this port of the process; see
router/__main__.py), STRANGLER_TRANSPORT (raw | aiohttp | httpx; raw by default, chosen by measurement), STRANGLER_SHADOW_SECRET (signs rollback markers for mirrored
writes; without it no write is ever mirrored with rollback), STRANGLER_IDENTITY_SECRET (or the variable the
config names: signs the caller's identity for extracted services; required when STRANGLER_ENV is
production, its default).
"""

import gc
import logging
import os

from router.admin import PREFIX, AdminApi, admin_token_from_env
from router.asgi import send_json
from router.config import identity_secret, load_config
from router.introspection import IdentityResolver
from router.masking import mask_secrets
from router.matching import RouteTable
from router.metrics import RouterMetrics
from router.proxy import Proxy
from router.recorder import ParityRecorder
from router.redaction import Redactor
from router.shadow import ShadowRunner
from router.store import ControlStore
from router.store.parity import ParityStore
from router.store.traffic import TrafficStore
from router.transport import create_transport
from router.watcher import FlagWatcher, SnapshotHolder

log = logging.getLogger("strangler.router")


class RouterApp:
    def __init__(self, config, store: ControlStore, transport_name: str = "raw", environ=None,
                 admin_port: int | None = None):
        environ = os.environ if environ is None else environ
        self.config = config
        # With an admin port, /_strangler/ is served there only and nothing is proxied there.
        self.admin_port = admin_port
        self.max_concurrent, self.in_flight = config.router.max_concurrent_requests, 0
        self.store = store
        self.metrics = RouterMetrics()
        self.holder = SnapshotHolder()
        self.watcher = FlagWatcher(store, self.holder, self.metrics, poll_interval=config.router.flag_poll_interval)
        self.transport = create_transport(transport_name, config.upstreams)
        token = admin_token_from_env(config)
        settings = config.router
        # Callers of extracted routes are looked up at the monolith through the same pooled client.
        self.identity = IdentityResolver(self.transport, self.metrics, identity_secret(config, environ),
                                         path=settings.identity_introspect_path, ttl=settings.identity_cache_seconds)
        self.parity = ParityStore(store, settings.parity_samples_per_signature, settings.parity_retention_days)
        self.traffic = TrafficStore(store, settings.parity_retention_days)
        self.recorder = ParityRecorder(self.parity, self.metrics, traffic_store=self.traffic)
        secret = environ.get("STRANGLER_SHADOW_SECRET")
        self.shadow = ShadowRunner(config, self.transport, self.metrics, self.recorder, Redactor(settings.redact_fields),
                                   secret.encode() if secret else None, noise_source=self.parity.noise_paths,
                                   identity=self.identity)
        self.proxy = Proxy(config, RouteTable(config.routes), self.holder, self.transport, self.metrics, token,
                           breaker_threshold=settings.breaker_failures, breaker_cooldown=settings.breaker_cooldown,
                           shadow=self.shadow, identity=self.identity)
        self.admin = AdminApi(config, store, self.holder, self.watcher, self.proxy, self.metrics, token, self.parity,
                              self.traffic)

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "http":
            admin_path = scope["path"].startswith(PREFIX)
            if self.admin_port is not None:
                server = scope.get("server")
                on_admin_port = server is not None and server[1] == self.admin_port
                if admin_path != on_admin_port:
                    return await send_json(send, 404, {"error": "not_found", "detail": (
                        "the admin API is served on its own port" if admin_path else "only /_strangler/ is served here")})
            if admin_path:
                return await self.admin(scope, receive, send)
            if self.in_flight >= self.max_concurrent:
                # Over the limit: refused at once, before anything is read or forwarded.
                self.metrics.rejected.labels("overloaded").inc()
                return await send_json(send, 503, {"error": "overloaded", "detail": (
                    f"the router is serving {self.max_concurrent} requests already; retry shortly")},
                    headers=[(b"retry-after", b"1")])
            self.in_flight += 1
            try:
                return await self.proxy(scope, receive, send)
            finally:
                self.in_flight -= 1
        if kind == "lifespan":
            return await self._lifespan(receive, send)
        # WebSockets are not proxied: close the handshake politely.
        if kind == "websocket":
            await send({"type": "websocket.close", "code": 1003})

    async def startup(self) -> None:
        try:
            self.store.migrate()
        except Exception as exc:  # the router still serves legacy on the empty snapshot
            log.warning("control store not reachable at startup: %s", mask_secrets(str(exc)))
        self.watcher.refresh()
        self.watcher.start()
        self.recorder.start()
        await self.transport.start()
        # Everything built so far lives as long as the process: keep it out of the collector's full
        # passes, which otherwise stall a busy router for tens of milliseconds (bench-shadow).
        gc.freeze()

    async def shutdown(self) -> None:
        await self.shadow.drain()
        self.watcher.stop()
        self.recorder.stop()
        await self.transport.close()
        self.store.close()

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(config_path: str | None = None, store_url: str | None = None, transport: str | None = None) -> RouterApp:
    config = load_config(config_path or os.environ.get("STRANGLER_CONFIG", "strangler.yaml"))
    admin_port = os.environ.get("STRANGLER_ADMIN_PORT")
    return RouterApp(config, ControlStore(store_url), transport or os.environ.get("STRANGLER_TRANSPORT", "raw"),
                     admin_port=int(admin_port) if admin_port else None)
