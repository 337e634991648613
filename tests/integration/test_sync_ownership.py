"""Write ownership: handover to the service, the service's writes flowing back into the monolith's
tables (no echo), both sides writing the same stock row, the hand-back, and the refusal that makes a
conflicting write during the switch impossible.

Runs on the suite's backend (SQLite, or PostgreSQL in the PostgreSQL run of bin/run-tests)."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from extracted.common.database import Database, sqlalchemy_url
from extracted.common.errors import APIError
from extracted.common.identity import IDENTITY_HEADER, Identity
from extracted.common.settings import DEV_IDENTITY_SECRET
from extracted.inventory import service as inventory_service
from extracted.inventory.app import create_app
from extracted.inventory.models import SERVICE_FIRST_ID, Product, Warehouse
from extracted.inventory.settings import InventorySettings
from extracted.inventory.sync.backfill import backfill
from extracted.inventory.sync.handover import HandoverError, hand_back_to_legacy, handover_to_service
from extracted.inventory.sync.outboxes import legacy_outbox, service_outbox
from extracted.inventory.sync.ownership import NotOwner, claim_write, current_owner, set_owner
from extracted.inventory.sync.relay import ForwardRelay, ReverseRelay
from extracted.inventory.sync.verify import verify
from router.config import load_config
from router.identity import sign_identity
from router.store import ControlStore
from strangler.cli import app
from strangler.sync import write_routes
from tests.support.sync_env import seeded_monolith_template, sync_env  # noqa: F401 -- fixtures

runner = CliRunner()
ADMIN = Identity(user_id=1, username="admin", is_staff=True)
WRITE_ROUTES = ["inventory.warehouses.create", "inventory.warehouses.update", "inventory.adjustments.create"]


class Sides:
    """The two databases, their relays, and the ways to write to each side."""

    def __init__(self, env):
        self.env = env
        self.monolith = Database(env.monolith_url).engine
        self.service = Database(env.service_url)
        self.forward = ForwardRelay(legacy_outbox(self.monolith), self.service.engine)
        self.reverse = ReverseRelay(service_outbox(self.service.engine), self.monolith)
        self.flips: list[str] = []

    def flip(self, mode: str) -> list[str]:
        self.flips.append(mode)
        return list(WRITE_ROUTES)

    def relay_all(self) -> None:
        self.reverse.drain()
        self.forward.drain()

    def monolith_one(self, sql: str, **params):
        with self.monolith.connect() as connection:
            return connection.execute(text(sql), params).one()

    def service_one(self, sql: str, **params):
        with self.service.engine.connect() as connection:
            return connection.execute(text(sql), params).one()

    def owner(self) -> str:
        with Session(self.service.engine) as session:
            return current_owner(session)

    def adjust(self, item_id: int, kind: str, quantity: int, reason: str = "service write") -> int:
        """A stock adjustment made by the service, as its API makes it: claim, then write."""
        with self.service.transaction() as session:
            inventory_service.claim(session, dry_run=False)
            product_id, warehouse_id = session.execute(
                text("SELECT product_id, warehouse_id FROM stock_items WHERE id = :id"), {"id": item_id}).one()
            adjustment = inventory_service.stock_adjust(
                session, product=session.get(Product, product_id), warehouse=session.get(Warehouse, warehouse_id),
                kind=kind, quantity=quantity, reason=reason, identity=ADMIN)
            return adjustment.id

    def stock(self, item_id: int) -> tuple[tuple, tuple]:
        sql = "SELECT on_hand, reserved FROM {} WHERE id = :id"
        return (tuple(self.monolith_one(sql.format("inventory_stockitem"), id=item_id)),
                tuple(self.service_one(sql.format("stock_items"), id=item_id)))


@pytest.fixture
def sides(sync_env):
    sides = Sides(sync_env)
    with sides.monolith.connect() as source:
        backfill(source, sides.service)
    sides.forward.prepare()
    sides.reverse.prepare()
    yield sides
    sides.monolith.dispose()
    sides.service.dispose()


def hand_over(sides: Sides) -> None:
    handover_to_service(sides.monolith, sides.service.engine, flip_write_routes=sides.flip, by="test", reason="test")


def monolith_events(sides: Sides) -> int:
    return sides.monolith_one("SELECT count(*) FROM strangler_outbox")[0]


def test_handover_through_the_cli_sets_the_owner_and_flips_the_write_routes(sides):
    result = runner.invoke(app, ["sync", "handover", "inventory", "--to", "service", "--reason", "cut over writes",
                                 "--actor", "ops", "--json"], env=sides.env.env(), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["previous_owner"], report["owner"]) == ("legacy", "service")
    assert report["routes"] == WRITE_ROUTES
    assert sides.owner() == "service"
    store = ControlStore(sides.env.env()["STRANGLER_STORE_URL"])
    snapshot = store.snapshot()
    assert {name: str(snapshot.routes[name].mode) for name in WRITE_ROUTES} == dict.fromkeys(WRITE_ROUTES, "extracted")
    assert "inventory.stock.list" not in snapshot.routes and "inventory" not in snapshot.groups  # reads stay
    assert {e.reason for e in store.history(limit=3)} == {"sync handover to service: cut over writes"}

    result = runner.invoke(app, ["sync", "handover", "inventory", "--to", "legacy", "--reason", "roll back",
                                 "--drive", "--timeout", "30"], env=sides.env.env(), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert sides.owner() == "legacy"
    assert {str(store.snapshot().routes[name].mode) for name in WRITE_ROUTES} == {"legacy"}


def test_the_write_routes_are_the_groups_routes_with_unsafe_methods():
    assert write_routes(load_config("strangler.yaml"), "inventory") == WRITE_ROUTES


def test_handover_is_refused_until_the_backfill_is_complete_and_replayed(sync_env):
    sides = Sides(sync_env)
    with pytest.raises(HandoverError, match="backfill has not completed"):
        hand_over(sides)
    with sides.monolith.connect() as source:
        backfill(source, sides.service)
    with sides.monolith.begin() as connection:
        connection.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 1 WHERE id = 1"))
    hand_over(sides)  # the change came after the backfill ended: nothing the copy saw is left to replay
    assert sides.owner() == "service" and sides.flips == ["extracted"]


def test_handover_is_refused_while_changes_seen_by_the_copy_are_not_replayed(sync_env):
    """A change the copy saw, committed after the backfill's start mark: as a delta it would count twice."""
    sides = Sides(sync_env)
    wrote = []

    def write_meanwhile(table, rows):
        if table == "products" and not wrote:  # stock_items are read later: the copy will see this
            wrote.append(table)
            with sides.monolith.begin() as connection:
                connection.execute(text("UPDATE inventory_stockitem SET on_hand = on_hand + 1 WHERE id = 590"))

    # Each table is read by one statement, which sees what was committed before it started.
    source_engine = create_engine(sqlalchemy_url(sync_env.monolith_url))
    with source_engine.connect() as source:
        backfill(source, sides.service, chunk_size=100, on_chunk=write_meanwhile)
    assert sides.stock(590)[0] == sides.stock(590)[1]
    with pytest.raises(HandoverError, match="not yet replayed the changes made during the backfill"):
        hand_over(sides)
    assert sides.owner() == "legacy" and sides.flips == []
    sides.forward.prepare()
    sides.forward.drain()
    hand_over(sides)
    assert sides.owner() == "service"


def test_a_service_write_flows_back_into_the_monolith_without_echo(sides):
    hand_over(sides)
    events_before = monolith_events(sides)
    before = sides.stock(5)
    adjustment_id = sides.adjust(5, "receive", 9, reason="found in aisle 3")
    assert adjustment_id <= SERVICE_FIRST_ID < 0
    assert sides.stock(5)[1] == (before[1][0] + 9, before[1][1])

    assert sides.reverse.drain() == 3  # stock row, adjustment, movement
    assert sides.stock(5) == ((before[0][0] + 9, before[0][1]), (before[1][0] + 9, before[1][1]))
    row = sides.monolith_one("SELECT kind, quantity, reason, created_by_id FROM inventory_stockadjustment WHERE id = :id",
                             id=adjustment_id)
    assert tuple(row) == ("receive", 9, "found in aisle 3", 1)
    assert sides.monolith_one("SELECT count(*) FROM inventory_stockmovement WHERE reference = :ref",
                              ref=f"ADJ-{adjustment_id}")[0] == 1
    assert monolith_events(sides) == events_before  # the relay's own writes were not captured: no echo
    assert sides.forward.drain() == 0
    assert verify(sides.monolith, sides.service.engine).clean

    # The monolith's next rows keep their own, positive numbering on both databases: a negative service id
    # moves neither a PostgreSQL sequence nor SQLite's AUTOINCREMENT (max(rowid) + 1).
    created = sides.env.monolith_python("""
        from django.contrib.auth.models import User
        from legacy_monolith.inventory.models import StockItem
        from legacy_monolith.inventory.services import stock_adjust
        item = StockItem.objects.get(id=6)
        print(stock_adjust(product=item.product, warehouse=item.warehouse, kind="receive", quantity=1,
                           reason="monolith write", user=User.objects.get(username="admin")).id)
    """)
    created_id = int(created.split()[-1])
    assert created_id > 0
    sides.relay_all()
    assert verify(sides.monolith, sides.service.engine).clean


def test_rows_created_with_the_same_id_on_both_sides_stop_the_relays_instead_of_overwriting(sides):
    """Both sides never make the same id (the service's are negative); a row inserted by hand with a
    service id (forced here, on either database) stops the relays instead of being overwritten."""
    from extracted.inventory.sync.relay import RelayError

    hand_over(sides)
    adjustment_id = sides.adjust(16, "receive", 2, reason="service side")
    movement_id = sides.service_one("SELECT id FROM movements WHERE reference = :ref", ref=f"ADJ-{adjustment_id}")[0]
    with sides.monolith.begin() as connection:
        connection.execute(text(
            "INSERT INTO inventory_stockmovement (id, product_id, warehouse_id, kind, quantity, reference, reason, "
            "created_at) SELECT :id, product_id, warehouse_id, 'reservation', 1, 'TG-X', 'monolith side', created_at "
            "FROM inventory_stockmovement WHERE id = 1"), {"id": movement_id})
    with pytest.raises(RelayError, match=f"already has a different inventory_stockmovement row {movement_id}"):
        sides.reverse.drain()
    with pytest.raises(RelayError, match=f"already has a different movements row {movement_id}"):
        sides.forward.drain()
    assert sides.service_one("SELECT reason FROM movements WHERE id = :id", id=movement_id)[0] == "service side"
    assert sides.monolith_one("SELECT reason FROM inventory_stockmovement WHERE id = :id",
                              id=movement_id)[0] == "monolith side"


def test_both_sides_writing_the_same_stock_row_both_land(sides):
    """The monolith places an order (reserves) and the service receives goods, on one stock row, before
    either relay has carried the other's change: the counters travel as deltas, so neither is lost."""
    hand_over(sides)
    order = sides.env.monolith_python("""
        from legacy_monolith.catalog.models import Product
        from legacy_monolith.customers.models import Customer
        from legacy_monolith.inventory.models import StockItem
        from legacy_monolith.orders.services import order_create, order_place
        product = Product.objects.get(id=StockItem.objects.get(id=8).product_id)
        order = order_create(customer=Customer.objects.order_by("id").first(), user=None,
                             lines=[{"product": product, "quantity": 3}])
        order = order_place(order=order)
        reservation = order.reservations.get()
        item = StockItem.objects.get(product_id=reservation.product_id, warehouse_id=reservation.warehouse_id)
        print(item.id, reservation.quantity)
    """)
    item_id, reserved = map(int, order.split()[-2:])
    (legacy_on_hand, legacy_reserved), (service_on_hand, service_reserved) = sides.stock(item_id)
    assert service_on_hand == legacy_on_hand and service_reserved == legacy_reserved - reserved == legacy_reserved - 3
    sides.adjust(item_id, "receive", 40)

    sides.relay_all()
    expected = (legacy_on_hand + 40, legacy_reserved)
    assert sides.stock(item_id) == (expected, expected)
    assert verify(sides.monolith, sides.service.engine).clean


def test_hand_back_drains_the_service_outbox_then_the_service_refuses_writes(sides):
    hand_over(sides)
    sides.adjust(12, "write_off", 2)
    sides.adjust(13, "receive", 5)
    with sides.monolith.begin() as connection:  # the monolith writes meanwhile too
        connection.execute(text("UPDATE inventory_stockitem SET reserved = reserved + 1 WHERE id = 12"))
    assert service_outbox(sides.service.engine).backlog(sides.reverse.cursor().position)[0] == 6

    report = hand_back_to_legacy(sides.monolith, sides.service.engine, flip_write_routes=sides.flip, by="test",
                                 reason="roll back", timeout=30, pump=sides.relay_all)
    assert (report.previous_owner, report.owner) == ("service", "legacy")
    assert sides.flips == ["extracted", "legacy"]
    assert sides.reverse.backlog() == 0 and sides.forward.backlog() == 0
    assert sides.stock(12)[0] == sides.stock(12)[1] and sides.stock(13)[0] == sides.stock(13)[1]
    assert verify(sides.monolith, sides.service.engine).clean

    with pytest.raises(NotOwner), sides.service.transaction() as session:
        claim_write(session)


def test_hand_back_refuses_and_stays_draining_when_the_reverse_relay_does_not_run(sides):
    hand_over(sides)
    sides.adjust(14, "receive", 1)
    with pytest.raises(HandoverError, match="not drained into the monolith within 0.3 s"):
        hand_back_to_legacy(sides.monolith, sides.service.engine, flip_write_routes=sides.flip, by="test",
                            reason="roll back", timeout=0.3)
    assert sides.owner() == "draining" and sides.flips == ["extracted", "legacy"]
    with pytest.raises(HandoverError, match="hand-back to legacy is in progress"):
        hand_over(sides)
    with pytest.raises(NotOwner), sides.service.transaction() as session:
        claim_write(session)
    # Running it again with the relays going finishes the job.
    hand_back_to_legacy(sides.monolith, sides.service.engine, flip_write_routes=sides.flip, by="test",
                        reason="roll back", timeout=30, pump=sides.relay_all)
    assert sides.owner() == "legacy"
    assert verify(sides.monolith, sides.service.engine).clean


def _snapshot(sides: Sides) -> dict:
    with sides.service.engine.connect() as connection:
        return {table: connection.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
                for table in ("stock_items", "adjustments", "movements", "warehouses", "outbox")}


def test_a_write_to_the_service_while_legacy_owns_changes_nothing(sides):
    """Why no conflicting write can happen during a switch: the service refuses every write unless it
    owns them, before touching a row, whatever the route flags say."""
    assert sides.owner() == "legacy"
    before = _snapshot(sides)
    with pytest.raises(APIError) as refused:
        sides.adjust(15, "receive", 3)
    assert refused.value.status == 503
    assert _snapshot(sides) == before

    # The same through the service's HTTP API, as the router would send it.
    settings = InventorySettings(environment="test", database_url=sides.env.service_url)
    with TestClient(create_app(settings, sides.service)) as client:
        path = "/api/inventory/adjustments/"
        sku, code = sides.service_one("SELECT p.sku, w.code FROM stock_items s JOIN products p ON p.id = s.product_id "
                                      "JOIN warehouses w ON w.id = s.warehouse_id WHERE s.id = 15")
        body = json.dumps({"sku": sku, "warehouse": code, "kind": "receive", "quantity": 3,
                           "reason": "while legacy owns"}).encode()
        header = sign_identity(DEV_IDENTITY_SECRET.encode(), user_id=1, username="admin", is_staff=True,
                               customer_id=None, method="POST", target=path, body=body)
        answer = client.post(path, content=body, headers={IDENTITY_HEADER: header, "Content-Type": "application/json"})
        assert answer.status_code == 503, answer.text
        assert "owned by the monolith" in answer.json()["detail"]
        with Session(sides.service.engine) as session:  # once the service owns them, the same request lands
            set_owner(session, "service", by="test", reason="test")
            session.commit()
        body = json.dumps({"sku": sku, "warehouse": code, "kind": "receive", "quantity": 3,
                           "reason": "service owns"}).encode()
        header = sign_identity(DEV_IDENTITY_SECRET.encode(), user_id=1, username="admin", is_staff=True,
                               customer_id=None, method="POST", target=path, body=body)
        answer = client.post(path, content=body, headers={IDENTITY_HEADER: header, "Content-Type": "application/json"})
        assert answer.status_code == 201, answer.text
    assert _snapshot(sides) != before
    sides.reverse.drain()
    assert verify(sides.monolith, sides.service.engine).clean
