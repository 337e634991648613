"""A route's parity rules: what the diff engine ignores, how it compares lists, which headers it reads.

Rules come from the `parity:` mapping of a route in strangler.yaml and are parsed once, by
`parse_rules`, into a frozen `ParityRules`; its patterns are compiled then (into a `PathMatcher`), so
a comparison never parses a pattern. Every mistake becomes a `ParityRulesError` naming the key
(`routes[2].parity.ignore_paths[1]`), what was expected and what was found::

    parity:
      ignore_paths: [body.results[*].updated_at, body.generated_at]
      unordered: {body.results: sku, body.tags: null}   # match items by `sku`; tags as a multiset
      headers: [content-type, cache-control]            # compared headers; all others are ignored
      equivalences: [instant, decimal]                  # accepted classes (default: all four)
      noise_paths: [body.request_id]                    # learned noise: hidden, counted apart
      max_body_bytes: 1000000                           # larger bodies are not compared (SKIPPED)

(In YAML, quote a pattern that starts with `*`: `"**.etag"`; a bare `*` starts an alias.)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from router.parity.equivalence import CLASSES
from router.parity.matcher import IGNORE, NOISE, PathMatcher, Unordered
from router.parity.paths import PathSyntaxError, parse_pattern

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # RFC 9110 token: a header name
_MISSING: Any = object()
_PATTERN_EXPECTED = "a path pattern such as body.results[*].updated_at"


class ParityRulesError(ValueError):
    """A route's `parity:` mapping is wrong: `key` is where, `expected` what would have been accepted.

    The message reads like router.config's ConfigError, which can re-raise it with the file name.
    """

    def __init__(self, key: str, expected: str, got: Any = _MISSING, *, problem: str | None = None) -> None:
        self.key, self.expected, self.got, self.problem = key, expected, got, problem
        body = f"{problem}; expected {expected}" if problem else f"expected {expected}"
        if got is not _MISSING:
            text = repr(got)
            body += f", got {text if len(text) <= 80 else text[:77] + '...'}"
        super().__init__(f"{key}: {body}")


@dataclass(frozen=True, slots=True)
class ParityRules:
    """How one route's responses are compared. Build with `parse_rules`, or directly in code and tests
    (a bad pattern or class name then raises ValueError)."""

    ignore_paths: tuple[str, ...] = ()
    unordered: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    headers: tuple[str, ...] = ("content-type",)
    equivalences: frozenset[str] = frozenset(CLASSES)
    noise_paths: tuple[str, ...] = ()
    max_body_bytes: int = 1_000_000
    matcher: PathMatcher = field(init=False, repr=False, compare=False)
    header_names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "ignore_paths", tuple(self.ignore_paths))
        set_(self, "noise_paths", tuple(self.noise_paths))
        set_(self, "unordered", MappingProxyType(dict(self.unordered)))
        set_(self, "headers", tuple(h.lower() for h in self.headers))
        set_(self, "equivalences", frozenset(self.equivalences))
        unknown = sorted(self.equivalences - set(CLASSES))
        if unknown:
            raise ValueError(f"unknown equivalence class {unknown[0]!r}; known: {', '.join(CLASSES)}")
        if isinstance(self.max_body_bytes, bool) or not isinstance(self.max_body_bytes, int) or self.max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be a non-negative integer, got {self.max_body_bytes!r}")
        patterns = [(parse_pattern(p), IGNORE) for p in self.ignore_paths]
        patterns += [(parse_pattern(p), NOISE) for p in self.noise_paths]
        patterns += [(parse_pattern(p), Unordered(key)) for p, key in self.unordered.items()]
        set_(self, "matcher", PathMatcher(patterns))
        set_(self, "header_names", frozenset(self.headers))


def parse_rules(mapping: Mapping[str, Any] | None, *, where: str = "") -> ParityRules:
    """Turn a route's `parity:` mapping into `ParityRules`; `where` prefixes error keys (`routes[2]`).

    Absent keys keep their defaults; None (an empty `parity:`) gives the default rules.
    """
    base = f"{where}.parity" if where else "parity"
    if mapping is None:
        return ParityRules()
    if not isinstance(mapping, Mapping):
        raise ParityRulesError(base, "a mapping of parity rules", mapping)
    allowed = [f for f in ParityRules.__dataclass_fields__ if f not in ("matcher", "header_names")]
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParityRulesError(base, "keys among " + ", ".join(allowed), problem=f"unknown key {key!r}{hint}")
    default = ParityRules()
    values: dict[str, Any] = {}
    for name in ("ignore_paths", "noise_paths"):
        if name in mapping:
            items = _list(mapping[name], f"{base}.{name}", "a list of path patterns")
            values[name] = tuple(_pattern(item, f"{base}.{name}[{i}]") for i, item in enumerate(items))
    if "unordered" in mapping:
        values["unordered"] = _unordered(mapping["unordered"], f"{base}.unordered")
    if "headers" in mapping:
        names = _list(mapping["headers"], f"{base}.headers", "a list of header names")
        for i, name in enumerate(names):
            if not isinstance(name, str) or not _TOKEN.match(name):
                raise ParityRulesError(f"{base}.headers[{i}]", "a header name", name)
        values["headers"] = tuple(dict.fromkeys(n.lower() for n in names))
    if "equivalences" in mapping:
        names = _list(mapping["equivalences"], f"{base}.equivalences", "a list of equivalence classes")
        for i, name in enumerate(names):
            if name not in CLASSES:
                raise ParityRulesError(f"{base}.equivalences[{i}]", "one of " + ", ".join(CLASSES), name)
        values["equivalences"] = frozenset(names)
    if "max_body_bytes" in mapping:
        cap = mapping["max_body_bytes"]
        if isinstance(cap, bool) or not isinstance(cap, int) or cap <= 0:
            raise ParityRulesError(f"{base}.max_body_bytes", "a positive integer (bytes)", cap)
        values["max_body_bytes"] = cap
    return ParityRules(**{**{k: getattr(default, k) for k in allowed}, **values})


def _list(value: Any, key: str, expected: str) -> Sequence[Any]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ParityRulesError(key, expected, value)
    return value


def _pattern(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ParityRulesError(key, _PATTERN_EXPECTED, value)
    try:
        parse_pattern(value)
    except PathSyntaxError as exc:
        raise ParityRulesError(key, _PATTERN_EXPECTED, value, problem=exc.problem) from None
    return value


def _unordered(value: Any, key: str) -> Mapping[str, str | None]:
    expected = "a mapping of list pattern to the key field of its items (or null: compare as a multiset)"
    if not isinstance(value, Mapping):
        raise ParityRulesError(key, expected, value)
    result: dict[str, str | None] = {}
    for pattern, item_key in value.items():
        where = f"{key}[{pattern!r}]"
        _pattern(pattern, where)
        if item_key is not None and (not isinstance(item_key, str) or not item_key):
            raise ParityRulesError(where, "the name of the field that identifies an item, or null", item_key)
        result[pattern] = item_key
    return MappingProxyType(result)
