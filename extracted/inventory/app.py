"""The inventory service's FastAPI app: ``create_app(settings)``, nothing created at import.

    uvicorn extracted.inventory.app:create_app_from_env --factory      (or: python -m extracted.inventory)

The schema is Alembic's job (``python -m extracted.inventory`` upgrades first); the app only uses it.
``/ready`` also says whether the service's tables exist, so a service started on an empty database is
not sent traffic.
"""

from fastapi import FastAPI
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from extracted.common.app import create_service_app
from extracted.common.database import Database
from extracted.inventory import api
from extracted.inventory.models import Base
from extracted.inventory.settings import InventorySettings


def _tables_exist(connection: Connection) -> str | None:
    missing = sorted(set(Base.metadata.tables) - set(inspect(connection).get_table_names()))
    return f"tables missing (run the migrations): {', '.join(missing)}" if missing else None


def create_app(settings: InventorySettings, database: Database | None = None) -> FastAPI:
    """The app over `database` (default: one for ``settings.database_url``), kept on app.state."""
    database = database or Database(settings.database_url)
    return create_service_app(settings, database, title="TechGoods inventory service", routers=[api.router],
                              ready_checks=[_tables_exist])


def create_app_from_env() -> FastAPI:
    return create_app(InventorySettings())
