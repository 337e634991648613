"""Redaction before anything about a request or response is written down: credentials and configured
personal fields never reach the parity store. Pure functions over plain values."""

import hashlib
import json
import re

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-csrftoken",
                            "x-strangler-shadow", "x-strangler-identity", "x-strangler-token"})
SECRET_FIELDS = frozenset({"token", "key", "password", "secret", "authorization", "api_key", "access_token",
                           "refresh_token", "csrfmiddlewaretoken", "sessionid", "csrftoken", "cookie", "set-cookie",
                           "proxy-authorization", "x-api-key"})
BODY_TEXT_LIMIT = 64 * 1024


class Redactor:
    def __init__(self, personal_fields=()):
        self.fields = SECRET_FIELDS | {f.lower() for f in personal_fields}
        # name=value pairs inside strings: query strings, links (DRF's next/previous), cookie headers.
        names = "|".join(sorted((re.escape(f) for f in self.fields), key=len, reverse=True))
        self._pairs = re.compile(rf"(?i)(^|[?&;\s])({names})=([^&#;\s]*)")

    def headers(self, headers) -> list[list[str]]:
        return [[name, REDACTED if name.lower() in SECRET_HEADERS else self.text(value)]
                for name, value in headers]

    def target(self, target: str) -> str:
        return self.text(target)

    def text(self, value: str) -> str:
        return self._pairs.sub(rf"\1\2={REDACTED}", value) if "=" in value else value

    def value(self, value):
        if isinstance(value, dict):
            return {k: (REDACTED if k.lower() in self.fields else self.value(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def body(self, body: bytes) -> dict:
        """JSON bodies redacted field by field; anything else only as a hash and a length."""
        summary = {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        if not body or len(body) > BODY_TEXT_LIMIT:
            return summary
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return summary
        return {**summary, "json": self.value(parsed)}
