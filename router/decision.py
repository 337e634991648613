"""Route decision: which side serves one request, given its route, the route's flag and the caller.

Pure and I/O-free, so every rule is unit-tested without sockets. The proxy gathers the facts (the
caller's sticky key, a verified admin override), calls `decide` and then does what the `Decision` says.

Canary is sticky. `bucket` hashes (group name, sticky key) into 10 000 buckets with BLAKE2b, which is
stable across processes, restarts and machines (Python's `hash()` is salted per process). A request is
extracted when its bucket is below `percent * 100`, so:

- one caller lands on one side for every route of a group (read-your-writes across list and detail);
- raising the percentage only adds buckets: nobody already moved goes back to legacy;
- different groups hash independently, so being early for inventory says nothing about orders.

The sticky key comes from the caller's identity (`sticky_key`): a token, else the session cookie, else a
configured header, else the client address. Credentials are hashed, never kept raw.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from router.config import Group, Route

BUCKETS = 10_000
LEGACY_UPSTREAM = "legacy"


class Mode(StrEnum):
    """How a route (or a whole group) is served right now."""

    LEGACY = "legacy"  # the monolith serves everything
    SHADOW = "shadow"  # the monolith serves; the extracted side gets a copy to compare
    CANARY = "canary"  # `percent` of callers (sticky by identity) go to the extracted side
    EXTRACTED = "extracted"  # the extracted side serves everything (legacy remains the fallback)


class Target(StrEnum):
    """A side a request can be sent to."""

    LEGACY = "legacy"
    EXTRACTED = "extracted"


@dataclass(frozen=True, slots=True)
class FlagState:
    """The runtime flag of a route or group. Invalid values raise ValueError when built.

    `percent` (0-100, at most 2 decimals: one bucket is 0.01 %) matters in canary mode; `shadow_rate`
    (0-1) is the share of requests mirrored to the other side (0: none); see `parse_flag_change`.
    """

    mode: Mode = Mode.LEGACY
    percent: float = 0.0
    shadow_rate: float = 0.0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "mode", Mode(self.mode))
        except ValueError:
            raise ValueError(f"mode must be one of {', '.join(Mode)}, got {self.mode!r}") from None
        percent = _number(self.percent, "percent")
        if not 0 <= percent <= 100:
            raise ValueError(f"percent must be between 0 and 100, got {self.percent!r}")
        if abs(percent * 100 - round(percent * 100)) > 1e-6:
            raise ValueError(f"percent can have at most 2 decimals (one bucket is 0.01 %), got {self.percent!r}")
        object.__setattr__(self, "percent", round(percent, 2))
        shadow_rate = _number(self.shadow_rate, "shadow_rate")
        if not 0 <= shadow_rate <= 1:
            raise ValueError(f"shadow_rate must be between 0 and 1, got {self.shadow_rate!r}")
        object.__setattr__(self, "shadow_rate", shadow_rate)


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What `decide` needs to know about the request beyond its route."""

    sticky_key: str
    override: Target | None = None  # set by the caller only after it has checked the admin token


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a request goes.

    `upstream` is the upstream name for `primary`; `shadow` the side that gets a mirrored copy, if any;
    `may_fall_back` whether legacy may serve the request when the extracted side fails (the proxy
    decides which failures qualify). `reason` is one of a few fixed words, safe as a metrics label:
    override, legacy, shadow, canary-in, canary-out, extracted.
    """

    primary: Target
    upstream: str
    shadow: Target | None
    may_fall_back: bool
    reason: str


def bucket(group: str, sticky_key: str) -> int:
    """The canary bucket (0..9999) of a caller in a group; the same inputs give the same bucket everywhere."""
    digest = hashlib.blake2b(f"{group}\0{sticky_key}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


def decide(route: Route, group: Group, flag: FlagState, facts: RequestFacts) -> Decision:
    """Decide which side serves a request to `route` (of `group`) under `flag`; see the module docstring.

    `route` is not consulted: whether a write may be mirrored (its write policy) and the sampling by
    `shadow_rate` are the proxy's business, since they depend on the method and on chance.
    """
    if facts.override is not None:
        return _to(facts.override, group, reason="override")
    # On canary and extracted routes a non-zero shadow_rate mirrors to the other side, so parity keeps
    # being watched after a cut-over (the "reverse shadow" when the extracted side answers).
    watch = flag.shadow_rate > 0
    match flag.mode:
        case Mode.EXTRACTED:
            return _to(Target.EXTRACTED, group, reason="extracted", shadow=Target.LEGACY if watch else None)
        case Mode.CANARY:
            if bucket(group.name, facts.sticky_key) < round(flag.percent * 100):
                return _to(Target.EXTRACTED, group, reason="canary-in", shadow=Target.LEGACY if watch else None)
            return _to(Target.LEGACY, group, reason="canary-out", shadow=Target.EXTRACTED if watch else None)
        case Mode.SHADOW:
            return _to(Target.LEGACY, group, reason="shadow", shadow=Target.EXTRACTED)
        case _:
            return _to(Target.LEGACY, group, reason="legacy")


def sticky_key(*, authorization: str | None, cookie_header: str | None, session_cookie: str,
               sticky_header_value: str | None, client_host: str | None) -> str:
    """The caller's identity for canary stickiness, strongest first; credentials only as SHA-256 digests.

    "token:<sha256 of the Authorization value>", else "session:<sha256 of the session cookie>", else
    "header:<sticky header value>", else "addr:<client host>", else "anonymous". `cookie_header` is
    the request's Cookie header (several joined with "; "); malformed pairs are skipped.
    """
    if authorization and authorization.strip():
        return "token:" + _sha256(authorization.strip())
    session = _cookie_value(cookie_header, session_cookie) if cookie_header else None
    if session:
        return "session:" + _sha256(session)
    if sticky_header_value and sticky_header_value.strip():
        return "header:" + sticky_header_value.strip()
    if client_host:
        return "addr:" + client_host
    return "anonymous"


def _to(primary: Target, group: Group, *, reason: str, shadow: Target | None = None) -> Decision:
    if primary is Target.EXTRACTED:
        return Decision(Target.EXTRACTED, group.upstream, shadow, may_fall_back=True, reason=reason)
    return Decision(Target.LEGACY, LEGACY_UPSTREAM, shadow, may_fall_back=False, reason=reason)


def _cookie_value(cookie_header: str, name: str) -> str | None:
    """The value of cookie `name`, parsed like Django's parse_cookie (split on ';', last one wins).

    Not SimpleCookie: it gives up on the whole header at the first malformed pair, and the session we
    hash should be the one the monolith sees.
    """
    value = None
    for chunk in cookie_header.split(";"):
        key, sep, val = chunk.partition("=")
        if sep and key.strip() == name:
            value = val.strip().strip('"')
    return value or None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)
