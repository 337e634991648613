"""The router's listening side under uvicorn: a deadline for request heads, and the sockets to serve.

uvicorn closes idle keep-alive connections, but once a request's first byte has arrived it waits for
the rest of the head for ever: a client sending a header line every few seconds (slowloris) holds a
connection and its buffers as long as it likes. `HeadDeadlineProtocol` is uvicorn's httptools protocol
with one change: from the connection's start, and from the first byte of each later request on it, the
client has `STRANGLER_HEADER_READ_TIMEOUT` seconds (the config's `router.header_read_timeout`, passed
on by `python -m router`) to finish its request line and headers, or the connection is closed. Bodies
have their own limit in the proxy (`router.body_read_timeout`, 408).
"""

import logging
import os
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("strangler.server")
HEADER_TIMEOUT_ENV = "STRANGLER_HEADER_READ_TIMEOUT"


class HeadDeadlineProtocol(HttpToolsProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.head_timeout = float(os.environ.get(HEADER_TIMEOUT_ENV, "10"))
        self._head_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        log.info("closing a connection from %s: no complete request head within %g s", self.client, self.head_timeout)
        self.transport.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, inheritable TCP socket (uvicorn's workers serve sockets handed to them)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
