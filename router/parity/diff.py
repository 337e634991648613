"""The diff engine: two exchanges and a route's rules in, a `DiffResult` out. Pure: no I/O, no clock.

`compare` looks at the status, the allow-listed headers and the body. Identical bytes (the common
case under shadow traffic) end in a few comparisons without parsing anything. Otherwise JSON bodies
are parsed and walked side by side; other bodies are compared as bytes and shown as their lengths and the
offset where they part (never as a digest, which could be checked against guesses).

JSON semantics: object key order never matters; numbers are equal when they denote the same decimal
(1, 1.0 and 1e0 are equal; int and float are one JSON type); a boolean is never a number (true vs 1
is a TYPE difference). Lists compare by position, and the same items in another order are one ORDER
difference at the list -- unless a rule declares the list unordered: then items are paired by a key
field (or as a multiset) and only the pairs are compared.

Speed: the parser keeps every number as its JSON text (`bytes`). Python's `==` then never confuses
true with 1 (bool is an int subclass, bytes is nothing else), so one C-level `==` decides exactly
whether two whole subtrees are equal, and the walk only descends where they are not. Numbers are
turned back into int/float only where they differ in spelling or are reported. The walk carries the
path as a tuple and the rules as a `PathMatcher` state; text paths are made only for kept differences.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

from router.parity.equivalence import ERROR_BODY, error_messages, scalar_equivalence
from router.parity.exchange import Exchange, is_json, normalise_content_type
from router.parity.matcher import DEAD, IGNORE, NO_RULE, PathMatcher
from router.parity.paths import ItemKey, render_with_shape
from router.parity.result import ABSENT, Difference, DiffKind, DiffResult, Verdict
from router.parity.rules import ParityRules

CHANGED, MISSING, EXTRA, TYPE, ORDER = DiffKind.CHANGED, DiffKind.MISSING, DiffKind.EXTRA, DiffKind.TYPE, DiffKind.ORDER

_DEFAULT_RULES = ParityRules()
_MATCH = DiffResult(Verdict.MATCH)
_DECODER = json.JSONDecoder(parse_int=str.encode, parse_float=str.encode)  # numbers stay JSON text
_SCAN = _DECODER.scan_once  # JSONDecoder.decode minus its Python-level whitespace handling
_NOT_JSON: Any = object()
_NUMBER = (bytes, float, int)  # parsed numbers; float only for NaN/Infinity, int only for the status
_JSON_TYPES = {dict: "object", list: "array", str: "string", bytes: "number", float: "number", int: "number",
               bool: "boolean", type(None): "null"}

Path = tuple[Any, ...]
_Record = tuple[DiffKind, Path, object, object, "str | None"]


def compare(legacy: Exchange, extracted: Exchange, rules: ParityRules = _DEFAULT_RULES) -> DiffResult:
    """Compare the legacy and the extracted response to one request under a route's rules."""
    cap = rules.max_body_bytes
    if len(legacy.body) > cap or len(extracted.body) > cap:
        sizes = f"{len(legacy.body)} and {len(extracted.body)} bytes"
        return DiffResult(Verdict.SKIPPED, note=f"not compared: a body is over max_body_bytes ({sizes}, cap {cap})")
    names = rules.header_names
    legacy_headers = _headers(legacy, names) if names else None
    extracted_headers = _headers(extracted, names) if names else None
    same_body = legacy.body == extracted.body
    if same_body and legacy.status == extracted.status and legacy_headers == extracted_headers:
        return _MATCH  # identical bytes: nothing a rule or a parser could find

    walk = _Walk(rules)
    if legacy.status != extracted.status:
        walk.value(legacy.status, extracted.status, ("status",), walk.matcher.step(walk.matcher.start, "status"))
    if legacy_headers != extracted_headers:
        walk.headers(legacy_headers or {}, extracted_headers or {}, rules.headers)
    if not same_body:
        walk.body(legacy, extracted)
    return walk.result()


def _headers(exchange: Exchange, names: frozenset[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in exchange.headers:
        name = name.lower()
        if name in names:
            found.setdefault(name, []).append(value)
    return found


def _parse(exchange: Exchange) -> Any:
    content_type = exchange.content_type
    if content_type is not None and not is_json(content_type):
        return _NOT_JSON
    try:
        text = exchange.body.decode("utf-8").strip(" \t\n\r")  # RFC 8259: UTF-8 on the wire
        value, end = _SCAN(text, 0)
    except (ValueError, StopIteration, RecursionError):  # not UTF-8, not JSON, or nested too deep to parse
        return _NOT_JSON
    return value if end == len(text) else _NOT_JSON  # trailing garbage: not one JSON document


class _Walk:
    """One comparison in progress: walks both sides, keeps what differs, counts what rules hid."""

    def __init__(self, rules: ParityRules) -> None:
        self.matcher: PathMatcher = rules.matcher
        self.infos = rules.matcher.infos
        self.enabled = rules.equivalences
        self.diffs: list[_Record] = []
        self.equivs: list[_Record] = []
        self.ignored = 0
        self.noise = 0

    # -- the three parts of a response ----------------------------------------------------------

    def headers(self, legacy: dict[str, list[str]], extracted: dict[str, list[str]], names: tuple[str, ...]) -> None:
        matcher = self.matcher
        under = matcher.step(matcher.start, "headers")
        for name in names:
            a, b = legacy.get(name), extracted.get(name)
            if a == b:
                continue
            if name == "content-type" and a and b and list(map(normalise_content_type, a)) == list(
                    map(normalise_content_type, b)):
                continue
            state = matcher.step(under, name)
            if state and self.infos[state].hide:
                self.hidden(state)
                continue
            shown_a = ABSENT if a is None else a[0] if len(a) == 1 else a
            shown_b = ABSENT if b is None else b[0] if len(b) == 1 else b
            kind = MISSING if b is None else EXTRA if a is None else CHANGED
            self.record(kind, ("headers", name), shown_a, shown_b)

    def body(self, legacy: Exchange, extracted: Exchange) -> None:
        state = self.matcher.step(self.matcher.start, "body")
        a, b = _parse(legacy), _parse(extracted)
        if a is not _NOT_JSON and b is not _NOT_JSON:
            mark = self.mark()
            try:
                if a != b:  # exact (see the module docstring): equal is the same data, other spelling
                    self.value(a, b, ("body",), state)
                    self.error_bodies(a, b, legacy.status, extracted.status, mark)
                return
            except RecursionError:  # nested deeper than the walk can go: judge by the bytes
                self.rollback(mark)
        if state and self.infos[state].hide:
            self.hidden(state)
        else:
            at = _first_difference(legacy.body, extracted.body)
            self.record(CHANGED, ("body",), _bytes_summary(legacy.body, at), _bytes_summary(extracted.body, at))

    def error_bodies(self, a: Any, b: Any, legacy_status: int, extracted_status: int, mark: tuple[int, ...]) -> None:
        """Same error, other shape: all body differences become one `error_body` equivalence."""
        if (len(self.diffs) == mark[0] or ERROR_BODY not in self.enabled
                or legacy_status != extracted_status or legacy_status < 400):
            return
        messages = error_messages(a)
        if messages is not None and messages == error_messages(b):
            del self.diffs[mark[0]:], self.equivs[mark[1]:]
            self.equivs.append((CHANGED, ("body",), a, b, ERROR_BODY))

    # -- JSON values ----------------------------------------------------------------------------

    def value(self, a: Any, b: Any, path: Path, state: int) -> None:
        """Compare two JSON values at `path`; `state` is the matcher's state there."""
        if state and self.infos[state].hide:
            if not _same(a, b):
                self.hidden(state)
            return
        ta, tb = type(a), type(b)
        if ta is tb and ta is dict:
            self.object(a, b, path, state)
        elif ta is tb and ta is list:
            self.array(a, b, path, state)
        elif ta in _NUMBER and tb in _NUMBER:
            if not _same_number(a, b):
                self.leaf(a, b, path)
        elif a != b or ta is not tb:
            self.leaf(a, b, path)

    def leaf(self, a: Any, b: Any, path: Path) -> None:
        kind = CHANGED if _JSON_TYPES.get(type(a)) == _JSON_TYPES.get(type(b)) else TYPE
        equivalence = None
        if self.enabled and type(a) is not dict and type(b) is not dict:
            equivalence = scalar_equivalence(_exact(a), _exact(b), self.enabled)
        self.record(kind, path, a, b, equivalence)

    def object(self, a: dict, b: dict, path: Path, state: int) -> None:
        missing = 0
        if not state:
            for key, v in a.items():
                w = b.get(key, ABSENT)
                if v == w:
                    continue
                if w is ABSENT:
                    missing += 1
                    self.record(MISSING, path + (key,), v, ABSENT)
                else:
                    self.value(v, w, path + (key,), DEAD)
        else:
            step = self.matcher.step
            for key, v in a.items():
                w = b.get(key, ABSENT)
                if v == w:
                    continue
                if w is ABSENT:
                    missing += 1
                    self.absent(MISSING, path + (key,), step(state, key), v)
                else:
                    self.value(v, w, path + (key,), step(state, key))
        if len(b) != len(a) - missing:
            for key, w in b.items():
                if key not in a:
                    self.absent(EXTRA, path + (key,), state and self.matcher.step(state, key), w)

    def array(self, a: list, b: list, path: Path, state: int) -> None:
        if state:
            key = self.infos[state].unordered
            if key is not NO_RULE:
                self.unordered(a, b, path, state, key)
                return
        step = self.matcher.step
        n = min(len(a), len(b))
        mark = self.mark()
        first = -1
        for i in range(n):
            v, w = a[i], b[i]
            if v != w:
                if first < 0:
                    first = i
                self.value(v, w, path + (i,), state and step(state, i))
        for i in range(n, len(a)):
            self.absent(MISSING, path + (i,), state and step(state, i), a[i])
        for i in range(n, len(b)):
            self.absent(EXTRA, path + (i,), state and step(state, i), b[i])
        if len(a) == len(b) > 1 and len(self.diffs) > mark[0] and self.same_items(a, b, state, first):
            self.rollback(mark)
            self.record(ORDER, path, a, b)

    def same_items(self, a: list, b: list, state: int, first: int) -> bool:
        """Whether two lists hold the same items (up to hidden values), whatever their order;
        `first` is the first position where they differ."""
        item_state = state and self.matcher.any_item(state)
        if not item_state and (a[first] not in b or b[first] not in a):
            # The cheap refusal: an item at a differing position is nowhere in the other list. (`in`
            # compares exactly, so a list whose numbers are also respelled -- 1 vs 1.0 -- has its
            # differences reported by position instead of as one ORDER.)
            return False
        return Counter(self.freeze(x, item_state) for x in a) == Counter(self.freeze(x, item_state) for x in b)

    def unordered(self, a: list, b: list, path: Path, state: int, key: str | None) -> None:
        """A list declared unordered: pair items by `key` (or as a multiset), then diff the pairs."""
        item_state = self.matcher.any_item(state)
        if item_state and self.infos[item_state].hide:
            if Counter(map(_freeze, a)) != Counter(map(_freeze, b)):
                self.hidden(item_state)
            return
        loose_a: list[tuple[int, Any]] = []
        loose_b: list[tuple[int, Any]] = []
        if key is None:
            loose_a, loose_b = list(enumerate(a)), list(enumerate(b))
        else:
            by_key: dict[Any, list[Any]] = {}
            for j, item in enumerate(b):
                if type(item) is dict and key in item:
                    by_key.setdefault(_freeze(item[key]), []).append(item)
                else:
                    loose_b.append((j, item))
            for queue in by_key.values():
                queue.reverse()  # pop() from the end takes items in their order: duplicates pair in order
            for i, item in enumerate(a):
                if type(item) is not dict or key not in item:
                    loose_a.append((i, item))
                    continue
                queue = by_key.get(_freeze(item[key]))
                if queue:
                    other = queue.pop()
                    if item != other:
                        self.value(item, other, path + (ItemKey.of(key, _plain(item[key])),), item_state)
                else:
                    self.record(MISSING, path + (ItemKey.of(key, _plain(item[key])),), item, ABSENT)
            for queue in by_key.values():
                for item in reversed(queue):
                    self.record(EXTRA, path + (ItemKey.of(key, _plain(item[key])),), ABSENT, item)
        if loose_a or loose_b:
            self.multiset(loose_a, loose_b, path, item_state)

    def multiset(self, a: list[tuple[int, Any]], b: list[tuple[int, Any]], path: Path, item_state: int) -> None:
        """Items equal up to hidden values pair off; the rest are MISSING/EXTRA at their positions."""
        left = Counter(self.freeze(item, item_state) for _, item in b)
        for i, item in a:
            frozen = self.freeze(item, item_state)
            if left[frozen] > 0:
                left[frozen] -= 1
            else:
                self.record(MISSING, path + (i,), item, ABSENT)
        for j, item in b:
            frozen = self.freeze(item, item_state)
            if left[frozen] > 0:
                left[frozen] -= 1
                self.record(EXTRA, path + (j,), ABSENT, item)

    # -- bookkeeping ----------------------------------------------------------------------------

    def absent(self, kind: DiffKind, path: Path, state: int, value: Any) -> None:
        """A value on one side only (MISSING or EXTRA), unless a rule hides it."""
        if state and self.infos[state].hide:
            self.hidden(state)
        elif kind is MISSING:
            self.record(MISSING, path, value, ABSENT)
        else:
            self.record(EXTRA, path, ABSENT, value)

    def hidden(self, state: int) -> None:
        if self.infos[state].hide == IGNORE:
            self.ignored += 1
        else:
            self.noise += 1

    def record(self, kind: DiffKind, path: Path, a: object, b: object, equivalence: str | None = None) -> None:
        (self.diffs if equivalence is None else self.equivs).append((kind, path, a, b, equivalence))

    def mark(self) -> tuple[int, int, int, int]:
        return len(self.diffs), len(self.equivs), self.ignored, self.noise

    def rollback(self, mark: tuple[int, int, int, int]) -> None:
        del self.diffs[mark[0]:], self.equivs[mark[1]:]
        self.ignored, self.noise = mark[2], mark[3]

    def freeze(self, value: Any, state: int) -> Any:
        """`_freeze` under the rules at `state`: hidden values left out, unordered lists as multisets."""
        if not state:
            return _freeze(value)
        kind = type(value)
        if kind is dict:
            step, infos = self.matcher.step, self.infos
            return ("o", frozenset((k, self.freeze(v, s)) for k, v in value.items()
                                   if not ((s := step(state, k)) and infos[s].hide)))
        if kind is list:
            item = self.matcher.any_item(state)
            if item and self.infos[item].hide:
                return ("a", ())
            items = [self.freeze(v, item) for v in value]
            if self.infos[state].unordered is not NO_RULE:
                return ("m", frozenset(Counter(items).items()))
            return ("a", tuple(items))
        return _freeze(value)

    def result(self) -> DiffResult:
        differences = tuple(map(_difference, self.diffs))
        equivalences = tuple(map(_difference, self.equivs))
        verdict = Verdict.MISMATCH if differences else Verdict.EQUIVALENT if equivalences else Verdict.MATCH
        return DiffResult(verdict, differences, equivalences, self.ignored, self.noise)


def _difference(record: _Record) -> Difference:
    kind, parts, a, b, equivalence = record
    path, pattern = render_with_shape(parts)
    return Difference(kind, path, _shown(a), _shown(b), equivalence, pattern)


def _shown(value: Any) -> Any:
    try:
        return _plain(value)
    except RecursionError:  # a MISSING/EXTRA subtree nested deeper than Python recurses
        return "<nested too deep to show>"


def _bytes_summary(body: bytes, differs_at: int) -> dict[str, object]:
    # No digest of the bytes: a hash of a short body (a login form, a token page) can be checked
    # against guesses offline, and results are stored and shown.
    return {"length": len(body), "differs_at": differs_at}


def _first_difference(a: bytes, b: bytes) -> int:
    """The offset of the first byte that differs (the shorter length when one is a prefix of the other)."""
    low, high = 0, min(len(a), len(b))
    if a[:high] == b[:high]:
        return high
    while high - low > 1:  # a[:low] is equal, a[:high] is not; each test is one C-level comparison
        middle = (low + high) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle
    return low


# -- numbers kept as JSON text ------------------------------------------------------------------

def _exact(value: Any) -> Any:
    """A parsed number as an exact value (int or Decimal); anything else unchanged."""
    if type(value) is not bytes:
        return value
    text = value.decode("ascii")
    if "." not in text and "e" not in text and "E" not in text:
        try:
            return int(text)
        except ValueError:  # more digits than int() reads by default: Decimal reads them all
            pass
    return Decimal(text)


def _same_number(a: Any, b: Any) -> bool:
    x, y = _exact(a), _exact(b)
    return x == y or (x != x and y != y)  # NaN is NaN on both sides


def _plain(value: Any) -> Any:
    """A parsed value as plain JSON data (numbers as int or float), for reporting."""
    kind = type(value)
    if kind is bytes:
        number = _exact(value)
        return number if type(number) is int else float(number)
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    if kind is list:
        return [_plain(v) for v in value]
    return value


def _freeze(value: Any) -> Any:
    """A hashable form of a parsed JSON value: equal exactly when the values are (1 and 1.0 too)."""
    kind = type(value)
    if kind is dict:
        return ("o", frozenset((k, _freeze(v)) for k, v in value.items()))
    if kind is list:
        return ("a", tuple(map(_freeze, value)))
    if kind is bytes:
        return _exact(value)
    if kind is bool:
        return ("b", value)  # True == 1 in Python; never in JSON
    return value


def _same(a: Any, b: Any) -> bool:
    """Exact JSON equality, numbers by value (for counting what rules hide)."""
    return a == b or _freeze(a) == _freeze(b)
