"""What the plan's evidence says when the sync status cannot be read: the reason, without a password."""

from migration_plan.evidence import EvidenceSource
from router.store import ControlStore


def test_an_unreadable_sync_status_is_reported_without_the_database_password(monkeypatch, tmp_path):
    import extracted.inventory.sync.status as status

    def sync_status(monolith, service):
        raise RuntimeError('connection to "postgresql://app:s3cret-pw@[db/inventory" failed')

    monkeypatch.setattr(status, "sync_status", sync_status)
    source = EvidenceSource(ControlStore(f"sqlite:///{tmp_path / 'control.sqlite3'}"), config=None,
                            databases=(object(), object()), verify_drift=False)

    lag, detail, drift = source._sync({"sync_lag"})

    assert lag is None and drift is None
    assert "s3cret-pw" not in detail and detail.startswith("sync status unreadable: ")
    assert "postgresql://app:***@[db/inventory" in detail
