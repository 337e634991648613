"""extracted.common.pagination against DRF and Django themselves: the same page for the same ``?page=``,
the same absolute URL for the same request, the same next/previous links (hypothesis: generated URLs,
queries, hosts and page values)."""

import io

from django.core.handlers.wsgi import WSGIRequest
from django.core.paginator import InvalidPage, Paginator
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.utils.urls import remove_query_param as drf_remove
from rest_framework.utils.urls import replace_query_param as drf_replace
from starlette.requests import Request

from extracted.common.errors import APIError
from extracted.common.pagination import (
    Page,
    absolute_uri,
    page_links,
    remove_query_param,
    replace_query_param,
    resolve_page,
)

_QUERY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00#"), max_size=30)
_SAFE_PATHS = st.sampled_from(["/api/inventory/stock/", "/api/inventory/movements/", "/a b/ü/", "/x%y/"])
_HOSTS = st.sampled_from(["testserver", "localhost:8000", "127.0.0.1:9000", "shop.example.com"])


@settings(max_examples=300, deadline=None)
@given(query=_QUERY_TEXT, value=st.integers(min_value=1, max_value=10**6))
def test_query_params_are_replaced_and_removed_exactly_as_drf_does(query, value):
    url = f"http://testserver/api/inventory/stock/?{query}"
    assert replace_query_param(url, "page", value) == drf_replace(url, "page", value)
    assert remove_query_param(url, "page") == drf_remove(url, "page")


def _drf_page_number(raw: str | None, count: int) -> int | None:
    """What PageNumberPagination + Django's Paginator make of ``?page=raw`` (None: "Invalid page.")."""
    paginator = Paginator(range(count), 25)
    number = raw or 1
    if number in ("last",):
        number = paginator.num_pages
    try:
        return paginator.page(number).number
    except InvalidPage:
        return None


@settings(max_examples=400, deadline=None)
@given(raw=st.one_of(st.none(), st.sampled_from(["", "last", "LAST", "0", "-1", "1.0", " 2", "+3", "2_0", "٣", "1e1"]),
                     st.integers(min_value=-3, max_value=40).map(str), st.text(max_size=6)),
       count=st.integers(min_value=0, max_value=700))
def test_the_page_is_the_one_drf_serves_and_invalid_pages_are_404(raw, count):
    expected = _drf_page_number(raw, count)
    try:
        page = resolve_page(raw, count)
    except APIError as exc:
        assert (exc.status, exc.body) == (404, {"detail": "Invalid page."})
        assert expected is None, f"DRF serves page {expected} for {raw!r}"
        return
    assert page.number == expected


def _both_requests(path: str, query: bytes, host: str, scheme: str) -> tuple[Request, WSGIRequest]:
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": query,
             "scheme": scheme, "headers": [(b"host", host.encode())], "server": ("127.0.0.1", 80)}
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path.encode().decode("latin-1"),
               "QUERY_STRING": query.decode("latin-1"), "HTTP_HOST": host, "wsgi.url_scheme": scheme,
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "wsgi.input": io.BytesIO()}
    return Request(scope), WSGIRequest(environ)


@override_settings(ALLOWED_HOSTS=["*"])
@settings(max_examples=200, deadline=None)
@given(path=_SAFE_PATHS, query=st.binary(max_size=40).filter(lambda b: b"#" not in b), host=_HOSTS,
       scheme=st.sampled_from(["http", "https"]))
def test_the_absolute_uri_is_djangos_build_absolute_uri(path, query, host, scheme):
    ours, django = _both_requests(path, query, host, scheme)
    assert absolute_uri(ours) == django.build_absolute_uri()


@override_settings(ALLOWED_HOSTS=["*"])
@settings(max_examples=200, deadline=None)
@given(query=st.binary(max_size=40).filter(lambda b: b"#" not in b), number=st.integers(min_value=1, max_value=5))
def test_next_and_previous_links_are_drfs(query, number):
    from rest_framework.pagination import PageNumberPagination
    from rest_framework.request import Request as DRFRequest

    ours, django = _both_requests("/api/inventory/stock/", query, "testserver", "http")
    paginator = PageNumberPagination()
    paginator.page_size = 25
    paginator.request = DRFRequest(django)
    paginator.page = Paginator(range(101), 25).page(number)
    expected = (paginator.get_next_link(), paginator.get_previous_link())
    assert page_links(absolute_uri(ours), Page(number, 101)) == expected

