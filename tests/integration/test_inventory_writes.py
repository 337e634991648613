"""The inventory service's writes: refused while it does not own them, recorded in its outbox for the
reverse relay when it does, and leaving nothing behind in a shadow dry run. SQLite and PostgreSQL."""

import json
from datetime import UTC, datetime, timedelta

from extracted.inventory.models import SERVICE_FIRST_ID, StockAdjustment, StockItem, StockMovement, SyncOwnership, Warehouse
from tests.support.inventory_service import SEEDED_AT, STAFF, inventory, inventory_database_url  # noqa: F401

ADJUSTMENTS = "/api/inventory/adjustments/"
WAREHOUSES = "/api/inventory/warehouses/"
RECEIVE = {"sku": "TG-A-00001", "warehouse": "BER", "kind": "receive", "quantity": 5, "reason": "Delivery 17"}


def _events(service) -> list[tuple[str, str, int, dict | None, dict | None]]:
    return [(e.table_name, e.op, e.row_id, json.loads(e.old_data) if e.old_data else None,
             json.loads(e.new_data) if e.new_data else None) for e in service.outbox()]


def test_writes_are_refused_with_503_while_the_monolith_owns_them(inventory):
    inventory.set_owner("legacy")
    response = inventory.call("POST", ADJUSTMENTS, json=RECEIVE)
    assert response.status_code == 503
    assert response.json() == {"detail": "Inventory writes are owned by the monolith right now (owner: legacy)."}
    assert inventory.call("POST", WAREHOUSES, json={"code": "HAM", "name": "H", "city": "H"}).status_code == 503
    assert inventory.count(StockAdjustment) == 0 and inventory.count(Warehouse) == 2 and inventory.outbox() == []
    assert inventory.row(StockItem, 1).on_hand == 10


def test_writes_are_refused_while_ownership_is_handed_back(inventory):
    inventory.set_owner("draining")
    response = inventory.call("PATCH", f"{WAREHOUSES}1/", json={"name": "Berlin II"})
    assert response.status_code == 503
    assert "draining" in response.json()["detail"]
    assert inventory.row(Warehouse, 1).name == "Berlin"


def test_a_service_without_an_ownership_row_refuses_writes(inventory):
    assert inventory.call("POST", ADJUSTMENTS, json=RECEIVE).status_code == 503


def test_a_receipt_records_the_stock_change_the_adjustment_and_the_movement(inventory):
    inventory.set_owner("service")
    response = inventory.call("POST", ADJUSTMENTS, json=RECEIVE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] == SERVICE_FIRST_ID
    assert {k: body[k] for k in ("sku", "warehouse", "kind", "quantity", "reason", "created_by")} == {
        "sku": "TG-A-00001", "warehouse": "BER", "kind": "receive", "quantity": 5, "reason": "Delivery 17",
        "created_by": "admin"}

    item = inventory.row(StockItem, 1)
    assert (item.on_hand, item.reserved) == (15, 2)
    assert item.updated_at == SEEDED_AT  # a counter update does not bump updated_at, as QuerySet.update()
    movement = inventory.row(StockMovement, SERVICE_FIRST_ID)
    assert (movement.kind, movement.quantity, movement.reference, movement.created_by_id) == (
        "receipt", 5, f"ADJ-{SERVICE_FIRST_ID}", STAFF.user_id)

    events = _events(inventory)
    assert [(table, op, row_id) for table, op, row_id, _, _ in events] == [
        ("stock_items", "U", 1), ("adjustments", "I", SERVICE_FIRST_ID), ("movements", "I", SERVICE_FIRST_ID)]
    _, _, _, old, new = events[0]
    assert (old["on_hand"], new["on_hand"], old["reserved"], new["reserved"]) == (10, 15, 2, 2)
    assert old["updated_at"] == new["updated_at"]
    adjustment = events[1][4]
    assert adjustment | {"created_at": None} == {
        "id": SERVICE_FIRST_ID, "product_id": 1, "warehouse_id": 1, "kind": "receive", "quantity": 5,
        "reason": "Delivery 17", "created_by_id": STAFF.user_id, "created_by_username": "admin", "created_at": None}
    assert events[2][4]["reference"] == f"ADJ-{SERVICE_FIRST_ID}" and events[2][4]["quantity"] == 5
    assert inventory.row(SyncOwnership, "inventory").write_seq == 1


def test_an_adjustment_where_no_stock_row_exists_creates_it_first(inventory):
    inventory.set_owner("service")
    before = datetime.now(UTC)
    response = inventory.call("POST", ADJUSTMENTS, json={**RECEIVE, "sku": "TG-B-00001", "quantity": 3})
    assert response.status_code == 201, response.text
    events = _events(inventory)
    assert [(table, op) for table, op, _, _, _ in events][:2] == [("stock_items", "I"), ("stock_items", "U")]
    created = events[0][4]
    assert created["id"] == SERVICE_FIRST_ID and (created["on_hand"], created["reserved"]) == (0, 0)
    assert (events[1][3]["on_hand"], events[1][4]["on_hand"]) == (0, 3)
    item = inventory.row(StockItem, SERVICE_FIRST_ID)
    assert item.reorder_level == 10 and before - timedelta(seconds=5) <= item.updated_at <= datetime.now(UTC)


def test_a_write_off_beyond_what_is_available_changes_nothing(inventory):
    inventory.set_owner("service")
    response = inventory.call("POST", ADJUSTMENTS, json={**RECEIVE, "kind": "write_off", "quantity": 9})
    assert response.status_code == 400
    assert response.json() == {"quantity": ["Cannot write off 9: only 8 of TG-A-00001 are available in BER."]}
    assert inventory.row(StockItem, 1).on_hand == 10
    assert inventory.outbox() == [] and inventory.count(StockAdjustment) == 0


def test_a_write_off_takes_stock_and_records_a_negative_movement(inventory):
    inventory.set_owner("service")
    assert inventory.call("POST", ADJUSTMENTS, json={**RECEIVE, "kind": "write_off", "quantity": 8}).status_code == 201
    assert inventory.row(StockItem, 1).on_hand == 2
    movement = inventory.row(StockMovement, SERVICE_FIRST_ID)
    assert (movement.kind, movement.quantity) == ("write_off", -8)


def test_warehouse_create_and_update_are_recorded_with_old_and_new_rows(inventory):
    inventory.set_owner("service")
    created = inventory.call("POST", WAREHOUSES, json={"code": "HAM", "name": "Hamburg", "city": "Hamburg"})
    assert created.status_code == 201, created.text
    assert created.json() == {"id": SERVICE_FIRST_ID, "code": "HAM", "name": "Hamburg", "city": "Hamburg",
                              "country": "DE", "active": True}
    updated = inventory.call("PATCH", f"{WAREHOUSES}1/", json={"name": "Berlin II", "active": False})
    assert updated.status_code == 200, updated.text
    events = _events(inventory)
    assert [(table, op, row_id) for table, op, row_id, _, _ in events] == [
        ("warehouses", "I", SERVICE_FIRST_ID), ("warehouses", "U", 1)]
    _, _, _, old, new = events[1]
    assert (old["name"], old["active"], new["name"], new["active"]) == ("Berlin", True, "Berlin II", False)


def test_a_shadow_dry_run_changes_no_row_and_writes_no_event(inventory):
    """Whatever the owner: the rollback marker makes the whole request a dry run."""
    for owner in ("legacy", "service"):
        inventory.set_owner(owner)
        seq = inventory.row(SyncOwnership, "inventory").write_seq
        for method, target, body in (("POST", ADJUSTMENTS, RECEIVE),
                                     ("POST", ADJUSTMENTS, {**RECEIVE, "sku": "TG-B-00001"}),
                                     ("POST", WAREHOUSES, {"code": "HAM", "name": "Hamburg", "city": "Hamburg"}),
                                     ("PUT", f"{WAREHOUSES}1/", {"code": "BER", "name": "B", "city": "B"})):
            response = inventory.call(method, target, json=body, shadow=True)
            assert response.status_code in (200, 201), response.text
            assert response.headers["X-Strangler-Shadow-Result"] == "rolled-back"
        assert inventory.row(StockItem, 1).on_hand == 10 and inventory.count(StockItem) == 1
        assert inventory.count(StockAdjustment) == 0 and inventory.count(StockMovement) == 0
        assert inventory.count(Warehouse) == 2 and inventory.row(Warehouse, 1).name == "Berlin"
        assert inventory.outbox() == []
        assert inventory.row(SyncOwnership, "inventory").write_seq == seq


def test_a_dry_run_answers_what_the_real_write_answers(inventory):
    inventory.set_owner("service")
    dry = inventory.call("POST", ADJUSTMENTS, json=RECEIVE, shadow=True).json()
    real = inventory.call("POST", ADJUSTMENTS, json=RECEIVE).json()
    assert {k: v for k, v in dry.items() if k != "created_at"} == {k: v for k, v in real.items() if k != "created_at"}


def test_a_warehouse_code_with_a_nul_character_is_a_400_not_a_database_error(inventory):
    """Found by schemathesis on PostgreSQL, which cannot store NUL: the uniqueness lookup must not run."""
    inventory.set_owner("service")
    response = inventory.call("POST", WAREHOUSES, json={"code": "X\x00", "name": "N", "city": "C"})
    assert response.status_code == 400, response.text
    assert response.json() == {"code": ["Null characters are not allowed."]}
    assert inventory.count(Warehouse) == 2
