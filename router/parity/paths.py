"""Paths into a compared response, and the patterns that select them for rules.

A *path* names one value: a root (`status`, `headers` or `body`) followed by object keys (`.price`, or
`["odd.key"]` when the key is not a plain name), list positions (`[3]`) and, in lists matched by a key
field, items (`[sku="TG-1"]`, the key's value written as JSON). Differences report paths.

A *pattern* selects paths for the rules (ignore, noise, unordered): the same syntax plus `*` (any one
key), `[*]` (any list position or keyed item) and `**` (any number of segments, none included). A
path with its positions replaced by `[*]` (`generalise`) is the *shape* of a difference: signatures
and per-path counts group by it, and it is itself a valid pattern, so learned noise can become a rule.

Paths are handled as tuples of segments (`str` key, `int` position, `ItemKey`, or a `Wildcard`) and
written as text only at the edges: when a difference is reported or a rule is read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]  # C, no ASCII escaping

ROOTS = ("status", "headers", "body")

_NAME = re.compile(r"[A-Za-z0-9_-]+")  # keys written bare; anything else is quoted
_DIGITS = re.compile(r"[0-9]+")
_DECODER = json.JSONDecoder()
_KEY_TEXT: dict[str, str] = {}  # key -> ".key" or '["key"]': the same keys are rendered over and over
_KEY_TEXT_MAX = 10_000  # keys that are data (ids as object keys) must not grow it without bound


class PathSyntaxError(ValueError):
    """A path or pattern that cannot be read; `problem` says what is wrong and where."""

    def __init__(self, text: object, problem: str) -> None:
        self.text, self.problem = text, problem
        super().__init__(f"{problem} in {text!r}")


@dataclass(frozen=True, slots=True)
class Wildcard:
    """A pattern segment matching more than one concrete segment: `*`, `[*]` or `**`."""

    symbol: str

    def __repr__(self) -> str:
        return self.symbol


ANY_KEY = Wildcard("*")
ANY_INDEX = Wildcard("[*]")
ANY_DEPTH = Wildcard("**")


@dataclass(frozen=True, slots=True)
class ItemKey:
    """An item of a list matched by a key field: `[sku="TG-1"]`. `value` is the key's value as JSON text."""

    field: str
    value: str

    @classmethod
    def of(cls, field: str, value: object) -> ItemKey:
        kind = type(value)
        if kind is str:  # the usual keys (ids, SKUs, slugs) without the cost of json.dumps
            return cls(field, encode_basestring(value))
        if kind is int:
            return cls(field, str(value))
        return cls(field, _json(value))


Segment = str | int | ItemKey | Wildcard


def render(parts: tuple[Segment, ...]) -> str:
    """The text of a path or pattern; `parse_path(render(p)) == p`."""
    return "".join([_segment(part, i) for i, part in enumerate(parts)])


def render_with_shape(parts: tuple[Segment, ...]) -> tuple[str, str]:
    """`render(parts)` and `render(generalise(parts))` in one pass: what each reported difference needs."""
    path: list[str] = []
    shape: list[str] = []
    for i, part in enumerate(parts):
        text = _segment(part, i)
        path.append(text)
        shape.append("[*]" if type(part) is int or type(part) is ItemKey else text)
    return "".join(path), "".join(shape)


def _segment(part: Segment, i: int) -> str:
    if type(part) is str:
        text = _KEY_TEXT.get(part)
        if text is None:
            text = "." + part if _NAME.fullmatch(part) else f"[{_json(part)}]"
            if len(_KEY_TEXT) < _KEY_TEXT_MAX:
                _KEY_TEXT[part] = text
        return text[1:] if i == 0 and text[0] == "." else text
    if type(part) is int:
        return f"[{part}]"
    if type(part) is ItemKey:
        name = part.field if _NAME.fullmatch(part.field) else _json(part.field)
        return f"[{name}={part.value}]"
    if part is ANY_INDEX:
        return "[*]"
    return part.symbol if i == 0 else "." + part.symbol  # `*` and `**` read as keys


def generalise(parts: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """The shape of a path: every list position and keyed item replaced by `[*]`."""
    return tuple(ANY_INDEX if type(p) is int or type(p) is ItemKey else p for p in parts)


def parse_path(text: str) -> tuple[Segment, ...]:
    """Read a path or pattern into segments; PathSyntaxError says what is wrong and where."""
    if not isinstance(text, str) or not text:
        raise PathSyntaxError(text, "empty path")
    parts: list[Segment] = []
    pos, end = 0, len(text)
    while pos < end:
        char = text[pos]
        if char == "[":
            part, pos = _bracket(text, pos)
        elif char == "." and parts:
            part, pos = _name(text, pos + 1)
        elif not parts:
            part, pos = _name(text, pos)
        else:
            raise PathSyntaxError(text, f"unexpected {char!r} at character {pos + 1} (expected '.' or '[')")
        parts.append(part)
    return tuple(parts)


def parse_pattern(text: str) -> tuple[Segment, ...]:
    """Read a rule's pattern: a path that starts at a root (or `*`/`**`) and selects items with `[*]`."""
    parts = parse_path(text)
    root = parts[0]
    if root not in ROOTS and root is not ANY_DEPTH and root is not ANY_KEY:
        hint = f" (did you mean 'body.{text}'?)" if not isinstance(root, Wildcard) else ""
        raise PathSyntaxError(text, f"a pattern starts with status, headers, body or **{hint}")
    if any(type(p) is ItemKey for p in parts):
        raise PathSyntaxError(text, "a keyed item such as [sku=...] names one item; use [*] in patterns")
    return parts


def _name(text: str, pos: int) -> tuple[Segment, int]:
    if text.startswith("**", pos):
        return ANY_DEPTH, pos + 2
    if text.startswith("*", pos):
        return ANY_KEY, pos + 1
    match = _NAME.match(text, pos)
    if not match:
        what = f"{text[pos]!r}" if pos < len(text) else "the end"
        raise PathSyntaxError(text, f"no key name at character {pos + 1} (found {what}; "
                                    'a key that is not letters, digits, _ and - is quoted: ["my key"])')
    return match.group(), match.end()


def _bracket(text: str, pos: int) -> tuple[Segment, int]:
    start = pos
    pos += 1
    if "]" not in text[pos:]:
        raise PathSyntaxError(text, f"unclosed '[' at character {start + 1}")
    if text.startswith("*]", pos):
        return ANY_INDEX, pos + 2
    digits = _DIGITS.match(text, pos)
    if digits:
        part: Segment = int(digits.group())
        pos = digits.end()
    else:
        if text.startswith('"', pos):
            key, pos = _json_at(text, pos, start)  # a JSON string: '"' opens nothing else
        else:
            match = _NAME.match(text, pos)
            if not match or not text.startswith("=", match.end()):
                raise PathSyntaxError(text, f"cannot read the '[' at character {start + 1} "
                                            '(write [n], [*], ["key"] or [field=value])')
            key, pos = match.group(), match.end()
        if text.startswith("=", pos):
            value, pos = _json_at(text, pos + 1, start)
            part = ItemKey.of(key, value)
        else:
            part = key
    if not text.startswith("]", pos):
        raise PathSyntaxError(text, f"expected ']' at character {pos + 1} to close the '[' at character {start + 1}")
    return part, pos + 1


def _json_at(text: str, pos: int, start: int) -> tuple[object, int]:
    try:
        return _DECODER.raw_decode(text, pos)
    except ValueError:
        raise PathSyntaxError(text, f"bad quoted text in the '[' at character {start + 1}") from None


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
