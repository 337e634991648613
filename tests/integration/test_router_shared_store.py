"""Two router processes sharing one control store: a flip made with the CLI is served by both within a
second, and a flip made against a stale version is refused. On SQLite and on PostgreSQL."""

import json
import subprocess
import sys
import time

import httpx
import pytest

from tests.support import processes

pytestmark = pytest.mark.slow
ADMIN_TOKEN = "shared-store-admin-token-for-tests"


def strangler(*args, store_url, config, check=True):
    result = subprocess.run(
        [sys.executable, "-m", "strangler", *args, "--store", store_url, "--config", str(config)]
        if args[0] == "routes" and args[1] != "history" else [sys.executable, "-m", "strangler", *args, "--store", store_url],
        capture_output=True, text=True, timeout=60, cwd=processes.ROOT,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def served_by(router_url: str) -> str:
    response = httpx.get(router_url + "/api/inventory/stock/TG-1/", timeout=5)
    assert response.status_code == 200
    assert response.json()["side"] == response.headers["x-strangler-served-by"]
    return response.headers["x-strangler-served-by"]


@pytest.fixture
def stack(tmp_path, request):
    store_url = request.getfixturevalue(request.param)
    legacy = processes.echo("legacy", processes.free_port(), tmp_path)
    extracted = processes.echo("extracted", processes.free_port(), tmp_path)
    config = processes.write_router_config(tmp_path / "strangler.yaml", legacy.url, extracted.url)
    env = {"STRANGLER_ADMIN_TOKEN": ADMIN_TOKEN}
    routers = [processes.router(processes.free_port(), tmp_path, config, store_url, env, name=f"router{i}") for i in (1, 2)]
    yield store_url, config, routers
    for process in (*routers, legacy, extracted):
        process.stop()


@pytest.fixture
def sqlite_store(tmp_path):
    return f"sqlite:///{tmp_path / 'control.sqlite3'}"


@pytest.fixture
def postgres_store(postgres_database):
    return postgres_database


@pytest.mark.parametrize("stack", ["sqlite_store", pytest.param("postgres_store", marks=pytest.mark.postgres)], indirect=True)
def test_a_cli_flip_reaches_both_routers_within_a_second(stack):
    store_url, config, routers = stack
    assert [served_by(r.url) for r in routers] == ["legacy", "legacy"]

    strangler("routes", "set", "inventory", "--mode", "extracted", "--reason", "cut over stock reads",
              "--actor", "tester", store_url=store_url, config=config)
    flipped_at = time.monotonic()
    pending = {r.url for r in routers}
    seen_after = {}
    while pending and time.monotonic() - flipped_at < 3:
        for url in list(pending):
            if served_by(url) == "extracted":
                seen_after[url] = time.monotonic() - flipped_at
                pending.discard(url)
        time.sleep(0.02)
    assert not pending, "a router never served the flip"
    assert max(seen_after.values()) < 1.0, seen_after

    # Back to legacy: the reverse flip propagates too, and the audit trail has both with reasons.
    strangler("routes", "set", "inventory", "--mode", "legacy", "--reason", "roll back", "--actor", "tester",
              store_url=store_url, config=config)
    time.sleep(1.0)
    assert [served_by(r.url) for r in routers] == ["legacy", "legacy"]
    history = json.loads(strangler("routes", "history", "inventory", "--json", store_url=store_url, config=config).stdout)
    assert [(e["after"]["mode"], e["reason"], e["actor"]) for e in history["events"]] == [
        ("legacy", "roll back", "tester"), ("extracted", "cut over stock reads", "tester")]
    assert history["events"][1]["before"] is None


@pytest.mark.parametrize("stack", ["sqlite_store", pytest.param("postgres_store", marks=pytest.mark.postgres)], indirect=True)
def test_a_flip_against_a_stale_version_is_refused(stack):
    store_url, config, routers = stack
    listed = json.loads(strangler("routes", "list", "--json", store_url=store_url, config=config).stdout)
    read_version = listed["version"]
    strangler("routes", "set", "inventory.stock.list", "--mode", "canary", "--percent", "10", "--reason", "first",
              "--expect-version", str(read_version), store_url=store_url, config=config)

    stale = strangler("routes", "set", "inventory.stock.list", "--mode", "extracted", "--reason", "second",
                      "--expect-version", str(read_version), store_url=store_url, config=config, check=False)
    assert stale.returncode == 1
    assert "changed since you read them" in stale.stderr
    listed = json.loads(strangler("routes", "list", "--json", store_url=store_url, config=config).stdout)
    stock_list = next(r for r in listed["routes"] if r["name"] == "inventory.stock.list")
    assert (stock_list["mode"], stock_list["percent"]) == ("canary", 10.0)

    # The admin API refuses a stale write the same way, with 409.
    response = httpx.post(routers[0].url + "/_strangler/api/flags", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                          json={"target": "inventory", "mode": "extracted", "reason": "api", "expected_version": read_version})
    assert response.status_code == 409
    assert response.json()["error"] == "stale_version"
