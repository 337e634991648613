"""Who is calling an extracted route: ask the monolith, remember the answer briefly, share lookups in flight.

Before the router sends a request to an extracted service (as the primary or as a shadow) it asks the
monolith's introspection endpoint (`router.identity_introspect_path`, /api/auth/introspect/) with the
caller's own credentials: the Authorization, Cookie, X-CSRFToken, Origin, Referer and Host headers,
plus the X-Forwarded-Host/-Proto the router adds to every forwarded request (Django reads them for the
CSRF origin check when deployed behind the router). It asks with GET for a safe method and with POST
(empty body) for an unsafe one, because DRF checks a session user's CSRF token only on unsafe methods.
The answer is either

- an `Identity` (200 ``{"authenticated": ...}``), signed onto the service request by the proxy, or
- a `Rejection`: the monolith refused the credentials (401 invalid token, 403 CSRF failed, ...), which
  the client gets exactly as the monolith would have answered it anywhere; the service is not called.

Anything else (connection refused, timeout, 5xx, a redirect, a 404 from a monolith without the
endpoint, a body that is not an introspection answer) raises `IdentityLookupError`: the router then
answers 502/504 and never forwards without an identity.

Answers (identities and rejections, never errors) are cached for `identity_cache_seconds` under a
digest of the method class and those header values, so credentials are not kept as cache keys; the
cache holds at most `max_entries`, least recently used first out. Concurrent lookups of one key share
a single request to the monolith, so a burst of one user's requests does not stampede it. The price
of the cache: a token deleted, a session ended or a user demoted at the monolith is still honoured for
extracted routes until its cached answer expires (5 s by default; 0 turns the cache off).
"""

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass

from router.errors import IdentityLookupError, UpstreamError, UpstreamTimeout
from router.identity import ANONYMOUS, IDENTITY_HEADER, Identity
from router.transport import UpstreamResponse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The caller's headers the monolith's authentication reads (lower case, as ASGI servers give them).
ASKED_HEADERS = frozenset({"authorization", "cookie", "x-csrftoken", "origin", "referer", "host",
                           "x-forwarded-host", "x-forwarded-proto"})
# 4xx answers that say the endpoint is missing or misrouted, not that the caller was refused.
_NOT_AN_ANSWER = frozenset({404, 405, 406, 410})
ANSWER_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class Rejection:
    """The monolith refused the caller's credentials; the client gets this answer as it is."""

    status: int
    body: bytes
    content_type: bytes | None = None
    www_authenticate: bytes | None = None

    def response(self, *, head: bool = False) -> UpstreamResponse:
        """The rejection as an upstream response the proxy can send like any other (no body for HEAD)."""
        headers = []
        if self.content_type is not None:
            headers.append((b"content-type", self.content_type))
        headers.append((b"content-length", str(len(self.body)).encode()))
        if self.www_authenticate is not None:
            headers.append((b"www-authenticate", self.www_authenticate))
        return UpstreamResponse(self.status, headers, body=b"" if head else self.body)


def parse_answer(status: int, headers, body: bytes, *, upstream: str = "legacy") -> Identity | Rejection:
    """Read one answer of the introspection endpoint; IdentityLookupError when it is not one."""
    if status == 200:
        return _parse_identity(body, upstream)
    if is_rejection(status):
        content_type = www_authenticate = None
        for name, value in headers:
            lower = name.lower()
            if lower == b"content-type":
                content_type = value
            elif lower == b"www-authenticate":
                www_authenticate = value
        return Rejection(status, body, content_type, www_authenticate)
    raise _unexpected_status(status, upstream)


def is_rejection(status: int) -> bool:
    """Does this status of the introspection endpoint mean "credentials refused" (passed to the client)?"""
    return 400 <= status < 500 and status not in _NOT_AN_ANSWER


def _unexpected_status(status: int, upstream: str) -> IdentityLookupError:
    hint = " (is router.identity_introspect_path right, and does the monolith serve it?)" if status < 500 else ""
    return IdentityLookupError(upstream, f"the introspection endpoint answered {status}{hint}")


def _parse_identity(body: bytes, upstream: str) -> Identity:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict) and data.get("authenticated") is False:
        return ANONYMOUS
    if isinstance(data, dict) and data.get("authenticated") is True:
        user_id, username = data.get("user_id"), data.get("username")
        is_staff, customer_id = data.get("is_staff"), data.get("customer_id")
        if (_is_id(user_id) and isinstance(username, str) and isinstance(is_staff, bool)
                and (customer_id is None or _is_id(customer_id))):
            return Identity(user_id=user_id, username=username, is_staff=is_staff, customer_id=customer_id)
    raise IdentityLookupError(upstream, "the introspection endpoint answered 200 with something that is not "
                                        'an introspection answer ({"authenticated": ...})')


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**19


class IdentityResolver:
    """Resolve callers through the monolith and sign them onto service requests (see the module docstring).

    `transport` is the router's pooled transport (its `upstream` pool, legacy); `clock` a monotonic
    clock for the cache (tests pass a fake one)."""

    def __init__(self, transport, metrics, secret: bytes, *, upstream: str = "legacy",
                 path: str = "/api/auth/introspect/", ttl: float = 5.0, max_entries: int = 10_000,
                 clock=time.monotonic):
        if not secret:
            raise ValueError("the identity secret is empty")
        self.transport, self.secret = transport, secret
        self.upstream, self.path, self.ttl, self.max_entries, self.clock = upstream, path, ttl, max_entries, clock
        self._cache: OrderedDict[bytes, tuple[float, Identity | Rejection]] = OrderedDict()
        self._in_flight: dict[bytes, asyncio.Task] = {}
        self._latency = metrics.identity_latency
        self._results = {result: metrics.identity_lookups.labels(result) for result in ("hit", "miss", "rejected", "error")}

    async def identity_header(self, method: str, target: str, headers, *, body=None) -> tuple[str, str] | Rejection:
        """The signed X-Strangler-Identity header for this request, or the monolith's rejection.

        `headers` are the (name, value) pairs being forwarded, `body` the body as forwarded: bytes, None,
        or the async iterator of a streamed one (signed as ``stream``). Each call signs anew, with a
        new nonce, so a header is never sent twice. Raises IdentityLookupError."""
        answer = await self.resolve(method, headers)
        if isinstance(answer, Rejection):
            return answer
        return IDENTITY_HEADER, answer.header_value(self.secret, method=method, target=target, body=body)

    async def resolve(self, method: str, headers) -> Identity | Rejection:
        """Who sends `headers` with `method`: from the cache, a lookup in flight, or a new lookup."""
        unsafe = method.upper() not in SAFE_METHODS
        asked = [(name, value) for name, value in headers if name.lower() in ASKED_HEADERS]
        key = _cache_key(unsafe, asked)
        entry = self._cache.get(key)
        if entry is not None:
            if entry[0] > self.clock():
                self._cache.move_to_end(key)
                self._results["hit"].inc()
                return entry[1]
            del self._cache[key]
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._lookup(key, unsafe, asked))
            self._in_flight[key] = task
            task.add_done_callback(lambda done, key=key: self._finished(key, done))
        else:
            self._results["hit"].inc()  # no call of its own: it shares the lookup in flight
        # Shielded: a caller that goes away must not cancel the lookup others are waiting for.
        return await asyncio.shield(task)

    def _finished(self, key: bytes, task: asyncio.Task) -> None:
        if self._in_flight.get(key) is task:
            del self._in_flight[key]
        if not task.cancelled():
            task.exception()  # retrieved here, so an error nobody waits for any more is not logged as lost

    async def _lookup(self, key: bytes, unsafe: bool, asked) -> Identity | Rejection:
        started = time.perf_counter()
        try:
            answer = await self._ask(unsafe, asked)
        except IdentityLookupError:
            self._results["error"].inc()
            raise  # never cached: the next request asks again
        finally:
            self._latency.observe(time.perf_counter() - started)
        self._results["rejected" if isinstance(answer, Rejection) else "miss"].inc()
        if self.ttl > 0:
            self._cache[key] = (self.clock() + self.ttl, answer)
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return answer

    async def _ask(self, unsafe: bool, asked) -> Identity | Rejection:
        # Accept: JSON whatever the caller accepts, so the answer can be read (the view only speaks JSON).
        headers = [*asked, ("Accept", "application/json")]
        try:
            response = await self.transport.send(self.upstream, "POST" if unsafe else "GET", self.path, headers,
                                                 b"" if unsafe else None)
            if response.status != 200 and not is_rejection(response.status):
                await response.aclose()
                raise _unexpected_status(response.status, self.upstream)
            body = await _read_body(response, self.upstream)
        except UpstreamTimeout as exc:
            raise IdentityLookupError(self.upstream, "the introspection endpoint did not answer in time",
                                      timed_out=True) from exc
        except UpstreamError as exc:
            raise IdentityLookupError(self.upstream, f"the introspection endpoint is unavailable: {exc.message}") from exc
        return parse_answer(response.status, response.headers, body, upstream=self.upstream)


async def _read_body(response: UpstreamResponse, upstream: str) -> bytes:
    """The whole answer, refusing one over ANSWER_LIMIT (an introspection answer is a few hundred bytes)."""
    if response.body is not None:
        body = response.body
    else:
        parts, size = [], 0
        try:
            async for chunk in response.chunks():
                size += len(chunk)
                if size > ANSWER_LIMIT:
                    break
                parts.append(chunk)
        finally:
            await response.aclose()
        body = b"".join(parts) if size <= ANSWER_LIMIT else None
    if body is None or len(body) > ANSWER_LIMIT:
        raise IdentityLookupError(upstream, f"the introspection endpoint answered over {ANSWER_LIMIT} bytes")
    return body


def _cache_key(unsafe: bool, asked) -> bytes:
    """A digest of what decides the answer: the method class and the asked headers, in order."""
    digest = hashlib.blake2b(b"unsafe" if unsafe else b"safe", digest_size=16)
    for name, value in asked:
        digest.update(b"\0" + name.lower().encode("latin-1") + b"\0" + value.encode("utf-8", "surrogatepass"))
    return digest.digest()
