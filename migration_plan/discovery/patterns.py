"""Django URL patterns (path() routes and re_path() regexes) written the way strangler.yaml writes them.

For the discovery walk: each level of the resolver (an include prefix, a router's regex, a view's route)
is converted on its own, then the pieces are joined into `/api/inventory/stock/{sku}/`. A named group
or converter becomes `{name}`; a pattern strangler.yaml cannot express (an optional slash, `\\d+`
outside a group, a parameter sharing a segment with text, a `path:` converter spanning segments) is
still converted as well as it can be and comes back with a note saying why it cannot be routed as is.

This reads Django's pattern objects (`RoutePattern`, `RegexPattern`), never the URLconf's source text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls.resolvers import RegexPattern

from router.matching import pattern_segments

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_SPECIAL = set(".^$*+?{}[]|()")
# Escapes that stand for one literal character in a URL path.
_LITERAL_ESCAPES = set("./-_~:@!$&'*+,;=%")

FORMAT_GROUP = "format"  # DRF's format-suffix parameter (`/stock.json`, `/stock/{sku}.json`)


@dataclass(frozen=True, slots=True)
class Piece:
    """One level of a URL pattern converted: its text in strangler syntax, its parameters, what is off."""

    text: str
    params: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def convert(pattern) -> Piece:
    """One Django pattern object (RoutePattern, RegexPattern, LocalePrefixPattern) as a Piece."""
    if isinstance(pattern, RegexPattern):
        return _from_regex(str(pattern))
    return _from_route(str(pattern))  # a path() route; a locale prefix is literal text


def join(pieces: list[Piece]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The full pattern `/a/{b}/`, its parameter names and every problem, from the pieces root first."""
    path = "/" + "".join(p.text for p in pieces)
    params = tuple(name for p in pieces for name in p.params)
    problems = [problem for p in pieces for problem in p.problems]
    if not problems:
        try:
            pattern_segments(path)
        except ValueError as exc:
            problems.append(f"strangler.yaml expects {exc}")
    return path, params, tuple(problems)


def _from_route(route: str) -> Piece:
    params, problems = [], []

    def replace(match: re.Match) -> str:
        converter, name = match["converter"], match["name"]
        params.append(name)
        if converter == "path":
            problems.append(f"<path:{name}> can span several segments; {{{name}}} fills one")
        return "{" + name + "}"

    return Piece(_ROUTE_PARAM.sub(replace, route), tuple(params), tuple(problems))


def _from_regex(regex: str) -> Piece:
    """Convert a regex made of literal text and named groups; anything else is kept and noted."""
    if regex.startswith("^"):
        regex = regex[1:]
    if regex.endswith("$") and not regex.endswith("\\$"):
        regex = regex[:-1]
    out, params, problems = [], [], []
    i = 0
    while i < len(regex):
        c = regex[i]
        if c == "\\" and i + 1 < len(regex):
            nxt = regex[i + 1]
            if nxt in _LITERAL_ESCAPES:
                out.append(nxt)
            else:
                out.append(c + nxt)
                problems.append(f"regex escape \\{nxt} outside a named group")
            i += 2
        elif regex.startswith("(?P<", i):
            end = _group_end(regex, i)
            name = regex[i + 4:regex.index(">", i)]
            params.append(name)
            out.append("{" + name + "}")
            i = end + 1
        elif c in _REGEX_SPECIAL:
            out.append(c)
            problems.append(f"regex syntax {c!r} outside a named group")
            i += 1
        else:
            out.append(c)
            i += 1
    return Piece("".join(out), tuple(params), tuple(problems))


def _group_end(regex: str, start: int) -> int:
    """Index of the ')' closing the group opened at `start`, skipping escapes and character classes."""
    depth, i, in_class = 0, start, False
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if regex.startswith("[]", i) or regex.startswith("[^]", i):  # a literal ']' first in the class
                i += 2 if regex[i + 1] == "]" else 3
                continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(regex) - 1  # unbalanced: Django would have refused it; take the rest as the group
