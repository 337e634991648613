"""The inventory service's Alembic migrations create exactly the schema models.py describes, on SQLite and
PostgreSQL, and downgrade cleanly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from extracted.common.database import sqlalchemy_url
from extracted.inventory import migrate
from extracted.inventory.models import Base
from tests.support.inventory_service import inventory_database_url  # noqa: F401


def _differences(url: str) -> list:
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_to_head_gives_exactly_the_models_schema(inventory_database_url):
    migrate.upgrade(inventory_database_url)
    assert _differences(inventory_database_url) == []
    assert _tables(inventory_database_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_downgrade_removes_every_table_and_upgrade_works_again(inventory_database_url):
    migrate.upgrade(inventory_database_url)
    migrate.downgrade(inventory_database_url, "base")
    assert _tables(inventory_database_url) == {"alembic_version"}
    migrate.upgrade(inventory_database_url)
    assert _differences(inventory_database_url) == []
