"""Forwarding with aiohttp: one ClientSession and keep-alive pool per upstream."""

import asyncio

import aiohttp
from yarl import URL

from router.errors import UpstreamConnectError, UpstreamTimeout

from .base import WHOLE_BODY_LIMIT, Body, Transport, UpstreamResponse

# aiohttp adds these unless told not to; a transparent proxy sends only what the client sent.
_SKIP_AUTO = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})


class AiohttpTransport(Transport):
    def __init__(self, upstreams):
        self._upstreams = dict(upstreams)
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._timeouts: dict[str, aiohttp.ClientTimeout] = {}

    async def start(self) -> None:
        for name, upstream in self._upstreams.items():
            connector = aiohttp.TCPConnector(limit=upstream.pool_size, ttl_dns_cache=300, keepalive_timeout=30)
            self._sessions[name] = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False, skip_auto_headers=_SKIP_AUTO,
            )
            self._timeouts[name] = aiohttp.ClientTimeout(
                total=None, sock_connect=upstream.connect_timeout, sock_read=upstream.read_timeout
            )

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    async def send(self, upstream, method, target, headers, body: Body) -> UpstreamResponse:
        session = self._sessions[upstream]
        url = URL(self._upstreams[upstream].url + target, encoded=True)
        try:
            response = await session.request(
                method, url, headers=headers, data=body, allow_redirects=False,
                timeout=self._timeouts[upstream], skip_auto_headers=_SKIP_AUTO,
            )
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
                ConnectionResetError) as exc:
            raise UpstreamConnectError(upstream, f"connection failed ({exc.__class__.__name__}: {exc})") from exc
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout(upstream, "no response within the read timeout") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamConnectError(upstream, f"{exc.__class__.__name__}: {exc}") from exc
        length = response.content_length
        if length is not None and length <= WHOLE_BODY_LIMIT and method != "HEAD":
            try:
                body = await response.read()
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
                raise UpstreamTimeout(upstream, "the response body stalled past the read timeout") from exc
            except aiohttp.ClientError as exc:
                raise UpstreamConnectError(upstream, f"the response body broke off ({exc.__class__.__name__})") from exc
            return UpstreamResponse(response.status, list(response.raw_headers), body=body)
        return UpstreamResponse(response.status, list(response.raw_headers), _chunks(upstream, response), response.release)


async def _chunks(upstream: str, response: aiohttp.ClientResponse):
    try:
        async for chunk in response.content.iter_any():
            yield chunk
    except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise UpstreamTimeout(upstream, "the response body stalled past the read timeout") from exc
    except aiohttp.ClientError as exc:
        raise UpstreamConnectError(upstream, f"the response body broke off ({exc.__class__.__name__})") from exc
