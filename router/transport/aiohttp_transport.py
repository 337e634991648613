"""Forwarding with aiohttp: one ClientSession and keep-alive pool per upstream.

aiohttp resends PUT and DELETE (idempotent in RFC 9110's sense) when a pooled connection drops; the
router's write-safety rule resends no unsafe request that may have arrived, so that retry is turned off
and only failures to connect count as "nothing arrived" (`UpstreamConnectError`).
"""

import asyncio

import aiohttp
from yarl import URL

from router.errors import BodyReadTimeout, BodyTooLarge, UpstreamConnectError, UpstreamDisconnected, UpstreamTimeout

from .base import WHOLE_BODY_LIMIT, Body, Transport, UpstreamResponse

# aiohttp adds these unless told not to; a transparent proxy sends only what the client sent.
_SKIP_AUTO = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})


class _Connector(aiohttp.TCPConnector):
    """A pooled connection that received bytes while idle would have them read as the next request's
    answer; such a connection is closed instead of reused (aiohttp's own check is only `is_connected`)."""

    async def _get(self, key, traces):
        while True:
            connection = await super()._get(key, traces)
            if connection is None or not connection.protocol.should_close:
                return connection
            connection.close()


class AiohttpTransport(Transport):
    def __init__(self, upstreams):
        self._upstreams = dict(upstreams)
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._timeouts: dict[str, aiohttp.ClientTimeout] = {}

    async def start(self) -> None:
        for name, upstream in self._upstreams.items():
            connector = _Connector(limit=upstream.pool_size, ttl_dns_cache=300, keepalive_timeout=30)
            self._sessions[name] = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False, skip_auto_headers=_SKIP_AUTO,
            )
            # No public switch exists for this retry (aiohttp 3.14, client.py); tests pin the behaviour.
            self._sessions[name]._retry_connection = False
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
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise UpstreamConnectError(upstream, f"connection failed ({exc.__class__.__name__}: {exc})") from exc
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout(upstream, "no response within the read timeout") from exc
        except (aiohttp.ClientError, ConnectionError) as exc:
            if isinstance(exc.__cause__, (BodyTooLarge, BodyReadTimeout)):  # the client's body, read while sending it
                raise exc.__cause__ from None
            raise UpstreamDisconnected(upstream, f"the connection broke after the request was sent "
                                                 f"({exc.__class__.__name__}: {exc})") from exc
        length = response.content_length
        if length is not None and length <= WHOLE_BODY_LIMIT and method != "HEAD":
            try:
                body = await response.read()
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
                raise UpstreamTimeout(upstream, "the response body stalled past the read timeout") from exc
            except (aiohttp.ClientError, ConnectionError) as exc:
                raise UpstreamDisconnected(upstream, f"the response body broke off ({exc.__class__.__name__})") from exc
            return UpstreamResponse(response.status, list(response.raw_headers), body=body)
        return UpstreamResponse(response.status, list(response.raw_headers), _chunks(upstream, response), response.release)


async def _chunks(upstream: str, response: aiohttp.ClientResponse):
    try:
        async for chunk in response.content.iter_any():
            yield chunk
    except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise UpstreamTimeout(upstream, "the response body stalled past the read timeout") from exc
    except (aiohttp.ClientError, ConnectionError) as exc:
        raise UpstreamDisconnected(upstream, f"the response body broke off ({exc.__class__.__name__})") from exc
