"""The forwarding path: match the route, decide the side, forward, fall back, stream the answer.

Everything here runs per request, so it reads only in-memory state (the route table, the flag
snapshot, the breakers) and does the header work in a single pass over the client's headers.
A request for an extracted service first resolves its caller (`router.introspection`, usually from a
short-lived cache) and carries the signed identity; requests for legacy skip all of that.
"""

import hmac
import logging
import time

from router.asgi import BUFFER_LIMIT, read_prefix, send_json, stream_rest
from router.breaker import CircuitBreaker
from router.decision import Decision, Mode, RequestFacts, Target, decide, sticky_key
from router.errors import (BodyReadTimeout, BodyTooLarge, IdentityLookupError, UpstreamConnectError, UpstreamDisconnected, UpstreamError,
                           UpstreamTimeout)
from router.headers import HOP_BY_HOP, STRANGLER_PREFIX, connection_listed, response_headers, valid_request_id
from router.introspection import Rejection
from router.write_safety import Failure, is_safe, may_resend

log = logging.getLogger("strangler.proxy")
_XFF, _XFP, _XFH = b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"
_TARGET_HEADER, _TOKEN_HEADER = b"x-strangler-target", b"x-strangler-token"
_SERVED_BY = b"x-strangler-served-by"
# A service answers 503 with this header when it refused a write it does not own and wrote nothing
# (extracted/inventory/sync/ownership.py): legacy may then serve the request whatever its method
# (router.write_safety).
_WRITE_REFUSED = b"x-strangler-write-refused"
_LEGACY_DECISION = Decision(primary=Target.LEGACY, upstream="legacy", shadow=None, may_fall_back=False, reason="unmatched")


class Proxy:
    def __init__(self, config, table, holder, transport, metrics, admin_token: str | None,
                 breaker_threshold: int = 5, breaker_cooldown: float = 5.0, shadow=None, *, identity):
        self.config, self.table, self.holder = config, table, holder
        self.shadow = shadow  # a ShadowRunner, or None: then nothing is ever mirrored
        self.identity = identity  # an IdentityResolver: every request to a service carries its caller
        self.transport, self.metrics = transport, metrics
        self.admin_token = admin_token.encode() if admin_token else None
        settings = config.router
        self.max_body = settings.max_body_bytes
        self.body_timeout = settings.body_read_timeout
        self.request_id_header = settings.request_id_header.lower().encode()
        self.sticky_header = settings.sticky_header.lower().encode() if settings.sticky_header else None
        self.session_cookie = settings.session_cookie
        self.breakers = {name: CircuitBreaker(breaker_threshold, breaker_cooldown) for name in config.upstreams if name != "legacy"}

    async def __call__(self, scope, receive, send) -> None:
        started = time.perf_counter()
        method = scope["method"]
        path = scope["path"]

        # One pass over the client's headers: keep end-to-end ones, note what the decision needs.
        forward = []
        content_length = None
        chunked = False
        auth = cookie = sticky = request_id = host = client_xff = None
        override = token = None
        has_connection = False
        for name, value in scope["headers"]:
            if name in HOP_BY_HOP:
                if name == b"transfer-encoding":
                    chunked = True
                elif name == b"connection":
                    has_connection = True
                continue
            if name.startswith(STRANGLER_PREFIX):
                if name == _TARGET_HEADER:
                    override = value
                elif name == _TOKEN_HEADER:
                    token = value
                continue  # never forwarded: only the router speaks X-Strangler-*
            if name == self.request_id_header:
                request_id = value
                continue
            if name == _XFF:
                client_xff = value
                continue
            if name == _XFP or name == _XFH:
                continue
            if name == b"content-length":
                content_length = value
            elif name == b"host":
                host = value
            elif name == b"authorization":
                auth = value
            elif name == b"cookie":
                cookie = value
            if self.sticky_header is not None and name == self.sticky_header:
                sticky = value
            forward.append((name.decode("latin-1"), value.decode("latin-1")))
        if has_connection:
            listed = connection_listed(scope["headers"])
            forward = [(n, v) for n, v in forward if n.encode("latin-1") not in listed]

        rid = valid_request_id(request_id.decode("latin-1") if request_id else None)
        rid_b = rid.encode()
        client = scope.get("client")
        client_host = client[0] if client else None

        match = self.table.match(method, path)
        route_name = match.route.name if match else "unmatched"

        if chunked and content_length is not None:
            return await self._reject(send, 400, "bad_request", "Content-Length together with Transfer-Encoding is not allowed", route_name, rid_b)

        forced = None
        if override is not None:
            if self.admin_token is None or token is None or not hmac.compare_digest(token, self.admin_token):
                return await self._reject(send, 403, "forbidden", "X-Strangler-Target needs a valid X-Strangler-Token", route_name, rid_b)
            try:
                forced = Target(override.decode("latin-1").strip().lower())
            except ValueError:
                return await self._reject(send, 400, "bad_request", "X-Strangler-Target must be 'legacy' or 'extracted'", route_name, rid_b)

        flag = None
        if match is None:
            decision = _LEGACY_DECISION  # unmatched paths belong to legacy; an override cannot name a service here
        else:
            route = match.route
            flag = self.holder.snapshot.effective(route)
            # Only canary buckets callers; hashing their credentials for other modes is wasted work.
            facts = RequestFacts(
                sticky_key=sticky_key(
                    authorization=auth.decode("latin-1") if auth else None,
                    cookie_header=cookie.decode("latin-1") if cookie else None,
                    session_cookie=self.session_cookie,
                    sticky_header_value=sticky.decode("latin-1") if sticky else None,
                    client_host=client_host,
                ) if forced is None and flag.mode is Mode.CANARY else "unused",
                override=forced,
            )
            decision = decide(route, self.config.groups[route.group], flag, facts)

        # Forwarding headers: the proxy's own view of the client, appended to any chain it came with.
        forward.append(("X-Forwarded-For", f"{client_xff.decode('latin-1')}, {client_host}" if client_xff else (client_host or "")))
        forward.append(("X-Forwarded-Proto", scope.get("scheme", "http")))
        if host is not None:
            forward.append(("X-Forwarded-Host", host.decode("latin-1")))
        forward.append((self.config.router.request_id_header, rid))

        # The body: small ones read whole (a fallback can resend them), large ones streamed.
        replayable = True
        body = None
        try:
            if content_length is not None:
                try:
                    length = int(content_length)
                except ValueError:
                    return await self._reject(send, 400, "bad_request", "Content-Length is not a number", route_name, rid_b)
                if length > self.max_body:
                    self.metrics.rejected.labels("body_too_large").inc()
                    return await self._reject(send, 413, "payload_too_large", f"request body is over the {self.max_body}-byte limit", route_name, rid_b)
                if length > 0:
                    prefix, done = await read_prefix(receive, BUFFER_LIMIT, self.max_body, self.body_timeout)
                    body = prefix if done else stream_rest(prefix, receive, len(prefix), self.max_body, self.body_timeout)
                    replayable = done
            elif chunked:
                prefix, done = await read_prefix(receive, BUFFER_LIMIT, self.max_body, self.body_timeout)
                body = prefix if done else stream_rest(prefix, receive, len(prefix), self.max_body, self.body_timeout)
                replayable = done
        except BodyTooLarge:
            self.metrics.rejected.labels("body_too_large").inc()
            return await self._reject(send, 413, "payload_too_large", f"request body is over the {self.max_body}-byte limit", route_name, rid_b)
        except BodyReadTimeout as exc:
            return await self._reject(send, 408, "request_timeout", str(exc), route_name, rid_b)

        target = scope.get("raw_path") or path.encode()
        if scope.get("query_string"):
            target = target + b"?" + scope["query_string"]
        target_s = target.decode("latin-1")

        capture = None
        if decision.shadow is not None and self.shadow is not None and forced is None:
            capture = self.shadow.mirror(match.route, decision, flag, method, target_s, forward, body, replayable, rid)

        try:
            served_by, response = await self._forward(decision, route_name, method, target_s, forward, body, replayable)
        except BodyTooLarge:
            if capture is not None:
                capture.finish(None)
            self.metrics.rejected.labels("body_too_large").inc()
            return await self._reject(send, 413, "payload_too_large", f"request body is over the {self.max_body}-byte limit", route_name, rid_b)
        except BodyReadTimeout as exc:
            # The upstream got part of the body at most, and its connection was closed: nothing applied.
            if capture is not None:
                capture.finish(None)
            return await self._reject(send, 408, "request_timeout", str(exc), route_name, rid_b)
        except IdentityLookupError as exc:
            # Nobody can say who the caller is: the service is not called without an identity.
            if capture is not None:
                capture.finish(None)
            status, error = (504, "gateway_timeout") if exc.timed_out else (502, "bad_gateway")
            self.metrics.upstream_errors.labels(exc.upstream, "identity").inc()
            self.metrics.observe(route_name, "error", status, time.perf_counter() - started, exc.upstream)
            log.warning("request %s: identity lookup at %s failed: %s", rid, exc.upstream, exc.message)
            return await self._reject(send, status, error, f"the caller's identity could not be looked up at upstream "
                                      f"'{exc.upstream}'", route_name, rid_b, exc.upstream)
        except UpstreamError as exc:
            # Clients get a fixed message naming the upstream and the request id; addresses and exception
            # text go to the log only.
            if capture is not None:
                capture.finish(None)
            return await self._upstream_failed(send, exc, method, route_name, rid, rid_b, started)

        headers = response_headers(response.headers, self.request_id_header, rid_b)
        headers.append((_SERVED_BY, served_by.encode()))
        self.metrics.observe(route_name, served_by, response.status, time.perf_counter() - started)
        if capture is not None and served_by != decision.primary:
            capture.finish(None)  # fell back: both answers came from legacy, nothing to compare
            capture = None
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if response.body is not None:  # read whole already: one send, nothing to close
            if capture is not None:
                capture.feed(response.body)
                capture.finish(response.status, response.headers)
            await send({"type": "http.response.body", "body": response.body, "more_body": False})
            return
        try:
            async for chunk in response.chunks():
                if chunk:
                    if capture is not None:
                        capture.feed(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except BaseException as exc:
            if capture is not None:
                capture.finish(None)
            if isinstance(exc, UpstreamError):
                # Headers are gone already: all we can do is cut the response short, and say why in the log.
                log.warning("request %s: %s; response cut short", rid, exc)
                if not is_safe(method):
                    self.metrics.unsafe_failures.labels(exc.upstream, "cut_short").inc()
            raise
        finally:
            await response.aclose()
        if capture is not None:
            capture.finish(response.status, response.headers)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _forward(self, decision, route_name, method, target, headers, body, replayable):
        """Send to the decided side; on an extracted-side failure that allows it, send to legacy instead."""
        if decision.primary is Target.LEGACY:
            return "legacy", await self.transport.send("legacy", method, target, headers, body)

        # Who is calling, before anything else: a caller the monolith refuses gets the monolith's own
        # answer (as legacy would have given it), and without an answer nothing is forwarded.
        identity = await self.identity.identity_header(method, target, headers, body=body)
        if isinstance(identity, Rejection):
            return "legacy", identity.response(head=method == "HEAD")
        upstream = decision.upstream
        breaker = self.breakers[upstream]
        if not breaker.allow():
            self.metrics.fallback(route_name, upstream, "breaker_open")
            return "legacy", await self.transport.send("legacy", method, target, headers, body)
        try:
            # A new list: `headers` stays without the identity for a fallback to legacy.
            response = await self.transport.send(upstream, method, target, [*headers, identity], body)
        except UpstreamError as exc:
            breaker.record_failure()
            self._breaker_gauge(upstream, breaker)
            failure = _failure_of(exc)
            # Legacy serves instead only when the write-safety rule allows a second send.
            if not (decision.may_fall_back and may_resend(method, failure, replayable=replayable)):
                raise
            self.metrics.fallback(route_name, upstream, str(failure))
            return "legacy", await self.transport.send("legacy", method, target, headers, body)
        if response.status == 503 and _write_refused(response.headers):
            # Not a failure of the service (the breaker is left alone): it does not own these writes
            # right now, e.g. while they are handed back to the monolith.
            failure = Failure.WRITE_REFUSED
        elif response.status >= 500:
            breaker.record_failure()
            self._breaker_gauge(upstream, breaker)
            failure = Failure.SERVER_ERROR
        else:
            breaker.record_success()
            self._breaker_gauge(upstream, breaker)
            return "extracted", response
        if not (decision.may_fall_back and may_resend(method, failure, replayable=replayable)):
            return "extracted", response  # the service's own answer, as it gave it
        await response.aclose()
        self.metrics.fallback(route_name, upstream, str(failure))
        return "legacy", await self.transport.send("legacy", method, target, headers, body)

    async def _upstream_failed(self, send, exc: UpstreamError, method, route_name, rid, rid_b, started):
        """Answer a failure to forward: 504 for a timeout, else 502; an unsafe request that may have
        arrived is said to be possibly applied, counted, and never resent (router.write_safety)."""
        timed_out = isinstance(exc, UpstreamTimeout)
        status, error = (504, "gateway_timeout") if timed_out else (502, "bad_gateway")
        kind = "timeout" if timed_out else "connect" if isinstance(exc, UpstreamConnectError) else "disconnect"
        self.metrics.upstream_errors.labels(exc.upstream, kind).inc()
        self.metrics.observe(route_name, "error", status, time.perf_counter() - started, exc.upstream)
        detail = (f"upstream '{exc.upstream}' did not answer in time" if timed_out
                  else f"upstream '{exc.upstream}' is unavailable")
        if kind != "connect" and not is_safe(method):
            self.metrics.unsafe_failures.labels(exc.upstream, kind).inc()
            detail += (f"; this {method} may have been applied there and was not sent again: check before "
                       f"retrying (request id {rid})")
        log.warning("request %s: %s %s failed at upstream %s (%s): %s", rid, method, route_name, exc.upstream, kind,
                    exc.message)
        return await self._reject(send, status, error, detail, route_name, rid_b, exc.upstream)

    def _breaker_gauge(self, upstream, breaker) -> None:
        self.metrics.breaker_state.labels(upstream).set(int(breaker.state))

    async def _reject(self, send, status, error, detail, route_name, rid_b, upstream=None):
        if status < 500:
            self.metrics.rejected.labels(error).inc()
        payload = {"error": error, "detail": detail, "route": None if route_name == "unmatched" else route_name,
                   "request_id": rid_b.decode()}
        if upstream is not None:
            payload["upstream"] = upstream
        await send_json(send, status, payload, headers=[(self.request_id_header, rid_b)])


def _failure_of(exc: UpstreamError) -> Failure:
    if isinstance(exc, UpstreamConnectError):
        return Failure.REFUSED
    if isinstance(exc, UpstreamDisconnected):
        return Failure.DISCONNECTED
    return Failure.TIMEOUT


def _write_refused(headers) -> bool:
    return any(name.lower() == _WRITE_REFUSED for name, _ in headers)
