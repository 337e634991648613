"""The flag watcher keeps the last snapshot through a store outage, says so, and recovers by itself."""

import threading
import time

from router.decision import FlagState, Mode
from router.flags import FlagSnapshot
from router.metrics import RouterMetrics
from router.watcher import FlagWatcher, SnapshotHolder


class FlakyStore:
    """Implements the store port the watcher uses (snapshot, change_waiter); can be switched off."""

    def __init__(self):
        self.version = 1
        self.up = True
        self.lock = threading.Lock()

    def snapshot(self):
        if not self.up:
            raise ConnectionError("store down")
        with self.lock:
            return FlagSnapshot(self.version, {}, {"inventory": FlagState(mode=Mode.EXTRACTED, percent=100)})

    def change_waiter(self, poll_interval):
        store = self

        class Waiter:
            def wait(self, current, timeout):
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    if not store.up:
                        raise ConnectionError("store down")
                    if store.version != current:
                        return store.version
                    time.sleep(0.01)
                return store.version

            def close(self):
                pass

        return Waiter()


def wait_until(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_outage_keeps_the_last_snapshot_and_recovery_picks_up_changes(caplog):
    store, holder, metrics = FlakyStore(), SnapshotHolder(), RouterMetrics()
    watcher = FlagWatcher(store, holder, metrics, poll_interval=0.01, wait_timeout=0.1)
    assert watcher.refresh()
    watcher.start()
    try:
        assert holder.snapshot.version == 1 and holder.store_up
        store.up = False
        assert wait_until(lambda: not holder.store_up)
        assert holder.snapshot.version == 1                       # still serving what it had
        assert holder.snapshot.groups["inventory"].mode is Mode.EXTRACTED
        assert metrics.store_up._value.get() == 0
        time.sleep(0.3)
        warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(warnings) == 1                                  # one warning per outage

        with store.lock:
            store.version = 2
        store.up = True
        assert wait_until(lambda: holder.store_up and holder.snapshot.version == 2)
        assert metrics.store_up._value.get() == 1
        assert metrics.flag_version._value.get() == 2
    finally:
        watcher.stop()


def test_the_outage_warning_masks_a_password_the_store_error_quotes(caplog):
    class LeakyStore(FlakyStore):
        def snapshot(self):
            raise ValueError('invalid URI: "postgresql://app:s3cret-pw@[db/strangler"')

    watcher = FlagWatcher(LeakyStore(), SnapshotHolder(), RouterMetrics())
    assert not watcher.refresh()
    [warning] = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert "s3cret-pw" not in warning and "postgresql://app:***@[db/strangler" in warning
