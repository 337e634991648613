"""The admin API answers a client address that keeps sending wrong tokens 429 with Retry-After, counts
it, and checks nothing more from it until the window ends; other addresses and the right token elsewhere
are unaffected."""

import json

import pytest

from router.admin import AdminApi
from router.login_throttle import LoginThrottle
from router.metrics import RouterMetrics

TOKEN = "a-long-enough-admin-token-for-tests"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def anyio_backend():
    return "asyncio"


def api(clock):
    metrics = RouterMetrics()
    admin = AdminApi(config=None, store=None, holder=None, watcher=None, proxy=None, metrics=metrics, admin_token=TOKEN,
                     throttle=LoginThrottle(limit=3, window=60, clock=clock))
    return admin, metrics


async def get(admin, token=None, address="203.0.113.7", path="/_strangler/api/history"):
    headers = [(b"authorization", f"Bearer {token}".encode())] if token is not None else []
    scope = {"type": "http", "method": "GET", "path": path, "headers": headers, "query_string": b"",
             "client": (address, 5000)}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await admin(scope, receive, send)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, json.loads(sent[1]["body"]) if sent[1]["body"] else None


def failures(metrics, outcome):
    return metrics.registry.get_sample_value("strangler_admin_auth_failures_total", {"outcome": outcome}) or 0


@pytest.mark.anyio
async def test_repeated_wrong_tokens_from_one_address_are_throttled_with_retry_after():
    clock = Clock()
    admin, metrics = api(clock)
    for guess in range(3):
        assert (await get(admin, f"guess-{guess}"))[0] == 401

    clock.now = 15.2
    status, headers, body = await get(admin, TOKEN)  # even the right token: nothing is checked now
    assert (status, headers["retry-after"], body["error"]) == (429, "45", "too_many_requests")
    assert failures(metrics, "wrong_token") == 3 and failures(metrics, "throttled") == 1

    assert (await get(admin, "guess", address="198.51.100.1"))[0] == 401  # another address: its own count
    clock.now = 60.0
    assert (await get(admin, "guess"))[0] == 401                          # the window is over


@pytest.mark.anyio
async def test_requests_without_a_token_are_not_counted_as_guesses():
    admin, metrics = api(Clock())
    for _ in range(5):
        assert (await get(admin))[0] == 401

    assert failures(metrics, "wrong_token") == 0 and len(admin.throttle) == 0


@pytest.mark.anyio
async def test_open_endpoints_are_never_throttled():
    clock = Clock()
    admin, _ = api(clock)
    for _ in range(3):
        await get(admin, "guess")

    assert (await get(admin, "guess", path="/_strangler/api/history"))[0] == 429
    status, _, _ = await get(admin, "guess", path="/_strangler/api/health")
    assert status != 429
