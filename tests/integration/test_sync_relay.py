"""The forward relay: the monolith's changes, however they are made, reach the service exactly once.

Runs on the suite's backend (SQLite, or PostgreSQL in the PostgreSQL run of bin/run-tests); the
commit-order tests need PostgreSQL's concurrent writers and run there only."""

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from extracted.common.database import Database
from extracted.inventory.models import SyncCursor
from extracted.inventory.sync import cursors, relay as relay_module
from extracted.inventory.sync.backfill import backfill
from extracted.inventory.sync.outboxes import legacy_outbox
from extracted.inventory.sync.relay import ForwardRelay, RelayError
from extracted.inventory.sync.verify import verify
from strangler.cli import app
from tests.support.sync_env import seeded_monolith_template, sync_env  # noqa: F401 -- fixtures

runner = CliRunner()


def cli(env, *args: str):
    return runner.invoke(app, ["sync", *args], env=env.env(), catch_exceptions=False)


@pytest.fixture
def synced(sync_env):
    """The seeded monolith backfilled into the service: (env, monolith engine, service Database)."""
    monolith, service = Database(sync_env.monolith_url).engine, Database(sync_env.service_url)
    with monolith.connect() as source:
        backfill(source, service)
    yield sync_env, monolith, service
    monolith.dispose()
    service.dispose()


def one(engine, sql: str, **params):
    with engine.connect() as connection:
        return connection.execute(text(sql), params).one()


def test_writes_through_the_monolith_reach_the_service_after_sync_run_once(synced):
    env, monolith, service = synced
    # Its API (Django's test client, token auth), its ORM (update() with F()), its order services.
    env.monolith_python("""
        from django.db.models import F
        from django.test import Client
        from rest_framework.authtoken.models import Token
        from legacy_monolith.catalog.models import Product
        from legacy_monolith.customers.models import Customer
        from legacy_monolith.inventory.models import StockItem
        from legacy_monolith.orders.services import order_create, order_place

        client = Client(HTTP_AUTHORIZATION="Token " + Token.objects.get(user__username="admin").key)
        item = StockItem.objects.select_related("product", "warehouse").get(id=4)
        answer = client.post("/api/inventory/adjustments/", {"sku": item.product.sku, "warehouse": item.warehouse.code,
                             "kind": "receive", "quantity": 17, "reason": "pallet found"}, content_type="application/json")
        assert answer.status_code == 201, answer.content
        answer = client.patch("/api/inventory/warehouses/3/", {"name": "Munich renamed"}, content_type="application/json")
        assert answer.status_code == 200, answer.content
        StockItem.objects.filter(id__in=[10, 11]).update(reorder_level=F("reorder_level") + 3)
        product = Product.objects.get(id=StockItem.objects.get(id=20).product_id)
        order = order_create(customer=Customer.objects.order_by("id").first(), user=None,
                             lines=[{"product": product, "quantity": 1}])
        order_place(order=order)
        print(order.number)
    """)
    with monolith.begin() as connection:  # and raw SQL
        connection.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 5 WHERE id = 30"))
        connection.execute(text("DELETE FROM inventory_stockmovement WHERE id = 1"))

    result = cli(env, "run", "inventory", "--direction", "forward", "--once")
    assert result.exit_code == 0, result.output
    assert "applied forward" in result.output

    assert one(service.engine, "SELECT name FROM warehouses WHERE id = 3")[0] == "Munich renamed"
    adjustment = one(service.engine, "SELECT quantity, reason, created_by_username FROM adjustments ORDER BY id DESC LIMIT 1")
    assert tuple(adjustment) == (17, "pallet found", "admin")
    for item_id in (4, 10, 11, 20, 30):
        expected = one(monolith, "SELECT on_hand, reserved, reorder_level FROM inventory_stockitem WHERE id = :id", id=item_id)
        assert one(service.engine, "SELECT on_hand, reserved, reorder_level FROM stock_items WHERE id = :id", id=item_id) == expected
    assert one(service.engine, "SELECT count(*) FROM movements WHERE id = 1")[0] == 0
    assert one(service.engine, "SELECT count(*) FROM reservations WHERE status = 'active' AND order_number = "
                               "(SELECT max(order_number) FROM reservations)")[0] >= 1

    result = cli(env, "verify", "inventory", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["clean"]


def test_replaying_events_already_applied_changes_nothing(synced):
    """While the monolith owns the writes events are applied as state: applying them again is harmless
    (this is what lets the backfill start the relay at a mark taken before the copy)."""
    env, monolith, service = synced
    with monolith.begin() as connection:
        connection.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 1 WHERE id <= 20"))
        connection.execute(text("UPDATE inventory_warehouse SET city = 'Altona' WHERE id = 2"))
    relay = ForwardRelay(legacy_outbox(monolith), service.engine, batch_size=7)
    relay.prepare()
    start = relay.cursor()
    first = relay.drain()
    with service.engine.begin() as connection:  # rewind the cursor to where the backfill put it
        cursors.advance(connection, SyncCursor.__tablename__, cursors.FORWARD, start.position, 0)
    assert relay.drain() == first == 21
    assert verify(monolith, service.engine).clean


def test_the_relay_stops_at_an_event_it_cannot_apply_and_never_skips_it(synced):
    env, monolith, service = synced
    with service.engine.begin() as connection:  # a warehouse only the service has, holding the code
        connection.execute(text("INSERT INTO warehouses (id, code, name, city, country, active) "
                                "VALUES (999999, 'KIE', 'Kiel (service only)', 'Kiel', 'DE', true)"))
    with monolith.begin() as connection:
        connection.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 2 WHERE id = 1"))
        connection.execute(text("INSERT INTO inventory_warehouse (code, name, city, country, active) "
                                "VALUES ('KIE', 'Kiel', 'Kiel', 'DE', true)"))
    relay = ForwardRelay(legacy_outbox(monolith), service.engine)
    relay.prepare()
    before = relay.cursor()

    with pytest.raises(RelayError) as stopped:
        relay.step()
    message = str(stopped.value)
    assert "forward relay stopped at event" in message and "insert of warehouses row" in message
    assert relay.cursor().position == before.position  # nothing of the batch, not even the first event
    expected_on_hand = one(monolith, "SELECT on_hand FROM inventory_stockitem WHERE id = 1")[0]
    assert one(service.engine, "SELECT on_hand FROM stock_items WHERE id = 1")[0] == expected_on_hand - 2

    result = cli(env, "run", "inventory", "--direction", "forward", "--once")
    assert result.exit_code == 1 and "insert of warehouses row" in result.output

    with service.engine.begin() as connection:  # the operator fixes the cause; the relay resumes there
        connection.execute(text("DELETE FROM warehouses WHERE id = 999999"))
    assert relay.drain() == 2
    assert verify(monolith, service.engine).clean


def test_a_batch_and_its_cursor_commit_together(synced, monkeypatch):
    """A crash in the middle of a batch leaves neither its first events nor a moved cursor behind."""
    env, monolith, service = synced
    with monolith.begin() as connection:
        for item_id in (1, 2, 3):
            connection.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 10 WHERE id = :id"), {"id": item_id})
    relay = ForwardRelay(legacy_outbox(monolith), service.engine)
    relay.prepare()
    before = relay.cursor()
    real_apply, calls = relay_module.apply_to_service, []

    class Crash(BaseException):
        pass

    def crash_on_third(connection, event, owner):
        calls.append(event.id)
        if len(calls) == 3:
            raise Crash()
        real_apply(connection, event, owner)

    monkeypatch.setattr(relay_module, "apply_to_service", crash_on_third)
    with pytest.raises(Crash):
        relay.step()
    assert relay.cursor() == before
    on_hand = [one(service.engine, "SELECT on_hand FROM stock_items WHERE id = :id", id=i)[0] for i in (1, 2)]
    expected = [one(monolith, "SELECT on_hand FROM inventory_stockitem WHERE id = :id", id=i)[0] - 10 for i in (1, 2)]
    assert on_hand == expected

    monkeypatch.setattr(relay_module, "apply_to_service", real_apply)
    assert relay.drain() == 3
    assert relay.cursor().applied == before.applied + 3
    assert verify(monolith, service.engine).clean


def test_writes_made_during_the_backfill_are_replayed(sync_env):
    """Changes committed while the copy runs, to rows already copied and rows not yet copied."""
    monolith, service = Database(sync_env.monolith_url).engine, Database(sync_env.service_url)
    writes = []

    def write_meanwhile(table, rows):
        if table == "stock_items" and len(writes) < 3:
            writes.append(table)
            with monolith.begin() as connection:
                connection.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 1, reserved = reserved + 1 "
                                        "WHERE id IN (1, 599)"))
                connection.execute(text("UPDATE inventory_reservation SET status = 'released' WHERE id IN (2, 1100)"))
                connection.execute(text("INSERT INTO inventory_warehouse (code, name, city, country, active) "
                                        f"VALUES ('N{len(writes)}', 'New', 'Bonn', 'DE', true)"))
                connection.execute(text("DELETE FROM inventory_stockmovement WHERE id = :id"), {"id": 2800 - len(writes)})

    with monolith.connect() as source:
        backfill(source, service, chunk_size=100, on_chunk=write_meanwhile)
    assert writes == ["stock_items"] * 3
    assert not verify(monolith, service.engine).clean  # the copy alone missed some of them

    relay = ForwardRelay(legacy_outbox(monolith), service.engine)
    relay.prepare()
    relay.drain()
    assert verify(monolith, service.engine).clean
    assert one(service.engine, "SELECT count(*) FROM warehouses WHERE code LIKE 'N_'")[0] == 3


def test_the_forward_relay_refuses_to_start_before_the_backfill(sync_env):
    monolith, service = Database(sync_env.monolith_url).engine, Database(sync_env.service_url)
    with pytest.raises(RelayError, match="backfill has not completed"):
        ForwardRelay(legacy_outbox(monolith), service.engine).prepare()
    result = cli(sync_env, "run", "inventory", "--once")
    assert result.exit_code == 1 and "backfill has not completed" in result.output


def test_status_shows_owner_cursors_backlog_and_lag(synced):
    env, monolith, service = synced
    with monolith.begin() as connection:
        connection.execute(text("UPDATE inventory_stockitem SET reorder_level = 11 WHERE id <= 4"))
    result = cli(env, "status", "inventory", "--json")
    assert result.exit_code == 0, result.output
    status = json.loads(result.output)
    forward = next(d for d in status["directions"] if d["direction"] == "forward")
    assert status["owner"] == "legacy" and status["backfill_complete"]
    assert forward["backlog"] == 4 and forward["lag_seconds"] >= 0 and forward["outbox_size"] >= 4
    assert cli(env, "run", "inventory", "--once").exit_code == 0
    status = json.loads(cli(env, "status", "inventory", "--json").output)
    forward = next(d for d in status["directions"] if d["direction"] == "forward")
    assert forward["backlog"] == 0 and forward["lag_seconds"] == 0 and forward["cursor"]["applied"] == 4
    assert "writes owned by legacy" in cli(env, "status", "inventory").output


def test_unknown_capability_and_unreachable_databases_are_clear_errors(sync_env, tmp_path):
    result = runner.invoke(app, ["sync", "verify", "shipping"], env=sync_env.env())
    assert result.exit_code == 2 and "unknown capability 'shipping'" in result.output
    missing = f"sqlite:///{tmp_path / 'nope' / 'legacy.sqlite3'}"
    result = runner.invoke(app, ["sync", "status", "inventory"], env=sync_env.env(INVENTORY_LEGACY_DATABASE_URL=missing))
    assert result.exit_code == 3 and "the monolith's database" in result.output and "does not exist" in result.output
    result = runner.invoke(app, ["sync", "status", "inventory"],
                           env=sync_env.env(INVENTORY_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none"))
    assert result.exit_code == 3 and "cannot reach the service's database" in result.output
    result = runner.invoke(app, ["sync", "status", "inventory"], env=sync_env.env(INVENTORY_DATABASE_URL="::not a url::"))
    assert result.exit_code == 2 and "not a database URL" in result.output


# -- PostgreSQL only: transactions that commit in another order than they wrote; NOTIFY -------------------
@pytest.fixture
def pg_synced(synced):
    if synced[0].backend != "postgres":
        pytest.skip("PostgreSQL only (transaction order, NOTIFY): runs in the PostgreSQL pass of bin/run-tests")
    return synced


def test_an_event_whose_transaction_commits_late_is_not_skipped(pg_synced):
    """B takes its txid first, A writes first (lower outbox id, higher txid), B writes and commits, the
    relay runs, then A commits. In id order the relay would have passed A's event for ever."""
    env, monolith, service = pg_synced
    relay = ForwardRelay(legacy_outbox(monolith), service.engine)
    relay.prepare()
    with monolith.connect() as a, monolith.connect() as b:
        b.begin()
        b.execute(text("SELECT txid_current()"))
        a.begin()
        a.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 100 WHERE id = 1"))
        b.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 200 WHERE id = 2"))
        b.commit()
        assert relay.drain() == 1  # B's event: every transaction older than B's has finished
        a.commit()
    events = {row.row_id: (row.txid, row.id) for row in _stock_events(monolith)}
    assert events[1][1] < events[2][1] and events[1][0] > events[2][0]  # A: lower id, later txid
    assert relay.drain() == 1
    assert verify(monolith, service.engine).clean


def _stock_events(monolith):
    with monolith.connect() as connection:
        return connection.execute(text("SELECT row_id, txid, id FROM strangler_outbox "
                                       "WHERE table_name = 'inventory_stockitem'")).all()


def test_events_of_later_transactions_wait_while_an_older_one_runs(pg_synced):
    """A (older) writes and stays open, B (younger) writes and commits: B's event is held back until A
    ends, so the relay's position never passes an event that may still commit."""
    env, monolith, service = pg_synced
    relay = ForwardRelay(legacy_outbox(monolith), service.engine)
    relay.prepare()
    with monolith.connect() as a, monolith.connect() as b:
        a.begin()
        a.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 100 WHERE id = 1"))
        b.begin()
        b.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 200 WHERE id = 2"))
        b.commit()
        assert relay.drain() == 0
        assert relay.backlog() == 1  # B's, visible but held
        a.commit()
    assert relay.drain() == 2
    assert verify(monolith, service.engine).clean


def test_an_idle_relay_wakes_on_notify_for_both_outboxes(pg_synced):
    """PostgreSQL: the monolith's capture triggers NOTIFY strangler_outbox; the reverse relay installs a
    statement trigger on the service's outbox for inventory_outbox. A waiter with a 10 s fallback must
    return as soon as a change commits."""
    import threading
    import time

    from extracted.inventory.sync.outboxes import service_outbox
    from extracted.inventory.sync.relay import ReverseRelay
    from extracted.inventory.sync.wake import NotifyWaiter

    env, monolith, service = pg_synced
    ReverseRelay(service_outbox(service.engine), monolith).prepare()
    writes = {
        "strangler_outbox": (monolith, "UPDATE inventory_stockitem SET on_hand = on_hand + 1 WHERE id = 1"),
        "inventory_outbox": (service.engine, "INSERT INTO outbox (txid, table_name, op, row_id, old_data, new_data, "
                                             "created_at) VALUES (0, 'warehouses', 'D', 999, '{}', NULL, now())"),
    }
    for channel, (engine, sql) in writes.items():
        url = engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")
        waiter = NotifyWaiter(url, channel, fallback=10)
        try:
            def write_soon(engine=engine, sql=sql) -> None:
                time.sleep(0.3)
                with engine.begin() as connection:
                    connection.execute(text(sql))

            writer = threading.Thread(target=write_soon)
            started = time.monotonic()
            writer.start()
            waiter.wait(threading.Event(), None)
            waited = time.monotonic() - started
            writer.join()
        finally:
            waiter.close()
        assert 0.25 < waited < 3, f"{channel}: woke after {waited:.2f} s"
