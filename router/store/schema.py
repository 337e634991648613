"""Tables of the control store (SQLAlchemy Core, portable between SQLite and PostgreSQL)."""

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()

# One row per counter; `flags_version` goes up by one on every flag change (compare-and-swap target).
meta = Table(
    "strangler_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

flags = Table(
    "strangler_flags", metadata,
    Column("scope", String(8), primary_key=True),   # "route" | "group"
    Column("name", String(200), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("percent", Float, nullable=False),
    Column("shadow_rate", Float, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

flag_events = Table(
    "strangler_flag_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("scope", String(8), nullable=False),
    Column("name", String(200), nullable=False, index=True),
    Column("before", Text, nullable=False),   # JSON of the flag before ("null" when unset)
    Column("after", Text, nullable=False),
)
