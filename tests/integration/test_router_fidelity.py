"""With every route on legacy the router must be invisible: the same requests, sent direct and through
the router to real upstreams (httpbin, a third-party app, and the monolith), get the same status,
body and end-to-end headers."""

import json
import os

import httpx
import pytest

from tests.support import processes

pytestmark = pytest.mark.slow

# Headers that legitimately differ: when the response was made, and what the router adds.
VOLATILE = {"date", "x-request-id", "x-strangler-served-by", "content-length", "transfer-encoding", "connection", "keep-alive"}
# What the router adds on the way in (and the hop-by-hop Connection it must drop), as httpbin echoes it.
ADDED_REQUEST_HEADERS = {"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Request-Id", "Connection"}


def write_config(path, legacy_url: str, routes: str = "[]") -> None:
    path.write_text(f"""
version: 1
upstreams:
  legacy: {{url: "{legacy_url}"}}
  inventory: {{url: "http://127.0.0.1:9"}}
groups:
  inventory: {{upstream: inventory}}
routes: {routes}
""")


@pytest.fixture(scope="module")
def httpbin_pair(tmp_path_factory):
    """(direct URL, router URL) with httpbin under gunicorn as the legacy upstream."""
    logs = tmp_path_factory.mktemp("httpbin")
    upstream = processes.gunicorn("httpbin", "httpbin:app", processes.free_port(), logs, workers=2, ready_path="/get")
    config = logs / "strangler.yaml"
    write_config(config, upstream.url)
    router = processes.router(processes.free_port(), logs, config, f"sqlite:///{logs / 'control.sqlite3'}")
    yield upstream.url, router.url
    router.stop()
    upstream.stop()


def _end_to_end(headers: httpx.Headers) -> list[tuple[str, str]]:
    return sorted((k.lower(), v) for k, v in headers.multi_items() if k.lower() not in VOLATILE)


def _echo(body: bytes):
    """httpbin's JSON echo without the headers the router adds on purpose."""
    data = json.loads(body)
    if isinstance(data, dict) and isinstance(data.get("headers"), dict):
        data["headers"] = {k: v for k, v in data["headers"].items() if k not in ADDED_REQUEST_HEADERS and k != "Host"}
        # aiohttp frames a bodiless DELETE with an explicit Content-Length: 0 (the same empty body).
        if data["headers"].get("Content-Length") == "0":
            del data["headers"]["Content-Length"]
    if isinstance(data, dict) and "url" in data:
        data["url"] = data["url"].split("/", 3)[-1]  # the Host is kept, so only the port differs
    return data


def both(pair, method, path, **kwargs):
    direct_url, router_url = pair
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        direct = client.request(method, direct_url + path, **kwargs)
        routed = client.request(method, router_url + path, **kwargs)
    return direct, routed


@pytest.mark.parametrize("method, path, kwargs", [
    ("GET", "/get?a=1&b=two&b=three&empty=&enc=%2F%20%C3%A9", {}),
    ("POST", "/post", {"json": {"order": 42, "lines": [1, 2, 3]}}),
    ("PUT", "/put", {"content": b"raw bytes \x00\xff", "headers": {"Content-Type": "application/octet-stream"}}),
    ("PATCH", "/patch", {"data": {"form": "value", "other": "x y"}}),
    ("DELETE", "/delete", {}),
    ("GET", "/anything/deep/path;param?q=%E2%9C%93", {"headers": {"X-Custom": "kept", "Cookie": "a=1; b=2"}}),
])
def test_json_echo_endpoints_match(httpbin_pair, method, path, kwargs):
    direct, routed = both(httpbin_pair, method, path, **kwargs)
    assert routed.status_code == direct.status_code == 200
    assert _echo(routed.content) == _echo(direct.content)
    assert _end_to_end(routed.headers) == _end_to_end(direct.headers)


@pytest.mark.parametrize("path", ["/status/404", "/status/500", "/status/418", "/status/204", "/status/401"])
def test_error_statuses_pass_through(httpbin_pair, path):
    direct, routed = both(httpbin_pair, "GET", path)
    assert routed.status_code == direct.status_code
    assert routed.content == direct.content
    assert _end_to_end(routed.headers) == _end_to_end(direct.headers)


def test_redirects_are_passed_untouched(httpbin_pair):
    direct, routed = both(httpbin_pair, "GET", "/redirect-to?url=/get&status_code=307")
    assert routed.status_code == direct.status_code == 307
    assert routed.headers["location"] == direct.headers["location"] == "/get"


def test_every_set_cookie_is_kept(httpbin_pair):
    direct, routed = both(httpbin_pair, "GET", "/response-headers?Set-Cookie=a%3D1&Set-Cookie=b%3D2&Set-Cookie=c%3D3")
    assert routed.headers.get_list("set-cookie") == direct.headers.get_list("set-cookie") == ["a=1", "b=2", "c=3"]


def test_gzip_body_is_passed_compressed(httpbin_pair):
    direct, routed = both(httpbin_pair, "GET", "/gzip", headers={"Accept-Encoding": "gzip"})
    assert routed.headers["content-encoding"] == "gzip"
    assert _echo(routed.content) == _echo(direct.content)  # httpx decompressed both


def test_streamed_chunked_response(httpbin_pair):
    direct, routed = both(httpbin_pair, "GET", "/stream/50")
    assert routed.status_code == 200
    assert [_echo(line.encode()) for line in routed.text.splitlines()] == [_echo(line.encode()) for line in direct.text.splitlines()]
    assert len(routed.text.splitlines()) == 50


def test_large_binary_response(httpbin_pair):
    direct, routed = both(httpbin_pair, "GET", "/stream-bytes/102400?seed=7&chunk_size=4096")
    assert len(routed.content) == 102_400  # httpbin's cap; the 3 MB echo below is the large response
    assert routed.content == direct.content


def test_large_and_chunked_request_bodies(httpbin_pair):
    payload = os.urandom(3_000_000)
    direct, routed = both(httpbin_pair, "POST", "/anything", content=payload,
                          headers={"Content-Type": "application/octet-stream"})
    assert routed.status_code == 200
    assert json.loads(routed.content)["data"] == json.loads(direct.content)["data"]

    def chunks():
        for i in range(20):
            yield f"chunk-{i};".encode() * 100

    _, router_url = httpbin_pair
    routed = httpx.post(router_url + "/anything", content=chunks(), timeout=30)
    assert routed.status_code == 200
    assert json.loads(routed.content)["data"] == b"".join(chunks()).decode()


def test_head_has_headers_and_no_body(httpbin_pair):
    direct, routed = both(httpbin_pair, "HEAD", "/html")
    assert routed.status_code == direct.status_code == 200
    assert routed.content == b""
    assert routed.headers["content-length"] == direct.headers["content-length"]


def test_request_id_is_propagated_or_created(httpbin_pair):
    _, router_url = httpbin_pair
    given = httpx.get(router_url + "/get?show_env=1", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    assert given.json()["headers"]["X-Request-Id"] == "abc-123"
    created = httpx.get(router_url + "/get?show_env=1")
    assert len(created.headers["x-request-id"]) == 32
    assert created.json()["headers"]["X-Request-Id"] == created.headers["x-request-id"]


def test_forwarded_headers_are_set_by_the_router(httpbin_pair):
    _, router_url = httpbin_pair
    echoed = httpx.get(router_url + "/headers?show_env=1", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}).json()["headers"]
    assert echoed["X-Forwarded-Proto"] == "http"
    assert echoed["X-Forwarded-Host"] == router_url.removeprefix("http://")
    assert echoed["X-Forwarded-For"] == "127.0.0.1"
