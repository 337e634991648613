"""The row shapes the seed writes: one NamedTuple per table, its field names the model's attnames.

Builders create these instead of model instances: a tuple costs a fraction of ``Model.__init__``,
and ``writer.TableWriter`` inserts them without the ORM's per-field ``pre_save``/``get_db_prep``
chain, which is what makes the large dataset (over three million rows) fit in a few minutes.
Nullable columns a shape leaves out are written as NULL.
"""

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple


class UserRow(NamedTuple):
    id: int
    username: str
    password: str
    first_name: str
    last_name: str
    email: str
    is_staff: bool
    is_superuser: bool
    is_active: bool
    date_joined: datetime


class TokenRow(NamedTuple):
    key: str
    user_id: int
    created: datetime


class CategoryRow(NamedTuple):
    id: int
    name: str
    slug: str
    parent_id: int | None
    description: str


class ProductRow(NamedTuple):
    id: int
    sku: str
    name: str
    description: str
    category_id: int
    manufacturer: str
    unit_price: Decimal
    active: bool
    created_at: datetime
    updated_at: datetime


class CustomerRow(NamedTuple):
    id: int
    account_number: str
    company_name: str
    vat_number: str
    email: str
    phone: str
    address: str
    city: str
    country: str
    tier: str
    credit_limit: Decimal
    active: bool
    created_at: datetime
    updated_at: datetime


class ContactRow(NamedTuple):
    id: int
    user_id: int
    customer_id: int
    job_title: str
    phone: str


class WarehouseRow(NamedTuple):
    id: int
    code: str
    name: str
    city: str
    country: str
    active: bool


class StockItemRow(NamedTuple):
    id: int
    product_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    reorder_level: int
    updated_at: datetime


class StockMovementRow(NamedTuple):
    id: int
    product_id: int
    warehouse_id: int
    kind: str
    quantity: int
    reference: str
    reason: str
    created_by_id: int | None
    created_at: datetime


class ReservationRow(NamedTuple):
    id: int
    order_id: int
    product_id: int
    warehouse_id: int
    quantity: int
    status: str
    created_at: datetime
    updated_at: datetime


class OrderRow(NamedTuple):
    id: int
    number: str
    customer_id: int
    created_by_id: int | None
    status: str
    currency: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    shipping_address: str
    notes: str
    created_at: datetime
    updated_at: datetime
    placed_at: datetime | None
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None


class OrderLineRow(NamedTuple):
    id: int
    order_id: int
    product_id: int
    quantity: int
    unit_price: Decimal
    line_total: Decimal


class ShipmentRow(NamedTuple):
    id: int
    order_id: int
    carrier: str
    tracking_number: str
    status: str
    created_at: datetime
    updated_at: datetime


class TrackingEventRow(NamedTuple):
    id: int
    shipment_id: int
    status: str
    location: str
    description: str
    occurred_at: datetime
    source: str
    created_at: datetime


class LoyaltyEntryRow(NamedTuple):
    id: int
    customer_id: int
    kind: str
    points: int
    order_id: int | None
    description: str
    created_by_id: int | None
    created_at: datetime
