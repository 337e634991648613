"""Forwarding with httpx.AsyncClient: kept as the reference transport the benchmarks compare against.

Only a failure to connect (or to get a pooled connection) proves that nothing of the request was sent;
read and write errors after that are `UpstreamDisconnected` (router.errors).
"""

import httpx

from router.errors import UpstreamConnectError, UpstreamDisconnected, UpstreamTimeout

from .base import WHOLE_BODY_LIMIT, Body, Transport, UpstreamResponse


class HttpxTransport(Transport):
    def __init__(self, upstreams):
        self._upstreams = dict(upstreams)
        self._clients: dict[str, httpx.AsyncClient] = {}

    async def start(self) -> None:
        for name, upstream in self._upstreams.items():
            self._clients[name] = httpx.AsyncClient(
                base_url=upstream.url,
                timeout=httpx.Timeout(upstream.read_timeout, connect=upstream.connect_timeout),
                limits=httpx.Limits(max_connections=upstream.pool_size, max_keepalive_connections=upstream.pool_size),
                follow_redirects=False, trust_env=False,
            )

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def send(self, upstream, method, target, headers, body: Body) -> UpstreamResponse:
        client = self._clients[upstream]
        request = client.build_request(method, target, headers=headers, content=body)
        # httpx would add these itself; the proxy forwards only what the client sent.
        for name in ("user-agent", "accept", "accept-encoding", "connection"):
            if not any(h.lower() == name for h, _ in headers):
                request.headers.pop(name, None)
        try:
            response = await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise UpstreamConnectError(upstream, f"connection failed ({exc.__class__.__name__}: {exc})") from exc
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(upstream, "no response within the read timeout") from exc
        except httpx.TransportError as exc:
            raise UpstreamDisconnected(upstream, f"the connection broke after the request was sent "
                                                 f"({exc.__class__.__name__}: {exc})") from exc
        length = response.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) <= WHOLE_BODY_LIMIT and method != "HEAD":
            # Read whole, as the other transports do: a body that breaks off is then a failure the proxy
            # can still answer (502, or a fallback for a safe method) instead of a response cut short.
            try:
                body = b"".join([chunk async for chunk in _chunks(upstream, response)])
            finally:
                await response.aclose()
            return UpstreamResponse(response.status_code, list(response.headers.raw), body=body)
        return UpstreamResponse(response.status_code, list(response.headers.raw), _chunks(upstream, response), response.aclose)


async def _chunks(upstream: str, response: httpx.Response):
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(upstream, "the response body stalled past the read timeout") from exc
    except httpx.TransportError as exc:
        raise UpstreamDisconnected(upstream, f"the response body broke off ({exc.__class__.__name__})") from exc
