"""The inventory extraction's stack for end-to-end tests: the seeded monolith (gunicorn), the inventory
service, the relay and the router as real processes on loopback (the `stack` fixture, on SQLite files
and on PostgreSQL databases), the CLI as a team runs it (`Stack.cli`), and a load loop of mixed reads
and writes through the router (`LoadLoop`) that keeps every answer for the checks.

A test module uses the fixture by importing it: `from tests.support.inventory_stack import stack`.
"""

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

ADMIN_TOKEN = "e2e-admin-token-for-the-stack-tests"
STRANGLER = str(processes.BIN / "strangler")


@dataclass
class Stack:
    router: processes.Process
    env: dict[str, str]
    staff: str
    customer: str
    skus: list[str]
    started: list[processes.Process] = field(default_factory=list)
    service_argv: list[str] = field(default_factory=list)
    service_port: int = 0
    tmp_path: object = None

    def restart_service(self, extra_env: dict[str, str] | None = None) -> processes.Process:
        """Start the inventory service again on its port (after it died or was stopped)."""
        service = next(p for p in self.started if p.name == "inventory")
        service.stop()
        again = processes.start("inventory", self.service_argv, self.service_port, self.tmp_path,
                                {**self.env, **(extra_env or {})}, ready_path="/health")
        self.started[self.started.index(service)] = again
        return again

    def process(self, name: str) -> processes.Process:
        return next(p for p in self.started if p.name == name)

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
            # A total order: `?ordering=-available` alone leaves ties, which the monolith leaves to the
            # database and PostgreSQL returns in any order (shadow parity rightly flags those pages).
            ("stock list (customer)", customer, "GET", "/api/inventory/stock/?ordering=-available,sku,warehouse", None),
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
        service_argv = [sys.executable, "-m", "extracted.inventory", "--port", str(service_port), "--no-migrate"]
        # A test may give the service settings of its own: @pytest.mark.service_env(NAME="value", ...).
        marker = request.node.get_closest_marker("service_env")
        started.append(processes.start("inventory", service_argv, service_port, tmp_path,
                                       {**env, **(marker.kwargs if marker else {})}, ready_path="/health"))
        started.append(processes.start("relay", [STRANGLER, "sync", "run", "inventory", "--metrics-port", str(relay_port),
                                                 "--poll-interval", "0.05"], relay_port, tmp_path, env, ready_path="/metrics"))
        started.append(processes.router(router_port, tmp_path, processes.ROOT / "strangler.yaml", urls["control"], env={
            **env, "STRANGLER_UPSTREAM_LEGACY_URL": monolith.url,
            "STRANGLER_UPSTREAM_INVENTORY_URL": f"http://127.0.0.1:{service_port}"}))
        skus = _skus(monolith)
        yield Stack(started[-1], env, monolith.staff_token, monolith.customer_token, skus, started,
                    service_argv=service_argv, service_port=service_port, tmp_path=tmp_path)
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
