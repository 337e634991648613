"""The transport port: send one request to a named upstream, get a streaming response back."""

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

# Request body as the proxy hands it over: nothing, all bytes, or a stream of chunks.
Body = bytes | AsyncIterator[bytes] | None


# Responses announcing at most this many bytes are read whole: one ASGI send instead of a stream.
WHOLE_BODY_LIMIT = 256 * 1024


@dataclass(slots=True)
class UpstreamResponse:
    """Status and raw headers at once; the body either already read whole (`body`, small responses
    with a Content-Length) or pulled chunk by chunk, then the response closed."""

    status: int
    headers: list[tuple[bytes, bytes]]
    _chunks: AsyncIterator[bytes] | None = field(repr=False, default=None)
    _close: object = field(repr=False, default=None)
    body: bytes | None = None

    def chunks(self) -> AsyncIterator[bytes]:
        if self._chunks is None:
            return _one(self.body or b"")
        return self._chunks

    async def aclose(self) -> None:
        if self._close is not None:
            result = self._close()
            if hasattr(result, "__await__"):
                await result


class Transport(ABC):
    """A pooled HTTP/1.1 client per upstream. Implementations translate their exceptions into
    `UpstreamConnectError` / `UpstreamTimeout` (router.errors) and never follow redirects, decode
    bodies, or keep cookies."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def send(self, upstream: str, method: str, target: str, headers: list[tuple[str, str]], body: Body) -> UpstreamResponse:
        """Send `method target` (path and query, already encoded) with exactly these headers."""


async def _one(body: bytes):
    yield body
