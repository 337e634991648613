"""The router's concurrency limit: past `router.max_concurrent_requests` proxied requests in flight, a
request is refused at once with a counted 503; the admin API is not limited; the slot is given back."""

import asyncio

import pytest

from router.app import RouterApp
from router.config import parse_config
from router.store import ControlStore


@pytest.fixture
def anyio_backend():
    return "asyncio"


def app(tmp_path, limit: int) -> RouterApp:
    config = parse_config({"version": 1, "router": {"max_concurrent_requests": limit},
                           "upstreams": {"legacy": {"url": "http://127.0.0.1:1"}}, "groups": {}, "routes": []})
    return RouterApp(config, ControlStore(f"sqlite:///{tmp_path / 'control.sqlite3'}"),
                     environ={"STRANGLER_ENV": "test", "STRANGLER_ADMIN_TOKEN": "t" * 32})


async def call(router, path="/api/orders/"):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await router({"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
                  "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}, receive, send)
    return sent[0]["status"]


@pytest.mark.anyio
async def test_requests_over_the_limit_get_503_and_are_counted(tmp_path):
    router = app(tmp_path, 2)
    release = asyncio.Event()

    async def slow_proxy(scope, receive, send):
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    router.proxy = slow_proxy
    held = [asyncio.create_task(call(router)) for _ in range(2)]
    await asyncio.sleep(0.01)
    assert await call(router) == 503
    assert await call(router, "/_strangler/api/health") == 200  # operators still get in
    release.set()
    assert await asyncio.gather(*held) == [200, 200]
    assert router.in_flight == 0
    assert await call(router) == 200
    assert router.metrics.rejected.labels("overloaded")._value.get() == 1
