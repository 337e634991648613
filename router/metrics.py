"""Prometheus metrics of one router process, in a registry of its own (so tests can build many apps)."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from router.store.traffic import TrafficCounter

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class RouterMetrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("strangler_requests", "Requests served, by route, target and status class",
                                ["route", "target", "status"], registry=r)
        self.latency = Histogram("strangler_request_seconds", "Time to the response's headers, by route and target",
                                 ["route", "target"], buckets=_LATENCY_BUCKETS, registry=r)
        self.fallbacks = Counter("strangler_fallbacks", "Requests served by legacy after the extracted side failed",
                                 ["route", "upstream", "cause"], registry=r)
        self.upstream_errors = Counter("strangler_upstream_errors", "Upstream failures answered 502/504",
                                       ["upstream", "kind"], registry=r)
        self.unsafe_failures = Counter(
            "strangler_unsafe_failures",
            "Unsafe requests (not GET/HEAD/OPTIONS) that failed after they may have reached the upstream: "
            "answered 502/504 (or cut short), never sent again", ["upstream", "kind"], registry=r)
        self.breaker_state = Gauge("strangler_breaker_state", "Circuit breaker: 0 closed, 1 open, 2 half-open",
                                   ["upstream"], registry=r)
        self.flag_version = Gauge("strangler_flag_version", "Control-store version of the flag snapshot in use", registry=r)
        self.store_up = Gauge("strangler_store_up", "1 when the last read of the control store worked", registry=r)
        self.shadow_sent = Counter("strangler_shadow_sent", "Requests mirrored to the other side", ["route"], registry=r)
        self.shadow_compared = Counter("strangler_shadow_compared", "Shadow comparisons by verdict",
                                       ["route", "verdict"], registry=r)
        self.shadow_other = Counter("strangler_shadow_not_compared",
                                    "Shadows not compared: dropped over the bound, skipped writes, over the cap, errors",
                                    ["route", "reason"], registry=r)
        self.shadow_writes_kept = Counter("strangler_shadow_writes_kept",
                                          "Writes mirrored under the rollback policy whose answer lacked the rolled-back "
                                          "marker: the service may have kept them", ["route"], registry=r)
        self.rejected = Counter("strangler_rejected", "Requests refused by the router itself", ["reason"], registry=r)
        self.admin_auth_failures = Counter(
            "strangler_admin_auth_failures",
            "Admin API requests refused for their token: wrong_token (401) or throttled (429, too many wrong ones)",
            ["outcome"], registry=r)
        # Calls made to the monolith's introspection endpoint = miss + rejected + error.
        self.identity_lookups = Counter(
            "strangler_identity_lookups",
            "Caller lookups for extracted upstreams: hit (no call: cached, or shared with a lookup in flight), "
            "miss (asked the monolith: an identity), rejected (asked: credentials refused), error (asked: no usable answer)",
            ["result"], registry=r)
        self.identity_latency = Histogram("strangler_identity_lookup_seconds",
                                          "Time the monolith's introspection endpoint took to answer (calls only)",
                                          buckets=_LATENCY_BUCKETS, registry=r)
        # Label children are cached: .labels() costs more than the observation on the hot path.
        self._request_children: dict = {}
        self._latency_children: dict = {}
        # Per route/target/minute counts for the control store (playbook gates), drained by the recorder.
        self.traffic = TrafficCounter()

    def observe(self, route: str, target: str, status: int, seconds: float, upstream: str | None = None) -> None:
        """`target` is legacy | extracted | error; for an error, `upstream` says which side failed."""
        side = target if target != "error" else ("legacy" if upstream == "legacy" else "extracted")
        self.traffic.observe(route, side, status, seconds)
        key = (route, target, status // 100)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._request_children[key] = self.requests.labels(route, target, f"{status // 100}xx")
        counter.inc()
        lkey = (route, target)
        hist = self._latency_children.get(lkey)
        if hist is None:
            hist = self._latency_children[lkey] = self.latency.labels(route, target)
        hist.observe(seconds)

    def fallback(self, route: str, upstream: str, cause: str) -> None:
        self.fallbacks.labels(route, upstream, cause).inc()
        self.traffic.fallback(route)

    def render(self) -> bytes:
        return generate_latest(self.registry)
