"""Equivalence classes: two values that differ in spelling but not in meaning.

Each class is a cheap test run only on values that already differ, and only when the route's rules
enable it. A match is reported as an equivalence, apart from regressions (see `result`):

- `instant`: two ISO-8601 date-times denoting the same instant ("...10:00:00Z" and "...11:00:00+01:00").
- `decimal`: the same decimal written two ways ("10.50", "10.5", 10.5); DRF writes Decimal fields as
  strings, FastAPI may write numbers.
- `pagination_host`: absolute URLs differing only in scheme://host:port (DRF `next`/`previous` links
  name the host that served the request, which is not the same host for both sides).
- `error_body`: two error bodies (same status, >= 400) carrying the same messages in other shapes,
  `{"detail": "Not found."}` vs `{"detail": [{"msg": "Not found."}]}` or `{"error": "Not found."}`.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

INSTANT = "instant"
DECIMAL = "decimal"
ERROR_BODY = "error_body"
PAGINATION_HOST = "pagination_host"
CLASSES = (INSTANT, DECIMAL, ERROR_BODY, PAGINATION_HOST)

# Cheap gates in front of the real parsers: most differing strings are not timestamps or numbers.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_NUMERIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_STR_OR_NUMBER = frozenset({str, int, float, Decimal})
_ERROR_KEYS = ("detail", "error", "errors", "message", "msg", "non_field_errors")


def scalar_equivalence(a: object, b: object, enabled: frozenset[str]) -> str | None:
    """The enabled class under which two differing JSON scalars are equivalent, or None.

    Numbers may be given as int, float or Decimal (the engine passes parsed numbers exactly).
    """
    ta, tb = type(a), type(b)
    if ta is str and tb is str:
        if INSTANT in enabled and _same_instant(a, b):
            return INSTANT
        if DECIMAL in enabled and _same_decimal(a, b):
            return DECIMAL
        if PAGINATION_HOST in enabled and _same_but_host(a, b):
            return PAGINATION_HOST
    elif DECIMAL in enabled and {ta, tb} <= _STR_OR_NUMBER and (ta is str) != (tb is str):
        if _same_decimal(a, b):
            return DECIMAL
    return None


def error_messages(body: object) -> frozenset[str] | None:
    """The messages of an error body, or None when `body` does not look like one.

    An error body is an object with at least one of detail/error/errors/message/msg/non_field_errors,
    a list of strings, or a string. Messages are the strings under those keys, at any depth; nested
    objects without such keys are field errors (`{"price": ["..."]}`) whose strings all count.
    """
    if isinstance(body, dict):
        keys = [k for k in _ERROR_KEYS if k in body]
        if not keys:
            return None
        found: set[str] = set()
        for key in keys:
            _collect(body[key], found)
    elif isinstance(body, list) and body and all(isinstance(x, str) for x in body):
        found = set(body)
    elif isinstance(body, str):
        found = {body}
    else:
        return None
    found.discard("")
    return frozenset(found) or None


def _collect(value: object, found: set[str]) -> None:
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)
    elif isinstance(value, dict):
        keys = [k for k in _ERROR_KEYS if k in value]
        for item in (value[k] for k in keys) if keys else value.values():
            _collect(item, found)


def _same_instant(a: str, b: str) -> bool:
    if not (_TIMESTAMP.match(a) and _TIMESTAMP.match(b)):
        return False
    try:
        return datetime.fromisoformat(a) == datetime.fromisoformat(b)
    except (ValueError, TypeError):  # not ISO-8601 after all; or one is naive and the other aware
        return False


def _same_decimal(a: object, b: object) -> bool:
    da, db = _decimal(a), _decimal(b)
    return da is not None and db is not None and da == db


def _decimal(value: object) -> Decimal | None:
    if type(value) is str:
        if not _NUMERIC.match(value):
            return None
        text = value
    elif type(value) is int:
        return Decimal(value)
    elif type(value) is Decimal:
        return value
    elif type(value) is float:
        text = repr(value)  # the shortest text that reads back as this float, as a JSON encoder writes it
    else:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover -- the regex admits only what Decimal reads
        return None


def _same_but_host(a: str, b: str) -> bool:
    if not (a.startswith(("http://", "https://")) and b.startswith(("http://", "https://"))):
        return False
    try:
        pa, pb = urlsplit(a), urlsplit(b)
    except ValueError:
        return False
    return bool(pa.netloc and pb.netloc) and (pa.path, pa.query, pa.fragment) == (pb.path, pb.query, pb.fragment)
