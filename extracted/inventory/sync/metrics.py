"""The relays' Prometheus metrics: lag, backlog and events applied, per direction.

A registry of its own (not the process-wide default), so tests and several relays in one process do not
collide; `serve` exposes it on a port with prometheus_client's HTTP server.
"""

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from extracted.inventory.sync.relay import Relay, StepResult


class RelayMetrics:
    """Updated after every relay step; the lag and backlog queries run at most every `interval` s."""

    def __init__(self, capability: str = "inventory", *, interval: float = 0.5,
                 registry: CollectorRegistry | None = None):
        self.capability, self.interval = capability, interval
        self.registry = registry or CollectorRegistry()
        labels = ["capability", "direction"]
        self.lag = Gauge("strangler_sync_lag_seconds", "Age of the oldest event not applied yet (0 when caught up)",
                         labels, registry=self.registry)
        self.backlog = Gauge("strangler_sync_backlog_events", "Events in the source outbox after the cursor",
                             labels, registry=self.registry)
        self.applied = Counter("strangler_sync_events_applied", "Events applied by this relay process",
                               labels, registry=self.registry)
        self.last_step = Gauge("strangler_sync_last_step_timestamp_seconds", "When the relay last looked",
                               labels, registry=self.registry)
        self._measured: dict[str, float] = {}

    def observe(self, relay: Relay, result: StepResult) -> None:
        labels = (self.capability, relay.direction)
        if result.applied:
            self.applied.labels(*labels).inc(result.applied)
        now = time.monotonic()
        self.last_step.labels(*labels).set(time.time())
        if result.applied or now - self._measured.get(relay.direction, 0.0) >= self.interval:
            self._measured[relay.direction] = now
            count, _ = relay.outbox.backlog(result.position) if result.position else (0, None)
            self.backlog.labels(*labels).set(count)
            self.lag.labels(*labels).set(relay.outbox.lag_seconds(result.position) if result.position else 0.0)

    def serve(self, port: int, addr: str = "127.0.0.1") -> None:
        start_http_server(port, addr=addr, registry=self.registry)
