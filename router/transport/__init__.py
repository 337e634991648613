"""How the router talks to upstreams: one small interface, several clients behind it.

The proxy only knows `Transport.send(...) -> UpstreamResponse`; which HTTP client forwards is chosen by
configuration (`STRANGLER_TRANSPORT`), and by measurement (docs/benchmarks.md): aiohttp is the default
because the httpx transport costs several times more CPU per forwarded request on this kind of machine.
"""

from .base import Transport, UpstreamResponse


def create_transport(name: str, upstreams) -> Transport:
    """Build the transport named `raw`, `aiohttp` or `httpx` for the given upstreams (no I/O until start())."""
    if name == "aiohttp":
        from .aiohttp_transport import AiohttpTransport

        return AiohttpTransport(upstreams)
    if name == "raw":
        from .raw_transport import RawTransport

        return RawTransport(upstreams)
    if name == "httpx":
        from .httpx_transport import HttpxTransport

        return HttpxTransport(upstreams)
    raise ValueError(f"STRANGLER_TRANSPORT={name!r}: expected 'raw', 'aiohttp' or 'httpx'")


__all__ = ["Transport", "UpstreamResponse", "create_transport"]
