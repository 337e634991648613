"""The write-safety rule at the router's edge, with each real transport against scripted upstreams on
loopback: an unsafe request that may have reached the service is never sent again (not to the service,
not to legacy): the client gets a 502 naming the request id and `strangler_unsafe_failures_total`
counts it; a request provably not received (refused connection, the service's write-refused 503, a
pooled connection found closed before the write) is served by legacy; safe requests keep their
fallback. Also: idle connections that talk on their own are dropped, streamed answers are read only as
fast as the client takes them, and a failed upload never leaves an upstream socket open."""

import asyncio
import contextlib
import json

import pytest

from router.config import parse_config
from router.decision import FlagState, Mode
from router.flags import FlagSnapshot
from router.introspection import IdentityResolver
from router.matching import RouteTable
from router.metrics import RouterMetrics
from router.proxy import Proxy
from router.transport import create_transport
from router.transport import raw_transport
from router.watcher import SnapshotHolder
from tests.support.scripted_upstream import ScriptedUpstream

TRANSPORTS = ["raw", "aiohttp", "httpx"]
SECRET = b"write-safety-test-secret"
STAFF_TOKEN = {"Authorization": "Token staff"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


class Router:
    """A Proxy over a real transport, the inventory group extracted, legacy and the service scripted."""

    def __init__(self, proxy, transport, metrics, legacy, service):
        self.proxy, self.transport, self.metrics, self.legacy, self.service = proxy, transport, metrics, legacy, service

    async def call(self, method, path, body=b"", headers=STAFF_TOKEN, chunks=None):
        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "client": ("127.0.0.1", 5000),
                 "scheme": "http"}
        if chunks is not None:
            scope["headers"].append((b"transfer-encoding", b"chunked"))
            messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
            messages.append({"type": "http.request", "body": b"", "more_body": False})
        else:
            if body:
                scope["headers"].append((b"content-length", str(len(body)).encode()))
            messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent = []

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await self.proxy(scope, receive, send)
        status = sent[0]["status"]
        headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
        body = b"".join(m.get("body", b"") for m in sent[1:])
        return status, headers, body

    def metric(self, name: str, **labels) -> float:
        for family in self.metrics.registry.collect():
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return sample.value
        return 0.0


def config(legacy_url: str, service_url: str, **router_settings):
    return parse_config({
        "version": 1,
        "router": router_settings,
        "upstreams": {"legacy": {"url": legacy_url},
                      "inventory": {"url": service_url, "read_timeout": 2, "connect_timeout": 1}},
        "groups": {"inventory": {"upstream": "inventory"}},
        "routes": [
            {"name": "stock.list", "group": "inventory", "methods": ["GET"], "path": "/api/inventory/stock/"},
            {"name": "adjustments.create", "group": "inventory", "methods": ["POST"],
             "path": "/api/inventory/adjustments/"},
            {"name": "warehouses.update", "group": "inventory", "methods": ["PUT", "PATCH", "DELETE"],
             "path": "/api/inventory/warehouses/{code}/"},
        ],
    })


async def build(transport_name, service_script, legacy_script=lambda n, m, p: "ok", service_url=None, **settings):
    legacy = await ScriptedUpstream.start(legacy_script, "legacy")
    service = await ScriptedUpstream.start(service_script, "service")
    cfg = config(legacy.url, service_url or service.url, **settings)
    transport, metrics = create_transport(transport_name, cfg.upstreams), RouterMetrics()
    await transport.start()
    holder = SnapshotHolder(FlagSnapshot(1, {}, {"inventory": FlagState(Mode.EXTRACTED, 100, 0)}))
    identity = IdentityResolver(transport, metrics, SECRET)
    proxy = Proxy(cfg, RouteTable(cfg.routes), holder, transport, metrics, None, breaker_threshold=100,
                  identity=identity)
    return Router(proxy, transport, metrics, legacy, service)


async def teardown(router: Router) -> None:
    await router.transport.close()
    await router.legacy.close()
    await router.service.close()


@contextlib.asynccontextmanager
async def routed(*args, **kwargs):
    """`build`, then `teardown` however the test ends."""
    router = await build(*args, **kwargs)
    try:
        yield router
    finally:
        await teardown(router)


ADJUSTMENT = json.dumps({"sku": "A-1", "warehouse": "BER", "kind": "receive", "quantity": 1}).encode()


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
async def test_a_post_whose_answer_breaks_off_gets_502_and_is_never_sent_to_legacy(transport_name):
    async with routed(transport_name, lambda n, m, p: "headers_then_break") as router:
        status, headers, body = await router.call("POST", "/api/inventory/adjustments/", ADJUSTMENT)
        answer = json.loads(body)
        assert status == 502
        assert answer["request_id"] == headers["x-request-id"]
        assert "may have been applied" in answer["detail"] and answer["request_id"] in answer["detail"]
        assert "127.0.0.1" not in answer["detail"]  # no internal address for the client
        assert router.service.applied("POST") == 1
        assert router.legacy.applied("POST") == 0
        assert router.metric("strangler_unsafe_failures_total", upstream="inventory", kind="disconnect") == 1


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_unsafe_methods_whose_connection_breaks_are_not_resent(transport_name, method):
    # The first call warms a pooled connection; the second is read whole by the service, which then
    # closes without answering (an upstream dying after its commit, or a keep-alive close crossing it).
    async with routed(transport_name, lambda n, m, p: "ok" if n < 1 else "read_then_close") as router:
        status, _, _ = await router.call(method, "/api/inventory/warehouses/BER/", b'{"name": "Berlin"}')
        assert status == 200
        status, _, body = await router.call(method, "/api/inventory/warehouses/BER/", b'{"name": "Berlin"}')
        assert status == 502, body
        assert router.service.applied(method) == 2  # not 3: the broken one was not sent again
        assert router.legacy.applied(method) == 0


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
async def test_a_pooled_connection_closed_between_two_posts_applies_each_post_once(transport_name):
    async with routed(transport_name, lambda n, m, p: "ok" if n < 1 else "read_then_close") as router:
        first, _, _ = await router.call("POST", "/api/inventory/adjustments/", ADJUSTMENT)
        second, _, body = await router.call("POST", "/api/inventory/adjustments/", ADJUSTMENT)
        assert (first, second) == (201, 502), body
        assert router.service.applied("POST") == 2
        assert router.legacy.applied("POST") == 0
        assert router.metric("strangler_unsafe_failures_total", upstream="inventory", kind="disconnect") == 1


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
async def test_a_connection_the_upstream_closed_while_idle_is_not_used_for_the_next_post(transport_name):
    async with routed(transport_name, lambda n, m, p: "ok_then_close") as router:
        first, _, _ = await router.call("POST", "/api/inventory/adjustments/", ADJUSTMENT)
        await asyncio.sleep(0.1)  # the upstream's close reaches the router while the connection is idle
        second, _, body = await router.call("POST", "/api/inventory/adjustments/", ADJUSTMENT)
        assert (first, second) == (201, 201), body
        assert router.service.applied("POST") == 2
        assert router.legacy.applied("POST") == 0


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
async def test_a_get_whose_answer_breaks_off_is_served_by_legacy(transport_name):
    async with routed(transport_name, lambda n, m, p: "headers_then_break") as router:
        status, headers, body = await router.call("GET", "/api/inventory/stock/")
        assert status == 200 and json.loads(body)["side"] == "legacy"
        assert headers["x-strangler-served-by"] == "legacy"
        assert router.metric("strangler_fallbacks_total", cause="disconnect") == 1
        assert router.metric("strangler_unsafe_failures_total", upstream="inventory", kind="disconnect") == 0


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
async def test_a_post_to_a_refused_connection_is_served_by_legacy_once(transport_name):
    closed = await ScriptedUpstream.start(lambda n, m, p: "ok")
    dead_url = closed.url
    await closed.close()
    async with routed(transport_name, lambda n, m, p: "ok", service_url=dead_url) as router:
        status, headers, _ = await router.call("POST", "/api/inventory/adjustments/", ADJUSTMENT)
        assert status == 201 and headers["x-strangler-served-by"] == "legacy"
        assert router.legacy.applied("POST") == 1
        assert router.metric("strangler_fallbacks_total", cause="connect") == 1


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
async def test_the_services_write_refused_answer_still_sends_the_write_to_legacy(transport_name):
    async with routed(transport_name, lambda n, m, p: "refuse_write") as router:
        status, headers, _ = await router.call("POST", "/api/inventory/adjustments/", ADJUSTMENT)
        assert status == 201 and headers["x-strangler-served-by"] == "legacy"
        assert (router.service.applied("POST"), router.legacy.applied("POST")) == (1, 1)
        assert router.metric("strangler_fallbacks_total", cause="write_refused") == 1


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
async def test_a_post_to_legacy_whose_connection_breaks_is_not_resent_either(transport_name):
    # Unmatched paths belong to legacy: the rule holds for every upstream, not only services.
    async with routed(transport_name, lambda n, m, p: "ok", legacy_script=lambda n, m, p: "ok" if n < 1 else "read_then_close") as router:
        first, _, _ = await router.call("POST", "/api/orders/", b"{}")
        second, _, _ = await router.call("POST", "/api/orders/", b"{}")
        assert (first, second) == (201, 502)
        assert router.legacy.applied("POST") == 2
        assert router.metric("strangler_unsafe_failures_total", upstream="legacy", kind="disconnect") == 1


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
async def test_an_idle_connection_that_sends_unasked_bytes_is_not_reused(transport_name):
    async with routed(transport_name, lambda n, m, p: "ok_then_unsolicited") as router:
        first, _, _ = await router.call("GET", "/api/inventory/stock/")
        await asyncio.sleep(0.2)  # the unasked-for answer arrives on the idle connection
        status, _, body = await router.call("GET", "/api/inventory/stock/")
        assert (first, status) == (200, 200)
        assert json.loads(body)["side"] in ("service", "legacy")  # a real answer, never the unasked one


@pytest.mark.anyio
async def test_a_post_is_not_trusted_to_a_connection_idle_past_the_reuse_limit(monkeypatch):
    monkeypatch.setattr(raw_transport, "UNSAFE_REUSE_IDLE", 0.05)
    async with routed("raw", lambda n, m, p: "ok") as router:
        await router.call("GET", "/api/inventory/stock/")
        await router.call("POST", "/api/inventory/adjustments/", ADJUSTMENT)  # right after: same connection
        assert router.service.connections_opened == 1
        await asyncio.sleep(0.1)
        await router.call("GET", "/api/inventory/stock/")  # a safe request may still reuse it
        assert router.service.connections_opened == 1
        await asyncio.sleep(0.1)
        status, _, _ = await router.call("POST", "/api/inventory/adjustments/", ADJUSTMENT)
        assert status == 201 and router.service.connections_opened == 2


@pytest.mark.anyio
async def test_a_streamed_answer_is_read_from_the_upstream_only_as_fast_as_it_is_taken():
    upstream = await ScriptedUpstream.start(lambda n, m, p: "endless")
    cfg = config(upstream.url, upstream.url)
    transport = create_transport("raw", cfg.upstreams)
    await transport.start()
    try:
        response = await transport.send("legacy", "GET", "/big", [], None)
        chunks = response.chunks()
        await chunks.__anext__()  # the client took one piece, then stalls
        await asyncio.sleep(1.0)
        # Without backpressure loopback moves hundreds of MB a second into the router's memory; with it,
        # the upstream is stuck once the router's buffer and the sockets' buffers are full.
        assert upstream.endless_bytes_written < 32 * 1024 * 1024
        await response.aclose()
    finally:
        await transport.close()
        await upstream.close()


@pytest.mark.anyio
@pytest.mark.parametrize("transport_name", TRANSPORTS)
async def test_a_chunked_upload_over_the_limit_closes_the_upstream_connection(transport_name):
    async with routed(transport_name, lambda n, m, p: "ok", max_body_bytes=2_000_000) as router:
        status, _, _ = await router.call("POST", "/api/orders/", chunks=[b"y" * 500_000] * 6)
        assert status == 413
        for _ in range(50):  # the upstream sees its connection closed, so no worker stays pinned
            if router.legacy.connections_closed == router.legacy.connections_opened:
                break
            await asyncio.sleep(0.02)
        assert router.legacy.connections_opened >= 1
        assert router.legacy.connections_closed == router.legacy.connections_opened
