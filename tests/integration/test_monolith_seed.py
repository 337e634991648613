"""The seed command: deterministic, consistent with the business rules, and idempotent."""

import hashlib
import subprocess
import sys

import pytest

from tests.support import processes

pytestmark = pytest.mark.slow


def manage(var_dir, *args):
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION", "DATABASE_URL")}
    env.update({"DJANGO_ENV": "development", "TECHGOODS_VAR_DIR": str(var_dir)})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=processes.ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def seeded_dump(var_dir, seed: int) -> str:
    assert manage(var_dir, "migrate", "-v0").returncode == 0
    result = manage(var_dir, "seed", "--size", "small", "--seed", str(seed), "--no-progress")
    assert result.returncode == 0, result.stderr
    dump = manage(var_dir, "dumpdata", "catalog", "customers", "inventory", "orders", "shipping", "loyalty",
                  "auth.user", "authtoken", "--indent", "0")
    assert dump.returncode == 0, dump.stderr
    return dump.stdout


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not(tmp_path):
    first = seeded_dump(tmp_path / "a", 7)
    second = seeded_dump(tmp_path / "b", 7)
    other = seeded_dump(tmp_path / "c", 8)
    assert len(first) > 100_000
    assert hashlib.sha256(first.encode()).hexdigest() == hashlib.sha256(second.encode()).hexdigest()
    assert first != other


def test_reseeding_changes_nothing_and_says_so(tmp_path):
    seeded_dump(tmp_path, 42)
    before = (tmp_path / "legacy.sqlite3").stat().st_size
    again = manage(tmp_path, "seed", "--size", "small", "--no-progress")
    assert again.returncode == 0
    assert "already seeded" in again.stdout + again.stderr
    assert "nothing changed" in again.stdout + again.stderr
    assert (tmp_path / "legacy.sqlite3").stat().st_size == before


def test_a_bad_size_is_refused(tmp_path):
    result = manage(tmp_path, "seed", "--size", "huge")
    assert result.returncode != 0
    assert "huge" in result.stderr and "small" in result.stderr


@pytest.mark.django_db
def test_seeded_data_obeys_the_business_rules(django_db_blocker):
    """Seed into the test database and check the invariants the API enforces."""
    from django.core.management import call_command
    from django.db.models import F, Sum

    from legacy_monolith.inventory.models import Reservation, ReservationStatus, StockItem
    from legacy_monolith.loyalty.models import EntryKind, LoyaltyEntry
    from legacy_monolith.orders.models import Order, OrderStatus

    call_command("seed", "--size", "small", "--no-progress")
    assert Order.objects.count() == 500
    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    months = {d.month for d in Order.objects.values_list("created_at", flat=True)}
    assert len(months) == 12
    assert not StockItem.objects.filter(on_hand__lt=0).exists()
    assert not StockItem.objects.filter(reserved__gt=F("on_hand")).exists()
    for item in StockItem.objects.all():
        active = Reservation.objects.filter(product=item.product, warehouse=item.warehouse,
                                            status=ReservationStatus.ACTIVE).aggregate(s=Sum("quantity"))["s"] or 0
        assert item.reserved == active, item
    paid_like = set(Order.objects.filter(status__in=["paid", "shipped", "delivered"]).values_list("pk", flat=True))
    earned = list(LoyaltyEntry.objects.filter(kind=EntryKind.EARN).values_list("order_id", flat=True))
    reversed_ = set(LoyaltyEntry.objects.filter(kind=EntryKind.REVERSAL).values_list("order_id", flat=True))
    assert len(earned) == len(set(earned))                      # once per order
    assert paid_like <= set(earned)                             # every paid order earned
    assert set(earned) - paid_like == reversed_                 # the others were paid, then cancelled
    assert set(Order.objects.filter(pk__in=reversed_).values_list("status", flat=True)) == {"cancelled"}
    assert not Reservation.objects.filter(order__status__in=["draft"]).exists()
