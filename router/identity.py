"""The signed identity header the router puts on every request it sends to an extracted service.

The router learns who the caller is from the monolith (`router.introspection`) and tells the service,
in a header the service can check but nobody else can write:

    X-Strangler-Identity: v2;uid=<int|->;user=<percent-encoded username|->;staff=<0|1>;cust=<int|->;ts=<unix s>;nonce=<32 hex>;body=<64 hex|-|stream>;sig=<hex>

``sig`` is HMAC-SHA256 with the secret both sides share (STRANGLER_IDENTITY_SECRET) over
``v2|{uid}|{user}|{staff}|{cust}|{ts}|{nonce}|{body}|{METHOD}|{target}``, the target being the request
target as forwarded (`request_target`: raw path, plus ``?`` and the raw query when it is not empty,
latin-1). ``body`` binds the request body: the SHA-256 (lower-case hex) of the exact bytes forwarded,
``-`` for no or an empty body, and ``stream`` for a body the router streams because it is over its
buffer (it has no bytes in hand when it signs). ``nonce`` is 16 random bytes in hex, new for every
request. So a header copied onto another request (another method, target or body) is refused by the
service, and so is the same header seen a second time (the service remembers the nonces of the last
age window; that is what protects a streamed body), or kept past the service's age limit.
``-`` stands for "none": ``uid=-`` is an anonymous caller. The username is percent-encoded as UTF-8
with nothing left unencoded but letters, digits and ``_.-~``; a username that is exactly ``-`` is sent
as ``%2D`` so it cannot be read as "no username".

The service side (`extracted.common.identity`) repeats this format on purpose: the router and the
services share no code, only this wire contract, and a unit test signs here and verifies there.
Standard library only.
"""

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote

from router.shadow_marker import request_target

IDENTITY_HEADER = "X-Strangler-Identity"
VERSION = "v2"
NO_BODY = "-"
STREAMED_BODY = "stream"
# What the router uses when STRANGLER_IDENTITY_SECRET is unset, in development and test only
# (`router.config.identity_secret` refuses it in production); the services know the same default.
DEV_IDENTITY_SECRET = "strangler-dev-identity-secret-not-for-production"

_METHOD = re.compile(r"[A-Z]{1,20}")
_NONCE = re.compile(r"[0-9a-f]{32}")
# Django caps usernames at 150 characters; 4 UTF-8 bytes each, 3 characters per encoded byte.
MAX_ENCODED_USERNAME = 1800

__all__ = ["ANONYMOUS", "DEV_IDENTITY_SECRET", "IDENTITY_HEADER", "NO_BODY", "STREAMED_BODY", "Identity", "body_digest",
           "request_target", "sign_identity"]


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller as the monolith described it; `user_id` None is an anonymous caller."""

    user_id: int | None = None
    username: str | None = None
    is_staff: bool = False
    customer_id: int | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def header_value(self, secret: bytes, *, method: str, target: str, body=None, now: float | None = None,
                     nonce: str | None = None) -> str:
        """This caller signed for one request (see `sign_identity`)."""
        return sign_identity(secret, user_id=self.user_id, username=self.username, is_staff=self.is_staff,
                             customer_id=self.customer_id, method=method, target=target, body=body, now=now,
                             nonce=nonce)


ANONYMOUS = Identity()


def sign_identity(secret: bytes, *, user_id: int | None, username: str | None, is_staff: bool,
                  customer_id: int | None, method: str, target: str, body=None, now: float | None = None,
                  nonce: str | None = None) -> str:
    """The X-Strangler-Identity value naming this caller for this one request (method, target and body).

    `body` is what is forwarded: the bytes, None for no body, or anything else (the router's async
    iterator) for a streamed one (see `body_digest`). `nonce` is for tests; by default a new random one.
    Raises ValueError for an empty secret, a method that is not an HTTP token, ids that are not
    non-negative integers of at most 19 digits, a username longer than a Django username can be, or a
    nonce that is not 32 lower-case hex digits. An empty username is sent as none."""
    if not secret:
        raise ValueError("identity secret is empty")
    method = method.upper()
    if not _METHOD.fullmatch(method):
        raise ValueError(f"not an HTTP method: {method!r}")
    uid = _optional_id(user_id, "user_id")
    cust = _optional_id(customer_id, "customer_id")
    user = _encode_username(username)
    staff = "1" if is_staff else "0"
    ts = int(time.time() if now is None else now)
    nonce = secrets.token_hex(16) if nonce is None else nonce
    if not _NONCE.fullmatch(nonce):
        raise ValueError("nonce must be 32 lower-case hex digits")
    digest = body_digest(body)
    payload = f"{VERSION}|{uid}|{user}|{staff}|{cust}|{ts}|{nonce}|{digest}|{method}|{target}"
    sig = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    return f"{VERSION};uid={uid};user={user};staff={staff};cust={cust};ts={ts};nonce={nonce};body={digest};sig={sig}"


def body_digest(body) -> str:
    """The ``body`` field for a forwarded body: SHA-256 hex of bytes, ``-`` for None or empty bytes,
    ``stream`` for anything else (a body streamed on, whose bytes the router does not hold)."""
    if body is None or body == b"":
        return NO_BODY
    if isinstance(body, (bytes, bytearray, memoryview)):
        return hashlib.sha256(body).hexdigest()
    return STREAMED_BODY


def _optional_id(value: int | None, name: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**19:
        raise ValueError(f"{name} must be a non-negative integer of at most 19 digits or None, got {value!r}")
    return str(value)


def _encode_username(username: str | None) -> str:
    if not username:
        return "-"
    if username == "-":
        return "%2D"
    encoded = quote(username, safe="", encoding="utf-8", errors="strict")
    if len(encoded) > MAX_ENCODED_USERNAME:
        raise ValueError(f"username is over {MAX_ENCODED_USERNAME} characters once percent-encoded")
    return encoded
