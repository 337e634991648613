"""Suppress change capture for one transaction's own writes (the seed, the reverse relay).

    with capture_suppressed(origin="seed"):
        ...  # writes here produce no outbox events

The block is an atomic block (a savepoint when a transaction is already open): a marker row goes
into ``strangler_sync_origin`` at its start and is deleted at its end, and every capture trigger
skips while that table holds a row. The marker is never committed and other transactions cannot see
it, so concurrent writers are still captured: only this transaction's writes inside the block are
skipped. Writes after the block, even in the same transaction, are captured again.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from .models import SyncOrigin


@contextmanager
def capture_suppressed(using: str = "default", origin: str = "seed") -> Iterator[None]:
    """Run the block in an atomic block on `using` whose writes the outbox does not capture."""
    with transaction.atomic(using=using):
        marker = SyncOrigin.objects.using(using).create(origin=origin)
        yield
        # Not in a finally: on an exception the atomic block rolls the marker back with everything else.
        SyncOrigin.objects.using(using).filter(pk=marker.pk).delete()
