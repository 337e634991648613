"""Plain records of captured traffic: what a mitmproxy flow file or a HAR file becomes once it is read.

Both formats give the same frozen `CapturedExchange` (a request and, when one was recorded, its
response), so replaying and exporting never care where a capture came from. Header names keep the
spelling they were captured with; `header()` finds one case-insensitively. Request bodies are kept as
they were sent (replayed byte for byte, with their Content-Encoding); response bodies are decoded when
the standard library can (gzip, deflate), because the live answers they are compared with are.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CaptureError(ValueError):
    """A capture file cannot be read: `source` is the file, `where` the flow or entry, `problem` what is wrong."""

    def __init__(self, source: str, problem: str, where: str = "") -> None:
        self.source, self.problem, self.where = source, problem, where
        super().__init__(": ".join(part for part in (source, where, problem) if part))


Headers = tuple[tuple[str, str], ...]


def header(headers: Headers, name: str) -> str | None:
    """The first value of header `name` (any case), or None."""
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


@dataclass(frozen=True, slots=True)
class CapturedRequest:
    """A request as it was sent: `target` is the path with its query string, undecoded."""

    method: str
    scheme: str
    host: str
    port: int
    target: str
    headers: Headers = ()
    body: bytes = b""

    @property
    def path(self) -> str:
        """The target without its query string (what route matching looks at)."""
        return self.target.split("?", 1)[0]

    @property
    def is_safe(self) -> bool:
        return self.method in SAFE_METHODS

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


@dataclass(frozen=True, slots=True)
class CapturedResponse:
    """A response as it was received, its body decoded from gzip/deflate when it was encoded so."""

    status: int
    headers: Headers = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return header(self.headers, name)


@dataclass(frozen=True, slots=True)
class CapturedExchange:
    """One request and its recorded response (None when the capture has none); `where` names it in its file."""

    request: CapturedRequest
    response: CapturedResponse | None
    where: str = ""


@dataclass(frozen=True, slots=True)
class Capture:
    """A whole capture file: its HTTP exchanges in order, and how many other flows (TCP, DNS...) it skipped."""

    source: str
    format: str  # "mitmproxy" or "har"
    exchanges: tuple[CapturedExchange, ...]
    skipped: int = 0


def decode_body(body: bytes, content_encoding: str | None) -> bytes:
    """The body without its gzip/deflate content coding; unchanged for identity or codings we cannot undo."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    try:
        for coding in reversed(codings):  # applied in order, so undone last first
            if coding in ("gzip", "x-gzip"):
                body = gzip.decompress(body)
            elif coding == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:  # raw deflate, as some servers send it
                    body = zlib.decompress(body, -zlib.MAX_WBITS)
            elif coding != "identity":
                return body  # br, zstd...: left as captured
    except (OSError, EOFError, zlib.error):
        return body  # a coding that does not decode: compare what was captured
    return body
