"""Header rules of the proxy: what is stripped, what is added, and how the request id is kept."""

import re
import uuid

# RFC 9110 §7.6.1 hop-by-hop headers, plus the non-standard ones proxies also drop.
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te", b"trailer",
    b"transfer-encoding", b"upgrade", b"proxy-connection",
})
STRANGLER_PREFIX = b"x-strangler-"
_FORWARDED = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"})
_REQUEST_ID_OK = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def connection_listed(headers) -> frozenset[bytes]:
    """Header names the client listed in Connection: they are hop-by-hop for this request too."""
    names = set()
    for name, value in headers:
        if name == b"connection":
            names.update(part.strip().lower() for part in value.split(b",") if part.strip())
    return frozenset(names)


def valid_request_id(value: str | None) -> str:
    """The client's request id when it is a sane token, else a new one."""
    if value and _REQUEST_ID_OK.fullmatch(value):
        return value
    return uuid.uuid4().hex


def response_headers(raw, request_id_header: bytes, request_id: bytes) -> list[tuple[bytes, bytes]]:
    """Upstream response headers for the client: hop-by-hop removed, every Set-Cookie kept, request id set."""
    out = []
    for name, value in raw:
        lower = name.lower()
        if lower in HOP_BY_HOP or lower == request_id_header:
            continue
        out.append((lower, value))
    out.append((request_id_header, request_id))
    return out
