"""Forwarding with a lean HTTP/1.1 client: asyncio protocols, httptools' response parser (the parser
uvicorn already uses) and a pool of idle keep-alive connections per upstream.

Why it exists: per forwarded request aiohttp's client spends most of the router's CPU building
requests and re-arming timers (docs/benchmarks.md has the profile); this client writes the request
line and headers the proxy already prepared in one buffer and parses the answer in C.

Scope, on purpose: HTTP/1.1 over TCP to the configured upstreams, no TLS, no redirects, no cookies,
no decoding. Request bodies are sent whole (Content-Length) or streamed with chunked encoding;
responses to HEAD carry no body whatever their headers say.

What may be sent twice (the write-safety rule, router.proxy): a request is resent on a fresh connection
only when it is safe (GET, HEAD, OPTIONS) and its pooled connection turned out to be closed before any
byte of the answer arrived. For an unsafe method nothing is ever resent: a pooled connection is checked
before the first byte is written (closed ones are dropped, and one idle for longer than
`UNSAFE_REUSE_IDLE` is not trusted with a write, since upstreams close idle connections after a few
seconds and that close may cross our request on the wire), and any failure after that is
`UpstreamDisconnected`: the upstream may have acted on it.

Memory: a streamed answer is read from the upstream only as fast as the client takes it (reading pauses
above `_READ_HIGH_WATER` buffered bytes). An idle pooled connection that receives bytes nobody asked for
is closed, and any failure or cancellation closes the connection it happened on.
"""

import asyncio
import time
from collections import deque
from contextlib import contextmanager
from urllib.parse import urlsplit

import httptools

from router.errors import UpstreamConnectError, UpstreamDisconnected, UpstreamTimeout

from .base import WHOLE_BODY_LIMIT, Body, Transport, UpstreamResponse

# The proxy already removed hop-by-hop headers; these two would also confuse our framing.
_DROP = frozenset({"expect", "transfer-encoding"})
_WRITE_HIGH_WATER = 1024 * 1024
# A streamed answer buffers at most about this much before the upstream socket stops being read.
_READ_HIGH_WATER = 256 * 1024
# Seconds a pooled connection may have been idle and still carry an unsafe request. uvicorn closes idle
# keep-alive connections after 5 s by default, gunicorn's sync workers at once (they never keep alive).
UNSAFE_REUSE_IDLE = 2.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _StaleConnection(Exception):
    """A pooled connection was closed by the upstream before it answered a safe request: retried once."""


class _Connection(asyncio.Protocol):
    __slots__ = ("loop", "transport", "parser", "status", "headers", "chunks", "complete", "keep_alive",
                 "waiter", "lost", "got_bytes", "head", "paused", "drain_waiter", "length", "in_use", "idle_since",
                 "buffered", "reading_paused")

    def __init__(self, loop):
        self.loop = loop
        self.transport = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter = None
        self.drain_waiter = None
        self.lost = False
        self.paused = False
        self.idle_since, self.reading_paused = 0.0, False
        self.reset(head=False)
        self.in_use = False  # until it is asked something

    def reset(self, head: bool) -> None:
        self.status, self.headers, self.chunks, self.buffered = 0, [], [], 0
        self.complete, self.keep_alive, self.got_bytes, self.head, self.length = False, True, False, head, None
        self.in_use = True

    def taken(self) -> None:
        """The consumer took the buffered chunks: read from the upstream again if we had stopped."""
        self.buffered = 0
        if self.reading_paused and not self.lost:
            self.reading_paused = False
            self.transport.resume_reading()

    # -- asyncio.Protocol -----------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.lost = True
        if self.status and not self.complete and exc is None and self.length is None and not self._chunked():
            # No length and no chunks: the body ends where the connection does (RFC 9112 §6.3).
            self.complete, self.keep_alive = True, False
            self._wake()
            return
        self._wake(exc or ConnectionResetError("the upstream closed the connection"))
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def _chunked(self) -> bool:
        return any(n.lower() == b"transfer-encoding" and b"chunked" in v.lower() for n, v in self.headers)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self.drain_waiter is not None and not self.drain_waiter.done():
            self.drain_waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        if not self.in_use:
            # Nobody asked: a pooled connection that talks on its own is not in a state we know.
            self.lost = True
            self.transport.close()
            return
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(ConnectionError("the upstream tried to upgrade the connection"))
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"invalid HTTP from the upstream ({exc})"))

    # -- httptools callbacks --------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        if self.complete:  # a second answer to one request: bytes nobody asked for
            self.keep_alive = False
            self.lost = True
            self.transport.close()
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        if self.length is None and name.lower() == b"content-length":
            self.length = int(value) if value.isdigit() else None

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200:  # an interim answer: forget it, the final one follows
            self.headers, self.length = [], None
            return
        self.status = status
        self.keep_alive = self.parser.should_keep_alive()
        if self.head:
            # The parser cannot know this answered a HEAD; it would wait for a body that never comes.
            self.complete, self.keep_alive = True, False
        self._wake()

    def on_body(self, body: bytes) -> None:
        if not self.head:
            self.chunks.append(body)
            self.buffered += len(body)
            if self.buffered > _READ_HIGH_WATER and not self.reading_paused:
                self.reading_paused = True
                self.transport.pause_reading()
            self._wake()

    def on_message_complete(self) -> None:
        if self.status:
            self.complete = True
            self._wake()

    # -- waiting --------------------------------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        self.lost = True
        self.transport.close()
        self._wake(exc)

    def _wake(self, exc: BaseException | None = None) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            self.waiter = None
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    async def wait(self, timeout: float) -> None:
        if self.lost:
            raise ConnectionResetError("the upstream closed the connection")
        self.waiter = self.loop.create_future()
        handle = self.loop.call_later(timeout, self._wake, asyncio.TimeoutError())
        try:
            await self.waiter
        finally:
            handle.cancel()

    async def drain(self) -> None:
        if self.paused and not self.lost:
            self.drain_waiter = self.loop.create_future()
            await self.drain_waiter
        if self.lost:
            raise ConnectionResetError("the upstream closed the connection while we sent the body")


class _Pool:
    def __init__(self, upstream):
        parts = urlsplit(upstream.url)
        self.name = upstream.name
        self.host, self.port = parts.hostname, parts.port or 80
        self.host_header = parts.netloc
        self.connect_timeout, self.read_timeout = upstream.connect_timeout, upstream.read_timeout
        self.idle: deque[_Connection] = deque()
        self.slots = asyncio.Semaphore(upstream.pool_size)


class RawTransport(Transport):
    def __init__(self, upstreams):
        self._upstreams = dict(upstreams)
        self._pools: dict[str, _Pool] = {}
        self._loop = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._pools = {name: _Pool(upstream) for name, upstream in self._upstreams.items()}

    async def close(self) -> None:
        for pool in self._pools.values():
            while pool.idle:
                pool.idle.pop().transport.close()

    async def send(self, upstream, method, target, headers, body: Body) -> UpstreamResponse:
        pool = self._pools[upstream]
        head = _request_head(method, target, headers, body, pool.host_header)
        await pool.slots.acquire()
        conn = None
        try:
            conn = self._idle(pool, safe=method in SAFE_METHODS)
            if conn is not None:
                try:
                    return await self._exchange(pool, conn, method, head, body, reused=True)
                except _StaleConnection:
                    conn = None  # closed while idle, answered nothing, safe to resend: once more, on a new one
            conn = await self._connect(pool)
            return await self._exchange(pool, conn, method, head, body, reused=False)
        except BaseException:
            # Whatever happened (an upstream failure, a client body over the limit, a cancelled request),
            # the connection is in an unknown state: closed, never pooled.
            if conn is not None:
                conn.transport.close()
            pool.slots.release()
            raise

    def _idle(self, pool: _Pool, safe: bool) -> _Connection | None:
        now = time.monotonic()
        while pool.idle:
            conn = pool.idle.pop()
            if conn.lost:
                continue
            if not safe and now - conn.idle_since > UNSAFE_REUSE_IDLE:
                conn.transport.close()  # its upstream may be closing it right now: not trusted with a write
                continue
            return conn
        return None

    async def _connect(self, pool: _Pool) -> _Connection:
        try:
            _, conn = await asyncio.wait_for(
                self._loop.create_connection(lambda: _Connection(self._loop), pool.host, pool.port), pool.connect_timeout)
        except asyncio.TimeoutError as exc:
            raise UpstreamConnectError(pool.name, f"no connection within {pool.connect_timeout:g} s") from exc
        except OSError as exc:
            raise UpstreamConnectError(pool.name, f"connection failed ({exc.__class__.__name__}: {exc})") from exc
        return conn

    async def _exchange(self, pool: _Pool, conn: _Connection, method: str, head: bytes, body: Body, reused: bool):
        conn.reset(head=method == "HEAD")
        try:
            if body is None or isinstance(body, bytes):
                conn.transport.write(head + body if body else head)
            else:
                conn.transport.write(head)
                await _stream_body(conn, body, chunked=b"\r\ntransfer-encoding: chunked\r\n" in head)
            while not conn.status:
                await conn.wait(pool.read_timeout)
        except asyncio.TimeoutError as exc:
            conn.transport.close()
            raise UpstreamTimeout(pool.name, "no response within the read timeout") from exc
        except (ConnectionError, OSError) as exc:
            conn.transport.close()
            # Only a safe request on a reused connection that never answered, with a body we still hold,
            # is resent. Anything else was written and may have been acted on.
            if reused and method in SAFE_METHODS and not conn.got_bytes and (body is None or isinstance(body, bytes)):
                raise _StaleConnection() from exc
            raise UpstreamDisconnected(pool.name, f"the connection broke after the request was sent "
                                                  f"({exc.__class__.__name__}: {exc})") from exc

        if conn.complete or (conn.length is not None and conn.length <= WHOLE_BODY_LIMIT):
            with _reading_body(pool, conn):
                while not conn.complete:
                    await conn.wait(pool.read_timeout)
            data = b"".join(conn.chunks)
            self._release(pool, conn)
            return UpstreamResponse(conn.status, conn.headers, body=data)
        return UpstreamResponse(conn.status, conn.headers, _chunks(pool, conn), lambda: self._release(pool, conn))

    def _release(self, pool: _Pool, conn: _Connection) -> None:
        conn.in_use = False
        if conn.complete and conn.keep_alive and not conn.lost and not conn.reading_paused:
            conn.idle_since = time.monotonic()
            pool.idle.append(conn)
        else:
            conn.transport.close()
        pool.slots.release()


def _request_head(method: str, target: str, headers, body: Body, host: str) -> bytes:
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    has_host = has_length = False
    for name, value in headers:
        lower = name.lower()
        if lower in _DROP:
            continue
        if lower == "host":
            has_host = True
        elif lower == "content-length":
            has_length = True
            if body is None or isinstance(body, bytes):
                continue  # written below from the bytes we actually send
        lines.append(f"{name}: {value}\r\n")
    if not has_host:
        lines.append(f"host: {host}\r\n")
    if isinstance(body, bytes):
        if body or method not in ("GET", "HEAD", "OPTIONS", "DELETE"):
            lines.append(f"content-length: {len(body)}\r\n")
    elif body is None:
        if method in ("POST", "PUT", "PATCH"):
            lines.append("content-length: 0\r\n")
    elif not has_length:
        lines.append("transfer-encoding: chunked\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


async def _stream_body(conn: _Connection, body, chunked: bool) -> None:
    """Send a streamed body: chunk-framed, or raw when the client's Content-Length was kept."""
    async for chunk in body:
        if not chunk:
            continue
        conn.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
        if conn.transport.get_write_buffer_size() > _WRITE_HIGH_WATER:
            await conn.drain()
    if chunked:
        conn.transport.write(b"0\r\n\r\n")


async def _chunks(pool: _Pool, conn: _Connection):
    with _reading_body(pool, conn):
        while True:
            if conn.chunks:
                data = b"".join(conn.chunks)
                conn.chunks.clear()
                conn.taken()
                yield data
            if conn.complete:
                return
            await conn.wait(pool.read_timeout)


@contextmanager
def _reading_body(pool: _Pool, conn: _Connection):
    """Translate a failure while the body arrives into the router's errors, once for both body paths."""
    try:
        yield
    except asyncio.TimeoutError as exc:
        conn.transport.close()
        raise UpstreamTimeout(pool.name, "the response body stalled past the read timeout") from exc
    except (ConnectionError, OSError) as exc:
        conn.transport.close()
        raise UpstreamDisconnected(pool.name, f"the response body broke off ({exc.__class__.__name__})") from exc
