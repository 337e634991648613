"""The proxy and the shadow runner with identity at the edge, in-process over a fake transport: a request
for a service carries its caller signed, a refused caller gets the monolith's answer, no answer means no
forwarding, legacy requests never look anybody up, and nothing of it leaks to legacy."""

import asyncio
import hashlib
import json
import re

import pytest

from extracted.common.identity import Identity, IdentityError, verify_identity
from router.asgi import BUFFER_LIMIT
from router.config import parse_config
from router.decision import FlagState, Mode
from router.errors import UpstreamConnectError, UpstreamTimeout
from router.flags import FlagSnapshot
from router.introspection import IdentityResolver
from router.matching import RouteTable
from router.metrics import RouterMetrics
from router.proxy import Proxy
from router.redaction import Redactor
from router.shadow import ShadowRunner
from router.transport import Transport, UpstreamResponse
from router.watcher import SnapshotHolder

SECRET = b"proxy-identity-test-secret"
ADMIN = "admin-token"
INTROSPECT = "/api/auth/introspect/"
STAFF = {"authenticated": True, "user_id": 1, "username": "admin", "is_staff": True, "customer_id": None}
CONFIG = parse_config({
    "version": 1,
    "upstreams": {"legacy": {"url": "http://legacy:1"}, "inventory": {"url": "http://inventory:2"}},
    "groups": {"inventory": {"upstream": "inventory"}},
    "routes": [
        {"name": "wh.list", "group": "inventory", "methods": ["GET"], "path": "/api/inventory/warehouses/"},
        {"name": "wh.create", "group": "inventory", "methods": ["POST"], "path": "/api/inventory/warehouses/",
         "write_policy": "mirror"},
    ],
})


@pytest.fixture
def anyio_backend():
    return "asyncio"


def json_response(status, payload, extra=()):
    body = json.dumps(payload).encode()
    return UpstreamResponse(status, [(b"content-type", b"application/json"),
                                     (b"content-length", str(len(body)).encode()), *extra], body=body)


class FakeUpstreams(Transport):
    """Legacy answers introspection with `identity_answer` and everything else as itself; the service
    echoes the headers it got. `fail` maps an upstream to the exception it raises."""

    def __init__(self):
        self.calls: list[tuple[str, str, str, dict]] = []
        self.bodies: list = []  # the body of each call, as given (bytes, None or a stream)
        self.identity_answer = lambda: json_response(200, STAFF)
        self.fail: dict[str, Exception] = {}
        self.introspection_gate: asyncio.Event | None = None

    async def start(self): ...

    async def close(self): ...

    async def send(self, upstream, method, target, headers, body):
        self.calls.append((upstream, method, target, [(n.lower(), v) for n, v in headers]))
        self.bodies.append(body)
        if upstream == "legacy" and target == INTROSPECT:
            if self.introspection_gate is not None:
                await self.introspection_gate.wait()
            answer = self.identity_answer()
            if isinstance(answer, Exception):
                raise answer
            return answer
        if upstream in self.fail:
            raise self.fail[upstream]
        return json_response(200, {"side": upstream, "headers": [(n.lower(), v) for n, v in headers]})

    def service_calls(self):
        return [c for c in self.calls if c[0] == "inventory"]

    def service_bodies(self):
        return [body for c, body in zip(self.calls, self.bodies) if c[0] == "inventory"]

    def introspections(self):
        return [c for c in self.calls if c[2] == INTROSPECT]


class Recorder:
    def __init__(self):
        self.comparisons = []

    def put(self, comparison):
        self.comparisons.append(comparison)

    def learn_noise(self, route, paths): ...


def build(mode: Mode, shadow_rate: float = 0.0):
    transport, metrics = FakeUpstreams(), RouterMetrics()
    holder = SnapshotHolder(FlagSnapshot(1, {}, {"inventory": FlagState(mode, 100 if mode is Mode.EXTRACTED else 0,
                                                                       shadow_rate)}))
    resolver = IdentityResolver(transport, metrics, SECRET)
    recorder = Recorder()
    shadow = ShadowRunner(CONFIG, transport, metrics, recorder, Redactor(), None, identity=resolver)
    proxy = Proxy(CONFIG, RouteTable(CONFIG.routes), holder, transport, metrics, ADMIN, breaker_threshold=100,
                  shadow=shadow, identity=resolver)
    return proxy, transport, metrics, recorder, shadow


async def call(proxy, method="GET", path="/api/inventory/warehouses/", query=b"", headers=(), body=b""):
    """`body` is bytes, or a list of chunks sent as separate ASGI messages."""
    chunks = body if isinstance(body, list) else [body]
    size = sum(len(chunk) for chunk in chunks)
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": query,
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers] +
                        ([(b"content-length", str(size).encode())] if size else []),
             "client": ("127.0.0.1", 5000), "scheme": "http"}
    messages = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await proxy(scope, receive, send)
    start = sent[0]
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    content = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], response_headers, content


def identity_headers(call_headers):
    return [v for n, v in call_headers if n == "x-strangler-identity"]


# -- the primary ---------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_a_legacy_request_looks_nobody_up():
    proxy, transport, metrics, _, _ = build(Mode.LEGACY)

    status, headers, _ = await call(proxy, headers=[("Authorization", "Token t")])
    await call(proxy, path="/api/orders/")

    assert status == 200 and headers["x-strangler-served-by"] == "legacy"
    assert [c[2] for c in transport.calls] == ["/api/inventory/warehouses/", "/api/orders/"]
    assert all(not identity_headers(c[3]) for c in transport.calls)
    assert all(metrics.registry.get_sample_value("strangler_identity_lookups_total", {"result": result}) == 0
               for result in ("hit", "miss", "rejected", "error"))


@pytest.mark.anyio
async def test_an_extracted_request_carries_the_callers_signed_identity_and_not_a_forged_one():
    proxy, transport, _, _, _ = build(Mode.EXTRACTED)

    status, headers, _ = await call(proxy, method="POST", query=b"x=1", body=b'{"code": "W1"}',
                                    headers=[("Authorization", "Token t"), ("X-Strangler-Identity", "v1;uid=99;forged")])

    assert (status, headers["x-strangler-served-by"]) == (200, "extracted")
    [introspection] = transport.introspections()
    assert introspection[1] == "POST" and ("authorization", "Token t") in introspection[3]
    [(_, method, target, sent)] = transport.service_calls()
    [value] = identity_headers(sent)
    [body] = transport.service_bodies()
    assert body == b'{"code": "W1"}'
    assert verify_identity(value, SECRET, method=method, target=target, body=body) == Identity(1, "admin", True, None)
    assert target == "/api/inventory/warehouses/?x=1"


@pytest.mark.anyio
async def test_the_identity_is_bound_to_the_body_forwarded():
    proxy, transport, _, _, _ = build(Mode.EXTRACTED)

    body = b'{"quantity": 1}'
    await call(proxy, method="POST", body=body, headers=[("Authorization", "Token t")])

    [(_, method, target, sent)] = transport.service_calls()
    [value] = identity_headers(sent)
    assert f";body={hashlib.sha256(body).hexdigest()};" in value
    with pytest.raises(IdentityError, match="body does not match"):
        verify_identity(value, SECRET, method=method, target=target, body=b'{"quantity": 1000}')


@pytest.mark.anyio
async def test_a_body_streamed_past_the_buffer_is_signed_as_stream_and_each_request_gets_its_own_nonce():
    proxy, transport, _, _, _ = build(Mode.EXTRACTED)
    chunk = b"x" * (BUFFER_LIMIT // 2 + 1)

    await call(proxy, method="POST", body=[chunk, chunk, b"end"], headers=[("Authorization", "Token t")])
    await call(proxy, method="GET", headers=[("Authorization", "Token t")])

    streamed, read = (identity_headers(c[3])[0] for c in transport.service_calls())
    assert not isinstance(transport.service_bodies()[0], bytes)  # streamed on, not read whole
    assert ";body=stream;" in streamed and ";body=-;" in read
    assert re.search(r";nonce=(\w+);", streamed).group(1) != re.search(r";nonce=(\w+);", read).group(1)


@pytest.mark.anyio
async def test_a_refused_caller_gets_the_monoliths_answer_and_the_service_is_not_called():
    proxy, transport, metrics, _, _ = build(Mode.EXTRACTED)
    transport.identity_answer = lambda: json_response(401, {"detail": "Invalid token."}, [(b"www-authenticate", b"Token"),
                                                                                          (b"allow", b"GET, POST")])

    status, headers, body = await call(proxy, headers=[("Authorization", "Token nope"), ("X-Request-ID", "rid-1")])

    assert (status, json.loads(body)) == (401, {"detail": "Invalid token."})
    assert headers["www-authenticate"] == "Token" and headers["content-type"] == "application/json"
    assert headers["x-strangler-served-by"] == "legacy" and headers["x-request-id"] == "rid-1"
    assert "allow" not in headers
    assert transport.service_calls() == []
    assert metrics.registry.get_sample_value("strangler_requests_total",
                                             {"route": "wh.list", "target": "legacy", "status": "4xx"}) == 1


@pytest.mark.anyio
async def test_a_refusal_to_head_has_no_body():
    proxy, transport, _, _, _ = build(Mode.EXTRACTED)
    transport.identity_answer = lambda: json_response(401, {"detail": "Invalid token."}, [(b"www-authenticate", b"Token")])

    status, headers, body = await call(proxy, method="HEAD")

    assert (status, body) == (401, b"")
    assert headers["content-length"] == str(len(b'{"detail": "Invalid token."}'))


@pytest.mark.anyio
@pytest.mark.parametrize(("failure", "status", "error"), [
    (UpstreamConnectError("legacy", "connection refused"), 502, "bad_gateway"),
    (UpstreamTimeout("legacy", "no response"), 504, "gateway_timeout"),
    (lambda: json_response(500, {"detail": "boom"}), 502, "bad_gateway"),
])
async def test_without_an_answer_nothing_is_forwarded(failure, status, error):
    proxy, transport, metrics, _, _ = build(Mode.EXTRACTED)
    transport.identity_answer = failure if callable(failure) else (lambda: failure)

    answered, headers, body = await call(proxy, headers=[("X-Request-ID", "rid-2")])

    payload = json.loads(body)
    assert (answered, payload["error"], payload["upstream"], payload["request_id"]) == (status, error, "legacy", "rid-2")
    assert payload["detail"].startswith("the caller's identity could not be looked up")
    assert transport.service_calls() == []
    assert metrics.registry.get_sample_value("strangler_upstream_errors_total", {"upstream": "legacy", "kind": "identity"}) == 1


@pytest.mark.anyio
async def test_a_fallback_to_legacy_does_not_carry_the_identity():
    proxy, transport, metrics, _, _ = build(Mode.EXTRACTED)
    transport.fail["inventory"] = UpstreamConnectError("inventory", "refused")

    status, headers, _ = await call(proxy, headers=[("Authorization", "Token t")])

    assert (status, headers["x-strangler-served-by"]) == (200, "legacy")
    upstreams = [(c[0], c[2]) for c in transport.calls]
    assert upstreams == [("legacy", INTROSPECT), ("inventory", "/api/inventory/warehouses/"),
                         ("legacy", "/api/inventory/warehouses/")]
    assert identity_headers(transport.calls[1][3]) and not identity_headers(transport.calls[2][3])


@pytest.mark.anyio
async def test_an_admin_override_to_the_service_resolves_the_caller_too():
    proxy, transport, _, _, _ = build(Mode.LEGACY)

    status, headers, _ = await call(proxy, headers=[("X-Strangler-Target", "extracted"), ("X-Strangler-Token", ADMIN)])

    assert (status, headers["x-strangler-served-by"]) == (200, "extracted")
    assert len(transport.introspections()) == 1 and identity_headers(transport.service_calls()[0][3])


@pytest.mark.anyio
async def test_a_second_request_within_the_ttl_asks_the_monolith_once():
    proxy, transport, _, _, _ = build(Mode.EXTRACTED)

    for _ in range(3):
        assert (await call(proxy, headers=[("Authorization", "Token t")]))[0] == 200

    assert len(transport.introspections()) == 1 and len(transport.service_calls()) == 3


# -- shadows -------------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_a_shadow_to_the_service_carries_the_identity_resolved_off_the_primarys_path():
    proxy, transport, _, _, shadow = build(Mode.SHADOW, shadow_rate=1.0)
    transport.introspection_gate = asyncio.Event()

    # The primary is answered while the lookup for its shadow still waits.
    status, headers, _ = await call(proxy, headers=[("Authorization", "Token t")])
    assert (status, headers["x-strangler-served-by"]) == (200, "legacy")
    assert not identity_headers(transport.calls[0][3])
    assert transport.service_calls() == []

    transport.introspection_gate.set()
    await shadow.drain()
    [(_, method, target, sent)] = transport.service_calls()
    [value] = identity_headers(sent)
    assert verify_identity(value, SECRET, method=method, target=target, body=transport.service_bodies()[0]).user_id == 1


@pytest.mark.anyio
@pytest.mark.parametrize(("answer", "reason"), [
    (lambda: json_response(403, {"detail": "CSRF Failed: CSRF token missing."}), "identity_rejected"),
    (lambda: UpstreamConnectError("legacy", "refused"), "identity_error"),
])
async def test_a_shadow_whose_caller_cannot_be_named_is_skipped_and_counted(answer, reason):
    proxy, transport, metrics, recorder, shadow = build(Mode.SHADOW, shadow_rate=1.0)
    transport.identity_answer = answer

    status, _, _ = await call(proxy, method="POST", body=b"{}")
    await shadow.drain()

    assert status == 200
    assert transport.service_calls() == []
    assert metrics.registry.get_sample_value("strangler_shadow_not_compared_total",
                                             {"route": "wh.create", "reason": reason}) == 1
    assert [c.outcome for c in recorder.comparisons] == ["skipped"]


@pytest.mark.anyio
async def test_a_reverse_shadow_to_legacy_carries_no_identity():
    proxy, transport, _, _, shadow = build(Mode.EXTRACTED, shadow_rate=1.0)

    await call(proxy, headers=[("Authorization", "Token t")])
    await shadow.drain()

    legacy_calls = [c for c in transport.calls if c[0] == "legacy" and c[2] != INTROSPECT]
    assert len(legacy_calls) == 1 and not identity_headers(legacy_calls[0][3])
    assert len(transport.introspections()) == 1
