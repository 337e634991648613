"""The nonces of identity headers a service process has accepted, so the same header is refused the
second time it arrives.

Each nonce is kept until its header expires anyway (signed time plus the age limit); there are at most
`max_entries`, the oldest dropped first when a burst brings more. The memory is per process: a service
run with several workers (or replicas) remembers per worker, so a header replayed to another worker
within the age window is not recognised there. Size it for the requests one process accepts in two age
windows (a header is valid from max_age before its time stamp to max_age after it).
"""

from collections import OrderedDict

DEFAULT_MAX_ENTRIES = 100_000  # about 20 MB at most; 1 600 requests/s per process over a 60 s window


class SeenNonces:
    """Nonces seen within their headers' lifetime; `first_sighting` records one and says if it is new."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES):
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer, got {max_entries!r}")
        self.max_entries = max_entries
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expiry)

    def first_sighting(self, nonce: str, *, expires: float, now: float) -> bool:
        """True, and remembered until `expires`, if `nonce` was not seen before; False for a repeat."""
        self._forget_expired(now)
        if nonce in self._expiry:
            return False
        self._expiry[nonce] = expires
        while len(self._expiry) > self.max_entries:
            self._expiry.popitem(last=False)
        return True

    def _forget_expired(self, now: float) -> None:
        # In arrival order, which is close to expiry order: stop at the first one still alive.
        while self._expiry:
            nonce, expires = next(iter(self._expiry.items()))
            if expires >= now:
                return
            del self._expiry[nonce]
