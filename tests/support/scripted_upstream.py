"""An HTTP/1.1 upstream on loopback whose every answer is scripted, for fault tests of the router's
transports: answer, answer and close, read the request and close without a word, send headers and break
off the body, stream without end, send bytes nobody asked for. It runs in the test's own event loop and
counts what it received: requests (fully read, so "applied"), connections opened and closed.

    upstream = await ScriptedUpstream.start(lambda n, method, path: "ok")
    ...
    assert upstream.applied("POST") == 1
"""

import asyncio
import json
from collections.abc import Callable

import httptools

# Actions a script may return for a request:
#   ok                  200 (201 for POST) with a small JSON body, connection kept alive
#   ok_then_close       the same answer, then the upstream closes the (now idle) connection
#   read_then_close     the request is read whole (and counted: the upstream acted on it), no answer, closed
#   headers_then_break  201 headers announcing 100 bytes, 10 bytes of body, then closed
#   refuse_write        503 with X-Strangler-Write-Refused (a service that does not own the writes)
#   ok_then_unsolicited the answer, then a second, unasked-for answer a moment later on the idle connection
#   endless             200 with a chunked body that never ends, written as fast as the reader takes it
Script = Callable[[int, str, str], str]

INTROSPECT = "/api/auth/introspect/"
STAFF = {"authenticated": True, "user_id": 1, "username": "admin", "is_staff": True, "customer_id": None}


def _answer(status: int, payload, extra: bytes = b"") -> bytes:
    body = json.dumps(payload).encode()
    reason = {200: b"OK", 201: b"Created", 503: b"Service Unavailable"}[status]
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%b\r\n%b"
            % (status, reason, len(body), extra, body))


class ScriptedUpstream:
    def __init__(self, name: str, script: Script):
        self.name, self.script = name, script
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request read whole
        self.connections_opened = 0
        self.connections_closed = 0
        self.endless_bytes_written = 0
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    @classmethod
    async def start(cls, script: Script, name: str = "service") -> "ScriptedUpstream":
        upstream = cls(name, script)
        upstream.server = await asyncio.start_server(upstream._serve, "127.0.0.1", 0)
        upstream.port = upstream.server.sockets[0].getsockname()[1]
        return upstream

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def applied(self, method: str) -> int:
        """Requests of this method read whole, the monolith's introspection calls left out."""
        return sum(1 for m, path in self.requests if m == method and path != INTROSPECT)

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections_opened += 1
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                method, path = request
                self.requests.append((method, path))
                if path == INTROSPECT:
                    writer.write(_answer(200, STAFF))
                    await writer.drain()
                    continue
                action = self.script(len(self.requests) - 1, method, path)
                if action == "read_then_close":
                    return
                if action == "headers_then_break":
                    writer.write(b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n"
                                 b'{"id": 1, ')
                    await writer.drain()
                    return
                if action == "refuse_write":
                    writer.write(_answer(503, {"detail": "not the owner"}, b"x-strangler-write-refused: 1\r\n"))
                    await writer.drain()
                    continue
                if action == "endless":
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"
                                 b"transfer-encoding: chunked\r\n\r\n")
                    chunk = b"%x\r\n%b\r\n" % (65536, b"z" * 65536)
                    while True:
                        writer.write(chunk)
                        await writer.drain()
                        self.endless_bytes_written += 65536
                status = 201 if method == "POST" else 200
                writer.write(_answer(status, {"side": self.name, "n": len(self.requests)}))
                await writer.drain()
                if action == "ok_then_close":
                    return
                if action == "ok_then_unsolicited":
                    await asyncio.sleep(0.05)
                    writer.write(_answer(200, {"side": "unsolicited"}))
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self.connections_closed += 1
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str] | None:
    """Read one request whole (headers and body, by length or chunked); None when the client closed."""
    done: dict = {}

    class _Callbacks:
        def on_url(self, url: bytes) -> None:
            done["path"] = url.decode("latin-1").split("?", 1)[0]

        def on_message_complete(self) -> None:
            done["complete"] = True

    parser = httptools.HttpRequestParser(_Callbacks())
    while "complete" not in done:
        data = await reader.read(65536)
        if not data:
            return None
        parser.feed_data(data)
    return parser.get_method().decode(), done["path"]
