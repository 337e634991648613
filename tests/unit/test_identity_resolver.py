"""Resolving callers through the monolith (router.introspection): what is asked, how answers are read,
what is cached and for how long, and that a burst shares one lookup. A fake transport implements the
router's transport port, so no socket is opened."""

import asyncio
import json

import pytest

from extracted.common.identity import Identity, IdentityError, verify_identity
from router.errors import IdentityLookupError, UpstreamConnectError, UpstreamTimeout
from router.identity import ANONYMOUS
from router.identity import Identity as RouterIdentity
from router.introspection import ANSWER_LIMIT, IdentityResolver, Rejection, parse_answer
from router.metrics import RouterMetrics
from router.transport import Transport, UpstreamResponse

SECRET = b"resolver-test-secret"
STAFF_ANSWER = {"authenticated": True, "user_id": 1, "username": "admin", "is_staff": True, "customer_id": None}
TOKEN = [("authorization", "Token staff-token")]


@pytest.fixture
def anyio_backend():
    return "asyncio"


def json_response(status: int, payload, extra=()) -> UpstreamResponse:
    body = json.dumps(payload).encode()
    return UpstreamResponse(status, [(b"Content-Type", b"application/json"), *extra], body=body)


class FakeTransport(Transport):
    """The transport port with scripted answers; `gate`, when set, holds every answer until it opens."""

    def __init__(self, answer=None):
        self.calls: list[tuple[str, str, str, list, object]] = []
        self.answer = answer or (lambda method, headers: json_response(200, STAFF_ANSWER))
        self.gate: asyncio.Event | None = None

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, upstream, method, target, headers, body):
        self.calls.append((upstream, method, target, list(headers), body))
        if self.gate is not None:
            await self.gate.wait()
        answer = self.answer(method, headers)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(transport=None, **options):
    metrics = RouterMetrics()
    clock = Clock()
    resolver = IdentityResolver(transport or FakeTransport(), metrics, SECRET, clock=clock, **options)
    return resolver, metrics, clock


def lookups(metrics, result: str) -> float:
    return metrics.registry.get_sample_value("strangler_identity_lookups_total", {"result": result}) or 0.0


# -- what is asked -----------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_a_safe_request_is_looked_up_with_get_and_only_the_credential_headers():
    transport = FakeTransport()
    resolver, _, _ = make(transport)
    headers = [("host", "shop.example"), ("authorization", "Token t"), ("cookie", "sessionid=s; csrftoken=c"),
               ("x-csrftoken", "c"), ("origin", "https://shop.example"), ("referer", "https://shop.example/a"),
               ("content-type", "application/json"), ("accept", "text/html"), ("x-request-id", "r1"),
               ("X-Forwarded-For", "10.0.0.1"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example")]

    assert await resolver.resolve("GET", headers) == RouterIdentity(1, "admin", True, None)

    [(upstream, method, target, sent, body)] = transport.calls
    assert (upstream, method, target, body) == ("legacy", "GET", "/api/auth/introspect/", None)
    assert sent == [("host", "shop.example"), ("authorization", "Token t"), ("cookie", "sessionid=s; csrftoken=c"),
                    ("x-csrftoken", "c"), ("origin", "https://shop.example"), ("referer", "https://shop.example/a"),
                    ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example"),
                    ("Accept", "application/json")]


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_an_unsafe_request_is_looked_up_with_an_empty_post(method):
    transport = FakeTransport()
    resolver, _, _ = make(transport, path="/auth/who/")

    await resolver.resolve(method, TOKEN)

    assert [(m, t, b) for _, m, t, _, b in transport.calls] == [("POST", "/auth/who/", b"")]


@pytest.mark.anyio
async def test_the_identity_header_is_signed_for_the_request_and_verifies_in_the_service():
    resolver, _, _ = make()

    name, value = await resolver.identity_header("POST", "/api/inventory/warehouses/?a=1", TOKEN, body=b'{"a": 1}')

    assert name == "X-Strangler-Identity"
    assert verify_identity(value, SECRET, method="POST", target="/api/inventory/warehouses/?a=1", body=b'{"a": 1}') == \
        Identity(1, "admin", True, None)


@pytest.mark.anyio
async def test_each_header_is_signed_anew_for_its_own_body_even_from_the_cache():
    transport = FakeTransport()
    resolver, _, _ = make(transport)

    _, first = await resolver.identity_header("POST", "/x/", TOKEN, body=b"one")
    _, second = await resolver.identity_header("POST", "/x/", TOKEN, body=b"two")

    assert len(transport.calls) == 1  # one lookup, two signings
    assert verify_identity(second, SECRET, method="POST", target="/x/", body=b"two").user_id == 1
    with pytest.raises(IdentityError, match="body does not match"):
        verify_identity(first, SECRET, method="POST", target="/x/", body=b"two")


# -- reading answers ---------------------------------------------------------------------------------

def test_an_anonymous_answer_is_the_anonymous_caller():
    assert parse_answer(200, [], b'{"authenticated": false}') is ANONYMOUS


def test_a_customer_answer_keeps_the_customer():
    answer = {**STAFF_ANSWER, "user_id": 9, "username": "buyer", "is_staff": False, "customer_id": 3}
    assert parse_answer(200, [], json.dumps(answer).encode()) == RouterIdentity(9, "buyer", False, 3)


@pytest.mark.parametrize(("status", "headers", "body"), [
    (401, [(b"Content-Type", b"application/json"), (b"WWW-Authenticate", b"Token"), (b"Allow", b"GET, POST")],
     b'{"detail":"Invalid token."}'),
    (403, [(b"content-type", b"application/json"), (b"vary", b"Accept, Cookie")],
     b'{"detail":"CSRF Failed: CSRF token missing."}'),
    (400, [(b"content-type", b"text/html; charset=utf-8")], b"<h1>Bad Request (400)</h1>"),
])
def test_a_refusal_is_kept_as_the_monolith_gave_it(status, headers, body):
    rejection = parse_answer(status, headers, body)

    assert rejection == Rejection(status, body, dict((k.lower(), v) for k, v in headers).get(b"content-type"),
                                  dict((k.lower(), v) for k, v in headers).get(b"www-authenticate"))
    response = rejection.response()
    assert (response.status, response.body) == (status, body)
    sent = dict(response.headers)
    assert sent[b"content-length"] == str(len(body)).encode()
    assert sent.get(b"www-authenticate") == (b"Token" if status == 401 else None)


def test_a_refusal_to_a_head_request_has_no_body_but_its_length():
    response = Rejection(401, b'{"detail":"Invalid token."}', b"application/json", b"Token").response(head=True)

    assert response.body == b""
    assert dict(response.headers)[b"content-length"] == b"27"


@pytest.mark.parametrize(("status", "body", "message"), [
    (200, b"not json", "not an introspection answer"),
    (200, b'{"side": "legacy"}', "not an introspection answer"),
    (200, b'{"authenticated": true, "user_id": "1", "username": "a", "is_staff": true, "customer_id": null}',
     "not an introspection answer"),
    (200, b'{"authenticated": true, "user_id": 1, "username": "a", "is_staff": 1, "customer_id": null}',
     "not an introspection answer"),
    (200, b'{"authenticated": "yes"}', "not an introspection answer"),
    (404, b"", r"answered 404 \(is router.identity_introspect_path right"),
    (405, b"", "answered 405"),
    (302, b"", "answered 302"),
    (500, b"", "answered 500"),
    (503, b"", "answered 503"),
])
def test_anything_else_is_a_lookup_error(status, body, message):
    with pytest.raises(IdentityLookupError, match=message) as caught:
        parse_answer(status, [], body)
    assert not caught.value.timed_out


# -- the cache ---------------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_a_second_lookup_within_the_ttl_makes_no_call_and_one_after_it_does():
    transport = FakeTransport()
    resolver, metrics, clock = make(transport, ttl=5)

    await resolver.resolve("GET", TOKEN)
    clock.now += 4.9
    await resolver.resolve("HEAD", TOKEN)  # the same method class
    assert len(transport.calls) == 1
    assert (lookups(metrics, "miss"), lookups(metrics, "hit")) == (1, 1)

    clock.now += 0.2
    await resolver.resolve("GET", TOKEN)
    assert len(transport.calls) == 2
    assert lookups(metrics, "miss") == 2


@pytest.mark.anyio
async def test_other_credentials_or_another_method_class_are_looked_up_apart():
    transport = FakeTransport()
    resolver, _, _ = make(transport)

    await resolver.resolve("GET", TOKEN)
    await resolver.resolve("GET", [("authorization", "Token customer-token")])
    await resolver.resolve("POST", TOKEN)
    await resolver.resolve("GET", [*TOKEN, ("origin", "https://elsewhere.example")])
    await resolver.resolve("GET", [*TOKEN, ("x-request-id", "another"), ("accept", "text/html")])  # not asked

    assert len(transport.calls) == 4


@pytest.mark.anyio
async def test_a_refusal_is_cached_like_an_identity():
    transport = FakeTransport(lambda method, headers: json_response(401, {"detail": "Invalid token."},
                                                                    [(b"WWW-Authenticate", b"Token")]))
    resolver, metrics, _ = make(transport)

    first = await resolver.resolve("GET", [("authorization", "Token nope")])
    second = await resolver.resolve("GET", [("authorization", "Token nope")])

    assert first == second and isinstance(first, Rejection) and first.www_authenticate == b"Token"
    assert len(transport.calls) == 1
    assert (lookups(metrics, "rejected"), lookups(metrics, "hit")) == (1, 1)
    assert isinstance(await resolver.identity_header("GET", "/x/", [("authorization", "Token nope")]), Rejection)


@pytest.mark.anyio
@pytest.mark.parametrize(("failure", "timed_out", "message"), [
    (UpstreamConnectError("legacy", "connection refused"), False, "unavailable: connection refused"),
    (UpstreamTimeout("legacy", "no response"), True, "did not answer in time"),
    (json_response(500, {"detail": "boom"}), False, "answered 500"),
])
async def test_a_failed_lookup_is_never_cached(failure, timed_out, message):
    answers = [failure, json_response(200, STAFF_ANSWER)]
    transport = FakeTransport(lambda method, headers: answers.pop(0))
    resolver, metrics, _ = make(transport)

    with pytest.raises(IdentityLookupError, match=message) as caught:
        await resolver.resolve("GET", TOKEN)
    assert caught.value.timed_out is timed_out and caught.value.upstream == "legacy"
    assert await resolver.resolve("GET", TOKEN) == RouterIdentity(1, "admin", True, None)
    assert len(transport.calls) == 2
    assert (lookups(metrics, "error"), lookups(metrics, "miss")) == (1, 1)
    latency = metrics.registry.get_sample_value("strangler_identity_lookup_seconds_count")
    assert latency == 2


@pytest.mark.anyio
async def test_a_streamed_answer_over_the_limit_is_an_error():
    async def chunks():
        for _ in range(ANSWER_LIMIT // 1024 + 2):
            yield b"x" * 1024

    closed = []
    transport = FakeTransport(lambda method, headers: UpstreamResponse(200, [], chunks(), lambda: closed.append(1)))
    resolver, _, _ = make(transport)

    with pytest.raises(IdentityLookupError, match="over"):
        await resolver.resolve("GET", TOKEN)
    assert closed == [1]


@pytest.mark.anyio
async def test_a_streamed_answer_is_read_whole():
    async def chunks():
        yield b'{"authenticated":'
        yield b" false}"

    transport = FakeTransport(lambda method, headers: UpstreamResponse(200, [], chunks(), lambda: None))
    resolver, _, _ = make(transport)

    assert await resolver.resolve("GET", []) is ANONYMOUS


@pytest.mark.anyio
async def test_the_cache_is_bounded_least_recently_used_first_out():
    transport = FakeTransport()
    resolver, _, _ = make(transport, max_entries=2)
    a, b, c = ([("authorization", f"Token {n}")] for n in "abc")

    await resolver.resolve("GET", a)
    await resolver.resolve("GET", b)
    await resolver.resolve("GET", a)  # a is now the most recently used
    await resolver.resolve("GET", c)  # evicts b
    assert len(transport.calls) == 3
    await resolver.resolve("GET", a)
    assert len(transport.calls) == 3
    await resolver.resolve("GET", b)
    assert len(transport.calls) == 4


@pytest.mark.anyio
async def test_a_ttl_of_zero_asks_every_time():
    transport = FakeTransport()
    resolver, _, _ = make(transport, ttl=0)

    await resolver.resolve("GET", TOKEN)
    await resolver.resolve("GET", TOKEN)

    assert len(transport.calls) == 2


# -- a burst shares one lookup -----------------------------------------------------------------------

@pytest.mark.anyio
async def test_concurrent_lookups_of_one_caller_share_one_request():
    transport = FakeTransport()
    transport.gate = asyncio.Event()
    resolver, metrics, _ = make(transport)

    waiting = [asyncio.create_task(resolver.resolve("GET", TOKEN)) for _ in range(20)]
    other = asyncio.create_task(resolver.resolve("GET", [("authorization", "Token other")]))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(transport.calls) == 2
    transport.gate.set()

    results = await asyncio.gather(*waiting, other)
    assert all(r == RouterIdentity(1, "admin", True, None) for r in results)
    assert len(transport.calls) == 2
    assert (lookups(metrics, "miss"), lookups(metrics, "hit")) == (2, 19)


@pytest.mark.anyio
async def test_a_caller_that_goes_away_does_not_cancel_the_shared_lookup():
    transport = FakeTransport()
    transport.gate = asyncio.Event()
    resolver, _, _ = make(transport)

    first = asyncio.create_task(resolver.resolve("GET", TOKEN))
    await asyncio.sleep(0)
    second = asyncio.create_task(resolver.resolve("GET", TOKEN))
    await asyncio.sleep(0)
    first.cancel()
    transport.gate.set()

    assert await second == RouterIdentity(1, "admin", True, None)
    with pytest.raises(asyncio.CancelledError):
        await first
    await resolver.resolve("GET", TOKEN)
    assert len(transport.calls) == 1


@pytest.mark.anyio
async def test_a_shared_lookup_that_fails_fails_every_waiter_and_is_not_kept():
    answers = [UpstreamConnectError("legacy", "refused"), json_response(200, STAFF_ANSWER)]
    transport = FakeTransport(lambda method, headers: answers.pop(0))
    transport.gate = asyncio.Event()
    resolver, _, _ = make(transport)

    waiting = [asyncio.create_task(resolver.resolve("GET", TOKEN)) for _ in range(3)]
    await asyncio.sleep(0)
    transport.gate.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)

    assert all(isinstance(r, IdentityLookupError) for r in results)
    assert await resolver.resolve("GET", TOKEN) == RouterIdentity(1, "admin", True, None)
    assert len(transport.calls) == 2


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="secret is empty"):
        IdentityResolver(FakeTransport(), RouterMetrics(), b"")
