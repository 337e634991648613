"""Shadow rollback on the service side: verify the router's signed marker and mark the request.

Under the `rollback` write policy the router mirrors a write to the service with an X-Strangler-Shadow
header. `ShadowRollbackMiddleware` checks it before the app sees the request:

- no header: an ordinary request;
- a valid marker: the request goes on with ``scope["state"]["shadow_rollback"] = True`` (Starlette's
  ``request.state.shadow_rollback``), `extracted.common.database.Database` rolls back every session it
  hands out for it, and the response says ``X-Strangler-Shadow-Result: rolled-back``;
- an invalid one (bad signature, expired, malformed, signed for another method or target): 403, and the
  app never sees the request, so a forged dry run can never become a real write.

The marker format is repeated from `router.shadow_marker` on purpose: the router and the services share
no code, only the wire contract, and a unit test signs with one and verifies with the other.
"""

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

SHADOW_HEADER = "X-Strangler-Shadow"
SHADOW_RESULT_HEADER = "X-Strangler-Shadow-Result"
ROLLED_BACK = "rolled-back"
STATE_KEY = "shadow_rollback"
DEFAULT_MAX_AGE = 30  # seconds, either way: a marker is used within moments of being signed

_VERSION = "v1"
_MODE_ROLLBACK = "rollback"
_ANY_VERSION = re.compile(r"v[0-9]{1,4}")
_FIELDS = ("mode", "ts", "rid", "sig")
_TS = re.compile(r"[0-9]{1,12}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_SIG = re.compile(r"[0-9a-f]{64}")
_HEADER_KEY = SHADOW_HEADER.lower().encode()
_RESULT_HEADER = (SHADOW_RESULT_HEADER.lower().encode(), ROLLED_BACK.encode())


@dataclass(frozen=True, slots=True)
class MarkerCheck:
    """The outcome of `verify_marker`: valid, or the reason it is not (fixed text, no client input)."""

    valid: bool
    reason: str | None = None
    request_id: str | None = None

    @classmethod
    def invalid(cls, reason: str) -> "MarkerCheck":
        return cls(False, reason)


def request_target(raw_path: bytes, query_string: bytes) -> str:
    """The signed target of a request: raw path, then ``?query`` only when the query is not empty."""
    target = raw_path + b"?" + query_string if query_string else raw_path
    return target.decode("latin-1")


def verify_marker(value: str, secret: bytes, *, method: str, target: str, now: float | None = None,
                  max_age: int = DEFAULT_MAX_AGE) -> MarkerCheck:
    """Check an X-Strangler-Shadow value against this request's method and target.

    The signature is checked before the time, so "expired" always means a genuine marker that came too
    late (clock skew or a slow hop), while anything forged or replayed elsewhere is a signature mismatch."""
    parts = value.split(";")
    if parts[0] != _VERSION:
        return MarkerCheck.invalid("unsupported version" if _ANY_VERSION.fullmatch(parts[0]) else "malformed marker")
    pairs = [part.partition("=") for part in parts[1:]]
    if tuple(key for key, _, _ in pairs) != _FIELDS or not all(sep for _, sep, _ in pairs):
        return MarkerCheck.invalid("malformed marker")
    fields = {key: field for key, _, field in pairs}
    if fields["mode"] != _MODE_ROLLBACK:
        return MarkerCheck.invalid("unsupported mode")
    if not _TS.fullmatch(fields["ts"]):
        return MarkerCheck.invalid("malformed timestamp")
    if not _REQUEST_ID.fullmatch(fields["rid"]):
        return MarkerCheck.invalid("malformed request id")
    if not _SIG.fullmatch(fields["sig"]):
        return MarkerCheck.invalid("malformed signature")

    ts, request_id = int(fields["ts"]), fields["rid"]
    payload = f"{_VERSION}|{_MODE_ROLLBACK}|{fields['ts']}|{method.upper()}|{target}|{request_id}".encode()
    expected = hmac.new(secret, payload, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["sig"]):
        return MarkerCheck.invalid("signature does not match this request")

    age = int(time.time() if now is None else now) - ts
    if age > max_age:
        return MarkerCheck.invalid(f"expired, signed {age} s ago (limit {max_age} s)")
    if -age > max_age:
        return MarkerCheck.invalid(f"signed {-age} s in the future (limit {max_age} s)")
    return MarkerCheck(True, request_id=request_id)


def shadow_rollback_requested(scope: Mapping) -> bool:
    """True when the middleware accepted a rollback marker for this request (an ASGI scope)."""
    return bool(scope.get("state", {}).get(STATE_KEY))


class ShadowRollbackMiddleware:
    """ASGI middleware: accept a valid rollback marker, refuse an invalid one with 403 (module docstring).

    Add it to the service app (``app.add_middleware(ShadowRollbackMiddleware, secret=...)``) and take
    sessions from `extracted.common.database.Database`, which honours the mark."""

    def __init__(self, app, secret: bytes, max_age: int = DEFAULT_MAX_AGE):
        if not isinstance(secret, bytes) or not secret:
            raise ValueError("ShadowRollbackMiddleware needs the shadow secret as non-empty bytes")
        self.app, self.secret, self.max_age = app, secret, max_age

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        values = [value for name, value in scope["headers"] if name.lower() == _HEADER_KEY]
        if not values:
            return await self.app(scope, receive, send)
        if len(values) > 1:
            check = MarkerCheck.invalid("more than one marker")
        else:
            target = request_target(scope.get("raw_path") or scope["path"].encode(), scope.get("query_string", b""))
            check = verify_marker(values[0].decode("latin-1"), self.secret, method=scope["method"], target=target,
                                  max_age=self.max_age)
        if not check.valid:
            return await _forbidden(send, f"Invalid shadow marker: {check.reason}.")

        # A new scope and state dict: the server's state may be shared between requests.
        scope = {**scope, "state": {**scope.get("state", {}), STATE_KEY: True}}

        async def send_with_result(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), _RESULT_HEADER]}
            await send(message)

        await self.app(scope, receive, send_with_result)


async def _forbidden(send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
