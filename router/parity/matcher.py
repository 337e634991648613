"""Which rule applies at a path, answered one segment at a time while the comparison walks down.

The rules' patterns are compiled together into an automaton built lazily: a *state* is a small int
standing for "the patterns that can still match below here", and `step(state, segment)` is one dict
lookup once a transition has been seen. State `DEAD` (0) means no pattern can match at or below a
value, so the comparison takes its fast path there and never builds or matches paths at all -- with
no rules, or under subtrees the rules do not mention, matching costs nothing.

Segments are classed before lookup (a key the patterns never name is "any other key", a position
they never name is "any other position"), so the transition table stays as small as the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from router.parity.paths import ANY_DEPTH, ANY_INDEX, ANY_KEY, Segment

DEAD = 0
IGNORE = "ignore"
NOISE = "noise"
NO_RULE = object()  # `unordered` of a state where no unordered-list rule applies

_OTHER_KEY = object()
_OTHER_INDEX = object()


@dataclass(frozen=True, slots=True)
class StateInfo:
    """What the rules say about the value at a state: hide it (`IGNORE`/`NOISE`), or compare it unordered."""

    hide: str | None = None
    unordered: object = NO_RULE  # NO_RULE, None (compare as a multiset) or the key field to match items by


@dataclass(frozen=True, slots=True)
class Unordered:
    """Label of an unordered-list pattern: the field that identifies an item (None: multiset)."""

    key: str | None


class PathMatcher:
    """Lazily built automaton over labelled patterns (label: IGNORE, NOISE or an `Unordered`).

    When several patterns accept one path, IGNORE wins over NOISE, and the first unordered pattern
    (in the order given) decides the key field.
    """

    def __init__(self, patterns: Sequence[tuple[tuple[Segment, ...], object]]) -> None:
        self._patterns = [p for p, _ in patterns]
        self._labels = [label for _, label in patterns]
        self._keys = frozenset(s for p in self._patterns for s in p if type(s) is str)
        self._indexes = frozenset(s for p in self._patterns for s in p if type(s) is int)
        self._positions: list[frozenset[tuple[int, int]]] = [frozenset()]
        self._ids: dict[frozenset[tuple[int, int]], int] = {frozenset(): DEAD}
        self.infos: list[StateInfo] = [StateInfo()]  # indexed by state
        self._next: dict[tuple[int, object], int] = {}
        self.start = self._intern(self._closure({(i, 0) for i in range(len(self._patterns))}))

    def step(self, state: int, segment: object) -> int:
        """The state below `state` through `segment` (a key, a position or an ItemKey)."""
        kind = type(segment)
        if kind is str:
            cls = segment if segment in self._keys else _OTHER_KEY
        elif kind is int:
            cls = segment if segment in self._indexes else _OTHER_INDEX
        else:
            cls = _OTHER_INDEX  # a keyed item is a list item: only `[*]` selects it
        try:
            return self._next[state, cls]
        except KeyError:
            nxt = self._next[state, cls] = self._intern(self._advance(state, cls))
            return nxt

    def any_item(self, state: int) -> int:
        """The state of a list item whose position no pattern names (used to compare items out of order)."""
        return self.step(state, _OTHER_INDEX)

    def walk(self, parts: Sequence[object]) -> int:
        """The state at a whole path (tests and one-off lookups)."""
        state = self.start
        for part in parts:
            state = self.step(state, part)
        return state

    # -- construction -------------------------------------------------------------------------------

    def _advance(self, state: int, cls: object) -> set[tuple[int, int]]:
        moved: set[tuple[int, int]] = set()
        for p, i in self._positions[state]:
            pattern = self._patterns[p]
            if i == len(pattern):
                continue
            want = pattern[i]
            if want is ANY_DEPTH:
                moved.add((p, i))  # `**` takes this segment and may take more
            elif _accepts(want, cls):
                moved.add((p, i + 1))
        return self._closure(moved)

    def _closure(self, positions: set[tuple[int, int]]) -> set[tuple[int, int]]:
        todo = list(positions)
        while todo:  # `**` may also match no segment: skip over it
            p, i = todo.pop()
            pattern = self._patterns[p]
            if i < len(pattern) and pattern[i] is ANY_DEPTH and (p, i + 1) not in positions:
                positions.add((p, i + 1))
                todo.append((p, i + 1))
        return positions

    def _intern(self, positions: set[tuple[int, int]]) -> int:
        key = frozenset(positions)
        state = self._ids.get(key)
        if state is None:
            state = self._ids[key] = len(self._positions)
            self._positions.append(key)
            self.infos.append(self._info(key))
        return state

    def _info(self, positions: frozenset[tuple[int, int]]) -> StateInfo:
        accepted = sorted(p for p, i in positions if i == len(self._patterns[p]))
        labels = [self._labels[p] for p in accepted]
        hide = IGNORE if IGNORE in labels else NOISE if NOISE in labels else None
        unordered = next((label.key for label in labels if isinstance(label, Unordered)), NO_RULE)
        return StateInfo(hide, unordered)


def _accepts(want: object, cls: object) -> bool:
    if want is ANY_KEY:
        return type(cls) is str or cls is _OTHER_KEY
    if want is ANY_INDEX:
        return type(cls) is int or cls is _OTHER_INDEX
    return type(want) is type(cls) and want == cls
