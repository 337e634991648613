"""Slow down guessing of the admin token: failed attempts are counted per client address, and an
address with `limit` failures within `window` seconds is refused (429) until that window ends.

A window opens at an address's first failure and closes `window` seconds later, its count with it.
While an address is refused its attempts are not checked at all, so a guess made then tells nothing.
The table holds at most `max_addresses` addresses, the least recently failing dropped first, so a flood
from many addresses cannot grow the router's memory. Pure: the clock is given, nothing is awaited.
"""

import math
import time
from collections import OrderedDict


class LoginThrottle:
    """Failed admin logins per client address (see the module docstring)."""

    def __init__(self, limit: int = 10, window: float = 60.0, max_addresses: int = 10_000, clock=time.monotonic):
        if limit < 1 or window <= 0 or max_addresses < 1:
            raise ValueError("limit, window and max_addresses must be positive")
        self.limit, self.window, self.max_addresses, self.clock = limit, window, max_addresses, clock
        self._failures: OrderedDict[str, tuple[float, int]] = OrderedDict()  # address -> (window start, count)

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until `address` may try again, or None when it may try now."""
        entry = self._failures.get(address)
        if entry is None:
            return None
        started, count = entry
        left = started + self.window - self.clock()
        if left <= 0:
            del self._failures[address]
            return None
        return max(1, math.ceil(left)) if count >= self.limit else None

    def failed(self, address: str) -> None:
        """Count one failed attempt from `address`."""
        now = self.clock()
        started, count = self._failures.pop(address, (now, 0))
        if started + self.window <= now:
            started, count = now, 0
        self._failures[address] = (started, count + 1)  # at the end: the most recent failure
        while len(self._failures) > self.max_addresses:
            self._failures.popitem(last=False)

    def __len__(self) -> int:
        return len(self._failures)
