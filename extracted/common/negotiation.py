"""Content negotiation as DRF does it before anything else (authentication included): the format
suffix of a detail URL (``/warehouses/1.json/``), ``?format=``, then the Accept header.

The monolith renders JSON and, for browsers, its browsable API (text/html). DRF answers 404 "Not found."
for a format it has no renderer for, and 406 when no renderer satisfies the Accept header; note that it
orders Accept entries by specificity only and ignores q-values. The service renders JSON only: where
the monolith would choose its HTML renderer, the service still answers JSON (a known, documented
difference: the browsable API stays a monolith feature).

Detail routes whose lookup is ``[^/.]+`` take DRF's format suffix; `Lookup` splits it off. A lookup
with a dot that is not such a suffix matches no URL pattern in the monolith: Django's 404 page.
"""

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from extracted.common.errors import APIError, not_found
from extracted.common.query import QueryParams, TooManyFields

FORMAT_PARAM = "format"
JSON, HTML = "json", "html"
_RENDERERS = ((JSON, "application", "json"), (HTML, "text", "html"))  # DRF's order: JSON first
_FORMATS = {"json": JSON, "api": HTML}
_LOOKUP = re.compile(r"([^/.]+)(?:\.([a-z0-9]+))?")
_STATE_PARAMS = "query_params"


class NotAcceptable(APIError):
    def __init__(self) -> None:
        super().__init__(406, {"detail": "Could not satisfy the request Accept header."})


def select_renderer(accept: str | None, format_: str | None) -> str:
    """JSON or HTML, the renderer DRF's DefaultContentNegotiation picks; 404 or 406 when none fits."""
    renderers = _RENDERERS
    if format_:
        if format_ not in _FORMATS:
            raise not_found()
        renderers = tuple(r for r in _RENDERERS if r[0] == _FORMATS[format_])
    accepted = [_media_type(token.strip()) for token in (accept if accept is not None else "*/*").split(",")]
    for precedence in (3, 2, 1, 0):
        group = [m for m in accepted if m[2] == precedence]
        for name, main, sub in renderers:
            for accept_main, accept_sub, _ in group:
                if (sub == accept_sub or accept_sub == "*") and (main == accept_main or accept_main == "*"):
                    return name
    raise NotAcceptable()


def _media_type(text: str) -> tuple[str, str, int]:
    """(main type, subtype, DRF precedence) of one Accept entry."""
    full, *params = text.split(";")
    main, _, sub = full.strip().lower().partition("/")
    names = [p.split("=", 1)[0].strip().lower() for p in params if "=" in p]
    if main == "*":
        precedence = 0
    elif sub == "*":
        precedence = 1
    elif not names or names == ["q"]:
        precedence = 2
    else:
        precedence = 3
    return main, sub, precedence


@dataclass(frozen=True, slots=True)
class Lookup:
    """A detail route's lookup value with DRF's format suffix split off."""

    value: str
    format: str | None = None


def pk_lookup(pk: str) -> Lookup:
    """FastAPI dependency for a ``{pk}`` path parameter: DRF's ``[^/.]+`` lookup plus format suffix."""
    match = _LOOKUP.fullmatch(pk)
    if match is None:
        raise HTTPException(404)  # rendered as Django's 404 page: no URL pattern of the monolith matches
    return Lookup(match[1], match[2])


def query_params(request: Request) -> QueryParams:
    """FastAPI dependency: the query string as Django reads it, parsed once per request."""
    state = request.scope.setdefault("state", {})
    params = state.get(_STATE_PARAMS)
    if params is None:
        try:
            params = QueryParams.parse(request.scope.get("query_string", b""))
        except TooManyFields:
            raise HTTPException(400) from None  # Django's 400 page (TooManyFieldsSent)
        state[_STATE_PARAMS] = params
    return params


Params = Annotated[QueryParams, Depends(query_params)]
PkLookup = Annotated[Lookup, Depends(pk_lookup)]


def negotiate(request: Request, params: Params) -> str:
    """Route dependency of list routes: 404/406 before authentication, as DRF."""
    return select_renderer(request.headers.get("accept"), params.get(FORMAT_PARAM))


def negotiate_detail(request: Request, params: Params, lookup: PkLookup) -> str:
    """Route dependency of ``{pk}`` detail routes: the format suffix wins over ``?format=``."""
    return select_renderer(request.headers.get("accept"), lookup.format or params.get(FORMAT_PARAM))

