"""The inventory service in-process, for integration tests: a migrated database of its own (a SQLite file,
or a throwaway PostgreSQL database under the `postgres` mark), a little reference data, and requests
signed as the router signs them (identity header, and the rollback marker for a shadow dry run).

    def test_something(inventory):           # parametrized: SQLite, then PostgreSQL
        inventory.set_owner("service")
        response = inventory.call("POST", "/api/inventory/adjustments/", caller=STAFF, json={...})
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from extracted.common.database import Database
from extracted.inventory import migrate
from extracted.inventory.app import create_app
from extracted.inventory.models import Category, OutboxEvent, Product, StockItem, Warehouse
from extracted.inventory.settings import InventorySettings
from extracted.inventory.sync.ownership import set_owner
from router.identity import sign_identity
from router.shadow_marker import SHADOW_HEADER, request_target, sign_marker

IDENTITY_SECRET = b"strangler-dev-identity-secret-not-for-production"
SHADOW_SECRET = b"strangler-dev-shadow-secret-not-for-production"
SEEDED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Caller:
    user_id: int
    username: str
    is_staff: bool
    customer_id: int | None = None


STAFF = Caller(1, "admin", True)
CUSTOMER = Caller(2, "customer", False, 7)


def seed_reference_rows(database: Database) -> None:
    """Two products, an active and an inactive warehouse, one stock row (TG-A-00001 at BER: 10 on hand,
    2 reserved), as the backfill would have copied them from the monolith."""
    with database.transaction() as session:
        session.add(Category(id=1, slug="webcams"))
        session.add_all([Product(id=1, sku="TG-A-00001", name="Webcam A", category_id=1),
                         Product(id=2, sku="TG-B-00001", name="Webcam B", category_id=1)])
        session.add_all([Warehouse(id=1, code="BER", name="Berlin", city="Berlin", country="DE", active=True),
                         Warehouse(id=2, code="OLD", name="Closed", city="Bonn", country="DE", active=False)])
        session.flush()
        session.add(StockItem(id=1, product_id=1, warehouse_id=1, on_hand=10, reserved=2, reorder_level=5,
                              updated_at=SEEDED_AT))


class InventoryService:
    """The app over a migrated, seeded database, and helpers to ask it and look inside."""

    def __init__(self, url: str):
        self.url = url
        migrate.upgrade(url)
        self.database = Database(url)
        seed_reference_rows(self.database)
        self.app = create_app(InventorySettings(environment="test", database_url=url, legacy_database_url="sqlite://"),
                              self.database)

    def call(self, method: str, target: str, *, caller: Caller | None = STAFF, json: Any = None, shadow: bool = False,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """One request through the app, signed for `caller` (None: anonymous) with the exact body sent, as a
        dry run if `shadow`."""
        sent = dict(headers or {})
        path, _, query = httpx.URL(target).raw_path.partition(b"?")
        signed_target = request_target(path, query)
        if shadow:
            sent[SHADOW_HEADER] = sign_marker(SHADOW_SECRET, method=method, target=signed_target, request_id="test")

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                request = client.build_request(method, target, headers=sent, json=json)
                if caller is not None:
                    request.headers["X-Strangler-Identity"] = sign_identity(
                        IDENTITY_SECRET, user_id=caller.user_id, username=caller.username, is_staff=caller.is_staff,
                        customer_id=caller.customer_id, method=method, target=signed_target, body=request.content)
                return await client.send(request)

        return asyncio.run(send())

    def set_owner(self, owner: str) -> None:
        with self.database.transaction() as session:
            set_owner(session, owner, by="test", reason="integration test")

    def count(self, model) -> int:
        with self.database.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(model)).scalar_one()

    def outbox(self) -> list[OutboxEvent]:
        with self.database.transaction() as session:
            return list(session.execute(select(OutboxEvent).order_by(OutboxEvent.id)).scalars())

    def row(self, model, pk: int):
        with self.database.transaction() as session:
            return session.get(model, pk)

    def close(self) -> None:
        self.database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def inventory_database_url(request, tmp_path) -> str:
    """An empty database for the service: a SQLite file, then (marked postgres) a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def inventory(inventory_database_url):
    service = InventoryService(inventory_database_url)
    yield service
    service.close()
