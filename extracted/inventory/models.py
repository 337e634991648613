"""The inventory service's tables (SQLAlchemy 2), its own outbox, and the sync bookkeeping.

Column names follow the monolith's (``product_id``, ``on_hand``, ``created_by_id``...) so that a change
captured on one side maps onto the other column for column; table names are the service's own. Rows
copied from the monolith keep the monolith's ids, so every id a client has seen stays valid whichever
side answers. Rows the service creates itself, once it owns the writes, take negative ids, from
``SERVICE_FIRST_ID`` (-1) down: the monolith keeps creating rows in the same tables (orders still
reserve stock and write movements there), and the two ranges never meet. Negative, not a high range:
SQLite's AUTOINCREMENT hands out max(rowid) + 1, so a high service id copied into a monolith table
would make the monolith's next row continue inside the service's range; a negative one never moves it
(and PostgreSQL sequences ignore explicit ids anyway).

``products`` and ``categories`` are reference data the service reads but never writes: the catalog
still belongs to the monolith and flows in through the relay.
"""

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SERVICE_FIRST_ID = -1
LOWEST_ID = -(2**62)  # below every id either side makes: where keyset scans over ids start
CAPABILITY = "inventory"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every database: naive values are taken as UTC, results come back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# -- reference data from the catalog (read-only here) ----------------------------------------------------
class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    slug: Mapped[str] = mapped_column(String(140), unique=True)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[int] = mapped_column(BigInteger, index=True)


# -- what the service owns --------------------------------------------------------------------------------
class Warehouse(Base):
    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="DE")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StockItem(Base):
    """Units of a product in a warehouse (on_hand) and how many orders hold (reserved)."""

    __tablename__ = "stock_items"
    __table_args__ = (
        UniqueConstraint("product_id", "warehouse_id", name="product_warehouse"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    reorder_level: Mapped[int] = mapped_column(Integer, default=10)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship(lazy="raise")
    warehouse: Mapped[Warehouse] = relationship(lazy="raise")


class StockAdjustment(Base):
    """A manual change of stock by staff: goods received, or written off."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_by_username: Mapped[str | None] = mapped_column(String(150), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    product: Mapped[Product] = relationship(lazy="raise")
    warehouse: Mapped[Warehouse] = relationship(lazy="raise")


class Reservation(Base):
    """Stock held for an order of the monolith; ``order_number`` is copied because orders stay there."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    order_id: Mapped[int] = mapped_column(BigInteger, index=True)
    order_number: Mapped[str] = mapped_column(String(24), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship(lazy="raise")
    warehouse: Mapped[Warehouse] = relationship(lazy="raise")


class StockMovement(Base):
    """Append-only ledger: every change of on_hand or reserved, signed."""

    __tablename__ = "movements"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(64), default="", index=True)
    reason: Mapped[str] = mapped_column(String(255), default="")
    created_by_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    product: Mapped[Product] = relationship(lazy="raise")
    warehouse: Mapped[Warehouse] = relationship(lazy="raise")


# -- sync bookkeeping (extracted/inventory/sync) ------------------------------------------------------------
class OutboxEvent(Base):
    """The service's own changes, written in the same transaction as the change, for the reverse relay.

    ``txid`` is the writing transaction's id on PostgreSQL (0 on SQLite): the relay reads events in
    (txid, id) order and only from transactions older than every one still running, so an event whose
    transaction commits late is never skipped.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    table_name: Mapped[str] = mapped_column(String(64))
    op: Mapped[str] = mapped_column(String(1))  # I, U, D
    row_id: Mapped[int] = mapped_column(BigInteger)
    old_data: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON object, or null on insert
    new_data: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON object, or null on delete
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_outbox_txid_id", "txid", "id"),)


class SyncCursor(Base):
    """How far a relay has read a source outbox; updated in the same transaction as what it applied."""

    __tablename__ = "sync_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    applied: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncOwnership(Base):
    """Who owns the capability's writes: legacy, service, or draining (handing back, writes refused).

    Every write the service makes first bumps ``write_seq`` on this row while it says ``service``: that
    row lock orders service writes against an ownership change, so a change never races a write."""

    __tablename__ = "sync_ownership"
    __table_args__ = (CheckConstraint("owner IN ('legacy', 'service', 'draining')", name="owner_known"),)

    capability: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(16), default="legacy")
    write_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(150), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")


class SyncBackfill(Base):
    """Progress of a backfill per source table, so an interrupted one resumes where it stopped."""

    __tablename__ = "sync_backfill"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=LOWEST_ID)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
