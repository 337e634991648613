"""The router's traffic evidence on real processes: counts per route and target reach the control store
within about a second and the admin API reports them (token required)."""

import time

import httpx
import pytest

from router.store.control import ControlStore
from router.store.traffic import TrafficStore
from tests.support import processes

pytestmark = pytest.mark.slow
TOKEN = "traffic-admin-token-for-the-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_traffic_is_recorded_per_route_and_target_and_served_by_the_admin_api(tmp_path):
    legacy = processes.echo("legacy", processes.free_port(), tmp_path)
    extracted = processes.echo("extracted", processes.free_port(), tmp_path)
    config = processes.write_router_config(tmp_path / "strangler.yaml", legacy.url, extracted.url)
    store = f"sqlite:///{tmp_path / 'control.sqlite3'}"
    router = processes.router(processes.free_port(), tmp_path, config, store, {"STRANGLER_ADMIN_TOKEN": TOKEN})
    try:
        for _ in range(5):
            assert httpx.get(router.url + "/api/inventory/stock/").status_code == 200
        flip = httpx.post(router.url + "/_strangler/api/flags", headers=AUTH,
                          json={"target": "inventory", "mode": "extracted", "reason": "traffic test", "actor": "test"})
        assert flip.status_code == 200, flip.text
        for _ in range(3):
            assert httpx.get(router.url + "/api/inventory/stock/").headers["x-strangler-served-by"] == "extracted"
        deadline = time.monotonic() + 5
        rows = {}
        while time.monotonic() < deadline:
            rows = {(r.route, r.target): r for r in TrafficStore(ControlStore(store)).summary(since=time.time() - 120)}
            if rows.get(("inventory.stock.list", "extracted"), None) and rows[("inventory.stock.list", "extracted")].requests == 3:
                break
            time.sleep(0.2)
        assert rows[("inventory.stock.list", "legacy")].requests == 5
        assert rows[("inventory.stock.list", "extracted")].requests == 3
        assert httpx.get(router.url + "/_strangler/api/traffic").status_code == 401
        body = httpx.get(router.url + "/_strangler/api/traffic?since=120&group=inventory", headers=AUTH).json()
        by = {(r["route"], r["target"]): r for r in body["routes"]}
        assert by[("inventory.stock.list", "extracted")]["requests"] == 3
        assert by[("inventory.stock.list", "extracted")]["error_rate"] == 0.0
        assert by[("inventory.stock.list", "legacy")]["p99_ms"] is not None
        assert httpx.get(router.url + "/_strangler/api/traffic?group=nope", headers=AUTH).status_code == 404
    finally:
        for p in (router, legacy, extracted):
            p.stop()
