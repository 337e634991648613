"""Route matching: which configured route, if any, owns a request's method and path.

Path patterns are written `/api/inventory/stock/{sku}/`: literal segments match exactly (trailing slash
included, case-sensitive), a `{name}` parameter fills one whole, non-empty segment (`[^/]+`) and its
value is returned as it appears in the path. The path is the one Django resolves: percent-decoded once
(ASGI's `scope["path"]`, as WSGI's PATH_INFO), so `/api/inventory/adjustment%73/` is matched as
`/api/inventory/adjustments/`; it is not decoded again here (`%2573` is `%73` to Django too). The query
string is not part of the path; the caller strips it.

A route with `format_suffixes` (its group's setting, on by default) also matches DRF's format-suffix
variants of its pattern, which a DefaultRouter (or `format_suffix_patterns`) adds next to each pattern
as `<pattern without its trailing slash>\\.(?P<format>[a-z0-9]+)/?$`: `/stock.json`, `/stock.json/`,
`/warehouses/{id}.json` -- the same view, so the same route. Each variant of a pattern ranks as the
pattern does, after it on a tie: `/warehouses/1.json/` is `{id}` = `1.json` when `/warehouses/{id}/` also
matches it. `{id}` takes a '.' where DRF's default lookup (`[^/.]+`) does not, so `/warehouses/a.b.json` is
matched though Django resolves it to no view: a 404 on either side, never another view's request.

Matching first picks the *pattern* that owns the path, then checks the method, as Django does (URL
first, then the view answers 405): when several patterns match a path the winner is

1. the one with more literal segments (`/stock/summary/` beats `/stock/{sku}/`),
2. then the one with fewer parameters,
3. then the one that comes first in the config.

If the routes of the winning pattern do not list the method the result is None -- even when a less
specific pattern would accept it -- and the request goes to legacy, which answers as it always has.
Unmatched requests go to legacy too.

This runs on every proxied request: exact-literal patterns are one dict lookup, parameterised patterns
and format-suffix variants are compiled regexes bucketed by the number of '/' in the path (variants only
in the buckets searched for a path with a '.'), and a bounded LRU cache remembers recent (method, path)
results.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # config imports this module for pattern syntax; Route is only needed for typing
    from router.config import Route

_NO_PARAMS: Mapping[str, str] = MappingProxyType({})
# DRF's format suffix (rest_framework.urlpatterns.format_suffix_patterns without `allowed`): `.json`, `.api/`.
FORMAT_SUFFIX = r"\.[a-z0-9]+/?"


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A configured route that owns the request, with the path parameters it captured."""

    route: Route
    params: Mapping[str, str]


def pattern_segments(pattern: str) -> tuple[tuple[str, bool], ...]:
    """Split a path pattern into (text, is_parameter) segments after the leading '/'; ValueError if malformed.

    `/api/stock/{sku}/` -> (("api", False), ("stock", False), ("sku", True), ("", False)). A parameter
    is `{name}` filling a whole segment, `name` a Python identifier, each name used once. The error
    message says what a valid pattern looks like (config.py turns it into a ConfigError).
    """
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        raise ValueError("a path starting with '/'")
    if any(c in "?#" or c.isspace() for c in pattern):
        raise ValueError("a path without spaces, query string or fragment")
    raw = pattern[1:].split("/")
    segments: list[tuple[str, bool]] = []
    for i, text in enumerate(raw):
        if text == "" and i != len(raw) - 1:
            raise ValueError("a path without empty segments ('//')")
        if "{" in text or "}" in text:
            name = text[1:-1]
            if not (text.startswith("{") and text.endswith("}") and name.isidentifier()):
                raise ValueError("parameters written {name}, filling a whole segment, name an identifier")
            if (name, True) in segments:
                raise ValueError(f"each parameter name used once ({{{name}}} is repeated)")
            segments.append((name, True))
        else:
            segments.append((text, False))
    return tuple(segments)


def pattern_shape(pattern: str) -> str:
    """The pattern with parameter names erased (`/a/{}/`): patterns of one shape match the same paths."""
    return "/" + "/".join("{}" if is_param else text for text, is_param in pattern_segments(pattern))


class _Pattern:
    """All routes sharing one pattern shape (or its format-suffix variant): its regex, the numbers of '/'
    in the paths it can match and, per method, the route and its parameter names."""

    __slots__ = ("regex", "rank", "depths", "by_method")

    def __init__(self, segments: tuple[tuple[str, bool], ...], order: int, *, suffixed: bool = False) -> None:
        params = sum(1 for _, is_param in segments if is_param)
        # Sorts best first (see the module docstring); a variant ranks as its pattern, after it on a tie.
        self.rank = (params - len(segments), params, suffixed, order)
        if suffixed and len(segments) > 1 and segments[-1] == ("", False):
            segments = segments[:-1]  # the suffix takes the trailing slash's place: /stock/ -> /stock.json
        body = "/" + "/".join("([^/]+)" if p else re.escape(t) for t, p in segments)
        self.regex = re.compile(body + FORMAT_SUFFIX if suffixed else body)
        self.depths = (len(segments), len(segments) + 1) if suffixed else (len(segments),)
        self.by_method: dict[str, tuple[Route, tuple[str, ...]]] = {}


class RouteTable:
    """Matches (method, path) to the configured route that owns it; see the module docstring for the rules.

    Build one per `Config` (`RouteTable(config.routes)`); it is immutable and safe to share between
    tasks and threads. Two routes with the same method and pattern shape are refused by the config
    parser; given them anyway, the first one wins.
    """

    def __init__(self, routes: Sequence[Route], *, cache_size: int = 4096) -> None:
        self.routes = tuple(routes)
        self._literal: dict[str, dict[str, RouteMatch]] = {}
        # Number of '/' in the path -> patterns, best first: without the format-suffix variants for paths
        # with no '.', which no variant can match, and with them for paths with one.
        self._by_depth: dict[int, list[_Pattern]] = {}
        self._by_depth_dotted: dict[int, list[_Pattern]] = {}
        patterns: dict[tuple[str, bool], _Pattern] = {}
        for order, route in enumerate(self.routes):
            segments = pattern_segments(route.path)
            names = tuple(text for text, is_param in segments if is_param)
            if not names:
                by_method = self._literal.setdefault(route.path, {})
                for method in route.methods:
                    by_method.setdefault(method, RouteMatch(route, _NO_PARAMS))
            shape = pattern_shape(route.path)
            for suffixed in (False, True) if route.format_suffixes else (False,):
                if not names and not suffixed:
                    continue  # the literal table holds it
                pattern = patterns.get((shape, suffixed))
                if pattern is None:
                    pattern = patterns[shape, suffixed] = _Pattern(segments, order, suffixed=suffixed)
                    for depth in pattern.depths:
                        if not suffixed:
                            self._by_depth.setdefault(depth, []).append(pattern)
                        self._by_depth_dotted.setdefault(depth, []).append(pattern)
                for method in route.methods:
                    pattern.by_method.setdefault(method, (route, names))
        for buckets in (self._by_depth, self._by_depth_dotted):
            for bucket in buckets.values():
                bucket.sort(key=lambda p: p.rank)
        self._cached_match = functools.lru_cache(maxsize=cache_size)(self._match)

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route owning this request, or None (the request goes to legacy). `path` has no query string."""
        return self._cached_match(method.upper(), path)

    def cache_info(self) -> functools._CacheInfo:
        """Hits and misses of the (method, path) cache, for metrics."""
        return self._cached_match.cache_info()

    def _match(self, method: str, path: str) -> RouteMatch | None:
        literal = self._literal.get(path)
        if literal is not None:  # an exact literal beats every parameterised pattern of the same path
            return literal.get(method)
        buckets = self._by_depth_dotted if "." in path else self._by_depth
        for pattern in buckets.get(path.count("/"), ()):
            found = pattern.regex.fullmatch(path)
            if found is not None:
                route_and_names = pattern.by_method.get(method)
                if route_and_names is None:
                    return None
                route, names = route_and_names
                return RouteMatch(route, MappingProxyType(dict(zip(names, found.groups(), strict=True))))
        return None
