"""The extracted upstream killed under load: GETs never fail for the client (served by legacy), the
breaker opens, and it closes again once the upstream is back."""

import re
import threading
import time

import httpx
import pytest

from tests.support import processes

pytestmark = pytest.mark.slow
ADMIN_TOKEN = "fallback-admin-token-for-the-tests"


def metric(router_url: str, name: str, labels: str) -> float:
    text = httpx.get(router_url + "/_strangler/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(part in line for part in labels.split(",")):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.fixture
def stack(tmp_path):
    legacy = processes.echo("legacy", processes.free_port(), tmp_path)
    extracted_port = processes.free_port()
    extracted = processes.echo("extracted", extracted_port, tmp_path)
    config = processes.write_router_config(tmp_path / "strangler.yaml", legacy.url, extracted.url,
                                           breaker_failures=3, breaker_cooldown=1.0)
    router = processes.router(processes.free_port(), tmp_path, config, f"sqlite:///{tmp_path / 'control.sqlite3'}",
                              {"STRANGLER_ADMIN_TOKEN": ADMIN_TOKEN})
    response = httpx.post(router.url + "/_strangler/api/flags", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                          json={"target": "inventory", "mode": "extracted", "reason": "test cut-over", "actor": "test"})
    assert response.status_code == 200, response.text
    state = {"extracted": extracted}
    yield router, state, extracted_port, tmp_path
    for process in (router, legacy, state["extracted"]):
        process.stop()


def test_killing_the_extracted_upstream_under_load_loses_no_get(stack):
    router, state, extracted_port, tmp_path = stack
    results: list[tuple[int, str]] = []
    errors: list[str] = []
    stop = threading.Event()

    def load():
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                try:
                    response = client.get(router.url + "/api/inventory/stock/?page=1")
                    results.append((response.status_code, response.headers.get("x-strangler-served-by", "")))
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        assert any(side == "extracted" for _, side in results), "the extracted side never served"
        state["extracted"].kill()
        killed_at = len(results)
        time.sleep(1.5)
        assert metric(router.url, "strangler_breaker_state", 'upstream="inventory"') == 1.0  # open
        assert metric(router.url, "strangler_fallbacks_total", 'cause="breaker_open"') > 0
        assert metric(router.url, "strangler_fallbacks_total", 'cause="connect"') > 0
        served_after_kill = results[killed_at:]
        assert served_after_kill and all(side == "legacy" for _, side in served_after_kill[10:])

        # The service comes back on the same port: after the cool-down a probe succeeds and closes the breaker.
        state["extracted"] = processes.echo("extracted", extracted_port, tmp_path)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and metric(router.url, "strangler_breaker_state", 'upstream="inventory"') != 0.0:
            time.sleep(0.2)
        assert metric(router.url, "strangler_breaker_state", 'upstream="inventory"') == 0.0
        recovered_at = len(results)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert all(status == 200 for status, _ in results), {s for s, _ in results}
    assert any(side == "extracted" for _, side in results[recovered_at:])
    assert len(results) > 100


def test_5xx_and_timeouts_on_safe_methods_fall_back_but_writes_do_not(stack):
    router, _, _, _ = stack
    answered = httpx.get(router.url + "/api/inventory/stock/?status=503&on=extracted", timeout=10)
    assert (answered.status_code, answered.headers["x-strangler-served-by"]) == (200, "legacy")
    slow = httpx.get(router.url + "/api/inventory/stock/?sleep=3&on=extracted", timeout=10)  # read_timeout is 2 s
    assert (slow.status_code, slow.headers["x-strangler-served-by"]) == (200, "legacy")
    # A POST that reached the service and failed there is not retried on legacy: it may have written.
    write = httpx.post(router.url + "/api/inventory/adjustments/?status=500&on=extracted", json={"sku": "x"}, timeout=10)
    assert (write.status_code, write.headers["x-strangler-served-by"]) == (500, "extracted")
    assert metric(router.url, "strangler_fallbacks_total", 'cause="5xx"') == 1
    assert metric(router.url, "strangler_fallbacks_total", 'cause="timeout"') == 1


def test_a_write_the_service_refuses_for_not_owning_it_is_served_by_legacy(stack):
    router, _, _, _ = stack
    refused = httpx.post(router.url + "/api/inventory/adjustments/?status=503&refuse=1&on=extracted", json={}, timeout=10)
    assert (refused.status_code, refused.headers["x-strangler-served-by"]) == (200, "legacy")
    assert refused.json()["method"] == "POST"
    assert metric(router.url, "strangler_fallbacks_total", 'cause="write_refused"') == 1
    # Any other 503 on a write may have written something: it goes back to the client as it is.
    failed = httpx.post(router.url + "/api/inventory/adjustments/?status=503&on=extracted", json={}, timeout=10)
    assert (failed.status_code, failed.headers["x-strangler-served-by"]) == (503, "extracted")
    assert metric(router.url, "strangler_breaker_state", 'upstream="inventory"') == 0.0


def test_an_upstream_that_is_down_gives_a_502_naming_it(tmp_path):
    config = processes.write_router_config(tmp_path / "strangler.yaml", f"http://127.0.0.1:{processes.free_port()}",
                                           f"http://127.0.0.1:{processes.free_port()}")
    router = processes.router(processes.free_port(), tmp_path, config, f"sqlite:///{tmp_path / 'c.sqlite3'}")
    try:
        response = httpx.get(router.url + "/api/orders/", headers={"X-Request-ID": "req-42"})
        assert response.status_code == 502
        body = response.json()
        assert (body["error"], body["upstream"], body["request_id"], body["route"]) == ("bad_gateway", "legacy", "req-42", None)
        assert re.search("legacy", body["detail"])
        assert response.headers["x-request-id"] == "req-42"
    finally:
        router.stop()


def test_a_slow_legacy_upstream_gives_a_504(tmp_path):
    legacy = processes.echo("legacy", processes.free_port(), tmp_path)
    config = tmp_path / "strangler.yaml"
    config.write_text(f"""
version: 1
upstreams:
  legacy: {{url: "{legacy.url}", read_timeout: 0.5}}
  inventory: {{url: "http://127.0.0.1:9"}}
groups:
  inventory: {{upstream: inventory}}
routes:
  - {{name: inventory.stock.list, group: inventory, methods: [GET], path: /api/inventory/stock/}}
""")
    router = processes.router(processes.free_port(), tmp_path, config, f"sqlite:///{tmp_path / 'c.sqlite3'}")
    try:
        response = httpx.get(router.url + "/api/inventory/stock/?sleep=2", timeout=10)
        assert response.status_code == 504
        assert response.json()["error"] == "gateway_timeout"
        assert response.json()["route"] == "inventory.stock.list"
        assert httpx.get(router.url + "/api/inventory/stock/").status_code == 200  # still serving
    finally:
        router.stop()
        legacy.stop()
