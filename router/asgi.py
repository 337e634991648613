"""Small ASGI helpers: JSON responses and reading a request body within a size limit and a time limit."""

import asyncio
import json

from router.errors import BodyReadTimeout, BodyTooLarge

# Bodies up to this size are read whole before forwarding, so a fallback to legacy can resend them.
BUFFER_LIMIT = 1024 * 1024


async def send_json(send, status: int, payload, headers=()) -> None:
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": body})


async def send_bytes(send, status: int, body: bytes, content_type: bytes, headers=()) -> None:
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": body})


async def read_all(receive, limit: int, timeout: float | None = None) -> bytes:
    """The whole request body, refusing (BodyTooLarge) past `limit` bytes."""
    body, _ = await read_prefix(receive, float("inf"), limit, timeout)
    return body


async def _next_chunk(receive, timeout: float | None) -> tuple[bytes, bool]:
    """The next piece of the request body and whether more follows; BodyReadTimeout after `timeout`
    seconds without one (a client that stalls mid-body would otherwise hold the request for ever)."""
    try:
        message = await asyncio.wait_for(receive(), timeout) if timeout else await receive()
    except asyncio.TimeoutError:
        raise BodyReadTimeout(timeout) from None
    if message["type"] == "http.disconnect":
        raise ConnectionAbortedError("client disconnected while sending the body")
    return message.get("body", b""), message.get("more_body", False)


async def read_prefix(receive, limit: int, max_total: int, timeout: float | None = None):
    """Read up to `limit` bytes. Returns (prefix, done): done is True when that was the whole body."""
    parts, size = [], 0
    while True:
        chunk, more = await _next_chunk(receive, timeout)
        size += len(chunk)
        if size > max_total:
            raise BodyTooLarge(max_total)
        parts.append(chunk)
        if not more:
            return b"".join(parts), True
        if size >= limit:
            return b"".join(parts), False


async def stream_rest(prefix: bytes, receive, already: int, max_total: int, timeout: float | None = None):
    """Yield the buffered prefix, then the rest of the body as it arrives, within `max_total`."""
    yield prefix
    size = already
    more = True
    while more:
        chunk, more = await _next_chunk(receive, timeout)
        size += len(chunk)
        if size > max_total:
            raise BodyTooLarge(max_total)
        if chunk:
            yield chunk
