"""Response bodies byte for byte as the monolith's DRF writes them: compact JSON, and datetimes as
DRF's DateTimeField renders them.

Byte-identical bodies are the cheap case of the parity engine (no parsing) and leave nothing for a
client to notice: DRF's JSONRenderer writes ``separators=(",", ":")``, ``ensure_ascii=False``, refuses
NaN, and escapes U+2028/U+2029 so that the output stays a JavaScript subset.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json"
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def render_json(data: Any) -> bytes:
    """`data` as DRF's JSONRenderer (COMPACT_JSON, UNICODE_JSON, STRICT_JSON) encodes it."""
    text = _ENCODER.encode(data)
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode()


def drf_datetime(value: datetime | None) -> str | None:
    """A datetime as DRF renders it with TIME_ZONE=UTC: ISO 8601 in UTC, ``Z`` for the offset, and
    microseconds only when they are not zero (``datetime.isoformat`` does the latter)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class DRFJSONResponse(Response):
    """A JSON response rendered by `render_json`, with DRF's ``Content-Type: application/json``."""

    media_type = JSON_MEDIA_TYPE

    def __init__(self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None):
        super().__init__(content, status_code=status_code, headers=headers)

    def render(self, content: Any) -> bytes:
        return render_json(content)
