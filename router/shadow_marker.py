"""The signed marker the router puts on a mirrored write under the `rollback` write policy.

An extracted service that sees a valid marker runs the request in a transaction and rolls it back, so
its answer can be compared with the monolith's and nothing persists. The header value is

    v1;mode=rollback;ts=<unix seconds>;rid=<request id>;sig=<hex HMAC-SHA256>

signed over ``v1|rollback|{ts}|{METHOD}|{target}|{rid}`` with the secret both sides share
(STRANGLER_SHADOW_SECRET). The target is the request target as forwarded: the raw path, plus ``?`` and
the raw query string when the query is not empty, bytes decoded as latin-1 (`request_target`).

The service side (`extracted.common.shadow`) repeats this format on purpose: the router and the
services share no code, only this wire contract, and a unit test signs here and verifies there.
Standard library only.
"""

import hashlib
import hmac
import re
import time

SHADOW_HEADER = "X-Strangler-Shadow"
# What a service answers when it honoured the marker; the router checks it on the shadow response.
SHADOW_RESULT_HEADER = "X-Strangler-Shadow-Result"
ROLLED_BACK = "rolled-back"
_RESULT_NAME = SHADOW_RESULT_HEADER.lower().encode()
VERSION = "v1"
MODE_ROLLBACK = "rollback"

# The request id travels inside a `;`-separated header and is the last field of a `|`-separated
# signing payload, so it must contain neither; this is the charset router.headers accepts anyway.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_METHOD = re.compile(r"[A-Z]{1,20}")


def request_target(raw_path: bytes, query_string: bytes) -> str:
    """The signed target of a request: raw path, then ``?query`` only when the query is not empty."""
    target = raw_path + b"?" + query_string if query_string else raw_path
    return target.decode("latin-1")


def signing_payload(*, ts: int, method: str, target: str, request_id: str) -> bytes:
    """The bytes the HMAC covers: version, mode, time, method, target and request id."""
    return f"{VERSION}|{MODE_ROLLBACK}|{ts}|{method}|{target}|{request_id}".encode()


def sign_marker(secret: bytes, *, method: str, target: str, request_id: str, now: float | None = None) -> str:
    """The X-Strangler-Shadow header value asking the service to run this request and roll it back.

    Raises ValueError for an empty secret, a method that is not an HTTP token, or a request id outside
    ``[A-Za-z0-9._:-]{1,128}`` (it could not be told apart from the separators)."""
    if not secret:
        raise ValueError("shadow marker secret is empty")
    method = method.upper()
    if not _METHOD.fullmatch(method):
        raise ValueError(f"not an HTTP method: {method!r}")
    if not _REQUEST_ID.fullmatch(request_id):
        raise ValueError(f"request id {request_id!r} is not in [A-Za-z0-9._:-]{{1,128}}")
    ts = int(time.time() if now is None else now)
    payload = signing_payload(ts=ts, method=method, target=target, request_id=request_id)
    sig = hmac.new(secret, payload, hashlib.sha256).hexdigest()
    return f"{VERSION};mode={MODE_ROLLBACK};ts={ts};rid={request_id};sig={sig}"


def rolled_back(headers) -> bool:
    """True when a service's raw response headers (``(bytes, bytes)`` pairs) say it rolled the write back.

    An answer without it came from a service that ignored or refused the marker: the router cannot
    tell that nothing was kept, so it counts the write as kept."""
    return any(name.lower() == _RESULT_NAME and value.strip() == ROLLED_BACK.encode() for name, value in headers)
