"""After a handover no spelling of a write reaches legacy: the router on the shipped strangler.yaml, in
front of two echo upstreams, with the inventory group on `extracted`. Every spelling of a write URL that
the monolith's URLconf resolves to the write's view (DRF format suffixes, percent-encoded characters,
an encoded '/') is served by the service, and legacy sees no write at all. And the real monolith under
gunicorn runs a view for exactly the spellings the URLconf proof (tests/unit/test_router_path_variants.py)
reads as resolved. Targets are sent byte for byte, as a client that does not normalise them would."""

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from router.config import load_config, upstream_env_var
from tests.support import processes
from tests.support.path_variants import django_match, example_path, renderer_formats, spellings

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "variants-admin-token-for-the-tests"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def send(base_url: str, method: str, target: str) -> tuple[int, bytes]:
    """Status and body of `method target` sent as is (httpx would drop `./` and `x/../` segments first)."""
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
    try:
        connection.request(method, target, body=b"{}", headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def write_spellings() -> list[tuple[str, str]]:
    """(method, raw target) for every unsafe method of the group and every spelling Django resolves to its view."""
    config = load_config(ROOT / "strangler.yaml", environ={})
    wanted = []
    for route in config.group_routes("inventory"):
        canonical = example_path(route.path)
        view = django_match(canonical).func
        for target in spellings(canonical, (*renderer_formats(), "xml")):
            match = django_match(target)
            if match is not None and match.func is view:
                wanted += [(method, target) for method in sorted(route.methods) if method in UNSAFE]
    return wanted


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("variants")
    legacy = processes.echo("legacy", processes.free_port(), tmp)
    service = processes.echo("extracted", processes.free_port(), tmp)
    env = {"STRANGLER_ADMIN_TOKEN": ADMIN_TOKEN, upstream_env_var("legacy"): legacy.url,
           upstream_env_var("inventory"): service.url}
    router = processes.router(processes.free_port(), tmp, ROOT / "strangler.yaml",
                              f"sqlite:///{tmp / 'control.sqlite3'}", env)
    try:
        flip = httpx.post(router.url + "/_strangler/api/flags", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                          json={"target": "inventory", "mode": "extracted", "reason": "handover", "actor": "test"})
        assert flip.status_code == 200, flip.text
        yield legacy, router
    finally:
        for process in (router, service, legacy):
            process.stop()


def test_every_spelling_of_a_write_the_monolith_resolves_is_served_by_the_service(stack):
    legacy, router = stack
    wanted = write_spellings()
    for spelled in [("POST", "/api/inventory/adjustments.json"), ("PATCH", "/api/inventory/warehouses/1.json"),
                    ("POST", "/api/inventory/warehouse%73/"), ("POST", "/api%2Finventory/warehouses.json/")]:
        assert spelled in wanted

    served = {(method, target): json.loads(send(router.url, method, target)[1])["side"] for method, target in wanted}

    assert {key: side for key, side in served.items() if side != "extracted"} == {}
    assert not set(httpx.get(legacy.url + "/_echo/stats").json()) & set(UNSAFE)  # legacy saw no write at all


def test_a_spelling_the_monolith_does_not_resolve_is_left_to_legacy(stack):
    # No trailing slash: Django answers with a redirect to the slash URL, which the router then routes.
    _, router = stack
    response = httpx.post(router.url + "/api/inventory/adjustments", json={})

    assert response.headers["x-strangler-served-by"] == "legacy"


@pytest.fixture(scope="module")
def monolith(tmp_path_factory):
    from tests.support.monolith_process import start_monolith

    process = start_monolith(tmp_path_factory.mktemp("variants-monolith") / "var", workers=2)
    yield process
    process.process.stop()


@pytest.mark.parametrize("method, canonical", [("POST", "/api/inventory/adjustments/"),
                                               ("PATCH", "/api/inventory/warehouses/1/")])
def test_the_monolith_under_gunicorn_runs_a_view_for_exactly_the_spellings_its_urlconf_resolves(
        monolith, method, canonical):
    # What the proofs above read from Django's request handling, checked on the real server: an anonymous
    # write reaches the view's authentication (401) when the spelling resolves, and is a 404 or a redirect
    # to the slash URL when it does not.
    resolved, answered = {}, {}
    for target in spellings(canonical, renderer_formats()):
        resolved[target] = django_match(target) is not None
        answered[target] = send(monolith.url, method, target)[0]

    assert {t: answered[t] for t in answered if (answered[t] == 401) != resolved[t]} == {}
    assert sum(resolved.values()) > 100
