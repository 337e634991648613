"""HAR 1.2 files (browser dev tools, proxies, mitmproxy's own export) read into `CapturedExchange` records.

From each `log.entries[i]`: `request.method`, `request.url` (split into scheme, host, port and the
target: path plus query exactly as written), `request.headers`, `request.postData.text` (or its
`params` for a form without text), `response.status`, `response.headers`, `response.content.text`.
A text marked `"encoding": "base64"` is decoded. HTTP/2 pseudo-headers are dropped (they are not headers
of an HTTP/1.1 replay), except `:authority`, which becomes `Host`; a request with neither gets the URL's
host as `Host`, so that a replay sends both sides the same one. Response bodies in a HAR are already
decoded, by the spec.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from strangler.capture.records import Capture, CapturedExchange, CapturedRequest, CapturedResponse, CaptureError

_MISSING: Any = object()
_DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_har(data: bytes, source: str) -> Capture:
    """Every entry of a HAR file; `CaptureError` naming the entry and key for anything malformed."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise CaptureError(source, f"not a HAR file: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise CaptureError(source, f"not a HAR file: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})") from exc
    reader = _Reader(source)
    log = reader.get(document, "log", dict, "a HAR document: an object with a 'log' object")
    entries = reader.get(log, "log.entries", list, "a list of entries")
    return Capture(source, "har", tuple(reader.entry(entry, i) for i, entry in enumerate(entries)))


class _Reader:
    """Reads the HAR's keys, raising a `CaptureError` that names the key and what it should be."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, key: str, expected: str, got: Any) -> CaptureError:
        shown = "nothing" if got is _MISSING else f"{type(got).__name__} {json.dumps(got)[:60]}"
        return CaptureError(self.source, f"{key}: expected {expected}, got {shown}")

    def get(self, mapping: Any, key: str, kind: type | tuple[type, ...], expected: str, default: Any = _MISSING) -> Any:
        value = mapping.get(key.rsplit(".", 1)[-1], default) if isinstance(mapping, dict) else _MISSING
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            raise self.error(key, expected, value)
        return value

    def entry(self, entry: Any, i: int) -> CapturedExchange:
        base = f"log.entries[{i}]"
        if not isinstance(entry, dict):
            raise self.error(base, "an entry object", entry)
        request = self.get(entry, f"{base}.request", dict, "a request object")
        method = self.get(request, f"{base}.request.method", str, "an HTTP method").upper()
        url = self.get(request, f"{base}.request.url", str, "an absolute http(s) URL")
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise self.error(f"{base}.request.url", "an absolute http(s) URL", url)
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise self.error(f"{base}.request.url", "an absolute http(s) URL with a valid port", url) from None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = self.headers(request, f"{base}.request.headers")
        if not any(name.lower() == "host" for name, _ in headers):
            headers = (("Host", parts.netloc.rpartition("@")[2]), *headers)  # the same Host to both sides
        captured = CapturedRequest(
            method=method, scheme=parts.scheme, host=parts.hostname, port=port, target=target,
            headers=headers, body=self.post_data(request, f"{base}.request.postData"),
        )
        response = self.get(entry, f"{base}.response", dict, "a response object", default=None)
        recorded = None
        if response is not None:
            status = self.get(response, f"{base}.response.status", int, "an HTTP status code")
            # Browsers record requests that got no answer (blocked, cancelled) with status 0.
            if status:
                content = self.get(response, f"{base}.response.content", dict, "a content object", default={})
                recorded = CapturedResponse(status, self.headers(response, f"{base}.response.headers"),
                                            self.text(content, f"{base}.response.content"))
        return CapturedExchange(captured, recorded, base)

    def headers(self, message: dict, key: str) -> tuple[tuple[str, str], ...]:
        items = self.get(message, key, list, "a list of {name, value} objects", default=[])
        pairs = []
        for j, item in enumerate(items):
            name = self.get(item, f"{key}[{j}].name", str, "a header name")
            value = self.get(item, f"{key}[{j}].value", str, "a header value")
            if name.lower() == ":authority":
                pairs.insert(0, ("Host", value))  # HTTP/2's :authority is HTTP/1.1's Host
            elif not name.startswith(":"):
                pairs.append((name, value))
        return tuple(pairs)

    def post_data(self, request: dict, key: str) -> bytes:
        post = self.get(request, key, dict, "a postData object", default=None)
        if post is None:
            return b""
        if "text" in post:
            return self.text(post, key)
        params = self.get(post, f"{key}.params", list, "a list of {name, value} objects", default=[])
        return urlencode([(self.get(p, f"{key}.params[{j}].name", str, "a name"), p.get("value", ""))
                          for j, p in enumerate(params)]).encode()

    def text(self, holder: dict, key: str) -> bytes:
        text = self.get(holder, f"{key}.text", str, "text", default=None)
        if text is None:
            return b""
        encoding = self.get(holder, f"{key}.encoding", str, "an encoding name", default=None)
        if encoding is None:
            return text.encode("utf-8")
        if encoding.lower() != "base64":
            raise self.error(f"{key}.encoding", "'base64' or no encoding", encoding)
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise CaptureError(self.source, f"{key}.text: invalid base64 ({exc})") from exc
