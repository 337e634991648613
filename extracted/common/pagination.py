"""Pages as DRF's PageNumberPagination serves them: ``{"count", "next", "previous", "results"}``.

The page number comes from ``?page=`` (a number, or ``last``); anything Django's Paginator refuses
(not an integer, below 1, past the last page) is a 404 ``{"detail": "Invalid page."}``. An empty result
still has one (empty) page. ``next``/``previous`` are the request's absolute URL with the page
parameter replaced, built the way DRF builds them, so both sides give the same links for the same
request:

1. Django's ``request.build_absolute_uri()``: scheme + the Host header as received + the path escaped
   by ``escape_uri_path`` + ``?`` + the raw query string passed through ``iri_to_uri``;
2. ``rest_framework.utils.urls.replace_query_param`` (or ``remove_query_param`` for the link to page
   1): the query is parsed and re-encoded, sorted by key.

Use: count the filtered rows, `resolve_page` (which may raise the 404), fetch ``LIMIT page.size OFFSET
page.offset``, then `paginated_body`.
"""

from dataclasses import dataclass
from math import ceil
from typing import Any
from urllib import parse

from starlette.requests import Request

from extracted.common.errors import not_found
from extracted.common.query import QueryParams

PAGE_SIZE = 25
PAGE_PARAM = "page"
LAST_PAGE_STRINGS = ("last",)
INVALID_PAGE = "Invalid page."

# django.utils.encoding.iri_to_uri and escape_uri_path: what each leaves unescaped.
_IRI_SAFE = "/#%[]=:;$&()+,!?*@'~"
_PATH_SAFE = "/:@&+$,-_.!~*'()"


@dataclass(frozen=True, slots=True)
class Page:
    """One page of `count` results: its 1-based number and the slice it covers."""

    number: int
    count: int
    size: int = PAGE_SIZE

    @property
    def num_pages(self) -> int:
        return num_pages(self.count, self.size)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def num_pages(count: int, size: int = PAGE_SIZE) -> int:
    """Django's Paginator.num_pages with allow_empty_first_page: an empty list still has page 1."""
    return ceil(max(1, count) / size)


def resolve_page(raw: str | None, count: int, size: int = PAGE_SIZE) -> Page:
    """The page asked for by the raw ``?page=`` value, or the 404 DRF answers ("Invalid page.").

    Python's int() is Django's: it accepts surrounding whitespace, a sign, underscores and any
    Unicode digits, and refuses "1.0"."""
    pages = num_pages(count, size)
    if not raw:
        number: Any = 1
    elif raw in LAST_PAGE_STRINGS:
        number = pages
    else:
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise not_found(INVALID_PAGE) from None
    if number < 1 or number > pages:
        raise not_found(INVALID_PAGE)
    return Page(number, count, size)


def absolute_uri(request: Request) -> str:
    """Django's ``request.build_absolute_uri()`` for this request (see the module docstring)."""
    scope = request.scope
    host = request.headers.get("host")
    if not host:
        server = scope.get("server") or ("localhost", 80)
        default_port = 443 if scope.get("scheme") == "https" else 80
        host = server[0] if server[1] in (None, default_port) else f"{server[0]}:{server[1]}"
    location = parse.quote(scope["path"], safe=_PATH_SAFE)
    query = scope.get("query_string", b"").decode("latin-1")
    if query:
        location += "?" + parse.quote(query, safe=_IRI_SAFE)
    return parse.quote(f"{scope.get('scheme', 'http')}://{host}{location}", safe=_IRI_SAFE)


def replace_query_param(url: str, key: str, value: Any) -> str:
    """rest_framework.utils.urls.replace_query_param: set `key`, re-encode the query sorted."""
    scheme, netloc, path, query, fragment = parse.urlsplit(url)
    query_dict = parse.parse_qs(query, keep_blank_values=True)
    query_dict[key] = [str(value)]
    query = parse.urlencode(sorted(query_dict.items()), doseq=True)
    return parse.urlunsplit((scheme, netloc, path, query, fragment))


def remove_query_param(url: str, key: str) -> str:
    """rest_framework.utils.urls.remove_query_param: drop `key`, re-encode the query sorted."""
    scheme, netloc, path, query, fragment = parse.urlsplit(url)
    query_dict = parse.parse_qs(query, keep_blank_values=True)
    query_dict.pop(key, None)
    query = parse.urlencode(sorted(query_dict.items()), doseq=True)
    return parse.urlunsplit((scheme, netloc, path, query, fragment))


def page_links(url: str, page: Page) -> tuple[str | None, str | None]:
    """(next, previous) for `page` of the request whose absolute URL is `url`."""
    next_link = replace_query_param(url, PAGE_PARAM, page.number + 1) if page.has_next else None
    if not page.has_previous:
        previous_link = None
    elif page.number - 1 == 1:
        previous_link = remove_query_param(url, PAGE_PARAM)
    else:
        previous_link = replace_query_param(url, PAGE_PARAM, page.number - 1)
    return next_link, previous_link


def page_from_request(params: QueryParams, count: int, size: int = PAGE_SIZE) -> Page:
    """`resolve_page` for the request's ``?page=`` (its last value, as Django's QueryDict.get)."""
    return resolve_page(params.get(PAGE_PARAM), count, size)


def paginated_body(request: Request, page: Page, results: list[Any]) -> dict[str, Any]:
    """DRF's paginated response body for `results`, the rows of `page`."""
    if page.has_next or page.has_previous:
        next_link, previous_link = page_links(absolute_uri(request), page)
    else:
        next_link = previous_link = None
    return {"count": page.count, "next": next_link, "previous": previous_link, "results": results}
