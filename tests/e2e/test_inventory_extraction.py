"""Extracting inventory end to end, on loopback, with real processes and the CLI a team would use.

The monolith (gunicorn, seeded), the inventory service (uvicorn), the relay (`strangler sync run`)
and the router run as processes. A load loop of mixed reads and writes (staff and customer, stock lists
and details, warehouses, adjustments received and written off) goes through the router the whole time
while the inventory group is moved with the CLI:

    backfill -> relays -> shadow -> handover of the writes -> canary 50 % -> extracted -> hand back

No client may see an error, `strangler sync verify` must exit 0 at the end (both databases hold the
same rows), and `strangler parity report` must show the group's parity from the shadow phase. Runs on
SQLite files and on PostgreSQL databases.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from tests.support import processes
from tests.support.monolith_process import start_monolith
from tests.support.pg import postgres_database  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "e2e-admin-token"
PHASE_SECONDS = 4.0
STRANGLER = str(processes.BIN / "strangler")


@dataclass
class Stack:
    router: processes.Process
    env: dict[str, str]
    staff: str
    customer: str
    skus: list[str]
    started: list[processes.Process] = field(default_factory=list)

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([STRANGLER, *args], cwd=processes.ROOT, env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"strangler {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
                                 + "".join(f"\n--- {p.name} ---\n{p.log_tail(20)}" for p in self.started))
        return result


class LoadLoop:
    """Mixed reads and writes through the router until stopped; every answer is kept for the checks."""

    def __init__(self, stack: Stack):
        self.stack, self.stop_event = stack, threading.Event()
        self.answers: list[tuple[str, float, str, int, str]] = []  # (phase, when, what, status, served by)
        self.failures: list[str] = []
        self.phase, self.phase_began = "start", time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "LoadLoop":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.thread.join(30)

    def _requests(self, i: int):
        skus = self.stack.skus
        sku = skus[i % len(skus)]
        staff, customer = self.stack.staff, self.stack.customer
        kinds = [
            ("stock list", staff, "GET", f"/api/inventory/stock/?page={1 + i % 3}", None),
            ("stock list (customer)", customer, "GET", "/api/inventory/stock/?ordering=-available", None),
            ("stock detail", customer, "GET", f"/api/inventory/stock/{sku}/", None),
            ("warehouses", customer, "GET", "/api/inventory/warehouses/", None),
            ("adjustments", staff, "GET", "/api/inventory/adjustments/", None),
            ("receive", staff, "POST", "/api/inventory/adjustments/",
             {"sku": sku, "warehouse": "BER", "kind": "receive", "quantity": 3, "reason": "e2e receipt"}),
            ("write off", staff, "POST", "/api/inventory/adjustments/",
             {"sku": sku, "warehouse": "BER", "kind": "write_off", "quantity": 1, "reason": "e2e damage"}),
        ]
        return kinds[i % len(kinds)]

    def _run(self) -> None:
        with httpx.Client(base_url=self.stack.router.url, timeout=10) as client:
            i = 0
            while not self.stop_event.is_set():
                what, token, method, path, body = self._requests(i)
                i += 1
                phase = self.phase
                try:
                    response = client.request(method, path, json=body, headers={"Authorization": f"Token {token}"})
                except httpx.HTTPError as exc:
                    self.failures.append(f"{phase}: {what} {method} {path}: {exc!r}")
                    continue
                expected = 201 if method == "POST" else 200
                if response.status_code != expected:
                    self.failures.append(f"{phase}: {what} {method} {path}: {response.status_code} {response.text[:300]}")
                self.answers.append((phase, time.monotonic(), what, response.status_code,
                                     response.headers.get("x-strangler-served-by", "")))
                time.sleep(0.01)

    def begin(self, phase: str) -> None:
        self.phase, self.phase_began = phase, time.monotonic()
        self.began = {**getattr(self, "began", {}), phase: self.phase_began}

    def served_by(self, phase: str, settle: float = 1.0) -> Counter:
        """(what, side) counts of a phase, leaving out its first `settle` seconds: a flip reaches every
        router process within a second (the flag watcher), so the phase's first requests may still be
        served as in the phase before."""
        since = self.began[phase] + settle
        return Counter((what, side) for p, when, what, _, side in self.answers if p == phase and when >= since)


def _databases(kind: str, tmp_path, request) -> dict[str, str]:
    if kind == "sqlite":
        return {"legacy": f"sqlite:///{tmp_path / 'legacy.sqlite3'}", "service": f"sqlite:///{tmp_path / 'inventory.sqlite3'}",
                "control": f"sqlite:///{tmp_path / 'control.sqlite3'}"}
    return {name: request.getfixturevalue("postgres_database") if name == "legacy" else _another_pg(request)
            for name in ("legacy", "service", "control")}


def _another_pg(request) -> str:
    # postgres_database is function-scoped and gives one database per test; make more of the same kind.
    import uuid

    import psycopg

    from tests.support.pg import SERVER_URL, _with_db

    name = f"strangler_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_with_db(SERVER_URL, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(_with_db(SERVER_URL, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    request.addfinalizer(drop)
    return _with_db(SERVER_URL, name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stack(request, tmp_path):
    urls = _databases(request.param, tmp_path, request)
    monolith = start_monolith(tmp_path / "monolith", database_url=urls["legacy"] if request.param == "postgres" else None)
    legacy_url = urls["legacy"] if request.param == "postgres" else f"sqlite:///{monolith.var_dir / 'legacy.sqlite3'}"
    env = {**{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTEST_VERSION", "DJANGO_ENV")},
           "INVENTORY_ENVIRONMENT": "test", "INVENTORY_DATABASE_URL": urls["service"],
           "INVENTORY_LEGACY_DATABASE_URL": legacy_url, "STRANGLER_STORE_URL": urls["control"],
           "STRANGLER_ADMIN_TOKEN": ADMIN_TOKEN, "STRANGLER_ENV": "test"}
    started: list[processes.Process] = [monolith.process]
    try:
        subprocess.run([sys.executable, "-m", "extracted.inventory.migrate"], cwd=processes.ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
        subprocess.run([STRANGLER, "sync", "backfill", "inventory", "--no-progress"], cwd=processes.ROOT, env=env,
                       check=True, capture_output=True, timeout=300)
        service_port, relay_port, router_port = processes.free_port(), processes.free_port(), processes.free_port()
        started.append(processes.start("inventory", [sys.executable, "-m", "extracted.inventory", "--port", str(service_port),
                                                     "--no-migrate"], service_port, tmp_path, env, ready_path="/health"))
        started.append(processes.start("relay", [STRANGLER, "sync", "run", "inventory", "--metrics-port", str(relay_port),
                                                 "--poll-interval", "0.05"], relay_port, tmp_path, env, ready_path="/metrics"))
        started.append(processes.router(router_port, tmp_path, processes.ROOT / "strangler.yaml", urls["control"], env={
            **env, "STRANGLER_UPSTREAM_LEGACY_URL": monolith.url,
            "STRANGLER_UPSTREAM_INVENTORY_URL": f"http://127.0.0.1:{service_port}"}))
        skus = _skus(monolith)
        yield Stack(started[-1], env, monolith.staff_token, monolith.customer_token, skus, started)
    finally:
        for process in reversed(started):
            process.stop()


def _skus(monolith) -> list[str]:
    """SKUs with plenty of stock in BER, so a write-off of one unit always has something to take."""
    response = httpx.get(f"{monolith.url}/api/inventory/stock/?warehouse=BER&min_available=50&ordering=sku",
                         headers={"Authorization": f"Token {monolith.staff_token}"}, timeout=10)
    response.raise_for_status()
    skus = [row["sku"] for row in response.json()["results"][:5]]
    assert skus, "the seed has no well-stocked SKU in BER"
    return skus


def _hold(load: LoadLoop, phase: str, seconds: float = PHASE_SECONDS) -> None:
    load.begin(phase)
    time.sleep(seconds)


def test_inventory_moves_from_legacy_to_extracted_and_back_under_load_without_a_client_error(stack):
    reason = ["--reason", "e2e: extracting inventory"]

    def switch(*args: str) -> None:
        # The change takes effect while the command runs: answers meanwhile belong to no phase.
        load.begin("switching")
        stack.cli(*args)

    with LoadLoop(stack) as load:
        _hold(load, "legacy", 2)
        switch("routes", "set", "inventory", "--mode", "shadow", *reason)
        _hold(load, "shadow")
        switch("sync", "handover", "inventory", "--to", "service", *reason)
        _hold(load, "writes on the service")
        switch("routes", "set", "inventory", "--mode", "canary", "--percent", "50", *reason)
        _hold(load, "canary 50")
        switch("routes", "set", "inventory", "--mode", "extracted", *reason)
        _hold(load, "extracted")
        switch("sync", "handover", "inventory", "--to", "legacy", "--timeout", "30", *reason)
        switch("routes", "set", "inventory", "--mode", "legacy", *reason)
        _hold(load, "back on legacy", 2)

    assert load.failures == [], "clients saw errors:\n" + "\n".join(load.failures[:20])
    assert len(load.answers) > 200, f"the load loop hardly ran: {len(load.answers)} answers"
    # Each phase was served by the side it should have been.
    def sides(phase: str, settle: float = 1.0, only=None) -> set[str]:
        served = load.served_by(phase, settle)
        return {side for (what, side) in served if only is None or what in only}

    assert sides("legacy", settle=0) == {"legacy"}, load.served_by("legacy", 0)
    assert sides("shadow") == {"legacy"}, load.served_by("shadow")
    fallbacks = [line for line in httpx.get(stack.router.url + "/_strangler/metrics").text.splitlines()
                 if line.startswith("strangler_fallbacks_total{")]
    assert sides("writes on the service", only=("receive", "write off")) == {"extracted"}, (
        load.served_by("writes on the service"), fallbacks)
    assert sides("canary 50") <= {"legacy", "extracted"}, load.served_by("canary 50")
    assert sides("extracted") == {"extracted"}, load.served_by("extracted")
    assert sides("back on legacy") == {"legacy"}, load.served_by("back on legacy")

    verify = stack.cli("sync", "verify", "inventory", "--wait", "30", "--json", check=False)
    assert verify.returncode == 0, f"drift after the migration:\n{verify.stdout}\n{verify.stderr}"

    report = json.loads(stack.cli("parity", "report", "--group", "inventory", "--since", "1h", "--json").stdout)
    compared = {row["route"] for row in report["routes"] if row["compared"]}
    assert {"inventory.stock.list", "inventory.stock.detail", "inventory.warehouses.list"} <= compared, report
    [group] = report["groups"]
    assert group["group"] == "inventory" and group["compared"] == sum(r["compared"] for r in report["routes"])
    assert group["parity_rate"] is not None, report
    print(f"inventory parity during the shadow phase: {group['parity_rate']:.2%} of {group['compared']} comparisons")
