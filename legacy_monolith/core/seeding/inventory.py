"""Warehouses, and an in-memory stock ledger that the order generator books against.

Stock rows are written last, from the ledger, so that they agree with the orders by construction:
``reserved`` is the sum of the active reservations, and the initial receipt covers everything
shipped since, everything still reserved or ever released, plus a random free stock. So neither
``on_hand`` nor ``on_hand - reserved`` went negative at any point of the replayed history, and
every product stays available (at least 20 free units) in every warehouse.
"""

from collections.abc import Iterator
from datetime import datetime

from legacy_monolith.inventory.models import MovementKind

from .config import RECEIPT_AT, WAREHOUSES
from .rows import StockItemRow, StockMovementRow, WarehouseRow

# How orders spread over the warehouses (the first ones are the big sites).
WAREHOUSE_WEIGHTS = (30, 25, 25, 12, 8)
REORDER_LEVELS = (10, 20, 25, 50, 100)


def build_warehouses(count: int) -> list[WarehouseRow]:
    return [
        WarehouseRow(id=pk, code=code, name=name, city=city, country="DE", active=True)
        for pk, (code, name, city) in enumerate(WAREHOUSES[:count], start=1)
    ]


class StockLedger:
    """Per (product, warehouse): what orders reserved, consumed and released, and when last."""

    def __init__(self, rng, *, product_ids: int, warehouses: list[WarehouseRow]):
        self.warehouses = warehouses
        self.width = len(warehouses)
        size = product_ids * self.width
        # Drawn up front so the stock levels do not depend on how many orders ran before.
        self.base = [rng.randint(20, 500) for _ in range(size)]
        self.reorder = [rng.choice(REORDER_LEVELS) for _ in range(size)]
        self.reserved = [0] * size
        self.consumed = [0] * size
        self.released = [0] * size
        self.touched: list[datetime | None] = [None] * size
        self.weights = WAREHOUSE_WEIGHTS[: self.width]

    @property
    def size(self) -> int:
        return len(self.base)

    def slot(self, product_id: int, warehouse_id: int) -> int:
        return (product_id - 1) * self.width + (warehouse_id - 1)

    def pick_warehouse(self, rng) -> int:
        return rng.choices(range(1, self.width + 1), weights=self.weights)[0]

    def _touch(self, slot: int, at: datetime) -> None:
        last = self.touched[slot]
        if last is None or at > last:
            self.touched[slot] = at

    def reserve(self, product_id: int, warehouse_id: int, quantity: int, at: datetime) -> None:
        slot = self.slot(product_id, warehouse_id)
        self.reserved[slot] += quantity
        self._touch(slot, at)

    def consume(self, product_id: int, warehouse_id: int, quantity: int, at: datetime) -> None:
        slot = self.slot(product_id, warehouse_id)
        self.reserved[slot] -= quantity
        self.consumed[slot] += quantity
        self._touch(slot, at)

    def release(self, product_id: int, warehouse_id: int, quantity: int, at: datetime) -> None:
        slot = self.slot(product_id, warehouse_id)
        self.reserved[slot] -= quantity
        self.released[slot] += quantity
        self._touch(slot, at)

    def on_hand(self, slot: int) -> int:
        """Final stock: the random free base on top of what is reserved now or was ever released."""
        return self.base[slot] + self.reserved[slot] + self.released[slot]

    def stock_items(self) -> Iterator[StockItemRow]:
        """One row per (product, warehouse); the row id is the slot + 1."""
        for slot in range(self.size):
            yield StockItemRow(
                id=slot + 1, product_id=slot // self.width + 1, warehouse_id=slot % self.width + 1,
                on_hand=self.on_hand(slot), reserved=self.reserved[slot], reorder_level=self.reorder[slot],
                updated_at=self.touched[slot] or RECEIPT_AT,
            )

    def receipts(self, admin_id: int) -> Iterator[StockMovementRow]:
        """The initial goods receipt per row, ids 1..size (order movements are numbered after them)."""
        for slot in range(self.size):
            warehouse = self.warehouses[slot % self.width]
            yield StockMovementRow(
                id=slot + 1, product_id=slot // self.width + 1, warehouse_id=warehouse.id,
                kind=MovementKind.RECEIPT, quantity=self.on_hand(slot) + self.consumed[slot],
                reference=f"GR-{warehouse.code}-INITIAL", reason="Initial stock", created_by_id=admin_id,
                created_at=RECEIPT_AT,
            )
