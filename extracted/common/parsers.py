"""Request bodies read as the monolith's DRF parsers read them, with the same errors.

JSON (``application/json``) and HTML forms (``application/x-www-form-urlencoded``) are read; any other
content type with a body is a 415 ``Unsupported media type "<type>" in request.``, worded as DRF. An
empty body is ``{}`` (a form: an empty `FormData`). Invalid JSON is the 400 DRF gives, with the same
``JSON parse error - <json's message>`` text. Multipart bodies are not read (the service would need
python-multipart): 415, where the monolith would accept them; a known difference.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends
from starlette.requests import Request

from extracted.common.errors import parse_error, unsupported_media_type


class FormData(Mapping):
    """An HTML form body: `__getitem__` gives the last value of a key, as Django's QueryDict. DRF treats
    form input differently from JSON in places (missing booleans are False), hence its own type."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._values: dict[str, str] = {}
        for key, value in pairs:
            self._values[key] = value

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _strict_constant(value: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")


@dataclass(frozen=True, slots=True)
class RawBody:
    """A request body not parsed yet: DRF parses lazily, after permissions and the object lookup, so
    an endpoint reads the bytes up front (a dependency) and parses where DRF would."""

    content_type: str
    body: bytes


async def raw_body(request: Request) -> RawBody:
    """FastAPI dependency: the request's content type and body bytes."""
    return RawBody(request.headers.get("content-type", ""), await request.body())


def parse_body(raw: RawBody) -> Any:
    """The parsed body: JSON value, `FormData`, or ``{}`` when there is none; DRF's 400/415 otherwise."""
    media_type, _, params = raw.content_type.partition(";")
    media_type = media_type.strip().lower()
    if not raw.body:
        return FormData([]) if media_type in ("application/x-www-form-urlencoded", "multipart/form-data") else {}
    if media_type == "application/json":
        charset = _charset(params) or "utf-8"
        try:
            return json.loads(raw.body.decode(charset), parse_constant=_strict_constant)
        except (ValueError, LookupError) as exc:
            raise parse_error(f"JSON parse error - {exc}") from None
    if media_type == "application/x-www-form-urlencoded":
        charset = _charset(params) or "utf-8"
        return FormData(parse_qsl(raw.body.decode(charset, errors="replace"), keep_blank_values=True))
    raise unsupported_media_type(raw.content_type)


Body = Annotated[RawBody, Depends(raw_body)]


def _charset(params: str) -> str | None:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None
