"""The write-safety rule: when a request that failed on one side may be sent again (to legacy).

An unsafe request (POST, PUT, PATCH, DELETE, anything not GET/HEAD/OPTIONS) is sent to one side at most
once unless it is proven that nothing of it was applied there:

- the connection was refused (or a pooled connection was found dead before a byte was written), or
- the service answered 503 with ``X-Strangler-Write-Refused``: it refused a write it does not own and
  wrote nothing.

Any other failure of an unsafe request (the connection broke after the request was written, the answer
broke off, no answer in time, a 5xx) may have been applied: the client gets the failure (502, or 504
for a timeout, naming the request id) and decides, and `strangler_unsafe_failures_total` counts it.
Safe methods may be resent after any failure. A body the router streamed and no longer holds can never
be resent. Pure: the proxy classifies what happened and asks.
"""

from enum import StrEnum

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Failure(StrEnum):
    """How a forwarded request failed; the values are the `cause` label of the fallback metric."""

    REFUSED = "connect"                # nothing of the request reached the upstream
    WRITE_REFUSED = "write_refused"    # the service's explicit "not written" 503
    DISCONNECTED = "disconnect"        # the connection broke after the request was (partly) written
    TIMEOUT = "timeout"                # no answer (or no next body chunk) in time
    SERVER_ERROR = "5xx"               # the upstream answered 5xx


# Failures after which nothing of the request can have been applied.
_NOTHING_APPLIED = frozenset({Failure.REFUSED, Failure.WRITE_REFUSED})


def is_safe(method: str) -> bool:
    return method in SAFE_METHODS


def may_resend(method: str, failure: Failure, *, replayable: bool) -> bool:
    """Whether a request that failed this way may be sent once more, to another side.

    `replayable` is whether the router still holds the whole body (it streams bodies over its buffer)."""
    if not replayable:
        return False
    return failure in _NOTHING_APPLIED or is_safe(method)
