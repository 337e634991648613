"""The inventory service's health endpoints: /health, /ready (the database answers and the schema is
there) and /metrics (Prometheus: requests by route template, method and status; latency). SQLite and
PostgreSQL."""

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from extracted.common.database import Database
from extracted.inventory.app import create_app
from extracted.inventory.settings import InventorySettings
from tests.support.inventory_service import STAFF, inventory, inventory_database_url  # noqa: F401


def _get(app, path: str) -> httpx.Response:
    async def send():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            return await client.get(path)

    return asyncio.run(send())


def _samples(app, name: str) -> dict[tuple, float]:
    families = text_string_to_metric_families(_get(app, "/metrics").text)
    return {tuple(sorted(s.labels.items())): s.value for f in families for s in f.samples if s.name == name}


def test_health_and_ready_answer_on_a_migrated_database(inventory):
    assert _get(inventory.app, "/health").json() == {"status": "ok", "service": "inventory"}
    ready = _get(inventory.app, "/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_ready_says_what_is_missing_on_a_database_without_the_schema(inventory_database_url):
    database = Database(inventory_database_url)
    try:
        app = create_app(InventorySettings(environment="test", database_url=inventory_database_url), database)
        assert _get(app, "/health").status_code == 200
        ready = _get(app, "/ready")
        assert ready.status_code == 503
        assert "tables missing (run the migrations)" in ready.json()["detail"]
    finally:
        database.dispose()


def test_ready_is_503_when_the_database_does_not_answer(tmp_path):
    url = f"sqlite:///{tmp_path}"  # a directory: SQLite cannot open it
    database = Database(url)
    try:
        app = create_app(InventorySettings(environment="test", database_url=url), database)
        ready = _get(app, "/ready")
        assert ready.status_code == 503
        assert ready.json()["detail"].startswith("database does not answer")
    finally:
        database.dispose()


def test_metrics_count_requests_by_route_template_method_and_status(inventory):
    inventory.call("GET", "/api/inventory/stock/TG-A-00001/")
    inventory.call("GET", "/api/inventory/stock/NOPE/")
    inventory.call("GET", "/api/inventory/stock/NOPE/")
    inventory.call("GET", "/api/inventory/stock/", caller=None)
    inventory.call("GET", "/api/inventory/stock/", headers={"X-Strangler-Identity": "v1;forged"}, caller=None)
    counts = _samples(inventory.app, "http_requests_total")
    detail = "/api/inventory/stock/{sku}/"
    assert counts[(("method", "GET"), ("route", detail), ("status", "200"))] == 1
    assert counts[(("method", "GET"), ("route", detail), ("status", "404"))] == 2
    assert counts[(("method", "GET"), ("route", "/api/inventory/stock/"), ("status", "401"))] == 1
    # Refused by the identity middleware before routing: counted, without a route.
    assert counts[(("method", "GET"), ("route", "unmatched"), ("status", "403"))] == 1
    latency = _samples(inventory.app, "http_request_duration_seconds_count")
    assert latency[(("method", "GET"), ("route", detail))] == 3


def test_each_app_has_its_own_registry(inventory):
    other = create_app(InventorySettings(environment="test", database_url=inventory.url), inventory.database)
    inventory.call("GET", "/api/inventory/stock/", caller=STAFF)
    assert _samples(other, "http_requests_total") == {}
