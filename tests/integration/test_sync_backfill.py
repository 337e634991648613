"""Backfill of a real seeded monolith into the inventory service's database, then verify.

Runs on the suite's backend (SQLite, or PostgreSQL in the PostgreSQL run of bin/run-tests)."""

import json

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from typer.testing import CliRunner

from extracted.common.database import Database
from extracted.inventory.models import Base, StockItem, SyncBackfill, SyncCursor
from extracted.inventory.sync import cursors
from extracted.inventory.sync.backfill import BackfillError, backfill, read_high_water_mark
from extracted.inventory.sync.legacy import TABLES
from extracted.inventory.sync.verify import verify
from strangler.cli import app
from tests.support.sync_env import seeded_monolith_template, sync_env  # noqa: F401 -- fixtures

runner = CliRunner()


def cli(env, *args: str):
    return runner.invoke(app, ["sync", *args], env=env.env(), catch_exceptions=False)


def engines(env):
    return Database(env.monolith_url).engine, Database(env.service_url)


def counts(engine, tables) -> dict[str, int]:
    with engine.connect() as connection:
        return {name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one() for name in tables}


def test_backfill_of_the_small_seed_then_verify_exits_0(sync_env):
    result = cli(sync_env, "backfill", "inventory", "--no-progress", "--chunk-size", "500")
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.output

    monolith, service = engines(sync_env)
    legacy_counts = counts(monolith, [t.legacy for t in TABLES])
    service_counts = counts(service.engine, [t.service for t in TABLES])
    assert [service_counts[t.service] for t in TABLES] == [legacy_counts[t.legacy] for t in TABLES]
    assert service_counts["movements"] > 1000 and service_counts["reservations"] > 500

    result = cli(sync_env, "verify", "inventory", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["clean"] and {t["table"] for t in report["tables"]} == {t.service for t in TABLES}


def test_verify_exits_1_and_names_the_drift(sync_env):
    assert cli(sync_env, "backfill", "inventory", "--no-progress").exit_code == 0
    _, service = engines(sync_env)
    with service.engine.begin() as connection:
        connection.execute(text("UPDATE stock_items SET on_hand = on_hand + 7 WHERE id = 3"))
        connection.execute(text("DELETE FROM movements WHERE id = 11"))
        connection.execute(text("UPDATE warehouses SET id = 999 WHERE id = 2 AND 0 = 1"))  # no-op: stays clean

    result = cli(sync_env, "verify", "inventory", "--json", "--examples", "3")
    assert result.exit_code == 1
    report = json.loads(result.output)
    by_table = {t["table"]: t for t in report["tables"]}
    stock = by_table["stock_items"]
    assert stock["differing"] == 1
    assert list(stock["examples"]["differing"][0]["columns"]) == ["on_hand"]
    diff = stock["examples"]["differing"][0]["columns"]["on_hand"]
    assert diff["service"] - diff["monolith"] == 7
    assert by_table["movements"]["missing_on_service"] == 1
    assert by_table["movements"]["examples"]["missing_on_service"] == [11]
    assert by_table["warehouses"]["clean"]

    table_output = cli(sync_env, "verify", "inventory").output
    assert "DRIFT" in table_output and "stock_items id 3: on_hand" in table_output


def test_an_interrupted_backfill_resumes_where_it_stopped(sync_env):
    monolith, service = engines(sync_env)
    chunks = []

    def interrupt(table, rows):
        chunks.append((table, rows))
        if table == "reservations" and sum(1 for t, _ in chunks if t == "reservations") == 2:
            raise KeyboardInterrupt("stopped by the test")

    with monolith.connect() as source, pytest.raises(KeyboardInterrupt):
        backfill(source, service, chunk_size=200, on_chunk=interrupt)

    with service.engine.connect() as connection:
        progress = {row.table_name: row for row in connection.execute(select(SyncBackfill))}
        copied_reservations = connection.execute(text("SELECT count(*) FROM reservations")).scalar_one()
    assert progress["stock_items"].done and not progress["reservations"].done
    assert progress["reservations"].rows == copied_reservations == 400
    assert progress["movements"].rows == 0

    with monolith.connect() as source:
        report = backfill(source, service, chunk_size=200)
    assert report.resumed
    done_before = {t.table for t in report.tables if t.already_done}
    assert done_before == {"categories", "products", "warehouses", "stock_items", "adjustments"}
    legacy_counts = counts(monolith, ["inventory_reservation"])
    assert next(t for t in report.tables if t.table == "reservations").rows == legacy_counts["inventory_reservation"] - 400
    assert verify(monolith, service.engine).clean
    # The indexes (and PostgreSQL foreign keys) set aside during the copy are all back, the interrupted
    # table's included.
    inspector = inspect(service.engine)
    for table in TABLES:
        assert {ix.name for ix in table.model.indexes} <= {ix["name"] for ix in inspector.get_indexes(table.service)}
        if sync_env.backend == "postgres":
            assert ({fk.name for fk in table.model.foreign_key_constraints}
                    == {fk["name"] for fk in inspector.get_foreign_keys(table.service)})


def test_the_high_water_mark_is_recorded_first_and_becomes_the_forward_cursor(sync_env):
    monolith, service = engines(sync_env)
    with monolith.begin() as connection:  # some captured history before the backfill
        connection.execute(text("UPDATE inventory_stockitem SET reorder_level = reorder_level + 1 WHERE id <= 5"))
    with monolith.connect() as source:
        mark, warnings = read_high_water_mark(source)
        report = backfill(source, service)
    assert warnings == [] and not report.resumed
    with service.engine.connect() as connection:
        cursor = cursors.read(connection, SyncCursor.__tablename__, cursors.FORWARD)
    assert cursor.position == report.high_water_mark
    if sync_env.backend == "sqlite":
        assert report.high_water_mark.event_id == mark.event_id == 5  # the five captured updates
    else:
        assert report.high_water_mark.txid >= mark.txid > 0


def test_backfill_only_reads_the_source_connection_inside_the_callers_transaction(sync_env):
    """The parity tests lend a connection in the middle of their own transaction: the backfill must see
    its uncommitted rows and leave the transaction open, neither committed nor rolled back."""
    monolith, service = engines(sync_env)
    with monolith.connect() as source:
        source.begin()
        source.execute(text("INSERT INTO inventory_warehouse (code, name, city, country, active) "
                            "VALUES ('TMP', 'Uncommitted', 'Kiel', 'DE', true)"))
        backfill(source, service)
        assert source.in_transaction()
        source.rollback()
    with service.engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM warehouses WHERE code = 'TMP'")).scalar_one() == "Uncommitted"
    with monolith.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM inventory_warehouse WHERE code = 'TMP'")).scalar_one() == 0


def test_backfill_refuses_a_service_database_that_already_holds_rows_unless_restarted(sync_env):
    monolith, service = engines(sync_env)
    with monolith.connect() as source:
        backfill(source, service)
    with service.engine.begin() as connection:
        connection.execute(text("DELETE FROM sync_backfill"))  # as if copied by something else
    with monolith.connect() as source, pytest.raises(BackfillError, match="already hold rows"):
        backfill(source, service)
    with monolith.connect() as source:
        report = backfill(source, service, restart=True)
    assert not report.resumed and report.rows == sum(counts(monolith, [t.legacy for t in TABLES]).values())
    assert verify(monolith, service.engine).clean


def test_backfill_refuses_while_the_service_owns_the_writes(sync_env):
    from sqlalchemy.orm import Session

    from extracted.inventory.sync.ownership import set_owner

    monolith, service = engines(sync_env)
    with Session(service.engine) as session:
        set_owner(session, "service", by="test", reason="test")
        session.commit()
    with monolith.connect() as source, pytest.raises(BackfillError, match="owned by 'service'"):
        backfill(source, service, restart=True)


def test_backfill_without_a_monolith_outbox_warns_and_starts_at_zero(tmp_path):
    """An older monolith database (no outbox app yet): the mark is 0 and the report says so."""
    source_engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    with source_engine.begin() as connection:
        connection.execute(text("CREATE TABLE catalog_category (id INTEGER PRIMARY KEY, slug TEXT)"))
        connection.execute(text("INSERT INTO catalog_category VALUES (1, 'boards')"))
    service = Database(f"sqlite:///{tmp_path / 'svc.sqlite3'}")
    Base.metadata.create_all(service.engine)
    with source_engine.connect() as source:
        mark, warnings = read_high_water_mark(source)
    assert (mark.txid, mark.event_id) == (0, 0)
    assert len(warnings) == 1 and "no strangler_outbox table" in warnings[0]


def test_backfill_refuses_a_service_database_without_its_tables(sync_env, tmp_path):
    monolith, _ = engines(sync_env)
    empty = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with monolith.connect() as source, pytest.raises(BackfillError, match="run its migrations first"):
        backfill(source, empty)


def test_backfill_copies_exact_values(sync_env):
    """Spot checks of conversions: booleans, datetimes (aware UTC), the joined username and order number."""
    monolith, service = engines(sync_env)
    with monolith.begin() as connection:
        connection.execute(text("UPDATE inventory_warehouse SET active = false WHERE id = 2"))
    with monolith.connect() as source:
        backfill(source, service)
    with service.engine.connect() as connection:
        active = dict(connection.execute(text("SELECT id, active FROM warehouses")).all())
        updated_at = connection.execute(select(StockItem.updated_at).where(StockItem.id == 1)).scalar_one()
        numbers = connection.execute(text("SELECT count(*) FROM reservations WHERE order_number LIKE 'TG-%'")).scalar_one()
        total = connection.execute(select(func.count()).select_from(Base.metadata.tables["reservations"])).scalar_one()
    assert bool(active[2]) is False and bool(active[1]) is True
    assert updated_at.tzinfo is not None and updated_at.utcoffset().total_seconds() == 0
    assert numbers == total > 0
