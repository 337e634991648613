"""Who is calling: verify the router's signed identity header and answer auth failures as DRF would.

The router resolves each caller of an extracted route through the monolith (its introspection
endpoint) and forwards the result signed, with the request's method, target and body, as

    X-Strangler-Identity: v2;uid=<int|->;user=<percent-encoded username|->;staff=<0|1>;cust=<int|->;ts=<unix s>;nonce=<32 hex>;body=<64 hex|-|stream>;sig=<hex>

sig = HMAC-SHA256(STRANGLER_IDENTITY_SECRET,
"v2|{uid}|{user}|{staff}|{cust}|{ts}|{nonce}|{body}|{METHOD}|{target}"), the target being the raw path
plus ``?query`` when the query is not empty (as for the shadow marker). ``body`` is the SHA-256 (hex)
of the body the router forwarded, ``-`` for none or an empty one, ``stream`` for one it streamed on
unread (over its 1 MB buffer); ``nonce`` is random per request. The format is repeated from
`router.identity` on purpose: router and services share only the wire contract, and a unit test signs
with one and verifies with the other.

`IdentityMiddleware` checks the header before the app sees the request:

- no header: an anonymous caller (a request that did not come through the router has no identity);
- a valid one: ``request.state.identity`` is the caller;
- an invalid one (bad signature, expired, malformed, signed for another request or another body, or
  seen before): 403, never a user.

The checks run cheapest first: format, signature and age before anything is read, so only a header the
router signed makes the middleware read the body, which it then hands on to the app unchanged. A
``stream`` body is not read (the router could not hash it): the nonce, refused the second time within
the age window, keeps that header from being used again. The nonces are remembered per process
(`extracted.common.nonces`), up to ``nonce_cache_size`` of them.

The dependencies `require_authenticated`, `require_staff` and `require_staff_for_writes` then answer
exactly what DRF's IsAuthenticated, the monolith's IsStaff and IsStaffOrReadOnly answer, so no endpoint
opens by moving out of the monolith.
"""

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Request

from extracted.common.nonces import DEFAULT_MAX_ENTRIES, SeenNonces
from extracted.common.shadow import request_target

IDENTITY_HEADER = "X-Strangler-Identity"
STATE_KEY = "identity"
DEFAULT_MAX_AGE = 30  # seconds, either way

NOT_AUTHENTICATED = "Authentication credentials were not provided."
PERMISSION_DENIED = "You do not have permission to perform this action."
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_VERSION = "v2"
_FIELDS = ("uid", "user", "staff", "cust", "ts", "nonce", "body", "sig")
NO_BODY, STREAMED_BODY = "-", "stream"
_INT_OR_NONE = re.compile(r"-|[0-9]{1,19}")
# A Django username is up to 150 characters: up to 4 UTF-8 bytes each, 3 characters per encoded byte.
_USER = re.compile(r"-|[A-Za-z0-9%._~\-]{1,1800}")
_TS = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[0-9a-f]{32}")
_BODY = re.compile(r"-|stream|[0-9a-f]{64}")
_SIG = re.compile(r"[0-9a-f]{64}")
_HEADER_KEY = IDENTITY_HEADER.lower().encode()


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller as the monolith knows it; `user_id` None means anonymous."""

    user_id: int | None = None
    username: str | None = None
    is_staff: bool = False
    customer_id: int | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Identity()


class IdentityError(ValueError):
    """An identity header that must not be trusted; the message is fixed text, no client input."""


@dataclass(frozen=True, slots=True)
class SignedIdentity:
    """An X-Strangler-Identity value split into its fields; nothing in it is trusted before
    `check_signature` passed. The checks are separate so the middleware reads a body only for a header
    the router signed."""

    uid: str
    user: str
    staff: str
    cust: str
    ts: str
    nonce: str
    body: str
    sig: str

    @property
    def binds_body(self) -> bool:
        """Does the header name the body's digest (or its absence), so the body must be read to check it?"""
        return self.body != STREAMED_BODY

    def check_signature(self, secret: bytes, *, method: str, target: str, now: float,
                        max_age: int = DEFAULT_MAX_AGE) -> None:
        """Signed with `secret` for this method and target, and within `max_age` seconds of `now`.

        The signature is checked before the time, so "expired" always means a genuine header that came
        too late, while anything forged or replayed on another request is a signature mismatch."""
        payload = (f"{_VERSION}|{self.uid}|{self.user}|{self.staff}|{self.cust}|{self.ts}|{self.nonce}|{self.body}"
                   f"|{method.upper()}|{target}")
        expected = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.sig):
            raise IdentityError("signature does not match this request")
        age = int(now) - int(self.ts)
        if age > max_age:
            raise IdentityError(f"expired, signed {age} s ago (limit {max_age} s)")
        if -age > max_age:
            raise IdentityError(f"signed {-age} s in the future (limit {max_age} s)")

    def check_body(self, body: bytes | None) -> None:
        """The body received is the one signed (a ``stream`` header names none: nothing to compare)."""
        if self.body == STREAMED_BODY:
            return
        received = hashlib.sha256(body).hexdigest() if body else NO_BODY
        if not hmac.compare_digest(received, self.body):
            raise IdentityError("body does not match the signed digest")

    def check_first_use(self, nonces: SeenNonces, *, now: float, max_age: int = DEFAULT_MAX_AGE) -> None:
        """Not seen before by this process; remembered until the header expires."""
        if not nonces.first_sighting(self.nonce, expires=int(self.ts) + max_age, now=now):
            raise IdentityError("already used (a header is accepted once)")

    def identity(self) -> Identity:
        if self.uid == "-":
            return ANONYMOUS
        return Identity(user_id=int(self.uid), username=None if self.user == "-" else unquote(self.user),
                        is_staff=self.staff == "1", customer_id=None if self.cust == "-" else int(self.cust))


def parse_identity(value: str) -> SignedIdentity:
    """The fields of an X-Strangler-Identity value, or IdentityError (unsupported version, malformed)."""
    parts = value.split(";")
    if parts[0] != _VERSION:
        raise IdentityError("unsupported version" if re.fullmatch(r"v[0-9]{1,4}", parts[0]) else "malformed header")
    pairs = [part.partition("=") for part in parts[1:]]
    if tuple(key for key, _, _ in pairs) != _FIELDS or not all(sep for _, sep, _ in pairs):
        raise IdentityError("malformed header")
    f = {key: field for key, _, field in pairs}
    if not (_INT_OR_NONE.fullmatch(f["uid"]) and _INT_OR_NONE.fullmatch(f["cust"]) and _USER.fullmatch(f["user"])
            and f["staff"] in ("0", "1") and _TS.fullmatch(f["ts"]) and _NONCE.fullmatch(f["nonce"])
            and _BODY.fullmatch(f["body"]) and _SIG.fullmatch(f["sig"])):
        raise IdentityError("malformed header")
    return SignedIdentity(**f)


def verify_identity(value: str, secret: bytes, *, method: str, target: str, body: bytes | None = None,
                    now: float | None = None, max_age: int = DEFAULT_MAX_AGE,
                    nonces: SeenNonces | None = None) -> Identity:
    """The caller named by an X-Strangler-Identity value, or IdentityError saying why not.

    `body` is the request body as received (None or b"" for none); `nonces`, when given, refuses a
    header it has seen before and remembers this one (the middleware always passes its own)."""
    now = time.time() if now is None else now
    header = parse_identity(value)
    header.check_signature(secret, method=method, target=target, now=now, max_age=max_age)
    header.check_body(body)
    if nonces is not None:
        header.check_first_use(nonces, now=now, max_age=max_age)
    return header.identity()


class IdentityMiddleware:
    """ASGI middleware: put the verified caller on ``scope["state"]["identity"]``; 403 on a bad header.

    A header that binds the body has the body read here, checked, and passed on to the app as it came."""

    def __init__(self, app, secret: bytes, max_age: int = DEFAULT_MAX_AGE, nonce_cache_size: int = DEFAULT_MAX_ENTRIES):
        if not isinstance(secret, bytes) or not secret:
            raise ValueError("IdentityMiddleware needs the identity secret as non-empty bytes")
        self.app, self.secret, self.max_age = app, secret, max_age
        self.nonces = SeenNonces(nonce_cache_size)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        values = [value for name, value in scope["headers"] if name.lower() == _HEADER_KEY]
        identity = ANONYMOUS
        if len(values) > 1:
            return await _answer(send, 403, f"Invalid identity header: more than one {IDENTITY_HEADER}.")
        if values:
            target = request_target(scope.get("raw_path") or scope["path"].encode(), scope.get("query_string", b""))
            now = time.time()
            try:
                header = parse_identity(values[0].decode("latin-1"))
                header.check_signature(self.secret, method=scope["method"], target=target, now=now,
                                       max_age=self.max_age)
                if header.binds_body:
                    body = await _read_body(receive)
                    if body is None:
                        return  # the client went away while sending it: nobody to answer
                    receive = _replay(body, receive)
                    header.check_body(body)
                header.check_first_use(self.nonces, now=now, max_age=self.max_age)
                identity = header.identity()
            except IdentityError as exc:
                return await _answer(send, 403, f"Invalid identity header: {exc}.")
        # A new scope and state dict: the server's state may be shared between requests.
        scope = {**scope, "state": {**scope.get("state", {}), STATE_KEY: identity}}
        await self.app(scope, receive, send)


class AuthFailed(Exception):
    """Raised by the dependencies below; `install_auth_errors` turns it into DRF's answer."""

    def __init__(self, status: int, detail: str):
        self.status, self.detail = status, detail


def current_identity(request: Request) -> Identity:
    """FastAPI dependency: the verified caller, anonymous when the request carried no identity."""
    return request.scope.get("state", {}).get(STATE_KEY, ANONYMOUS)


CurrentIdentity = Annotated[Identity, Depends(current_identity)]


def require_authenticated(identity: CurrentIdentity) -> Identity:
    """DRF's IsAuthenticated: anonymous gets 401 with WWW-Authenticate: Token."""
    if not identity.is_authenticated:
        raise AuthFailed(401, NOT_AUTHENTICATED)
    return identity


def require_staff(identity: CurrentIdentity) -> Identity:
    """The monolith's IsStaff: 401 for anonymous, 403 for a signed-in user who is not staff."""
    require_authenticated(identity)
    if not identity.is_staff:
        raise AuthFailed(403, PERMISSION_DENIED)
    return identity


def require_staff_for_writes(request: Request, identity: CurrentIdentity) -> Identity:
    """The monolith's IsStaffOrReadOnly: any signed-in user reads, only staff write."""
    require_authenticated(identity)
    if request.method not in SAFE_METHODS and not identity.is_staff:
        raise AuthFailed(403, PERMISSION_DENIED)
    return identity


Authenticated = Annotated[Identity, Depends(require_authenticated)]
Staff = Annotated[Identity, Depends(require_staff)]
StaffForWrites = Annotated[Identity, Depends(require_staff_for_writes)]


def install_auth_errors(app) -> None:
    """Answer `AuthFailed` as DRF does: ``{"detail": ...}``, and WWW-Authenticate: Token on 401."""
    from fastapi.responses import JSONResponse

    async def handler(request: Request, exc: AuthFailed):
        headers = {"WWW-Authenticate": 'Token'} if exc.status == 401 else None
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)

    app.add_exception_handler(AuthFailed, handler)


async def _read_body(receive) -> bytes | None:
    """The whole request body, or None when the client disconnected before it was sent."""
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive):
    """A receive that gives the app `body` as one message, then whatever the server sends next."""
    pending = True

    async def replayed():
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _answer(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
