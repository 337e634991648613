"""The request's query string as Django's QueryDict reads it, so filters see the values DRF sees.

Differences from Starlette's own ``request.query_params`` that matter for parity: the raw bytes are
decoded as UTF-8 first (latin-1 only when that fails), and `get` returns the *last* value of a repeated
parameter (``?page=1&page=2`` is page 2), as ``QueryDict.get`` does.
"""

from urllib.parse import parse_qsl

# settings.DATA_UPLOAD_MAX_NUMBER_FIELDS: Django refuses more fields than this (400).
MAX_FIELDS = 1000


class TooManyFields(ValueError):
    """More query parameters than Django accepts."""


class QueryParams:
    """Query parameters in order, with Django's last-value-wins `get`."""

    __slots__ = ("_lists",)

    def __init__(self, pairs: list[tuple[str, str]]):
        lists: dict[str, list[str]] = {}
        for key, value in pairs:
            lists.setdefault(key, []).append(value)
        self._lists = lists

    @classmethod
    def parse(cls, query_string: bytes) -> "QueryParams":
        if not query_string:
            return cls([])
        try:
            text = query_string.decode("utf-8")
        except UnicodeDecodeError:
            text = query_string.decode("iso-8859-1")
        try:
            pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", max_num_fields=MAX_FIELDS)
        except ValueError as exc:
            raise TooManyFields(str(exc)) from exc
        return cls(pairs)

    def get(self, key: str, default: str | None = None) -> str | None:
        values = self._lists.get(key)
        return values[-1] if values else default

    def getlist(self, key: str) -> list[str]:
        return list(self._lists.get(key, ()))

    def __contains__(self, key: str) -> bool:
        return key in self._lists
