"""What a seed run produces: the dataset sizes, the fixed clock anchor and the warehouses.

Plain values only, parsed once by the command and passed down; no module reads options itself.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

# "Now" for the demo data: orders spread over the twelve months before it. Never the real clock,
# so two runs with the same seed agree on every timestamp.
ANCHOR = datetime(2026, 11, 1, tzinfo=timezone.utc)
ORDER_WINDOW = timedelta(days=365)
# Initial stock is received just before the first order can be created.
RECEIPT_AT = ANCHOR - ORDER_WINDOW - timedelta(days=1)

DEFAULT_SEED = 42

# (code, name, city); the first `warehouses` of them are used.
WAREHOUSES = (
    ("BER", "Berlin Distribution Center", "Berlin"),
    ("HAM", "Hamburg Port Warehouse", "Hamburg"),
    ("MUC", "Munich South Warehouse", "Munich"),
    ("FRA", "Frankfurt Rhine-Main Hub", "Frankfurt am Main"),
    ("CGN", "Cologne West Warehouse", "Cologne"),
)


@dataclass(frozen=True)
class SeedSize:
    """How many rows of each root entity a dataset size asks for."""

    name: str
    products: int
    warehouses: int
    customers: int
    orders: int
    # Rows per bulk INSERT (backends with a lower bind-parameter limit cap it further).
    batch_size: int
    # Orders generated and written together; bounds memory on the large size.
    order_chunk: int


SIZES = {
    "small": SeedSize("small", products=200, warehouses=3, customers=50, orders=500, batch_size=2000, order_chunk=500),
    "large": SeedSize(
        "large", products=20_000, warehouses=5, customers=5_000, orders=200_000, batch_size=5000, order_chunk=5000
    ),
}


@dataclass(frozen=True)
class SeedOptions:
    """One seed run: the size and the random seed every generator derives from."""

    size: SeedSize
    seed: int = DEFAULT_SEED
    progress: bool = True
