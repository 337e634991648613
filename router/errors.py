"""The router's exception tree.

    RouterError
    ├── UpstreamError            forwarding to an upstream failed
    │   ├── UpstreamConnectError nothing of the request reached the upstream (refused, or a pooled
    │   │                        connection found dead before a byte was written): safe to resend
    │   ├── UpstreamDisconnected the connection broke after (part of) the request was written, or
    │   │                        while the answer arrived: the upstream may have acted on it
    │   └── UpstreamTimeout      no response (or no next body chunk) within the read timeout
    ├── IdentityLookupError      the monolith could not say who the caller of an extracted route is
    ├── BodyTooLarge             the client's request body is over the configured limit
    ├── BodyReadTimeout          the client stopped sending its request body
    └── StaleVersion             a flag change was made against an older store version

Foreign exceptions (aiohttp, httpx, OS) are translated into these once, in the transports. The split
between `UpstreamConnectError` and `UpstreamDisconnected` is what the write-safety rule rests on
(router.proxy): only the first proves that nothing of a request arrived.
"""


class RouterError(Exception):
    pass


class UpstreamError(RouterError):
    def __init__(self, upstream: str, message: str):
        super().__init__(f"{upstream}: {message}")
        self.upstream = upstream
        self.message = message


class UpstreamConnectError(UpstreamError):
    pass


class UpstreamDisconnected(UpstreamError):
    """The request may have reached the upstream: resending an unsafe one could apply it twice."""


class UpstreamTimeout(UpstreamError):
    pass


class IdentityLookupError(RouterError):
    """No usable answer from the monolith's introspection endpoint: down, too slow, or not an answer.

    Never a rejected credential (that is the monolith's own answer, passed to the client as it is).
    `timed_out` tells a 504 from a 502."""

    def __init__(self, upstream: str, message: str, *, timed_out: bool = False):
        super().__init__(f"identity lookup at {upstream}: {message}")
        self.upstream = upstream
        self.message = message
        self.timed_out = timed_out


class BodyTooLarge(RouterError):
    def __init__(self, limit: int):
        super().__init__(f"request body is larger than the {limit}-byte limit")
        self.limit = limit


class BodyReadTimeout(RouterError):
    def __init__(self, seconds: float):
        super().__init__(f"the request body did not arrive: nothing for {seconds:g} s")
        self.seconds = seconds


class StaleVersion(RouterError):
    def __init__(self, expected: int, actual: int):
        super().__init__(
            f"the flags changed since you read them (you expected version {expected}, the store is at {actual}); "
            "re-read and try again"
        )
        self.expected = expected
        self.actual = actual
