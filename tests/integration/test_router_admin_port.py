"""`python -m router --admin-port P`: the admin API, dashboard and metrics answer on their own port
only, and that port proxies nothing; the public port proxies and has no admin API."""

import sys

import httpx
import pytest

from tests.support import processes

pytestmark = pytest.mark.slow
ADMIN_TOKEN = "admin-port-test-token-0123456789"


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("admin-port")
    legacy = processes.echo("legacy", processes.free_port(), tmp)
    config = processes.write_router_config(tmp / "strangler.yaml", legacy.url, legacy.url)
    port, admin_port = processes.free_port(), processes.free_port()
    router = processes.start("router", [sys.executable, "-m", "router", "--port", str(port), "--admin-port",
                                        str(admin_port), "--log-level", "warning"], admin_port, tmp,
                             {"STRANGLER_ENV": "test", "STRANGLER_CONFIG": str(config), "STRANGLER_ADMIN_TOKEN": ADMIN_TOKEN,
                              "STRANGLER_STORE_URL": f"sqlite:///{tmp / 'control.sqlite3'}"},
                             ready_path="/_strangler/api/health")
    yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}"
    router.stop()
    legacy.stop()


def test_the_admin_api_answers_only_on_its_own_port(router):
    public, admin = router
    assert httpx.get(admin + "/_strangler/api/health").status_code == 200
    assert httpx.get(admin + "/_strangler/metrics").status_code == 200
    for path in ("/_strangler/api/health", "/_strangler/metrics", "/_strangler/api/routes", "/_strangler/"):
        assert httpx.get(public + path).status_code == 404, path


def test_the_admin_port_proxies_nothing_and_the_public_port_proxies(router):
    public, admin = router
    assert httpx.get(admin + "/api/orders/").status_code == 404
    proxied = httpx.get(public + "/api/orders/")
    assert proxied.status_code == 200 and proxied.json()["side"] == "legacy"
