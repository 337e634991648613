"""mitmproxy flow files (`mitmdump -w`, `strangler parity record`) read into `CapturedExchange` records.

A flow file is a stream of tnetstring dicts, one per flow, each the flow's `get_state()`. Only the HTTP
fields that have kept their names since flow format 5 (mitmproxy 4) are read: `request.{method,
scheme, host, port, path, headers, content}` and `response.{status_code, headers, content}`. A request
without a Host header (HTTP/2) gets one from `request.authority`, so that a replay sends both sides the
same Host. Flows of other types (TCP, UDP, DNS) are skipped and counted; older formats (mitmproxy 3 and
before, whose version is a tuple) are refused with a way out. Nothing here imports mitmproxy.
"""

from __future__ import annotations

from typing import Any

from strangler.capture.records import (
    Capture, CapturedExchange, CapturedRequest, CapturedResponse, CaptureError, decode_body, header,
)
from strangler.capture.tnetstring import TNetstringError, iter_values

OLDEST_VERSION = 5
_MISSING: Any = object()


def parse_flows(data: bytes, source: str) -> Capture:
    """Every HTTP flow in the bytes of a flow file; `CaptureError` naming the flow for anything malformed."""
    exchanges: list[CapturedExchange] = []
    skipped = 0
    try:
        for number, (offset, state) in enumerate(iter_values(data), start=1):
            where = f"flow {number} (byte {offset})"
            exchange = _flow(state, where, source)
            if exchange is None:
                skipped += 1
            else:
                exchanges.append(exchange)
    except TNetstringError as exc:
        raise CaptureError(source, f"not a mitmproxy flow file: {exc}") from exc
    return Capture(source, "mitmproxy", tuple(exchanges), skipped)


def _flow(state: Any, where: str, source: str) -> CapturedExchange | None:
    if not isinstance(state, dict):
        raise CaptureError(source, f"expected a flow (a dict), got {type(state).__name__}", where)
    version = state.get("version")
    if isinstance(version, list):
        shown = ".".join(str(v) for v in version)
        raise CaptureError(source, f"flow format {shown} (mitmproxy 3 or older) is not read here; "
                                   "load it in mitmproxy 11 and save it again", where)
    if not isinstance(version, int) or isinstance(version, bool) or version < OLDEST_VERSION:
        raise CaptureError(source, f"unsupported flow format version {version!r} (expected {OLDEST_VERSION} or later)", where)
    if _text(state.get("type", "http")) != "http":
        return None
    fields = _Fields(source, where)
    request = fields.mapping(state, "request")
    scheme = fields.text(request, "request.scheme")
    port = fields.integer(request, "request.port")
    headers = fields.headers(request, "request.headers")
    target = fields.text(request, "request.path")
    method = fields.text(request, "request.method").upper()
    if not target.startswith("/"):
        # mitmproxy keeps "*" (OPTIONS *) and CONNECT authorities here; neither can be replayed.
        if method == "CONNECT":
            return None
        raise CaptureError(source, f"request.path: expected a path starting with '/', got {target!r}", where)
    if not any(name.lower() == "host" for name, _ in headers):
        # HTTP/2 flows carry the authority apart; without either, the address the request went to.
        authority = _text(request.get("authority") or b"") or f"{fields.text(request, 'request.host')}:{port}"
        headers = (("Host", authority), *headers)
    captured_request = CapturedRequest(
        method=method, scheme=scheme, host=fields.text(request, "request.host"), port=port,
        target=target, headers=headers, body=fields.body(request, "request.content"),
    )
    response = None
    raw_response = state.get("response")
    if raw_response is not None:
        if not isinstance(raw_response, dict):
            raise CaptureError(source, f"response: expected a dict or null, got {type(raw_response).__name__}", where)
        response_headers = fields.headers(raw_response, "response.headers")
        response = CapturedResponse(
            status=fields.integer(raw_response, "response.status_code"), headers=response_headers,
            body=decode_body(fields.body(raw_response, "response.content"), header(response_headers, "content-encoding")),
        )
    return CapturedExchange(captured_request, response, where)


def _text(value: Any) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


class _Fields:
    """Reads one flow's fields, raising a `CaptureError` that names the field and what it should be."""

    def __init__(self, source: str, where: str) -> None:
        self.source, self.where = source, where

    def error(self, key: str, expected: str, got: Any) -> CaptureError:
        shown = "nothing" if got is _MISSING else f"{type(got).__name__} {got!r:.60}"
        return CaptureError(self.source, f"{key}: expected {expected}, got {shown}", self.where)

    def get(self, mapping: dict, key: str) -> Any:
        return mapping.get(key.rsplit(".", 1)[-1], _MISSING)

    def mapping(self, state: dict, key: str) -> dict:
        value = self.get(state, key)
        if not isinstance(value, dict):
            raise self.error(key, "a dict", value)
        return value

    def text(self, mapping: dict, key: str) -> str:
        value = self.get(mapping, key)
        if not isinstance(value, (bytes, str)):
            raise self.error(key, "text", value)
        return _text(value)

    def integer(self, mapping: dict, key: str) -> int:
        value = self.get(mapping, key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, "an integer", value)
        return value

    def body(self, mapping: dict, key: str) -> bytes:
        value = self.get(mapping, key)
        if value is None or value is _MISSING:  # mitmproxy keeps None for a body it did not read
            return b""
        if isinstance(value, str):
            return value.encode("utf-8")
        if not isinstance(value, bytes):
            raise self.error(key, "bytes", value)
        return value

    def headers(self, mapping: dict, key: str) -> tuple[tuple[str, str], ...]:
        value = self.get(mapping, key)
        if not isinstance(value, list):
            raise self.error(key, "a list of [name, value] pairs", value)
        pairs = []
        for i, pair in enumerate(value):
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, (bytes, str)) for p in pair)):
                raise self.error(f"{key}[{i}]", "a [name, value] pair", pair)
            name, text = (p.decode("latin-1") if isinstance(p, bytes) else p for p in pair)
            pairs.append((name, text))
        return tuple(pairs)

