"""Writes of the inventory service: stock adjustments and warehouses, as the monolith makes them.

Every write first claims the ownership row (`sync.ownership.claim_write`): the service writes only
while it owns inventory writes, and a shadow dry run (rolled back whatever it does) may write anyway.
Ids come from the service's own range (`sync.outbox.next_service_id`), and every changed row is
recorded in the service's outbox in the same transaction, for the reverse relay. Functions here flush
but never commit: the request's session commits (or, in a dry run, rolls back) around them.
"""

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from extracted.common.errors import APIError, validation_error
from extracted.common.identity import Identity
from extracted.inventory.models import Product, StockAdjustment, StockItem, StockMovement, Warehouse
from extracted.inventory.sync.outbox import INSERT, UPDATE, next_service_id, record_change, row_data
from extracted.inventory.sync.ownership import DRAINING, WRITE_REFUSED_HEADER, NotOwner, claim_write

RECEIVE, WRITE_OFF = "receive", "write_off"
MOVEMENT_KIND = {RECEIVE: "receipt", WRITE_OFF: "write_off"}


def writes_refused(owner: str) -> APIError:
    """503 while the service does not own inventory writes, saying who does."""
    if owner == DRAINING:
        text = "Inventory writes are being handed back to the monolith right now (owner: draining)."
    else:
        text = f"Inventory writes are owned by the monolith right now (owner: {owner})."
    return APIError(503, {"detail": text}, headers={"Retry-After": "5", WRITE_REFUSED_HEADER: "inventory"})


def claim(session: Session, *, dry_run: bool) -> None:
    """`claim_write`, as the 503 above when the service does not own the writes."""
    try:
        claim_write(session, dry_run=dry_run)
    except NotOwner as exc:
        raise writes_refused(exc.owner) from None


def stock_adjust(session: Session, *, product: Product, warehouse: Warehouse, kind: str, quantity: int, reason: str,
                 identity: Identity) -> StockAdjustment:
    """Receive or write off stock, as the monolith's inventory.services.stock_adjust does.

    The stock row is fetched (locked) or created; the counter changes in one conditional UPDATE, which
    on a write-off refuses to take on_hand below what is reserved (the 400 the monolith gives); that
    UPDATE does not touch updated_at (the monolith's QuerySet.update() does not bump auto_now). Then
    the adjustment and its movement (reference ``ADJ-<id>``, signed quantity)."""
    item = session.execute(
        select(StockItem).where(StockItem.product_id == product.id, StockItem.warehouse_id == warehouse.id)
        .with_for_update()
    ).scalar_one_or_none()
    if item is None:
        item = StockItem(id=next_service_id(session, StockItem), product_id=product.id, warehouse_id=warehouse.id,
                         on_hand=0, reserved=0, reorder_level=10, updated_at=_now())
        session.add(item)
        session.flush()
        record_change(session, "stock_items", INSERT, item.id, None, row_data(item))
    before = row_data(item)
    table = StockItem.__table__
    if kind == RECEIVE:
        session.execute(update(table).where(table.c.id == item.id).values(on_hand=table.c.on_hand + quantity))
        signed = quantity
    else:
        result = session.execute(
            update(table).where(table.c.id == item.id, table.c.on_hand >= table.c.reserved + quantity)
            .values(on_hand=table.c.on_hand - quantity))
        if result.rowcount == 0:
            raise validation_error({"quantity": [
                f"Cannot write off {quantity}: only {item.on_hand - item.reserved} of {product.sku} "
                f"are available in {warehouse.code}."]})
        signed = -quantity
    session.refresh(item)
    record_change(session, "stock_items", UPDATE, item.id, before, row_data(item))

    now = _now()
    adjustment = StockAdjustment(
        id=next_service_id(session, StockAdjustment), product_id=product.id, warehouse_id=warehouse.id, kind=kind,
        quantity=quantity, reason=reason, created_by_id=identity.user_id, created_by_username=identity.username,
        created_at=now)
    session.add(adjustment)
    session.flush()
    record_change(session, "adjustments", INSERT, adjustment.id, None, row_data(adjustment))
    movement = StockMovement(
        id=next_service_id(session, StockMovement), product_id=product.id, warehouse_id=warehouse.id,
        kind=MOVEMENT_KIND[kind], quantity=signed, reference=f"ADJ-{adjustment.id}", reason=reason,
        created_by_id=identity.user_id, created_at=now)
    session.add(movement)
    session.flush()
    record_change(session, "movements", INSERT, movement.id, None, row_data(movement))
    return adjustment


def warehouse_create(session: Session, *, values: dict) -> Warehouse:
    """A new warehouse from validated values; country and active default as the monolith's model."""
    warehouse = Warehouse(id=next_service_id(session, Warehouse), code=values["code"], name=values["name"],
                          city=values["city"], country=values.get("country", "DE"), active=values.get("active", True))
    session.add(warehouse)
    session.flush()
    record_change(session, "warehouses", INSERT, warehouse.id, None, row_data(warehouse))
    return warehouse


def warehouse_update(session: Session, *, warehouse: Warehouse, values: dict) -> Warehouse:
    """Change the given fields of a warehouse (all of them for PUT, some for PATCH)."""
    before = row_data(warehouse)
    for name, value in values.items():
        setattr(warehouse, name, value)
    session.flush()
    record_change(session, "warehouses", UPDATE, warehouse.id, before, row_data(warehouse))
    return warehouse


def _now() -> datetime:
    return datetime.now(UTC)
