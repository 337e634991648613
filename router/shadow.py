"""Shadow traffic: a copy of the request goes to the other side at the same time as the primary, never
on the primary's path. Both answers are captured up to a cap, compared by the parity engine, and the
result handed to the recorder. In-flight shadows are bounded per upstream; over the bound they drop.
A write mirrored under the `rollback` policy must come back marked rolled back; one that does not is
counted as kept (a metric and a count per route in the parity store), since the service may have kept it.
A copy for an extracted service carries the caller's signed identity, resolved inside the shadow task;
when the monolith refuses the caller or cannot be asked, the shadow is skipped and counted."""

import asyncio
import logging
import random
import time
from dataclasses import replace

from router.decision import Target
from router.errors import IdentityLookupError, UpstreamError
from router.introspection import Rejection
from router.parity import Exchange, Verdict, compare, parse_rules
from router.shadow_marker import ROLLED_BACK, SHADOW_HEADER, SHADOW_RESULT_HEADER, rolled_back, sign_marker
from router.store.parity import WRITES_KEPT, Comparison

log = logging.getLogger("strangler.shadow")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Capture:
    """The primary's response as it streams to the client, kept up to `cap` bytes for comparison."""

    __slots__ = ("cap", "parts", "size", "over", "status", "headers", "done")

    def __init__(self, cap: int):
        self.cap, self.parts, self.size, self.over = cap, [], 0, False
        self.status, self.headers = None, ()
        self.done = asyncio.Event()

    def feed(self, chunk: bytes) -> None:
        if self.over:
            return
        self.size += len(chunk)
        if self.size > self.cap:
            self.over, self.parts = True, []
        else:
            self.parts.append(chunk)

    def finish(self, status: int | None, headers=()) -> None:
        self.status, self.headers = status, headers
        self.done.set()

    def exchange(self) -> Exchange:
        return Exchange(self.status, tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in self.headers),
                        b"".join(self.parts))


class ShadowRunner:
    def __init__(self, config, transport, metrics, recorder, redactor, marker_secret: bytes | None, noise_source=None,
                 *, identity):
        settings = config.router
        self.identity = identity  # an IdentityResolver: every copy sent to a service carries its caller
        self.config, self.transport, self.metrics, self.recorder, self.redactor = config, transport, metrics, recorder, redactor
        self.max_in_flight = settings.shadow_max_in_flight
        self.cap = settings.shadow_capture_bytes
        self.timeout = settings.shadow_timeout
        self.noise_rate = settings.noise_sample_rate
        self.marker_secret = marker_secret
        self.in_flight: dict[str, int] = {}
        self._tasks: set[asyncio.Task] = set()
        self._rules = {route.name: parse_rules(route.parity, where=f"routes.{route.name}") for route in config.routes}
        self._noise: dict[str, set[str]] = {}      # learned noise paths per route (this process + the store)
        self._noise_rules: dict[str, object] = {}
        # Samples built per (route, signature) in the current minute: the store keeps only a few per
        # signature, so building (and redacting) more than that on a hot route is wasted CPU.
        self._sample_quota = config.router.parity_samples_per_signature
        self._sample_minute = 0
        self._samples_built: dict[tuple[str, str], int] = {}
        self.noise_source = noise_source            # callable(route) -> paths already learned (read at start)

    # -- called on the request path: cheap, never awaits the shadow ----------------------------------
    def mirror(self, route, decision, flag, method: str, target: str, headers, body, replayable: bool,
               request_id: str) -> Capture | None:
        if flag.shadow_rate < 1.0 and random.random() >= flag.shadow_rate:
            return None
        safe = method in SAFE_METHODS
        policy = route.write_policy
        if not safe and policy == "skip":
            self._count(route.name, "skipped", "write_skipped")
            return None
        if not replayable or body is not None and not isinstance(body, bytes):
            self._count(route.name, "skipped", "body_streamed")
            return None
        upstream = self.config.groups[route.group].upstream if decision.shadow is Target.EXTRACTED else "legacy"
        if self.in_flight.get(upstream, 0) >= self.max_in_flight:
            self._count(route.name, "dropped", "bound")
            return None
        shadow_headers = list(headers)
        if not safe and policy == "rollback":
            if decision.shadow is not Target.EXTRACTED or self.marker_secret is None:
                # Only a service can roll back; legacy never gets a mirrored write.
                self._count(route.name, "skipped", "write_skipped")
                return None
            shadow_headers.append((SHADOW_HEADER, sign_marker(self.marker_secret, method=method, target=target,
                                                               request_id=request_id)))
        elif not safe and decision.shadow is Target.LEGACY:
            self._count(route.name, "skipped", "write_skipped")  # never mirror writes into the monolith
            return None
        capture = Capture(self.cap)
        self.in_flight[upstream] = self.in_flight.get(upstream, 0) + 1
        self.metrics.shadow_sent.labels(route.name).inc()
        task = asyncio.get_running_loop().create_task(
            self._run(route, decision, upstream, method, target, shadow_headers, body, capture, safe))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return capture

    # -- in the background ---------------------------------------------------------------------------
    async def _run(self, route, decision, upstream, method, target, headers, body, capture, safe) -> None:
        started = time.time()
        try:
            sent_headers = headers
            if decision.shadow is Target.EXTRACTED:
                try:
                    identity = await asyncio.wait_for(self.identity.identity_header(method, target, headers, body=body), self.timeout)
                except (IdentityLookupError, asyncio.TimeoutError) as exc:
                    self._count(route.name, "skipped", "identity_error")
                    log.info("shadow to %s for %s skipped, no identity: %s", upstream, route.name, exc)
                    return
                if isinstance(identity, Rejection):
                    self._count(route.name, "skipped", "identity_rejected")  # the monolith refused the caller
                    return
                sent_headers = [*headers, identity]  # only for the service: not stored, not sent to legacy
            rollback = not safe and route.write_policy == "rollback"
            try:
                shadow = await asyncio.wait_for(self._fetch(upstream, method, target, sent_headers, body,
                                                            rollback_route=route.name if rollback else None), self.timeout)
            except (UpstreamError, asyncio.TimeoutError) as exc:
                self._count(route.name, "error", "shadow_error")
                log.info("shadow to %s for %s failed: %s", upstream, route.name, exc)
                return
            noise = None
            if safe and decision.shadow is Target.EXTRACTED and self.noise_rate and random.random() < self.noise_rate:
                try:
                    noise = await asyncio.wait_for(self._fetch("legacy", method, target, headers, body), self.timeout)
                except (UpstreamError, asyncio.TimeoutError):
                    noise = None
            try:
                await asyncio.wait_for(capture.done.wait(), self.timeout)
            except asyncio.TimeoutError:
                self._count(route.name, "error", "primary_unfinished")
                return
            if capture.status is None:  # the primary failed or the client went away
                self._count(route.name, "skipped", "primary_failed")
                return
            if capture.over or shadow is None:
                self._count(route.name, "skipped", "over_cap")
                return
            primary = capture.exchange()
            legacy, extracted = (primary, shadow) if decision.shadow is Target.EXTRACTED else (shadow, primary)
            if noise is not None:
                self._learn_noise(route.name, legacy, noise)
            result = compare(legacy, extracted, self._rules_for(route.name))
            self._store(route, method, target, headers, body, legacy, extracted, result, started)
        finally:
            self.in_flight[upstream] -= 1

    async def _fetch(self, upstream, method, target, headers, body, *, rollback_route: str | None = None) -> Exchange | None:
        response = await self.transport.send(upstream, method, target, headers, body)
        if rollback_route is not None and not rolled_back(response.headers):
            self._write_kept(rollback_route)  # checked before the body: an answer over the cap kept it all the same
        if response.body is not None:
            if len(response.body) > self.cap:
                return None
            return Exchange(response.status, tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers),
                            response.body)
        parts, size = [], 0
        try:
            async for chunk in response.chunks():
                size += len(chunk)
                if size > self.cap:
                    return None
                parts.append(chunk)
        finally:
            await response.aclose()
        return Exchange(response.status, tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers),
                        b"".join(parts))

    def _rules_for(self, route_name: str):
        rules = self._noise_rules.get(route_name)
        if rules is None:
            base = self._rules[route_name]
            if route_name not in self._noise and self.noise_source is not None:
                try:
                    self._noise[route_name] = set(self.noise_source(route_name))
                except Exception:
                    self._noise[route_name] = set()
            learned = self._noise.get(route_name, set())
            rules = replace(base, noise_paths=tuple(sorted(learned))) if learned else base
            self._noise_rules[route_name] = rules
        return rules

    def _learn_noise(self, route_name: str, legacy: Exchange, again: Exchange) -> None:
        self_diff = compare(legacy, again, self._rules[route_name])
        paths = {d.pattern for d in self_diff.differences}
        if not paths:
            return
        known = self._noise.setdefault(route_name, set())
        if not paths <= known:
            known |= paths
            self._noise_rules.pop(route_name, None)
        self.recorder.learn_noise(route_name, paths)

    def _store(self, route, method, target, headers, body, legacy, extracted, result, started) -> None:
        outcome = str(result.verdict)
        self.metrics.shadow_compared.labels(route.name, outcome).inc()
        sample = None
        signature = result.signature() if result.verdict is Verdict.MISMATCH else "equivalent"
        if (result.verdict is Verdict.MISMATCH or result.verdict is Verdict.EQUIVALENT) and self._want_sample(route.name, signature, started):
            r = self.redactor
            sample = {
                "method": method, "target": r.target(target),
                "request": {"headers": r.headers(headers), "body": r.body(body or b"")},
                "legacy": {"status": legacy.status, "headers": r.headers(legacy.headers), "body": r.body(legacy.body)},
                "extracted": {"status": extracted.status, "headers": r.headers(extracted.headers), "body": r.body(extracted.body)},
                "diff": r.result(result),
            }
        self.recorder.put(Comparison(
            route=route.name, at=started, outcome=outcome,
            signature=signature if sample else None,
            paths=tuple((d.pattern, str(d.kind)) for d in result.differences), sample=sample,
        ))

    def _want_sample(self, route_name: str, signature: str, now: float) -> bool:
        current = int(now) // 60
        if current != self._sample_minute:
            self._sample_minute, self._samples_built = current, {}
        key = (route_name, signature)
        built = self._samples_built.get(key, 0)
        if built >= self._sample_quota:
            return False
        self._samples_built[key] = built + 1
        return True

    def _write_kept(self, route_name: str) -> None:
        log.warning("shadow write for %s: the answer has no %s: %s, the service may have kept it", route_name,
                    SHADOW_RESULT_HEADER, ROLLED_BACK)
        self.metrics.shadow_writes_kept.labels(route_name).inc()
        self.recorder.put(Comparison(route=route_name, at=time.time(), outcome=WRITES_KEPT))

    def _count(self, route_name: str, outcome: str, reason: str) -> None:
        self.metrics.shadow_other.labels(route_name, reason).inc()
        self.recorder.put(Comparison(route=route_name, at=time.time(), outcome=outcome))

    async def drain(self, timeout: float = 5.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
