"""A per-upstream circuit breaker: closed → open after repeated failures → half-open probe → closed.

While open, requests for the upstream are served by legacy without trying it; after the cool-down one
probe request at a time is let through, and a success closes the breaker again.
"""

import time
from dataclasses import dataclass, field
from enum import IntEnum


class BreakerState(IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


@dataclass
class CircuitBreaker:
    failure_threshold: int = 5
    cooldown_seconds: float = 5.0
    clock: object = field(default=time.monotonic, repr=False)
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    _probe_in_flight: bool = False

    def allow(self) -> bool:
        """May a request try the upstream now? In half-open, only one probe at a time."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if self.clock() - self.opened_at < self.cooldown_seconds:
                return False
            self.state = BreakerState.HALF_OPEN
        if self._probe_in_flight:
            return False
        self._probe_in_flight = True
        return True

    def record_success(self) -> None:
        self.state, self.failures, self._probe_in_flight = BreakerState.CLOSED, 0, False

    def record_failure(self) -> None:
        self._probe_in_flight = False
        if self.state is BreakerState.HALF_OPEN:
            self._open()
            return
        self.failures += 1
        if self.failures >= self.failure_threshold:
            self._open()

    def _open(self) -> None:
        self.state, self.opened_at = BreakerState.OPEN, self.clock()
