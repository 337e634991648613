"""Build the category tree and the products (with SKUs like ``TG-MCU-00042``) from ``catalog_data``."""

import math
import string
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils.text import slugify

from legacy_monolith.orders.pricing import to_cents

from .catalog_data import LEAVES, TOP_CATEGORIES, Leaf
from .config import ANCHOR, ORDER_WINDOW, RECEIPT_AT
from .rows import CategoryRow, ProductRow

INACTIVE_SHARE = 0.03


@dataclass(frozen=True)
class Sellable:
    """What the order generator needs to know about an active product."""

    id: int
    unit_price: Decimal
    pack: tuple[int, int, int]


@dataclass
class Catalog:
    categories: list[CategoryRow]
    products: list[ProductRow]
    sellable: list[Sellable]
    # Cumulative popularity of `sellable`, for rng.choices(cum_weights=...).
    popularity: list[float]


def _part_number(rng, pattern: str) -> str:
    return "".join(
        rng.choice(string.digits) if ch == "#" else rng.choice(string.ascii_uppercase) if ch == "@" else ch
        for ch in pattern
    )


def _price(rng, low: str, high: str) -> Decimal:
    """Log-uniform, so a range of 0.01..0.35 and one of 49..549 both look plausible."""
    value = math.exp(rng.uniform(math.log(float(low)), math.log(float(high))))
    return max(to_cents(Decimal(repr(value))), Decimal("0.01"))


def build_categories() -> tuple[list[CategoryRow], dict[str, CategoryRow]]:
    """Top categories first, then their children; returns the rows and the leaves by name."""
    categories, tops = [], {}
    for name, description in TOP_CATEGORIES.items():
        tops[name] = CategoryRow(
            id=len(categories) + 1, name=name, slug=slugify(name), parent_id=None, description=description
        )
        categories.append(tops[name])
    leaves = {}
    for leaf in LEAVES:
        parent = tops[leaf.parent]
        leaves[leaf.name] = CategoryRow(
            id=len(categories) + 1, name=leaf.name, slug=slugify(leaf.name), parent_id=parent.id,
            description=f"{leaf.name} in {parent.name.lower()}.",
        )
        categories.append(leaves[leaf.name])
    return categories, leaves


def _product(rng, pk: int, sku: str, leaf: Leaf, category: CategoryRow) -> ProductRow:
    manufacturer, patterns = rng.choice(leaf.makers)
    part = _part_number(rng, rng.choice(patterns))
    attributes = [rng.choice(group) for group in leaf.attributes]
    created_at = ANCHOR - timedelta(days=rng.uniform(400, 1500))
    created_at = created_at.replace(microsecond=0)
    active = rng.random() >= INACTIVE_SHARE
    if active:
        updated_at = created_at + (RECEIPT_AT - created_at) * rng.random()
    else:  # deactivated at some point during the order window
        updated_at = ANCHOR - ORDER_WINDOW * rng.random()
    return ProductRow(
        id=pk, sku=sku, category_id=category.id, manufacturer=manufacturer,
        name=f"{manufacturer} {part} {leaf.noun}, {', '.join(attributes)}"[:200],
        description=f"{leaf.noun} {part} by {manufacturer}: {'; '.join(attributes)}. "
                    f"Datasheet and RoHS/REACH declarations available on request.",
        unit_price=_price(rng, *leaf.price), active=active,
        created_at=created_at, updated_at=updated_at.replace(microsecond=0),
    )


def build_catalog(rng, product_count: int) -> Catalog:
    """`product_count` products spread over the leaf categories by their weight."""
    categories, leaf_categories = build_categories()
    leaves = rng.choices(LEAVES, weights=[leaf.weight for leaf in LEAVES], k=product_count)
    products, sellable, popularity, total = [], [], [], 0.0
    next_number: dict[str, int] = {}
    for pk, leaf in enumerate(leaves, start=1):
        number = next_number[leaf.code] = next_number.get(leaf.code, 0) + 1
        product = _product(rng, pk, f"TG-{leaf.code}-{number:05d}", leaf, leaf_categories[leaf.name])
        products.append(product)
        if product.active:
            # A few products sell far more than the rest (Pareto tail, capped).
            total += min(rng.paretovariate(1.3), 40.0)
            sellable.append(Sellable(id=pk, unit_price=product.unit_price, pack=leaf.pack))
            popularity.append(total)
    return Catalog(categories=categories, products=products, sellable=sellable, popularity=popularity)
