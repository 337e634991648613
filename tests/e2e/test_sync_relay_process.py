"""The relays as real `strangler sync run` processes, killed and restarted while events flow; the
backfill while a writer keeps changing the monolith. SQLite and PostgreSQL."""

import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from extracted.common.database import Database
from extracted.common.identity import Identity
from extracted.inventory import service as inventory_service
from extracted.inventory.models import Product, SyncCursor, Warehouse
from extracted.inventory.sync import cursors
from extracted.inventory.sync.backfill import backfill
from extracted.inventory.sync.ownership import set_owner
from tests.support.processes import ROOT, free_port
from tests.support.sync_env import BACKENDS, seeded_monolith_template, sync_env  # noqa: F401 -- fixtures

pytestmark = pytest.mark.slow
STRANGLER = [sys.executable, "-m", "strangler"]


def strangler(env, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*STRANGLER, "sync", *args], cwd=ROOT, env=env.env(), capture_output=True, text=True,
                          timeout=timeout)


def start_relay(env, log, *args: str) -> subprocess.Popen:
    return subprocess.Popen([*STRANGLER, "sync", "run", "inventory", *args], cwd=ROOT, env=env.env(),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what() if callable(what) else what}")
        time.sleep(0.05)


def applied(database: Database) -> int:
    with database.engine.connect() as connection:
        found = cursors.read(connection, SyncCursor.__tablename__, cursors.FORWARD)
    return found.applied if found else 0


@pytest.mark.parametrize("sync_env", BACKENDS, indirect=True)
def test_relays_killed_mid_stream_and_restarted_apply_every_event_exactly_once(sync_env, tmp_path):
    """While the service owns the writes, stock counters travel as deltas both ways: an event applied
    twice (or lost) would show as a wrong count, so verify exiting 0 proves exactly once."""
    monolith = Database(sync_env.monolith_url, connect_args=_timeout(sync_env))
    service = Database(sync_env.service_url, connect_args=_timeout(sync_env))
    with monolith.engine.connect() as source:
        backfill(source, service)
    with Session(service.engine) as session:
        set_owner(session, "service", by="test", reason="counters as deltas")
        session.commit()

    stop_writing = threading.Event()
    written = {"monolith": 0, "service": 0}

    def monolith_writer() -> None:  # many small transactions, as order traffic would make
        n = 0
        while not stop_writing.is_set():
            with monolith.engine.begin() as connection:
                connection.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 1, reserved = reserved + 1 "
                                        "WHERE id IN (:a, :b)"), {"a": 1 + n % 40, "b": 41 + n % 40})
            n += 1
            written["monolith"] = n
            time.sleep(0.002)

    def service_writer() -> None:  # receipts through the service's own write path
        admin = Identity(user_id=1, username="admin", is_staff=True)
        n = 0
        while not stop_writing.is_set():
            with service.transaction() as session:
                inventory_service.claim(session, dry_run=False)
                item = 1 + n % 40
                product_id, warehouse_id = session.execute(
                    text("SELECT product_id, warehouse_id FROM stock_items WHERE id = :id"), {"id": item}).one()
                inventory_service.stock_adjust(session, product=session.get(Product, product_id),
                                               warehouse=session.get(Warehouse, warehouse_id), kind="receive",
                                               quantity=3, reason="e2e", identity=admin)
            n += 1
            written["service"] = n
            time.sleep(0.02)

    writers = [threading.Thread(target=monolith_writer), threading.Thread(target=service_writer)]
    log = open(tmp_path / "relay.log", "ab")
    port = free_port()
    relay = start_relay(sync_env, log, "--batch-size", "25", "--poll-interval", "0.05", "--metrics-port", str(port))
    try:
        for writer in writers:
            writer.start()
        wait_until(lambda: applied(service) >= 300, 60,
                   lambda: f"the first relay to apply 300 events (applied {applied(service)}, written {written}):\n"
                           + (tmp_path / "relay.log").read_text()[-3000:])
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'strangler_sync_events_applied_total{capability="inventory",direction="forward"}' in metrics
        assert "strangler_sync_lag_seconds" in metrics
        relay.send_signal(signal.SIGKILL)
        relay.wait(10)
        killed_at, written_at_kill = applied(service), dict(written)

        time.sleep(1)  # events pile up while no relay runs
        relay = start_relay(sync_env, log, "--batch-size", "25", "--poll-interval", "0.05")
        wait_until(lambda: applied(service) > killed_at + 100, 60, "the restarted relay to apply events")
        stop_writing.set()
        for writer in writers:
            writer.join(60)
        assert all(written[side] > written_at_kill[side] for side in written), (written_at_kill, written)
        result = strangler(sync_env, "verify", "inventory", "--wait", "60")
        assert result.returncode == 0, result.stdout + result.stderr
        assert applied(service) > killed_at
        relay.send_signal(signal.SIGTERM)  # a clean stop between batches
        assert relay.wait(15) == 0
    finally:
        stop_writing.set()
        if relay.poll() is None:
            relay.kill()
            relay.wait(10)
        log.close()
    assert "applied forward" in (tmp_path / "relay.log").read_text()

    # Each counter is exact: every event counted once on each side.
    with monolith.engine.connect() as connection:
        on_hand, reserved = connection.execute(text(
            "SELECT sum(on_hand), sum(reserved) FROM inventory_stockitem WHERE id <= 80")).one()
    with service.engine.connect() as connection:
        assert tuple(connection.execute(text(
            "SELECT sum(on_hand), sum(reserved) FROM stock_items WHERE id <= 80")).one()) == (on_hand, reserved)
    monolith.dispose()
    service.dispose()


@pytest.mark.parametrize("sync_env", BACKENDS, indirect=True)
def test_a_backfill_with_a_concurrent_writer_loses_nothing(sync_env):
    monolith = Database(sync_env.monolith_url, connect_args=_timeout(sync_env))
    service = Database(sync_env.service_url, connect_args=_timeout(sync_env))
    copying = threading.Event()
    done = threading.Event()
    wrote = []

    def writer() -> None:
        copying.wait(30)
        n = 0
        while not done.is_set():
            n += 1
            with monolith.engine.begin() as connection:
                connection.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 1 WHERE id = :id"),
                                   {"id": 1 + (n * 37) % 600})
                connection.execute(text("UPDATE inventory_reservation SET status = 'released' WHERE id = :id"),
                                   {"id": 1 + (n * 53) % 1100})
                if n % 10 == 0:
                    connection.execute(text("INSERT INTO inventory_warehouse (code, name, city, country, active) "
                                            "VALUES (:code, 'During the copy', 'Bonn', 'DE', true)"), {"code": f"D{n}"})
            wrote.append(n)
            time.sleep(0.002)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with monolith.engine.connect() as source:
            backfill(source, service, chunk_size=50, on_chunk=lambda table, rows: copying.set())
    finally:
        done.set()
        thread.join(30)
    assert len(wrote) > 20, "the writer hardly ran during the copy"

    result = strangler(sync_env, "run", "inventory", "--direction", "forward", "--once")
    assert result.returncode == 0, result.stderr
    result = strangler(sync_env, "verify", "inventory")
    assert result.returncode == 0, result.stdout + result.stderr
    monolith.dispose()
    service.dispose()


def _timeout(env) -> dict:
    return {"timeout": 30} if env.backend == "sqlite" else {}
