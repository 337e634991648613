"""Run a seed: check the database is empty, build every domain's rows and write them in one transaction.

``seed_database`` is what the ``seed`` command calls; it draws everything from one
``random.Random(seed)`` in a fixed order, so the same options always write the same rows. The outbox
does not capture the seed's writes: seeded rows are the initial load that a backfill copies.
"""

import random
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from tqdm import tqdm

from legacy_monolith.catalog.models import Category, Product
from legacy_monolith.customers.models import Contact, Customer
from legacy_monolith.inventory.models import Reservation, StockItem, StockMovement, Warehouse
from legacy_monolith.loyalty.models import LoyaltyEntry
from legacy_monolith.orders.models import Order, OrderLine
from legacy_monolith.outbox.suppress import capture_suppressed
from legacy_monolith.shipping.models import Shipment, TrackingEvent

from .catalog import build_catalog
from .config import SeedOptions
from .customers import build_people
from .inventory import StockLedger, build_warehouses
from .logins import build_admin, build_tokens, password_hashes
from .orders import OrderFactory
from .timeline import creation_times
from .writer import TableWriter, reset_sequences


def seeded_models() -> list:
    """Every table the seed writes, parents before children."""
    return [
        get_user_model(), Token, Category, Product, Customer, Contact, Warehouse, Order, OrderLine, Reservation,
        StockMovement, Shipment, TrackingEvent, LoyaltyEntry, StockItem,
    ]


@dataclass(frozen=True)
class SeedReport:
    counts: dict[str, int]  # rows written per model name
    seconds: float


def seeded_counts(using: str = "default") -> tuple[int, int]:
    """(products, orders) already in the database: either means it has been seeded."""
    return Product.objects.using(using).count(), Order.objects.using(using).count()


def occupied_tables(using: str = "default") -> list[str]:
    """Seeded tables that already hold rows; the seed assigns ids from 1, so it needs them empty."""
    return [
        f"{model._meta.label} ({count})"
        for model in seeded_models()
        if (count := model.objects.using(using).count())
    ]


def seed_database(options: SeedOptions, *, using: str = "default", progress_file=None) -> SeedReport:
    """Build and insert the whole dataset described by `options`; the caller checked the tables are empty."""
    started = time.perf_counter()
    size, seed = options.size, options.seed
    rng = random.Random(seed)
    hashes = password_hashes(rng, seed)
    admin = build_admin(hashes["admin"])
    catalog = build_catalog(rng, size.products)
    people = build_people(rng, seed=seed, customer_count=size.customers, admin=admin, passwords=hashes)
    warehouses = build_warehouses(size.warehouses)
    ledger = StockLedger(rng, product_ids=len(catalog.products), warehouses=warehouses)
    created_times = creation_times(rng, size.orders)
    factory = OrderFactory(
        rng, catalog=catalog, people=people, ledger=ledger, admin_id=admin.id, first_movement_id=ledger.size + 1
    )
    writer = TableWriter(batch_size=size.batch_size, using=using)
    bar = tqdm(
        total=len(catalog.products) + len(people.customers) + size.orders + ledger.size, unit=" records",
        file=progress_file, disable=True if not options.progress else None, dynamic_ncols=True,
    )
    # One transaction, with capture suppressed: thousands of outbox events would only repeat what a
    # backfill copies anyway.
    with bar, capture_suppressed(using=using, origin="seed"):
        bar.set_description("catalog and customers")
        writer.write(get_user_model(), people.users)
        writer.write(Token, build_tokens(seed, people.users))
        writer.write(Category, catalog.categories)
        writer.write(Product, catalog.products)
        bar.update(len(catalog.products))
        writer.write(Customer, people.customers)
        writer.write(Contact, people.contacts)
        writer.write(Warehouse, warehouses)
        bar.update(len(people.customers))
        bar.set_description("orders")
        for start in range(0, len(created_times), size.order_chunk):
            chunk = created_times[start:start + size.order_chunk]
            for model, rows in factory.build(chunk).tables():
                writer.write(model, rows)
            bar.update(len(chunk))
        bar.set_description("loyalty and stock")
        writer.write(LoyaltyEntry, factory.loyalty.redemptions(rng, factory.ids["loyalty"], people.accounts))
        writer.write(StockItem, ledger.stock_items())
        writer.write(StockMovement, ledger.receipts(admin.id))
        bar.update(ledger.size)
        reset_sequences(seeded_models(), using=using)
        bar.set_description("committing")
    return SeedReport(counts=dict(writer.counts), seconds=time.perf_counter() - started)
