"""A reader for tnetstrings, the serialisation of mitmproxy flow files, so the project never imports mitmproxy.

A tnetstring is `<length>:<data><type>`: the length in ASCII digits, then exactly that many bytes of
data, then one type character::

    ,  bytes          ;  UTF-8 text       #  integer       ^  float
    !  true / false   ~  null (no data)   ]  list of tnetstrings
    }  dict: alternating key and value tnetstrings

A flow file is tnetstrings back to back, one dict per flow. As mitmproxy does (mitmproxy/io/tnetstring.py),
dict keys are returned as `str` (byte keys of old files decoded, surrogate-escaped); other byte strings
stay `bytes`. Only reading is implemented: the project never writes flow files.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_MAX_LENGTH_DIGITS = 12  # as mitmproxy: a longer length prefix is corruption, not a 1 TB value


class TNetstringError(ValueError):
    """Malformed data: `offset` is where in the input the bad value starts."""

    def __init__(self, offset: int, problem: str) -> None:
        self.offset, self.problem = offset, problem
        super().__init__(f"at byte {offset}: {problem}")


def loads(data: bytes) -> Any:
    """The single value encoded in `data` (trailing bytes are an error)."""
    value, end = _parse(memoryview(data), 0, len(data))
    if end != len(data):
        raise TNetstringError(end, f"{len(data) - end} unexpected bytes after the value")
    return value


def iter_values(data: bytes) -> Iterator[tuple[int, Any]]:
    """Each value of a stream of back-to-back tnetstrings, with the offset it starts at."""
    view = memoryview(data)
    offset = 0
    while offset < len(view):
        value, end = _parse(view, offset, len(view))
        yield offset, value
        offset = end


def _parse(view: memoryview, start: int, end: int) -> tuple[Any, int]:
    """Parse the value at `start`, which must end by `end`; returns it and the offset just after it.

    Offsets are positions in the whole input, so errors point at the right byte of a file.
    """
    colon = start
    limit = min(end, start + _MAX_LENGTH_DIGITS)
    while colon < limit and 0x30 <= view[colon] <= 0x39:
        colon += 1
    if colon == start or colon >= end or view[colon] != 0x3A:  # ':'
        found = bytes(view[start:min(end, start + 16)])
        raise TNetstringError(start, f"expected a length prefix such as '12:', found {found!r}")
    length = int(bytes(view[start:colon]))
    data_start = colon + 1
    type_at = data_start + length
    if type_at >= end:
        raise TNetstringError(start, f"a value of {length} bytes runs past the end of its container or file")
    try:
        value = _value(view, view[type_at], data_start, type_at)
    except UnicodeDecodeError as exc:
        raise TNetstringError(start, f"text that is not UTF-8 ({exc.reason})") from None
    return value, type_at + 1


def _value(view: memoryview, kind: int, start: int, end: int) -> Any:
    data = view[start:end]
    if kind == 0x2C:  # ,
        return data.tobytes()
    if kind == 0x3B:  # ;
        return str(data, "utf-8")
    if kind == 0x23:  # #
        try:
            return int(bytes(data))
        except ValueError:
            raise TNetstringError(start, f"invalid integer {bytes(data)!r}") from None
    if kind == 0x5E:  # ^
        try:
            return float(bytes(data))
        except ValueError:
            raise TNetstringError(start, f"invalid float {bytes(data)!r}") from None
    if kind == 0x21:  # !
        if data == b"true":
            return True
        if data == b"false":
            return False
        raise TNetstringError(start, f"invalid boolean {bytes(data)!r}")
    if kind == 0x7E:  # ~
        if start != end:
            raise TNetstringError(start, "a null with data")
        return None
    if kind == 0x5D:  # ]
        items, at = [], start
        while at < end:
            item, at = _parse(view, at, end)
            items.append(item)
        return items
    if kind == 0x7D:  # }
        mapping, at = {}, start
        while at < end:
            key_at = at
            key, at = _parse(view, at, end)
            if at >= end:
                raise TNetstringError(key_at, "a dict key without a value")
            value, at = _parse(view, at, end)
            if isinstance(key, bytes):
                key = key.decode("ascii", "surrogateescape")
            elif not isinstance(key, str):
                raise TNetstringError(key_at, f"a dict key must be a string, got {type(key).__name__}")
            mapping[key] = value
        return mapping
    raise TNetstringError(end, f"unknown type character {chr(kind)!r}")
