"""Who owns the inventory writes, and the check every service write makes first.

The owner is a row of ``sync_ownership`` in the service's database: ``legacy`` (the monolith takes the
writes; the service refuses them), ``service`` (the service takes them and its outbox flows back), or
``draining`` (handing back to legacy: the service refuses writes while the reverse relay empties its
outbox). `claim_write` bumps the row's ``write_seq`` only while the owner is ``service``, in the
write's own transaction: the row lock it takes orders every service write against an ownership change,
so no write can slip in after a hand-back has been decided. A shadow dry run (rolled back whatever it
does) may write whatever the owner.
"""

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from extracted.inventory.models import CAPABILITY, SyncOwnership

LEGACY, SERVICE, DRAINING = "legacy", "service", "draining"
# On a write the service refuses for not owning it (nothing was written): the router may then send the
# request to legacy instead, whatever its method, so a hand-back in progress costs a client nothing.
WRITE_REFUSED_HEADER = "X-Strangler-Write-Refused"
OWNERS = (LEGACY, SERVICE, DRAINING)


class NotOwner(Exception):
    """The service does not own the writes right now."""

    def __init__(self, owner: str):
        self.owner = owner
        super().__init__(f"inventory writes are owned by {owner!r}, not by this service")


def current_owner(session: Session, capability: str = CAPABILITY) -> str:
    owner = session.execute(select(SyncOwnership.owner).where(SyncOwnership.capability == capability)).scalar_one_or_none()
    return owner or LEGACY


def claim_write(session: Session, *, dry_run: bool = False, capability: str = CAPABILITY) -> None:
    """Take the ownership row for this write; NotOwner unless the service owns the writes (or a dry run)."""
    result = session.execute(
        update(SyncOwnership)
        .where(SyncOwnership.capability == capability, SyncOwnership.owner == SERVICE)
        .values(write_seq=SyncOwnership.write_seq + 1)
    )
    if result.rowcount == 1 or dry_run:
        return
    raise NotOwner(current_owner(session, capability))


def set_owner(session: Session, owner: str, *, by: str, reason: str, capability: str = CAPABILITY) -> str:
    """Record a new owner in the session's transaction; returns the previous one. Waits for in-flight
    service writes on PostgreSQL (they hold the row); SQLite serialises writers anyway."""
    if owner not in OWNERS:
        raise ValueError(f"owner must be one of {', '.join(OWNERS)}, got {owner!r}")
    row = session.execute(
        select(SyncOwnership).where(SyncOwnership.capability == capability).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = SyncOwnership(capability=capability, owner=LEGACY, write_seq=0)
        session.add(row)
    previous = row.owner
    row.owner, row.changed_by, row.reason, row.changed_at = owner, by, reason, datetime.now(UTC)
    session.flush()
    return previous
