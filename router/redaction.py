"""Redaction before anything about a request or response is written down: credentials and configured
personal fields never reach the parity store, a replay report or an exported corpus. Pure functions
over plain values.

Which names are hidden. A name (JSON key, header, query or form field, or a key on a difference's path)
is first *normalised*: percent-decoded once, case-folded, with `-` and `_` removed (`New-Password`,
`new_password` and `new%5Fpassword` are all `newpassword`). It is hidden when

- it contains a secret word (`SECRET_PARTS`: password, secret, token, jwt, apikey, csrf, cookie, ...),
  so `client_secret`, `auth_token`, `X-XSRF-Token` are caught without being listed;
- it is one of the short secret names that are too common as parts (`SECRET_NAMES`: key, pin, otp, ...);
- it contains a contact word (`PERSONAL_PARTS`: email, phone, mobile);
- or it is one of the configured personal fields (strangler.yaml `router.redact_fields`), normalised
  the same way.

What is hidden. The value under a hidden name, at any depth; `name=value` pairs inside any string
(query strings, links, cookies, form bodies); both sides of a difference whose path passes through a
hidden name. A body is summarised with a digest of its *redacted* form (JSON or form-urlencoded), or,
when it cannot be redacted, with an HMAC under a key of this `Redactor` (random per process unless
given), so that no stored digest can be checked against a guess of the raw bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from router.parity.paths import ItemKey, PathSyntaxError, parse_path, render
from router.parity.result import ABSENT, Difference, DiffResult

REDACTED = "[redacted]"
SECRET_PARTS = ("password", "passwd", "passphrase", "secret", "token", "jwt", "apikey", "accesskey", "privatekey",
                "signingkey", "encryptionkey", "authorization", "credential", "cookie", "csrf", "xsrf", "sessionid",
                "sessionkey")
SECRET_NAMES = frozenset({"key", "auth", "pin", "otp", "session", "signature", "sig", "proxyauthorization",
                          "xstranglershadow", "xstrangleridentity"})
PERSONAL_PARTS = ("email", "phone", "mobile")
BODY_TEXT_LIMIT = 64 * 1024
_REDACTED_JSON = json.dumps(REDACTED)

# name=value pairs inside strings: query strings, links (DRF's next/previous), cookie headers, form bodies.
_PAIRS = re.compile(r"(^|[?&;\s])([^=&#;\s?/]+)=([^&#;\s]*)")
_FORM = re.compile(r"[^=&\s]+=[^&\s]*(?:&[^=&\s]+=[^&\s]*)*")


@lru_cache(maxsize=8192)
def normalise_name(name: str) -> str:
    """The form names are compared in: percent-decoded once, case-folded, without `-` and `_`."""
    return unquote_plus(name).casefold().replace("-", "").replace("_", "")


@lru_cache(maxsize=8192)
def _hidden(name: str, personal: frozenset[str]) -> bool:
    normal = normalise_name(name)
    return (normal in SECRET_NAMES or normal in personal
            or any(part in normal for part in SECRET_PARTS) or any(part in normal for part in PERSONAL_PARTS))


class Redactor:
    """Redaction under the built-in name rules plus `personal_fields` (module docstring).

    `digest_key` keys the HMAC of bodies that cannot be redacted; random per instance by default, so
    equal bodies compare equal within one router process and a digest is of no use to a guesser."""

    def __init__(self, personal_fields=(), *, digest_key: bytes | None = None):
        self._personal = frozenset(normalise_name(f) for f in personal_fields)
        self._digest_key = digest_key or secrets.token_bytes(32)

    def hides(self, name: str) -> bool:
        """True when values under this name (a key, header or field, in any spelling) are redacted."""
        return _hidden(name, self._personal)

    def headers(self, headers) -> list[list[str]]:
        return [[name, REDACTED if self.hides(name) else self.text(value)] for name, value in headers]

    def target(self, target: str) -> str:
        return self.text(target)

    def text(self, value: str) -> str:
        if "=" not in value:
            return value
        return _PAIRS.sub(lambda m: f"{m[1]}{m[2]}={REDACTED}" if self.hides(m[2]) else m[0], value)

    def value(self, value):
        if isinstance(value, dict):
            return {k: (REDACTED if self.hides(k) else self.value(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, body: bytes) -> dict:
        """A body as stored: JSON or form fields redacted, with the SHA-256 of the redacted form; any
        other body (or one over `BODY_TEXT_LIMIT`) only as its length and a keyed digest."""
        if not body:
            return {"length": 0}
        redacted = self.redact_body(body) if len(body) <= BODY_TEXT_LIMIT else None
        if redacted is None:
            return {"length": len(body), "hmac_sha256": hmac.new(self._digest_key, body, hashlib.sha256).hexdigest()}
        kind, value = redacted
        text = value if kind == "form" else json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return {"length": len(body), "sha256": hashlib.sha256(text.encode()).hexdigest(), kind: value}

    def redact_body(self, body: bytes) -> tuple[str, Any] | None:
        """("json", redacted data) or ("form", redacted text) for a body that can be redacted; None for
        anything else (binary, multipart, free text), which may hold secrets nobody can find."""
        if not body:
            return None
        try:
            return "json", self.value(json.loads(body))
        except (ValueError, UnicodeDecodeError, RecursionError):
            pass
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return ("form", self.text(text)) if _FORM.fullmatch(text) else None

    def difference(self, difference: Difference) -> dict[str, Any]:
        """A difference as plain data, both values hidden when its path passes through a hidden name;
        a list item named by a hidden key field (`[email="..."]`) has that value hidden in the path."""
        out = difference.as_dict()
        try:
            segments = parse_path(difference.path)
        except PathSyntaxError:
            segments = None  # a path this module cannot read: its values are not shown
        hide = segments is None or any(isinstance(s, str) and self.hides(s) for s in segments)
        if segments and any(isinstance(s, ItemKey) and self.hides(s.field) for s in segments):
            out["path"] = render(tuple(ItemKey(s.field, _REDACTED_JSON) if isinstance(s, ItemKey) and self.hides(s.field)
                                       else s for s in segments))
        for side in ("legacy", "extracted"):
            value = getattr(difference, side)
            if value is not ABSENT:
                out[side] = REDACTED if hide else self.value(value)
        return out

    def result(self, result: DiffResult) -> dict[str, Any]:
        """`DiffResult.as_dict()` with every difference and equivalence redacted."""
        return {**result.as_dict(), "differences": [self.difference(d) for d in result.differences],
                "equivalences": [self.difference(d) for d in result.equivalences]}
