"""After a handover no spelling of a write reaches legacy: the router on the shipped strangler.yaml, in
front of two echo upstreams, with the inventory group on `extracted`. Every spelling of a write URL that
the monolith's URLconf resolves to the write's view (DRF format suffixes, percent-encoded characters,
an encoded '/') is served by the service, and legacy sees no write at all."""

from pathlib import Path

import httpx
import pytest

from router.config import load_config, upstream_env_var
from tests.support import processes
from tests.support.path_variants import django_match, example_path, renderer_formats, spellings

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "variants-admin-token"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


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

    with httpx.Client(base_url=router.url, timeout=10) as client:
        served = {(method, target): client.request(method, target, json={}).json()["side"] for method, target in wanted}

    assert {key: side for key, side in served.items() if side != "extracted"} == {}
    assert not set(httpx.get(legacy.url + "/_echo/stats").json()) & set(UNSAFE)  # legacy saw no write at all


def test_a_spelling_the_monolith_does_not_resolve_is_left_to_legacy(stack):
    # No trailing slash: Django answers with a redirect to the slash URL, which the router then routes.
    _, router = stack
    response = httpx.post(router.url + "/api/inventory/adjustments", json={})

    assert response.headers["x-strangler-served-by"] == "legacy"
