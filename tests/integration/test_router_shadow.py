"""Shadow mode on real processes: the copy goes to the other side, a deliberate difference is recorded
(redacted), the primary is unaffected by a slow or dead shadow, the in-flight bound drops and counts,
and a write with the default `skip` policy never reaches the shadow side."""

import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from typer.testing import CliRunner

from strangler.cli import app as cli
from tests.support import processes

pytestmark = pytest.mark.slow
TOKEN = "shadow-admin-token-for-the-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def stack(tmp_path):
    legacy = processes.echo("legacy", processes.free_port(), tmp_path)
    extracted_port = processes.free_port()
    extracted = processes.echo("extracted", extracted_port, tmp_path)
    config = processes.write_router_config(tmp_path / "strangler.yaml", legacy.url, extracted.url,
                                           shadow_max_in_flight=2, shadow_timeout=5)
    store = f"sqlite:///{tmp_path / 'control.sqlite3'}"
    router = processes.router(processes.free_port(), tmp_path, config, store, {"STRANGLER_ADMIN_TOKEN": TOKEN})
    flip = httpx.post(router.url + "/_strangler/api/flags", headers=AUTH,
                      json={"target": "inventory", "mode": "shadow", "reason": "watch parity", "actor": "test"})
    assert flip.status_code == 200, flip.text
    state = {"legacy": legacy, "extracted": extracted, "router": router, "store": store, "tmp": tmp_path, "config": config}
    yield state
    for name in ("router", "legacy", "extracted"):
        state[name].stop()


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def report(state, route=None):
    args = ["parity", "report", "--json", "--store", state["store"]] + (["--route", route] if route else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return {r["route"]: r for r in json.loads(result.stdout)["routes"]}


def test_shadow_records_the_difference_and_redacts_secrets(stack):
    router = stack["router"]
    response = httpx.get(router.url + "/api/inventory/stock/?email=jane@example.com",
                         headers={"Authorization": "Token s3cr3t-token-value", "Cookie": "sessionid=abc123"})
    assert (response.status_code, response.json()["side"], response.headers["x-strangler-served-by"]) == (200, "legacy", "legacy")

    rows = wait_for(lambda: report(stack).get("inventory.stock.list", {}).get("compared"))
    assert rows == 1
    row = report(stack)["inventory.stock.list"]
    assert row["mismatch"] == 1 and row["parity_rate"] == 0.0
    assert {p["path"] for p in row["top_paths"]} >= {"body.side"}

    samples = httpx.get(router.url + "/_strangler/api/parity/samples", headers=AUTH).json()["samples"]
    sample = httpx.get(router.url + f"/_strangler/api/parity/samples/{samples[0]['id']}", headers=AUTH).json()
    assert sample["legacy"]["body"]["json"]["side"] == "legacy"
    assert sample["extracted"]["body"]["json"]["side"] == "extracted"
    shown = CliRunner().invoke(cli, ["parity", "show", str(samples[0]["id"]), "--store", stack["store"]], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "body.side" in shown.stdout

    # No secret reached the store: read the raw database back.
    with sqlite3.connect(stack["tmp"] / "control.sqlite3") as db:
        dumped = "\n".join(db.iterdump())
    for secret in ("s3cr3t-token-value", "sessionid=abc123", "jane@example.com"):
        assert secret not in dumped, dumped[max(0, dumped.find(secret) - 300):dumped.find(secret) + 100]


def test_the_primary_is_not_slowed_by_a_slow_or_dead_shadow(stack):
    router = stack["router"]
    with httpx.Client(timeout=10) as client:
        start = time.perf_counter()
        response = client.get(router.url + "/api/inventory/stock/?sleep=2&on=extracted")
        elapsed = time.perf_counter() - start
        assert response.status_code == 200 and response.json()["side"] == "legacy"
        assert elapsed < 1.0, elapsed
        stack["extracted"].kill()
        start = time.perf_counter()
        response = client.get(router.url + "/api/inventory/stock/")
        assert response.status_code == 200 and time.perf_counter() - start < 1.0
    row = wait_for(lambda: report(stack).get("inventory.stock.list", {}).get("error") and report(stack)["inventory.stock.list"])
    assert row["error"] >= 1


def test_over_the_in_flight_bound_shadows_are_dropped_and_counted(stack):
    router = stack["router"]

    def call(_):
        return httpx.get(router.url + "/api/inventory/stock/?sleep=1&on=extracted", timeout=10).status_code

    with ThreadPoolExecutor(10) as pool:
        assert set(pool.map(call, range(10))) == {200}
    row = wait_for(lambda: (r := report(stack).get("inventory.stock.list")) and r["dropped"] + r["compared"] >= 10 and r)
    assert row["dropped"] >= 5          # the bound is 2 in flight
    assert row["compared"] >= 2
    metrics = httpx.get(router.url + "/_strangler/metrics").text
    assert 'strangler_shadow_not_compared_total{reason="bound",route="inventory.stock.list"}' in metrics


def test_a_write_with_the_skip_policy_never_reaches_the_shadow_side(stack):
    router = stack["router"]
    before = httpx.get(stack["extracted"].url + "/_echo/stats").json()
    response = httpx.post(router.url + "/api/inventory/adjustments/", json={"sku": "TG-1", "quantity": 1})
    assert response.status_code == 200 and response.json()["side"] == "legacy"
    time.sleep(0.5)
    after = httpx.get(stack["extracted"].url + "/_echo/stats").json()
    assert after.get("POST", 0) == before.get("POST", 0) == 0
    row = wait_for(lambda: report(stack).get("inventory.adjustments.create"))
    assert row["skipped"] == 1 and row["compared"] == 0
