"""``manage.py seed --size small|large [--seed N]``: fill an empty database with deterministic demo data.

The same size and seed always give the same rows (timestamps, password hashes and API tokens
included). A database that already has products or orders is left alone. Logins: ``admin``/``admin``
(superuser) and ``customer``/``customer`` (a contact of customer C000001); the other contacts share
one random password. Demo data only: never run this against production.

Seeded rows are not captured by the outbox (the seed suppresses capture for its own transaction):
they are the initial load. Run the sync backfill after seeding to copy them to an extracted service.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from legacy_monolith.core.seeding.config import DEFAULT_SEED, SIZES, SeedOptions
from legacy_monolith.core.seeding.logins import token_key
from legacy_monolith.core.seeding.runner import occupied_tables, seed_database, seeded_counts

# Rows per model in the summary line, in this order.
SUMMARY = (
    ("warehouse", "warehouses"), ("product", "products"), ("stockitem", "stock items"), ("customer", "customers"),
    ("contact", "contacts"), ("order", "orders"), ("orderline", "order lines"), ("reservation", "reservations"),
    ("stockmovement", "stock movements"), ("shipment", "shipments"), ("trackingevent", "tracking events"),
    ("loyaltyentry", "loyalty entries"),
)


class Command(BaseCommand):
    help = (
        "Fill an empty database with deterministic TechGoods demo data (small: 200 products, 500 orders; "
        "large: 20 000 products, 200 000 orders). Logins admin/admin and customer/customer. "
        "Seeded rows are not captured by the outbox: run the sync backfill after seeding."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(SIZES), default="small", help="Dataset size (default: small).")
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"Random seed; same seed, same data (default: {DEFAULT_SEED})."
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, size: str, seed: int, no_progress: bool, verbosity: int, **options):
        products, orders = seeded_counts()
        if products or orders:
            self.stdout.write(f"Database already seeded ({products} products, {orders} orders): nothing changed.")
            return
        occupied = occupied_tables()
        if occupied:
            raise CommandError(
                f"seed needs empty tables, but these hold rows: {', '.join(occupied)}. "
                "Run `manage.py flush` first (it deletes all data)."
            )
        report = seed_database(SeedOptions(size=SIZES[size], seed=seed, progress=not no_progress),
                               progress_file=sys.stderr)
        counts = ", ".join(f"{report.counts.get(model, 0)} {label}" for model, label in SUMMARY)
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {size} dataset (seed {seed}) in {report.seconds:.1f} s: {counts}."
        ))
        if verbosity >= 2:
            self.stdout.write(
                f"Logins: admin/admin (token {token_key(seed, 'admin')}), "
                f"customer/customer (token {token_key(seed, 'customer')})."
            )
