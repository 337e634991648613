"""The inventory API's shapes: pydantic models of what it returns and accepts (the OpenAPI contract), and
the DRF-compatible validation of request bodies (`ADJUSTMENT_INPUT`, `WAREHOUSE_INPUT`).

Responses are built as dicts in `selectors` in these models' field order (the monolith serializers'
order), not through the models: the models document, `extracted.common.validation` validates, so that
a bad body gets the monolith's exact messages rather than pydantic's.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from extracted.common.validation import BooleanField, CharField, ChoiceField, IntegerField, Serializer, SlugRelatedField
from extracted.inventory.filters import ADJUSTMENT_KINDS
from extracted.inventory.models import Product, Warehouse

T = TypeVar("T")


class Paginated(BaseModel, Generic[T]):
    count: int
    next: str | None
    previous: str | None
    results: list[T]


class StockItemRead(BaseModel):
    id: int
    sku: str
    product_name: str
    warehouse: str
    on_hand: int
    reserved: int
    available: int
    reorder_level: int
    updated_at: datetime


class StockLevelRead(BaseModel):
    warehouse: str
    on_hand: int
    reserved: int
    available: int


class ProductStockRead(BaseModel):
    sku: str
    product_name: str
    on_hand: int
    reserved: int
    available: int
    warehouses: list[StockLevelRead]


class WarehouseRead(BaseModel):
    id: int
    code: str
    name: str
    city: str
    country: str
    active: bool


class WarehouseCreate(BaseModel):
    code: str = Field(max_length=12)
    name: str = Field(max_length=120)
    city: str = Field(max_length=100)
    country: str = Field("DE", max_length=2)
    active: bool = True


class WarehouseUpdate(BaseModel):
    code: str | None = Field(None, max_length=12)
    name: str | None = Field(None, max_length=120)
    city: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=2)
    active: bool | None = None


class AdjustmentRead(BaseModel):
    id: int
    sku: str
    warehouse: str
    kind: Literal["receive", "write_off"]
    quantity: int
    reason: str
    created_by: str | None
    created_at: datetime


class AdjustmentCreate(BaseModel):
    sku: str
    warehouse: str = Field(description="Code of an active warehouse")
    kind: Literal["receive", "write_off"]
    quantity: int = Field(ge=1, le=1_000_000)
    reason: str = Field(min_length=1, max_length=255)


class ReservationRead(BaseModel):
    id: int
    order: str
    sku: str
    warehouse: str
    quantity: int
    status: Literal["active", "released", "consumed"]
    created_at: datetime
    updated_at: datetime


class MovementRead(BaseModel):
    id: int
    sku: str
    warehouse: str
    kind: Literal["receipt", "write_off", "reservation", "release", "shipment"]
    quantity: int
    reference: str
    reason: str
    created_at: datetime


# -- validation of request bodies, as the monolith's serializers ------------------------------------------
@dataclass(frozen=True)
class WriteContext:
    """What validators that read the database need: the request's session, and the row being changed."""

    session: Session
    instance: Any = None


def _product_by_sku(context: WriteContext, sku: str) -> Product | None:
    return context.session.execute(select(Product).where(Product.sku == sku)).scalar_one_or_none()


def _active_warehouse_by_code(context: WriteContext, code: str) -> Warehouse | None:
    return context.session.execute(
        select(Warehouse).where(Warehouse.code == code, Warehouse.active.is_(True))).scalar_one_or_none()


def _unique_warehouse_code(code: str, context: WriteContext) -> str | None:
    if "\x00" in code:
        # No stored code holds a NUL (PostgreSQL cannot store one, and the query would fail there); the
        # null-character check answers it. The monolith runs this query anyway and answers 500 on PostgreSQL.
        return None
    query = select(Warehouse.id).where(Warehouse.code == code)
    if context.instance is not None:
        query = query.where(Warehouse.id != context.instance.id)
    taken = context.session.execute(query.limit(1)).first() is not None
    return "warehouse with this code already exists." if taken else None


# StockAdjustmentSerializer: sku and warehouse by slug (active warehouses only), kind, quantity, reason.
ADJUSTMENT_INPUT = Serializer(
    SlugRelatedField("sku", slug_field="sku", lookup=_product_by_sku),
    SlugRelatedField("warehouse", slug_field="code", lookup=_active_warehouse_by_code),
    ChoiceField("kind", choices=ADJUSTMENT_KINDS),
    IntegerField("quantity", min_value=1, max_value=1_000_000),
    CharField("reason", max_length=255),
)

# WarehouseSerializer (a ModelSerializer): country and active have model defaults, so are optional.
WAREHOUSE_INPUT = Serializer(
    CharField("code", max_length=12, validators=[_unique_warehouse_code]),
    CharField("name", max_length=120),
    CharField("city", max_length=100),
    CharField("country", max_length=2, required=False),
    BooleanField("active", required=False),
)


def request_body_schema(model: type[BaseModel]) -> dict:
    """An OpenAPI requestBody for an endpoint that reads its body itself (JSON or an HTML form)."""
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema}, "application/x-www-form-urlencoded": {"schema": schema}}}}
