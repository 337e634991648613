"""Bad input at the router: malformed requests, oversized bodies, ambiguous framing, header injection
and forged X-Strangler-* headers get a clear 4xx, nothing forged reaches an upstream, and the router
stays up."""

import socket
import time

import httpx
import pytest

from tests.support import processes

pytestmark = pytest.mark.slow
ADMIN_TOKEN = "bad-input-admin-token-0123456789"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-input")
    legacy = processes.echo("legacy", processes.free_port(), tmp)
    extracted = processes.echo("extracted", processes.free_port(), tmp)
    config = processes.write_router_config(tmp / "strangler.yaml", legacy.url, extracted.url, max_body_bytes=100000,
                                           header_read_timeout=0.5, body_read_timeout=0.5)
    router = processes.router(processes.free_port(), tmp, config, f"sqlite:///{tmp / 'c.sqlite3'}",
                              {"STRANGLER_ADMIN_TOKEN": ADMIN_TOKEN})
    yield router
    for process in (router, legacy, extracted):
        process.stop()


def raw(router, data: bytes) -> bytes:
    port = int(router.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@pytest.fixture(autouse=True)
def router_still_up_afterwards(stack):
    yield
    assert httpx.get(stack.url + "/_strangler/api/health").status_code == 200
    assert httpx.get(stack.url + "/api/orders/").json()["side"] == "legacy"


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET /api/orders/ HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /api/orders/ HTTP/1.1\r\nHost: x\r\nBad Header Name: v\r\n\r\n",
    b"GET /api/orders/ HTTP/1.1\r\nHost: x\r\nX-A: one\x00two\r\n\r\n",
    b"GET /api/orders/ HTTP/1.1\r\nHost: x\r\nX-A: folded\r\n continued\r\n\r\n",
    b"POST /api/orders/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /api/orders/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    b"POST /api/orders/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
])
def test_malformed_or_ambiguous_requests_get_400(stack, request_bytes):
    response = raw(stack, request_bytes)
    assert status_of(response) == 400, response[:200]


def test_a_body_over_the_limit_gets_413_before_it_is_read(stack):
    response = httpx.post(stack.url + "/api/orders/", content=b"x" * 100001)
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


def test_a_chunked_body_over_the_limit_gets_413(stack):
    def chunks():
        for _ in range(30):
            yield b"y" * 10000

    response = httpx.post(stack.url + "/api/orders/", content=chunks())
    assert response.status_code == 413


def test_header_injection_through_a_value_does_not_split_the_request(stack):
    # A CR LF smuggled inside a value must not become a second header at the upstream.
    response = raw(stack, b"GET /api/orders/ HTTP/1.1\r\nHost: x\r\nX-A: a\rX-Injected: 1\r\nConnection: close\r\n\r\n")
    assert status_of(response) == 400


def test_forged_strangler_headers_never_reach_an_upstream(stack):
    response = httpx.get(stack.url + "/api/orders/", headers={
        "X-Strangler-Identity": "forged", "X-Strangler-Shadow": "1", "X-Strangler-Anything": "x"})
    assert response.status_code == 200
    assert not [h for h in response.json()["headers"] if h.startswith("x-strangler-")]


def test_forcing_a_side_needs_the_admin_token(stack):
    forged = httpx.get(stack.url + "/api/inventory/stock/", headers={"X-Strangler-Target": "extracted"})
    assert forged.status_code == 403
    assert "X-Strangler-Token" in forged.json()["detail"]
    wrong = httpx.get(stack.url + "/api/inventory/stock/", headers={"X-Strangler-Target": "extracted", "X-Strangler-Token": "nope"})
    assert wrong.status_code == 403
    forced = httpx.get(stack.url + "/api/inventory/stock/", headers={"X-Strangler-Target": "extracted", "X-Strangler-Token": ADMIN_TOKEN})
    assert (forced.status_code, forced.json()["side"]) == (200, "extracted")
    assert "x-strangler-token" not in forced.json()["headers"]
    bad_side = httpx.get(stack.url + "/api/inventory/stock/", headers={"X-Strangler-Target": "moon", "X-Strangler-Token": ADMIN_TOKEN})
    assert bad_side.status_code == 400


def test_hop_by_hop_and_connection_listed_headers_are_stripped(stack):
    echoed = httpx.get(stack.url + "/api/orders/", headers={
        "Connection": "keep-alive, X-Secret-Hop", "X-Secret-Hop": "1", "Keep-Alive": "timeout=5", "TE": "trailers",
        "Proxy-Authorization": "Basic eA==", "X-End-To-End": "kept"}).json()["headers"]
    assert echoed["x-end-to-end"] == "kept"
    for name in ("x-secret-hop", "keep-alive", "te", "proxy-authorization", "connection"):
        assert name not in echoed


def test_admin_writes_need_the_token_and_a_reason(stack):
    url = stack.url + "/_strangler/api/flags"
    assert httpx.post(url, json={"target": "inventory", "mode": "extracted", "reason": "x"}).status_code == 401
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert httpx.post(url, headers=auth, content=b"{not json").status_code == 400
    missing_reason = httpx.post(url, headers=auth, json={"target": "inventory", "mode": "extracted"})
    assert missing_reason.status_code == 400 and "reason" in missing_reason.json()["detail"]
    unknown = httpx.post(url, headers=auth, json={"target": "nope", "mode": "extracted", "reason": "x"})
    assert unknown.status_code == 400 and "inventory" in unknown.json()["detail"]
    bad_mode = httpx.post(url, headers=auth, json={"target": "inventory", "mode": "sideways", "reason": "x"})
    assert bad_mode.status_code == 400
    assert httpx.get(stack.url + "/_strangler/api/routes").status_code == 401
    routes = httpx.get(stack.url + "/_strangler/api/routes", headers=auth).json()
    assert {r["name"] for r in routes["routes"]} >= {"inventory.stock.list", "inventory.stock.detail"}
    assert all(r["mode"] == "legacy" for r in routes["routes"])


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> tuple[bool, bytes]:
    """Send `trickle` a byte at a time, 0.1 s apart, until the router closes the connection."""
    deadline, received = time.monotonic() + seconds, b""
    sock.settimeout(0.1)
    i = 0
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
            if not chunk:
                return True, received
            received += chunk
        except TimeoutError:
            pass
        try:
            if i < len(trickle):
                sock.sendall(trickle[i:i + 1])
                i += 1
        except OSError:
            return True, received
    return False, received


def test_a_client_trickling_its_request_head_is_cut_off(stack):
    # Slowloris: a byte every 0.1 s keeps a plain server waiting for ever; the head deadline is 0.5 s.
    port = int(stack.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        closed, received = _closed_within(sock, 5, b"GET /api/orders/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100)
    assert closed and received == b""


def test_a_client_that_connects_and_says_nothing_is_cut_off(stack):
    port = int(stack.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        closed, _ = _closed_within(sock, 5)
    assert closed


def test_a_client_that_stops_sending_its_body_gets_408(stack):
    port = int(stack.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /api/orders/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        closed, received = _closed_within(sock, 5)
    assert status_of(received) == 408, received[:300]
    assert b"request_timeout" in received
