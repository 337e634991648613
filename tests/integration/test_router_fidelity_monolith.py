"""The router in front of the real monolith (gunicorn, seeded SQLite), every route on legacy: the same
API requests direct and through the router give the same status, body and end-to-end headers."""

import httpx
import pytest

from tests.support import processes
from tests.support.monolith_process import start_monolith

pytestmark = pytest.mark.slow
VOLATILE = {"date", "x-request-id", "x-strangler-served-by", "connection", "keep-alive", "transfer-encoding"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("monolith-fidelity")
    monolith = start_monolith(tmp / "var")
    router = processes.router(processes.free_port(), tmp, processes.ROOT / "strangler.yaml",
                              f"sqlite:///{tmp / 'control.sqlite3'}", {"STRANGLER_UPSTREAM_LEGACY_URL": monolith.url})
    yield monolith, router
    router.stop()
    monolith.process.stop()


def _normalise(text: str, monolith_url: str, router_url: str) -> str:
    # The Host is passed through, so absolute links name whichever address the client used.
    return text.replace(router_url.removeprefix("http://"), "HOST").replace(monolith_url.removeprefix("http://"), "HOST")


@pytest.mark.parametrize("who, method, path, body", [
    ("staff", "GET", "/api/orders/?page=2&ordering=-total", None),
    ("staff", "GET", "/api/catalog/products/?search=kingston&ordering=-unit_price", None),
    ("staff", "GET", "/api/inventory/stock/?warehouse=BER&low_stock=true", None),
    ("staff", "GET", "/api/inventory/stock/TG-NOPE-00000/", None),
    ("staff", "GET", "/api/inventory/movements/?kind=shipment&page=3", None),
    ("customer", "GET", "/api/orders/", None),
    ("customer", "GET", "/api/customers/me/", None),
    ("customer", "GET", "/api/inventory/adjustments/", None),
    ("anonymous", "GET", "/api/orders/", None),
    ("staff", "GET", "/api/schema/", None),
    ("staff", "HEAD", "/api/catalog/categories/", None),
    ("staff", "OPTIONS", "/api/orders/", None),
    ("staff", "POST", "/api/inventory/adjustments/", {"sku": "TG-NOPE", "warehouse": "BER", "kind": "receive", "quantity": 0}),
    ("customer", "POST", "/api/orders/", {"lines": []}),
    ("staff", "GET", "/api/does-not-exist/", None),
])
def test_monolith_answers_the_same_through_the_router(pair, who, method, path, body):
    monolith, router = pair
    token = {"staff": monolith.staff_token, "customer": monolith.customer_token}.get(who)
    headers = {"Authorization": f"Token {token}"} if token else {}
    with httpx.Client(timeout=30) as client:
        direct = client.request(method, monolith.url + path, headers=headers, json=body)
        routed = client.request(method, router.url + path, headers=headers, json=body)
    assert routed.status_code == direct.status_code
    assert _normalise(routed.text, monolith.url, router.url) == _normalise(direct.text, monolith.url, router.url)
    strip = lambda h: sorted((k.lower(), _normalise(v, monolith.url, router.url)) for k, v in h.multi_items() if k.lower() not in VOLATILE)  # noqa: E731
    assert strip(routed.headers) == strip(direct.headers)


def test_session_login_cookies_and_redirects_pass_through(pair):
    monolith, router = pair
    with httpx.Client(base_url=router.url, follow_redirects=False, timeout=30) as client:
        login_page = client.get("/admin/login/?next=/admin/")
        assert login_page.status_code == 200
        csrf = client.cookies["csrftoken"]
        response = client.post("/admin/login/?next=/admin/", data={"username": "admin", "password": "admin",
                               "csrfmiddlewaretoken": csrf, "next": "/admin/"}, headers={"Referer": router.url + "/admin/login/"})
        assert response.status_code == 302
        assert response.headers["location"] == "/admin/"
        assert {"sessionid", "csrftoken"} <= set(client.cookies.keys())
        # The session cookie alone now authenticates API reads through the router.
        assert client.get("/api/orders/").status_code == 200
